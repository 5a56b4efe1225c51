#!/usr/bin/env bash
# The Python package's tests, from a fresh clone: builds the release artifacts
# (scripts/release.sh), installs the manylinux abi3 wheel into .venv with no Rust on PATH,
# checks the .pyi stub against the compiled module (mypy.stubtest), type-checks the package
# and the tests, and runs pytest against the real qovery-mock; test_release.py installs and
# runs every other artifact. Exits non-zero on any failure, "no tests ran" included.
#
#   scripts/test-python.sh [pytest args...]
#
# Env: PYTHON (interpreter for the venv, default python3).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
started=$SECONDS
step() { printf '\n==> %s (%ds)\n' "$*" $((SECONDS - started)); }

step "venv .venv and pinned tools (tests/python/requirements.txt)"
if [ ! -x .venv/bin/python ]; then
    "${PYTHON:-python3}" -m venv .venv
fi
export VIRTUAL_ENV="$ROOT/.venv"
# maturin (the build backend) must be on PATH when pip runs it without build isolation.
export PATH="$VIRTUAL_ENV/bin:$PATH"
export PIP_DISABLE_PIP_VERSION_CHECK=1
python -m pip install -q -r tests/python/requirements.txt

step "system packages (.ci/provision: tinyproxy for test_tls.py, debootstrap for test_release.py, ...)"
bash .ci/provision
tinyproxy -v

step "cargo build -p qovery-mock -p qovery-redeploy-cli (the mock and the native CLI to compare with)"
cargo build -q -p qovery-mock -p qovery-redeploy-cli

step "release artifacts (scripts/release.sh: the manylinux wheel, the sdist, the CLI and C tarballs, the crates)"
# The suite runs against the wheel users install, and test_release.py checks every artifact.
bash scripts/release.sh
wheel=$(ls dist/qovery_redeploy-*-cp39-abi3-manylinux*_x86_64.whl)

step "the wheel into .venv the way a user without Rust installs it"
# No cargo on PATH, and --only-binary :all: --no-index: pip may not build anything.
env PATH="$VIRTUAL_ENV/bin:/usr/local/bin:/usr/bin:/bin" python -m pip install -q \
    --force-reinstall --no-deps --only-binary :all: --no-index "$wheel"
ls -l "$wheel"

# From tests/python, so `qovery_redeploy` is the installed package, not the source tree.
cd tests/python

step "the same abi3 wheel on the oldest and newest CPython present (3.9, 3.13), if any"
SMOKE='
import json, sys, qovery_redeploy as qr
s = qr.DeploymentStatus.from_json(json.dumps({"id": "3c90c3cc-0d44-4b50-8888-8dd25736052a",
    "state": "NEW_STATE", "service_deployment_status": "UP_TO_DATE",
    "last_deployment_date": "2026-01-02T03:04:05Z", "is_part_last_deployment": True,
    "status_details": {"action": "DEPLOY", "status": "SUCCESS"},
    "deployment_request_id": None, "deployment_requests_count": 0}))
assert s.state == "NEW_STATE" and not s.state.is_known and s.last_deployment_date.tzinfo
try:  # nothing listens on the discard port: the compiled core runs and says so
    qr.Client("tok", "http://127.0.0.1:9", max_retries=0).database_status(s.id)
    raise SystemExit("expected a NetworkError")
except qr.NetworkError:
    pass
print(sys.version.split()[0], "ok:", qr.__version__, repr(s.state))
'
for v in 3.9 3.13; do
    py=$(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$v".*/bin/python"$v" 2>/dev/null | tail -n 1 || true)
    if [ -z "$py" ] || ! "$py" -c pass 2>/dev/null; then
        echo "no CPython $v on this machine; the wheel was installed on $(python -V) only"
        continue
    fi
    venv="$ROOT/target/py-abi3-$v"
    rm -rf "$venv"
    "$py" -m venv --without-pip "$venv"
    python -m pip --python "$venv/bin/python" install -q --no-deps "$ROOT/$wheel"
    "$venv/bin/python" -c "$SMOKE"
    "$venv/bin/python" -m qovery_redeploy --version
done

step "stubtest: the .pyi stub against the installed compiled module"
python -m mypy.stubtest --mypy-config-file mypy.ini qovery_redeploy

step "mypy --strict (mypy.ini): the package as a user's type checker sees it, and the tests"
python -m mypy -p qovery_redeploy
python -m mypy "$ROOT/python/_build/qovery_build_backend.py"
python -m mypy .

step "pytest"
set +e
python -m pytest "$@"
code=$?
set -e
if [ "$code" -eq 5 ]; then
    echo "pytest collected no tests: that is a failure" >&2
    code=1
fi
step "done, pytest exit code $code"
exit "$code"
