#!/usr/bin/env bash
# Regenerates include/qovery_redeploy.h from ffi/src with a pinned cbindgen, or, with
# --check, fails when the committed header differs from a fresh generation.
#
#   scripts/ffi-header.sh           # write include/qovery_redeploy.h
#   scripts/ffi-header.sh --check   # compare only; exit 1 and show the diff on drift
#
# cbindgen is installed on first use with
#   cargo install --locked --root target/tools cbindgen --version $CBINDGEN_VERSION
# (about 75 s on 2 cores), and reused from target/tools/bin afterwards.
set -euo pipefail

CBINDGEN_VERSION=0.29.4

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
target_dir=${CARGO_TARGET_DIR:-$root/target}
tools="$target_dir/tools"
cbindgen="$tools/bin/cbindgen"
header=include/qovery_redeploy.h

mode=write
case "${1:-}" in
    --check) mode=check ;;
    "") ;;
    *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

if [[ ! -x $cbindgen ]] || [[ $("$cbindgen" --version) != "cbindgen $CBINDGEN_VERSION" ]]; then
    echo "ffi-header: installing cbindgen $CBINDGEN_VERSION into $tools" >&2
    cargo install --locked --quiet --root "$tools" cbindgen --version "$CBINDGEN_VERSION" >&2
fi

# The version macros come from the crate's version (Cargo.toml), so a version bump without
# a regenerated header is drift.
version=$(cargo pkgid --quiet -p qovery-redeploy-ffi | sed 's/.*[@#]//')
if ! [[ $version =~ ^([0-9]+)\.([0-9]+)\.([0-9]+)$ ]]; then
    echo "ffi-header: cannot parse the crate version '$version'" >&2
    exit 1
fi
major=${BASH_REMATCH[1]} minor=${BASH_REMATCH[2]} patch=${BASH_REMATCH[3]}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# cbindgen reads one config: ffi/cbindgen.toml preceded by the version block (a top-level
# key must come before the first [table]).
{
    printf 'after_includes = """\n'
    printf '/* This header'"'"'s library version; compare with qovery_version() at run time. */\n'
    printf '#define QOVERY_VERSION "%s"\n' "$version"
    printf '#define QOVERY_VERSION_MAJOR %s\n' "$major"
    printf '#define QOVERY_VERSION_MINOR %s\n' "$minor"
    printf '#define QOVERY_VERSION_PATCH %s\n' "$patch"
    printf '"""\n'
    cat ffi/cbindgen.toml
} >"$work/cbindgen.toml"

"$cbindgen" --quiet --config "$work/cbindgen.toml" --crate qovery-redeploy-ffi \
    --output "$work/qovery_redeploy.h" ffi

if [[ $mode == check ]]; then
    if ! diff -u "$header" "$work/qovery_redeploy.h"; then
        echo "ffi-header: $header is out of date: run scripts/ffi-header.sh and commit it" >&2
        exit 1
    fi
    echo "ffi-header: $header is up to date (cbindgen $CBINDGEN_VERSION, version $version)"
else
    cp "$work/qovery_redeploy.h" "$header"
    echo "ffi-header: wrote $header (cbindgen $CBINDGEN_VERSION, version $version)"
fi
