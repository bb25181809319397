"""Scanner cost on the gateway loop: the first scan of a day (quote chunks built) and a warm refresh, per scan code.

Prints figures; no thresholds (see STYLE.md). Run: .venv/bin/python benchmarks/scanner_bench.py
"""
from __future__ import annotations

import time

from mock_gateway.pytest_plugin import GatewayThread, gateway_config_for
from mock_gateway.scanners import ScanRequest
from mock_gateway.sim.scanner import ScanFilter


def main() -> None:
    thread = GatewayThread(gateway_config_for(speed=1.0))
    gw = thread.start()
    try:
        n = gw.call(lambda: sum(1 for c in gw.world.contracts if c.sec_type == "STK" and c.currency == "USD"))
        print(f"US stocks and ETFs scanned: {n}")
        for code in ("MOST_ACTIVE", "TOP_PERC_GAIN", "HOT_BY_VOLUME", "HIGH_OPT_IMP_VOLAT"):
            req = ScanRequest(1, 50, "STK", "STK.US.MAJOR", code, ScanFilter())
            for label in ("first", "warm"):
                t0 = time.perf_counter()
                rows = gw.call(lambda: gw.scanners._rows(req, gw.env.now))
                print(f"{code:20s} {label:5s} {1000 * (time.perf_counter() - t0):8.1f} ms  rows={len(rows)}")
    finally:
        thread.stop()


if __name__ == "__main__":
    main()
