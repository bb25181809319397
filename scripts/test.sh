#!/usr/bin/env bash
# Set up a venv with the project and its test dependencies, then run the whole test suite.
# Tests that need Docker start the engine themselves (tests/docker/conftest.py runs
# scripts/docker-engine.sh and scripts/docker-images.sh); in CI they fail rather than skip.
set -euo pipefail
cd "$(dirname "$0")/.."
# `prelive sign` and the gate engine verify sign-offs with ssh-keygen (OpenSSH's client tools)
if ! command -v ssh-keygen >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    SUDO=$([ "$(id -u)" -eq 0 ] || echo sudo)
    $SUDO apt-get install -y -q openssh-client >/dev/null || { $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q openssh-client >/dev/null; }
  fi
  command -v ssh-keygen >/dev/null 2>&1 || { echo "scripts/test.sh: ssh-keygen is missing: install openssh-client" >&2; exit 1; }
fi
VENV=${PRELIVE_VENV:-.venv}
# Debian's libfaketime puts handlers on the scenario's clock (harness/faketime.py).
if ! ls /usr/lib/*/faketime/libfaketime.so.1 >/dev/null 2>&1 && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libfaketime >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null 2>&1; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libfaketime >/dev/null; } \
    || echo "scripts/test.sh: could not install libfaketime; runs need --real-clock" >&2
fi
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
log=$(mktemp)
if ! "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e '.[dev]' >"$log" 2>&1; then
  grep -v 'is ignored' "$log" >&2; rm -f "$log"
  echo "scripts/test.sh: installing prelive with its dev extras failed (output above)" >&2
  exit 1
fi
"$VENV/bin/python" -c 'import mock_gateway, harness, ib_insync, ib_async, ibapi'
# The current official client installs a top-level `ibapi` too (it would replace ibapi 9.81), so
# each version gets a venv of its own; tests/gateway/ibapi10.py drives them (and makes them if missing).
for pinned in ibapi-stable==10.50.2 ibapi-latest==10.51.1; do
  dist=${pinned%%==*}
  [ -x ".venv-$dist/bin/python" ] || python3 -m venv ".venv-$dist"
  if ! ".venv-$dist/bin/python" -m pip install -q --disable-pip-version-check "$pinned" >"$log" 2>&1; then
    grep -v 'is ignored' "$log" >&2
    echo "scripts/test.sh: installing $pinned into .venv-$dist failed (output above)" >&2
    exit 1
  fi
done
# nautilus_trader's IB adapter pins its own ibapi build (nautilus-ibapi): a venv of its own too;
# tests/peers/nautilus.py drives it (and makes it if missing). 15 to 35 s (benchmarks/nautilus_bench.py).
[ -x ".venv-nautilus/bin/python" ] || python3 -m venv ".venv-nautilus"
if ! ".venv-nautilus/bin/python" -m pip install -q --disable-pip-version-check "nautilus_trader[ib]==1.221.0" >"$log" 2>&1; then
  grep -v 'is ignored' "$log" >&2
  echo "scripts/test.sh: installing nautilus_trader[ib]==1.221.0 into .venv-nautilus failed (output above)" >&2
  exit 1
fi
# The Node.js client tests (tests/node) run @stoqey/ib from tests/node/node_modules, installed from the
# lockfile when node is present; in CI a missing node fails (the tests themselves fail too).
# (~5 s; skipped when node_modules was installed from this very lockfile).
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  if ! cmp -s tests/node/package-lock.json tests/node/node_modules/.prelive-installed-lock; then
    if ! (cd tests/node && npm ci --no-audit --no-fund --loglevel=error && cp package-lock.json node_modules/.prelive-installed-lock) >"$log" 2>&1; then
      cat "$log" >&2; rm -f "$log"
      echo "scripts/test.sh: npm ci in tests/node failed (output above)" >&2
      exit 1
    fi
  fi
elif [ "${CI:-}" = "true" ]; then
  echo "scripts/test.sh: node and npm are missing: the Node client tests (tests/node) need Node.js >= 18" >&2
  exit 1
fi
rm -f "$log"
# Three workers on CI's 2 cores: the suite mostly waits (sockets, simulated time, containers; the load
# stays under 2 with two workers, 14.4 min); container and drill tests share one worker (tests/conftest.py).
exec "$VENV/bin/python" -m pytest -n "${PRELIVE_TEST_WORKERS:-3}" --dist loadgroup "$@"
