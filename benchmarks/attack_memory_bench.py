"""What one client's subscription costs the gateway's memory over simulated time (issue 12 attack run).

A gateway process at high speed, one client holding one subscription of a kind, the gateway's RSS
printed every few wall seconds with the simulated time reached. Prints figures; no thresholds
(STYLE.md). A kind whose RSS keeps climbing with simulated time is unbounded in a long run.

Run: .venv/bin/python benchmarks/attack_memory_bench.py [--kind scanner|mktdata|none] [--speed 1000] [--wall 20]
Stops early once the gateway passes --max-rss-mb (default 3000), so it cannot exhaust the machine.
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from attack.conftest import WireClient   # noqa: E402  (the tests' byte-level client)


def _rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kind", default="scanner", choices=["scanner", "mktdata", "none"])
    ap.add_argument("--speed", type=float, default=1000.0)
    ap.add_argument("--wall", type=float, default=20.0)
    ap.add_argument("--max-rss-mb", type=float, default=3000.0)
    args = ap.parse_args()
    import ib_insync

    from gateway.client_codecs import insync_fields

    log = Path(tempfile.mkdtemp()) / "events.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "harness.cli", "gateway", "--port", "0", "--speed", str(args.speed),
                             "--event-log", str(log)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            cwd=REPO)
    port = int(re.search(r":(\d+)", proc.stdout.readline()).group(1))
    try:
        client = WireClient(port, protobuf=False, client_id=7)
        if args.kind == "scanner":
            sub = ib_insync.ScannerSubscription(instrument="STK", locationCode="STK.US.MAJOR",
                                                scanCode="TOP_PERC_GAIN", numberOfRows=50)
            client.send_text(*insync_fields(176, "reqScannerSubscription", 1, sub, [], []))
        elif args.kind == "mktdata":
            client.send_text(*insync_fields(176, "reqMktData", 1, ib_insync.Stock("AAPL", "SMART", "USD"), "", False,
                                            False, []))
        started = time.monotonic()
        print(f"kind={args.kind} speed={args.speed:g}")
        print(f"{'wall_s':>7} {'sim_s (approx)':>14} {'rss_mb':>8}")
        while time.monotonic() - started < args.wall:
            time.sleep(2.0)
            try:
                client.read_until(lambda items: False, timeout_s=0.01)
            except TimeoutError:
                pass
            client.items.clear()
            wall = time.monotonic() - started
            rss = _rss_mb(proc.pid)
            print(f"{wall:7.1f} {wall * args.speed:14.0f} {rss:8.0f}", flush=True)
            if rss > args.max_rss_mb:
                print(f"stopped: RSS above {args.max_rss_mb:g} MB")
                break
    finally:
        proc.kill()
        proc.wait()


if __name__ == "__main__":
    main()
