#!/usr/bin/env bash
# Builds the release artifacts into dist/, for x86_64 Linux with glibc 2.17 or newer, none of
# which needs Rust where it is installed (V is the workspace version):
#
#   qovery_redeploy-V-cp39-abi3-manylinux2014_x86_64.manylinux_2_17_x86_64.whl
#                                            the Python wheel (CPython 3.9+), maturin --zig
#   qovery_redeploy-V.tar.gz                 the sdist (pip builds it where Rust is)
#   qovery-redeploy-V-x86_64-linux-gnu.tar.gz     the CLI: bin/qovery-redeploy, licences
#   libqovery_redeploy-V-x86_64-linux-gnu.tar.gz  the C library: include/, lib/ (.so, soname
#                                            link, .a, pkgconfig/, cmake/), examples/, licences;
#                                            relocatable (unpack anywhere)
#   qovery-redeploy-V.crate, qovery-redeploy-cli-V.crate   cargo package, verified
#   SHA256SUMS                               sha256sum -c SHA256SUMS
#
# and checks each binary: no symbol newer than GLIBC_2.17 (objdump -T), the wheel's tag
# confirmed by auditwheel. scripts/test-release.sh installs and runs each one.
#
#   scripts/release.sh [PART...]     PART: cli c wheel sdist crates (default: all, dist/ emptied)
#
# Tools (scripts/release-requirements.txt, pinned, into .venv): maturin, ziglang (a linker
# that targets glibc 2.17's symbols), cargo-zigbuild, auditwheel. Env: PYTHON (for the venv),
# RELEASE_ALLOW_DIRTY=1 (package crates from a tree with uncommitted changes).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
parts=" ${*:-cli c wheel sdist crates} "
glibc=2.17 triple=x86_64-unknown-linux-gnu
target_dir=${CARGO_TARGET_DIR:-$root/target}
version=$(cargo pkgid --quiet -p qovery-redeploy | sed 's/.*[@#]//')
started=$SECONDS
step() { printf '\n==> %s (%ds)\n' "$*" $((SECONDS - started)); }
want() { [[ $parts == *" $1 "* ]]; }

step "tools (scripts/release-requirements.txt) into .venv"
[[ -x .venv/bin/python ]] || "${PYTHON:-python3}" -m venv .venv
export PATH="$root/.venv/bin:$PATH" PIP_DISABLE_PIP_VERSION_CHECK=1
python -m pip install -q -r scripts/release-requirements.txt
[[ $# -gt 0 ]] || rm -rf dist
mkdir -p dist

# glibc_floor FILE: fails when FILE uses a glibc symbol version newer than $glibc.
glibc_floor() {
    local newest
    newest=$(objdump -T "$1" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -n 1)
    echo "${1#"$root"/}: newest glibc symbol $newest"
    [[ $(printf '%s\n' "GLIBC_$glibc" "$newest" | sort -V | tail -n 1) == "GLIBC_$glibc" ]] ||
        { echo "release: ${1##*/} needs a glibc newer than $glibc" >&2; return 1; }
}
stage=$target_dir/release-stage
rm -rf "$stage"
mkdir -p "$stage"
tarball() { tar -C "$stage" --owner=0 --group=0 -czf "dist/$1.tar.gz" "$1"; }
built=$target_dir/$triple/release

if want cli || want c; then
    step "cargo zigbuild --release --target $triple.$glibc: the CLI and the C library"
    cargo zigbuild --locked --release --target "$triple.$glibc" \
        -p qovery-redeploy-cli -p qovery-redeploy-ffi
fi

if want cli; then
    step "CLI tarball"
    name=qovery-redeploy-$version-x86_64-linux-gnu
    install -D -m 755 "$built/qovery-redeploy" "$stage/$name/bin/qovery-redeploy"
    strip "$stage/$name/bin/qovery-redeploy"
    cp LICENSE-MIT LICENSE-APACHE "$stage/$name/"
    cp cli/README.md "$stage/$name/README.md"
    glibc_floor "$stage/$name/bin/qovery-redeploy"
    tarball "$name"
fi

if want c; then
    step "C library tarball (scripts/ffi-install.sh --relocatable)"
    name=libqovery_redeploy-$version-x86_64-linux-gnu
    bash scripts/ffi-install.sh --prefix "/$name" --destdir "$stage" --from "$built" --relocatable
    strip --strip-unneeded "$stage/$name/lib/libqovery_redeploy.so.$version"
    strip --strip-debug "$stage/$name/lib/libqovery_redeploy.a"
    install -d "$stage/$name/examples"
    cp examples/redeploy.c examples/CMakeLists.txt "$stage/$name/examples/"
    cp LICENSE-MIT LICENSE-APACHE "$stage/$name/"
    cp ffi/README.md "$stage/$name/README.md"
    glibc_floor "$stage/$name/lib/libqovery_redeploy.so.$version"
    tarball "$name"
fi

if want wheel; then
    step "wheel: maturin build --zig --compatibility manylinux2014"
    rm -f dist/qovery_redeploy-*.whl
    # A target directory of its own: the zig settings differ from cargo-zigbuild's, and sharing one
    # would rebuild every C-compiling crate each time the other build runs.
    maturin build --locked --release --zig --compatibility manylinux2014 -m python/Cargo.toml \
        --target-dir "$target_dir/wheel" -o dist
    wheel=$(ls dist/qovery_redeploy-*.whl)
    auditwheel show "$wheel" | tee "$stage/auditwheel.txt"
    grep -q '"manylinux_2_17_x86_64"' "$stage/auditwheel.txt" ||
        { echo "release: auditwheel does not confirm manylinux_2_17_x86_64" >&2; exit 1; }
    python -m zipfile -e "$wheel" "$stage/wheel"
    glibc_floor "$stage/wheel/qovery_redeploy/_qovery_redeploy.abi3.so"
fi

if want sdist; then
    step "sdist: maturin sdist"
    rm -f dist/qovery_redeploy-*.tar.gz
    maturin sdist -m python/Cargo.toml -o dist
fi

if want crates; then
    step "crates: cargo package (builds each packaged crate on its own)"
    dirty=()
    [[ ${RELEASE_ALLOW_DIRTY:-} == 1 ]] && dirty=(--allow-dirty)
    # cargo verifies the cli crate against the just-packaged core through a local registry,
    # and treats a registry crate of the same version as unchanged: its unpacked source under
    # $CARGO_HOME/registry/src/-<hash>/ and its build would be reused, so a rerun would build
    # against the previous core. Both go first (those nameless registries are only ever cargo
    # package's overlays), and the verify builds get a target directory of their own, so that
    # `cargo clean -p` there leaves the workspace's builds alone.
    verify_dir=$target_dir/package-verify
    rm -rf "${CARGO_HOME:-$HOME/.cargo}"/registry/src/-*/qovery-redeploy-"$version" "$verify_dir/package"
    [[ ! -d $verify_dir ]] || cargo clean -q --target-dir "$verify_dir" -p qovery-redeploy -p qovery-redeploy-cli
    cargo package --locked "${dirty[@]}" --target-dir "$verify_dir" -p qovery-redeploy -p qovery-redeploy-cli
    cp "$verify_dir/package/qovery-redeploy-$version.crate" \
        "$verify_dir/package/qovery-redeploy-cli-$version.crate" dist/
fi

step "SHA256SUMS"
(cd dist && rm -f SHA256SUMS && sha256sum -- * >SHA256SUMS && sha256sum -c --quiet SHA256SUMS)
ls -l dist
step "release: done"
