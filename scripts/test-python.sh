#!/usr/bin/env bash
# The Python package's tests, from a fresh clone: builds the release artifacts
# (scripts/release.sh), installs the manylinux abi3 wheel into .venv with no Rust on PATH
# (scripts/venv.py), checks the .pyi stub against the compiled module (mypy.stubtest),
# type-checks the package and the tests, and runs pytest against the real qovery-mock;
# test_release.py installs and runs every artifact (the wheel on CPython 3.9 and 3.13 too).
# Exits non-zero on any failure, "no tests ran" included (pytest's exit code 5).
#
#   scripts/test-python.sh [pytest args...]
#
# Env: PYTHON (interpreter for the venv, default python3).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
step() { printf '\n==> %s (%ds)\n' "$*" $SECONDS; }

step "system packages (.ci/provision: tinyproxy for test_tls.py, debootstrap for test_release.py, ...)"
bash .ci/provision
tinyproxy -v

step "cargo build -p qovery-mock -p qovery-redeploy-cli (the mock and the native CLI to compare with)"
cargo build -q -p qovery-mock -p qovery-redeploy-cli

step ".venv, pinned tools (tests/python/requirements.txt), every release artifact, the wheel installed"
python3 scripts/venv.py -r tests/python/requirements.txt --wheel release
export VIRTUAL_ENV="$ROOT/.venv" PATH="$ROOT/.venv/bin:$PATH"

# From tests/python, so `qovery_redeploy` is the installed package, not the source tree.
cd tests/python
step "stubtest: the .pyi stub against the installed compiled module"
python -m mypy.stubtest --mypy-config-file mypy.ini qovery_redeploy

step "mypy --strict (mypy.ini): the package as a user's type checker sees it, the tests and their drivers"
python -m mypy -p qovery_redeploy
python -m mypy "$ROOT/python/_build/qovery_build_backend.py" "$ROOT/scripts/venv.py"
python -m mypy . ../mockctl.py ../reliability.py ../matrix/harness.py ../matrix/run_c.py ../soak/soak.py

step "pytest"
exec python -m pytest "$@"
