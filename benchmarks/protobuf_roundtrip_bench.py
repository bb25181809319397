"""The official client 10.51 against the mock over protobuf (223) and over text (178): round trips.

    python benchmarks/protobuf_roundtrip_bench.py [--rounds 2000]

Prints, per negotiated version: reqCurrentTime round trip p50 / p99 and one market order to its
fill, measured in the client (ibapi-latest in its own venv, made as the tests make it). No faults,
no pacing, no injected latency: the figures are the gateway's encoding and the client's decoding.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from gateway.ibapi10 import AGENT, official_client_python  # noqa: E402

from mock_gateway.config import GatewayConfig  # noqa: E402
from mock_gateway.faults.base import FaultStack  # noqa: E402
from mock_gateway.server import GatewayThread  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=2000)
    rounds = ap.parse_args().rounds
    python = official_client_python("ibapi-latest")
    for version in (223, 178):
        config = GatewayConfig(port=0, max_server_version=version, faults=FaultStack([]), log_market_data=False)
        with GatewayThread(config) as gw:
            out = subprocess.run([str(python), str(AGENT), "bench", str(gw.port), str(rounds)], capture_output=True,
                                 text=True, timeout=300, check=True).stdout
        r = json.loads(out.splitlines()[-1])
        print(f"server version {r['serverVersion']} ({'protobuf' if version >= 213 else 'text'}): reqCurrentTime "
              f"p50 {r['rtt_p50_ms']:.3f} ms, p99 {r['rtt_p99_ms']:.3f} ms; market order -> Filled {r['fill_ms']:.2f} ms")


if __name__ == "__main__":
    main()
