#!/usr/bin/env bash
# The benchmark (bench/README.md), from a fresh clone, in one command:
#
#   scripts/bench.sh          full run: release builds, every contender side by side against
#                             qovery-mock; rewrites the results section of bench/README.md,
#                             bench/latency.png and bench/results.json
#   scripts/bench.sh smoke    a few hundred calls per contender (plain and TLS) and every other
#                             part once (3 CLI processes), debug builds, no timing assertion
#                             (only: every call succeeded, every part ran); writes only under
#                             target/bench-smoke. Part of the test command.
#
# Installs what it needs: system packages (.ci/provision), bench/requirements.txt and our
# release wheel into .venv (scripts/venv.py). bench/run.py starts the mocks (tests/mockctl.py).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-full}
case $mode in
    full) profile=release cargo_profile=(--release) run=(--readme bench/README.md --plot bench/latency.png) ;;
    smoke) profile=debug cargo_profile=() run=(--smoke) ;;
    -h | --help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "usage: scripts/bench.sh [smoke]" >&2; exit 2 ;;
esac
out=$PWD/target/bench-$mode
mkdir -p "$out"
step() { printf '\n==> bench %s: %s (%ds)\n' "$mode" "$*" $SECONDS; }

step "system packages, .venv with bench/requirements.txt and our wheel (scripts/release.sh wheel)"
bash .ci/provision
python3 scripts/venv.py -r bench/requirements.txt --wheel build >"$out/venv.log" || { cat "$out/venv.log"; exit 1; }

step "cargo build ($profile): qovery-mock, the C library, the CLI, the Rust contender (its own workspace)"
cargo build --locked -q ${cargo_profile[@]+"${cargo_profile[@]}"} -p qovery-mock -p qovery-redeploy-ffi -p qovery-redeploy-cli
CARGO_TARGET_DIR=$PWD/target cargo build --locked -q ${cargo_profile[@]+"${cargo_profile[@]}"} --manifest-path bench/rust/Cargo.toml
scripts/ffi-install.sh --no-build ${cargo_profile[@]+"${cargo_profile[@]}"} --prefix "$out/prefix" >/dev/null

step "C contenders (gcc -O2): libcurl and the C ABI"
gcc -std=c11 -O2 -Wall -Wextra -Werror bench/c/curl_bench.c -o "$out/curl_bench" -lcurl -lpthread
gcc -std=c11 -O2 -Wall -Wextra -Werror -I"$out/prefix/include" bench/c/ffi_bench.c -o "$out/ffi_bench" \
    -L"$out/prefix/lib" -lqovery_redeploy -Wl,-rpath,"$out/prefix/lib" -lpthread

step "run"
t=target/$profile
.venv/bin/python bench/run.py --mock "$t/qovery-mock" --curl "$out/curl_bench" --cabi "$out/ffi_bench" \
    --rust "$t/qovery-redeploy-bench" --cli "$t/qovery-redeploy" --so "$t/libqovery_redeploy.so" \
    --wheel "$(ls dist/qovery_redeploy-*-cp39-abi3-manylinux*_x86_64.whl)" --out "$out" "${run[@]}" \
    --command "scripts/bench.sh${1:+ $1}"
[[ $mode == smoke ]] || cp "$out/results.json" bench/results.json
step "done"
