#!/usr/bin/env bash
# The benchmark (bench/README.md), from a fresh clone, in one command:
#
#   scripts/bench.sh          full run: release builds, every contender side by side against
#                             qovery-mock; rewrites the results section of bench/README.md,
#                             bench/latency.png and bench/results.json
#   scripts/bench.sh smoke    a few hundred calls per contender (plain and TLS) and every other
#                             part once (3 CLI processes), debug builds of the mock, the C
#                             library, the CLI and the Rust contender,
#                             no timing assertion (only: every call succeeded, every part ran);
#                             writes only under target/bench-smoke. Part of the test command.
#
# Installs what it needs: system packages with .ci/provision (libcurl's headers...), the
# pinned Python packages of bench/requirements.txt into .venv (created if missing), our wheel
# (the manylinux release wheel users install: `scripts/release.sh wheel`, into .venv).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
mode=${1:-full}
case $mode in
    full | smoke) ;;
    -h | --help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "usage: scripts/bench.sh [smoke]" >&2; exit 2 ;;
esac
started=$SECONDS
step() { printf '\n==> bench %s: %s (%ds)\n' "$mode" "$*" $((SECONDS - started)); }

step "system packages (.ci/provision: gcc, libcurl headers, binutils, ...)"
bash .ci/provision

step "venv .venv and pinned packages (bench/requirements.txt)"
if [[ ! -x .venv/bin/python ]]; then
    "${PYTHON:-python3}" -m venv .venv
fi
export VIRTUAL_ENV="$ROOT/.venv"
export PATH="$VIRTUAL_ENV/bin:$PATH"
export PIP_DISABLE_PIP_VERSION_CHECK=1
python -m pip install -q -r bench/requirements.txt

if [[ $mode == full ]]; then
    profile=release
    cargo_profile=(--release)
else
    profile=debug
    cargo_profile=()
fi
out=$ROOT/target/bench-$mode
mkdir -p "$out"

step "cargo build ($profile): qovery-mock, the C library, the CLI, the Rust contender"
cargo build --locked -q "${cargo_profile[@]}" -p qovery-mock -p qovery-redeploy-ffi -p qovery-redeploy-cli
# Its own workspace (bench/rust/Cargo.lock), built into the shared target/ so that the
# dependencies it has in common with the workspace are compiled once.
CARGO_TARGET_DIR=$ROOT/target cargo build --locked -q "${cargo_profile[@]}" --manifest-path bench/rust/Cargo.toml
scripts/ffi-install.sh --no-build ${cargo_profile[@]+"${cargo_profile[@]}"} --prefix "$out/prefix" >/dev/null

step "C contenders (gcc -O2): libcurl and the C ABI"
cflags=(-std=c11 -O2 -Wall -Wextra -Werror)
gcc "${cflags[@]}" bench/c/curl_bench.c -o "$out/curl_bench" -lcurl -lpthread
gcc "${cflags[@]}" -I"$out/prefix/include" bench/c/ffi_bench.c -o "$out/ffi_bench" \
    -L"$out/prefix/lib" -lqovery_redeploy -Wl,-rpath,"$out/prefix/lib" -lpthread

step "our wheel (scripts/release.sh wheel: manylinux, release, abi3) into .venv"
# Quick when scripts/test-python.sh has built it already (cargo has nothing to do).
bash scripts/release.sh wheel >"$out/release.log" || { cat "$out/release.log"; exit 1; }
wheel=$(ls dist/qovery_redeploy-*-cp39-abi3-manylinux*_x86_64.whl)
python -m pip install -q --force-reinstall --no-deps --only-binary :all: --no-index "$wheel"

step "run"
args=(--mock "target/$profile/qovery-mock" --curl "$out/curl_bench" --cabi "$out/ffi_bench"
    --rust "target/$profile/qovery-redeploy-bench" --cli "target/$profile/qovery-redeploy" --so "target/$profile/libqovery_redeploy.so"
    --wheel "$wheel" --out "$out")
if [[ $mode == full ]]; then
    python bench/run.py "${args[@]}" --readme bench/README.md --plot bench/latency.png \
        --command "scripts/bench.sh"
    cp "$out/results.json" bench/results.json
else
    python bench/run.py "${args[@]}" --smoke --command "scripts/bench.sh smoke"
fi
step "done"
