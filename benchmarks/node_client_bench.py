"""What the Node.js client tests cost: installing @stoqey/ib from the lockfile, and one script run
(node start-up, handshake at 193, the requests, exit) against an in-process mock gateway.

    .venv/bin/python benchmarks/node_client_bench.py [--install]

Prints the median wall milliseconds of each tests/node script over 5 runs, and with --install the
wall seconds of `npm ci` in tests/node. Targets: `npm ci` under 15 s on a warm npm cache; each
script under 2 s, so tests/node stays well under a minute on two cores.
"""
from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from mock_gateway.pytest_plugin import gateway_config_for
from mock_gateway.server import GatewayThread

NODE_DIR = Path(__file__).resolve().parent.parent / "tests" / "node"
SCRIPTS = ["current_time.js", "contract_details.js", "market_data.js", "historical_data.js", "orders.js",
           "positions.js", "errors.js", "news.js"]


def main() -> None:
    node = shutil.which("node")
    if node is None:
        sys.exit("node is not installed")
    if "--install" in sys.argv:
        t0 = time.perf_counter()
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=NODE_DIR, check=True)
        print(f"npm ci: {time.perf_counter() - t0:.1f} s")
    thread = GatewayThread(gateway_config_for(NODE_DIR / "scenario.yaml"))
    gw = thread.start()
    try:
        client_id = 500
        for script in SCRIPTS:
            walls = []
            for _ in range(5):
                client_id += 1
                t0 = time.perf_counter()
                subprocess.run([node, script, "--port", str(gw.port), "--client-id", str(client_id),
                                "--account", "DU7654321", "--limit-price", "1"],
                               cwd=NODE_DIR, check=True, capture_output=True, timeout=60)
                walls.append((time.perf_counter() - t0) * 1000)
            print(f"{script:22s} median {statistics.median(walls):7.0f} ms  max {max(walls):7.0f} ms")
    finally:
        thread.stop()


if __name__ == "__main__":
    main()
