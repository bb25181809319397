"""What nautilus_trader's IB adapter costs to set up and run against the mock: the install of
``nautilus_trader[ib]`` into a fresh venv, then one TradingNode session (four instruments quoted,
bars, a fill, a limit order repriced and canceled) against an in-process gateway.

    .venv/bin/python benchmarks/nautilus_bench.py [--seconds 20] [--skip-install]

Prints the install's wall seconds, the session's wall seconds and the node process's CPU seconds,
and quotes per second received. Target: install under 90 s (so scripts/test.sh installs it for every
run) and the mock serving the node's four quote streams without falling behind (quotes per second
steady from the first to the last second).
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mock_gateway.server import GatewayThread  # noqa: E402

# tests/peers/nautilus.py by path: an installed package may own the name ``tests``
_spec = importlib.util.spec_from_file_location("peers_nautilus", ROOT / "tests" / "peers" / "nautilus.py")
_peers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_peers)
AGENT, NAUTILUS_VERSION, nautilus_python = _peers.AGENT, _peers.NAUTILUS_VERSION, _peers.nautilus_python


def timed_install() -> float:
    with tempfile.TemporaryDirectory() as scratch:
        venv = Path(scratch) / "venv"
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                        f"nautilus_trader[ib]=={NAUTILUS_VERSION}"], check=True, capture_output=True)
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--skip-install", action="store_true")
    args = parser.parse_args()
    if not args.skip_install:
        print(f"install nautilus_trader[ib]=={NAUTILUS_VERSION} into a fresh venv: {timed_install():.1f} s wall")
    python = nautilus_python()
    thread = GatewayThread(port=0)
    gw = thread.start()
    try:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run([str(python), str(AGENT), str(gw.port), gw.config.account_ids[0], str(args.seconds)],
                              capture_output=True, text=True, check=True)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    finally:
        thread.stop()
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    per_second = [seen["quotes_per_second"][k] for k in sorted(seen["quotes_per_second"], key=int)]
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print(f"node session: {wall:.1f} s wall for {args.seconds:g} s of market, node CPU {cpu:.1f} s")
    print(f"quotes: {sum(per_second)} over {len(per_second)} s ({sum(per_second) / max(1, len(per_second)):.0f}/s; "
          f"first second {per_second[0]}, last {per_second[-1]}), fills {len(seen['fills'])}, "
          f"crossed {sum(seen['crossed_quotes'].values())}")


if __name__ == "__main__":
    main()
