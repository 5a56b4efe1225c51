#!/usr/bin/env bash
# Reliability checks (RELIABILITY.md): scripts/test-reliability.sh [smoke|long]
# smoke (default, CI): the fault matrix in C (ASan+UBSan) and Python, 16 x 200 soaks in C and
# Python, valgrind on 1,000 C ABI calls, Python RSS over 5,000 calls. long: the figures in
# RELIABILITY.md. RELIABILITY_SKIP="matrix-python ..." skips parts. The driver is
# tests/reliability.py (its docstring says what each part checks).
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 tests/reliability.py "$@"
