#!/usr/bin/env bash
# Every test of the C ABI, from a fresh clone, in one command (scripts/test.sh runs the same
# tests inside its `cargo test --workspace`):
#
#   scripts/test-ffi.sh
#
# The system packages (.ci/provision), then the ffi crate's tests: its unit tests;
# tests/header.rs (header drift against a pinned cbindgen, exported symbols, soname);
# tests/consumers.rs (install into a temporary prefix, qovery-mock and tinyproxy on loopback,
# every C/C++/ctypes/Go consumer of tests/CMakeLists.txt built by CMake and run by CTest);
# tests/schema_props.rs. KEEP_WORK=1 keeps the consumers' prefix, build tree and logs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/provision
exec cargo test --locked -p qovery-redeploy-ffi -- --nocapture
