"""What the runtime fault API costs: an add / remove from a test's thread (validated, marshalled onto the
gateway's loop, logged), and whether many of them leave anything behind.

    .venv/bin/python benchmarks/runtime_faults_bench.py [--cycles 2000]

Prints the wall milliseconds per add and per remove (p50 / p99) for a per-message fault (latency) and a
window fault (connectivity_loss: a SimPy process started and interrupted each time), a connected client's
reqCurrentTime round trip while another thread churns faults, and the gateway process's RSS before and
after the churn. Target: an add or remove well under 5 ms (a test may add hundreds), the other
client's round trip unchanged within noise, the stack and RSS back where they were.
"""
from __future__ import annotations

import argparse
import resource
import statistics
import threading
import time

from mock_gateway.config import GatewayConfig
from mock_gateway.server import GatewayThread

#: Under ib_insync's own throttle (45 requests a second), which would otherwise be what is measured.
ROUND_TRIPS = 40


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed_ms(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000


def churn(gw, kind: str, cycles: int, **params) -> tuple[list[float], list[float]]:
    adds, removes = [], []
    for i in range(cycles):
        name = f"bench-{kind}-{i}"
        adds.append(timed_ms(lambda: gw.faults.add(kind, name=name, **params)))
        removes.append(timed_ms(lambda: gw.faults.remove(name)))
    return adds, removes


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cycles", type=int, default=2000)
    args = parser.parse_args()
    from ib_insync import IB

    with GatewayThread(GatewayConfig(port=0)) as gw:
        faults_before = len(gw.faults)
        rss_before = rss_mib()
        for kind, params in (("latency", {"distribution": {"kind": "fixed", "ms": 1}, "kinds": ["market_data"]}),
                             ("connectivity_loss", {"farms_break": True})):
            adds, removes = churn(gw, kind, args.cycles, **params)
            print(f"{kind:18s} add p50 {pct(adds, 50):.2f} ms  p99 {pct(adds, 99):.2f} ms   "
                  f"remove p50 {pct(removes, 50):.2f} ms  p99 {pct(removes, 99):.2f} ms  ({args.cycles} cycles)")

        ib = IB()
        ib.connect(gw.host, gw.port, clientId=1, timeout=10)
        ib.sleep(1.1)   # the start-up requests out of ib_insync's throttle window
        idle = [timed_ms(ib.reqCurrentTime) for _ in range(ROUND_TRIPS)]
        ib.sleep(1.1)
        stop = threading.Event()

        def background() -> None:
            i = 0
            while not stop.is_set():
                gw.faults.add("order_reject", name=f"bg-{i}")
                gw.faults.remove(f"bg-{i}")
                i += 1

        worker = threading.Thread(target=background)
        worker.start()
        busy = [timed_ms(ib.reqCurrentTime) for _ in range(ROUND_TRIPS)]
        stop.set()
        worker.join()
        ib.disconnect()
        print(f"reqCurrentTime round trip p50 / p99: idle {pct(idle, 50):.2f} / {pct(idle, 99):.2f} ms, "
              f"while another thread adds and removes faults {pct(busy, 50):.2f} / {pct(busy, 99):.2f} ms")
        print(f"faults on the stack before {faults_before}, after {len(gw.faults)}; "
              f"peak RSS {rss_before:.1f} MiB before the churn, {rss_mib():.1f} MiB after")


if __name__ == "__main__":
    main()
