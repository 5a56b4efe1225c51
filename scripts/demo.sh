#!/usr/bin/env bash
# The main job, end to end on loopback: start qovery-mock (a faithful fake of the Qovery
# API), then redeploy a database with the qovery-redeploy command and wait for it,
# showing each state change. Against the real API you would only set QOVERY_API_TOKEN
# (and not QOVERY_API_URL) and run the last command.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --quiet -p qovery-mock -p qovery-redeploy-cli
DB=3c90c3cc-0d44-4b50-8888-8dd25736052a

coproc MOCK { exec target/debug/qovery-mock --port 0 --tick-ms 800 --database "$DB" --quiet; }
trap 'kill "$MOCK_PID" 2>/dev/null || true' EXIT
read -r URL <&"${MOCK[0]}"
echo "qovery-mock listening on $URL"

export QOVERY_API_TOKEN=qovery-mock-token QOVERY_API_URL="$URL"
echo "\$ qovery-redeploy --wait --poll-interval 0.5 --timeout 60 $DB"
target/debug/qovery-redeploy --wait --poll-interval 0.5 --timeout 60 "$DB"
