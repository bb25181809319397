"""Memory a legitimate subscription costs over simulated time: bounded, whatever the run's length.

One scanner subscription reads every stock's quote each refresh; the gateway used to keep every
stock's quote chunks (as Python lists) and every chunk of every price path, growing by ~200 MB per
1,000 simulated seconds (2.9 GB after 12,000). Now a scan keeps no quote chunk, quote chunks are
capped over all instruments, and a price path keeps its newest chunks (older ones are made again)."""
from __future__ import annotations

import time

import ib_insync

from gateway.client_codecs import insync_fields

from .conftest import WireClient, start_gateway_process


def _rss_mb(pid: int) -> float:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_one_scanner_subscription_keeps_the_gateways_memory_flat_over_simulated_hours(tmp_path):
    gw = start_gateway_process(tmp_path, "--speed", "2000")
    try:
        client = WireClient(gw.port, protobuf=False, client_id=7)
        sub = ib_insync.ScannerSubscription(instrument="STK", locationCode="STK.US.MAJOR", scanCode="TOP_PERC_GAIN",
                                            numberOfRows=50)
        client.send_text(*insync_fields(176, "reqScannerSubscription", 1, sub, [], []))
        samples = []
        started = time.monotonic()
        while time.monotonic() - started < 9:              # ~5 simulated hours
            time.sleep(1.0)
            try:
                client.read_until(lambda items: False, timeout_s=0.01)
            except TimeoutError:
                pass
            client.items.clear()
            samples.append(_rss_mb(gw.proc.pid))
            if samples[-1] > 1500:                         # the old gateway: stop before it hurts the machine
                break
        scans = [e for e in gw.events() if e["msg"] == "scannerData" and e["dir"] == "out"]
        assert len(scans) >= 2, "the scan was not refreshed"
        assert max(samples) < 1200, f"peak RSS {max(samples):.0f} MB: {[round(s) for s in samples]}"
        assert samples[-1] - samples[3] < 100, f"RSS still climbing: {[round(s) for s in samples]}"
    finally:
        gw.proc.kill()
        gw.proc.wait()
