#!/usr/bin/env bash
# Set up a venv with the project and its test dependencies, then run the whole test suite.
# Tests that need Docker start the engine themselves (harness/docker/engine.py).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${PRELIVE_VENV:-.venv}
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -e '.[dev]' 2>&1 | grep -v 'is ignored' || true
"$VENV/bin/python" -c 'import mock_gateway, harness, ib_insync, ib_async, ibapi' 
exec "$VENV/bin/python" -m pytest "$@"
