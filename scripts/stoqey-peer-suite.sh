#!/usr/bin/env bash
# Run @stoqey/ib's own test suite (written for a live TWS / IB Gateway) against the mock gateway.
#
#   bash scripts/stoqey-peer-suite.sh /path/to/stoqey-ib-checkout [jest args...]
#
# The checkout needs its dev dependencies (`npm install` in it; jest, ts-jest, typescript are enough).
# The suite reads IB_PORT; the gateway serves tests/node/peer_suite.yaml on a free port, and stops
# when the suite ends. Prints jest's summary; the exit code is jest's. Failures that need live data
# (real prices and conIds of given dates, names outside the universe, news) are listed in
# docs/fidelity.md, "Clients in other languages".
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
suite=${1:?usage: stoqey-peer-suite.sh STOQEY_CHECKOUT [jest args...]}
shift
[ -x "$suite/node_modules/.bin/jest" ] || { echo "no jest in $suite/node_modules: run npm install there" >&2; exit 4; }
py=${PRELIVE_PYTHON:-$here/.venv/bin/python}
port=$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log=$(mktemp)
"$py" -m harness.cli gateway --port "$port" --scenario "$here/tests/node/peer_suite.yaml" >"$log" 2>&1 &
gw=$!
trap 'kill "$gw" 2>/dev/null; wait "$gw" 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 100); do grep -q "listening" "$log" && break; sleep 0.1; done
grep -q "listening" "$log" || { cat "$log" >&2; echo "the mock gateway did not start" >&2; exit 4; }
cd "$suite"
# jest args first: --reporters takes every word after it as a reporter
IB_PORT=$port ./node_modules/.bin/jest --maxWorkers=2 "$@" --reporters=default
