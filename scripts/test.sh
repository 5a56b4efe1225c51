#!/usr/bin/env bash
# Runs every test of the project, from a fresh clone: lints, the Rust suites (unit,
# integration against qovery-mock and a raw TCP fault server), the C ABI consumers
# (C, C++, threads, ctypes, Go, valgrind), the Python package, a benchmark smoke, the fault
# matrix / soak / leak checks and a bounded fuzz run. Installs what it needs
# (cargo tools under target/tools, Python packages in .venv). CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

start=$(date +%s)
step() { printf '\n=== %s (%ss)\n' "$*" "$(( $(date +%s) - start ))"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "system packages (.ci/provision: installs only what is missing)"
bash .ci/provision
tinyproxy -v

# ffi's tests include the C ABI: header drift and exported symbols (ffi/tests/header.rs), and
# the C/C++/threads/TLS/fork/ctypes/Go consumers with sanitizers and valgrind, built by CMake
# and run by CTest (ffi/tests/consumers.rs, tests/CMakeLists.txt).
step "Rust tests (core, mock, cli, ffi with the C ABI consumers through CMake/CTest)"
cargo test --workspace --exclude qovery-redeploy-python --locked

step "release artifacts and the Python package: scripts/release.sh, the wheel installed without Rust, stubtest, pytest (test_release.py installs every artifact)"
bash scripts/test-python.sh

step "bench smoke: every benchmark part for a few hundred calls, no timing assertion"
bash scripts/bench.sh smoke

step "reliability smoke: fault matrix in C, soaks in C and Python, valgrind, Python RSS"
# The Python matrix already ran inside test-python.sh's pytest.
RELIABILITY_SKIP=matrix-python bash scripts/test-reliability.sh smoke

step "fuzz smoke: every fuzz target for 60 s (cargo-fuzz on stable, see fuzz/README.md)"
bash scripts/fuzz.sh smoke

step "all tests passed"
