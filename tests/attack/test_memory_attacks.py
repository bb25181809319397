"""Memory a legitimate subscription costs over simulated time: bounded, whatever the run's length.

One scanner subscription reads every stock's quote each refresh; the gateway used to keep every
stock's quote chunks (as Python lists) and every chunk of every price path, growing by ~200 MB per
1,000 simulated seconds (2.9 GB after 12,000). Now a scan keeps no quote chunk and price paths are
kept within a byte budget, made again identically from a checkpoint when asked."""
from __future__ import annotations

import time

import ib_insync
import numpy as np

from gateway.client_codecs import insync_fields
from mock_gateway.sim import paths

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
        assert max(samples) < 700, f"peak RSS {max(samples):.0f} MB: {[round(s) for s in samples]}"
        assert samples[-1] - samples[2] < 100, f"RSS still climbing: {[round(s) for s in samples]}"
    finally:
        gw.proc.kill()
        gw.proc.wait()


def test_a_chunk_dropped_over_the_budget_is_made_again_exactly(monkeypatch):
    rng_seed, flow = 12, paths.FLOW_BY_SEC_TYPE["STK"]
    kept = paths.GbmPath(100.0, 0.05, 0.3, 0.25, np.random.default_rng(rng_seed), flow)
    want = [kept.chunk(k) for k in range(6)]
    monkeypatch.setattr(paths, "KEPT_CHUNK_BYTES", 1)     # keep one chunk at a time over every path
    squeezed = paths.GbmPath(100.0, 0.05, 0.3, 0.25, np.random.default_rng(rng_seed), flow)
    scaled = paths.ScaledPath(squeezed, 1.01, np.random.default_rng(5), flow)
    for k in [5, 0, 3, 1, 5, 2, 4, 0]:                    # out of order: every one made again from its checkpoint
        got = squeezed.chunk(k)
        for name in ("mid", "last_size", "bid_size", "ask_size", "cum_volume", "cum_max", "cum_min"):
            assert np.array_equal(getattr(got, name), getattr(want[k], name)), (k, name)
        assert np.array_equal(scaled.chunk(k).mid, want[k].mid * 1.01)
    assert squeezed.chunk(6).mid[0] != 0 and np.array_equal(squeezed.chunk(6).mid, kept.chunk(6).mid)
