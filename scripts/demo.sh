#!/usr/bin/env bash
# The main job, end to end on loopback: start qovery-mock (a faithful fake of the Qovery
# API), then redeploy a database with the qovery-redeploy command and wait for it,
# showing each state change. Against the real API you would only set QOVERY_API_TOKEN
# (and not QOVERY_API_URL) and run the last command.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --quiet -p qovery-mock -p qovery-redeploy-cli
DB=3c90c3cc-0d44-4b50-8888-8dd25736052a
# tests/mockctl.py starts the mock, exports QOVERY_API_URL/QOVERY_API_TOKEN (--api-env) to the
# command and stops the mock when it ends.
exec python3 tests/mockctl.py run --api-env --quiet --tick-ms 800 --database "$DB" -- sh -c '
    echo "qovery-mock listening on $QOVERY_API_URL"
    echo "\$ qovery-redeploy --wait --poll-interval 0.5 --timeout 60 $0"
    exec target/debug/qovery-redeploy --wait --poll-interval 0.5 --timeout 60 "$0"' "$DB"
