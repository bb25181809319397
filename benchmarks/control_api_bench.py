"""What the HTTP fault-control API costs: a round trip per call, and the gateway's clients during a flood.

    .venv/bin/python benchmarks/control_api_bench.py [--cycles 300] [--hostile 200]

Prints the wall milliseconds (p50 / p99 / max) of GET /status, GET /faults, POST /faults and
DELETE /faults/{name} from another thread over loopback (ControlClient, one connection per call),
a connected ib_insync client's reqCurrentTime round trip idle and while another thread adds and
removes faults as fast as it can, the time a hostile caller holds a slot (a body over the limit,
a stalled request) and the process's peak RSS before and after. Target: a call well under 10 ms,
the other client's round trip unchanged within noise, RSS flat after the churn.
"""
from __future__ import annotations

import argparse
import asyncio
import resource
import socket
import statistics
import threading
import time

import ib_insync

from mock_gateway.config import GatewayConfig
from mock_gateway.faults.http_api import ControlLimits, ControlServer
from mock_gateway.faults.http_client import ControlClient
from mock_gateway.server import GatewayThread


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def figures(samples_ms: list[float]) -> str:
    ordered = sorted(samples_ms)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {statistics.median(ordered):6.2f}  p99 {p99:6.2f}  max {ordered[-1]:6.2f} ms  (n={len(ordered)})"


def timed_ms(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000


def round_trips(ib: ib_insync.IB, count: int) -> list[float]:
    out = []
    for _ in range(count):
        out.append(timed_ms(ib.reqCurrentTime))
        ib.sleep(0.02)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=300)
    parser.add_argument("--hostile", type=int, default=200)
    args = parser.parse_args()
    asyncio.set_event_loop(asyncio.new_event_loop())

    with GatewayThread(GatewayConfig(port=0, control="127.0.0.1:0")) as gw:
        client = ControlClient(gw.control.url)
        print(f"gateway on {gw.port}, control API on {gw.control.url}")
        for label, call in (("GET /status", client.status), ("GET /faults", client.list)):
            print(f"{label:24s} {figures([timed_ms(call) for _ in range(args.cycles)])}")
        adds, removes = [], []
        for i in range(args.cycles):
            adds.append(timed_ms(lambda: client.add("latency", name=f"b{i}", distribution={"kind": "fixed", "ms": 1})))
            removes.append(timed_ms(lambda: client.remove(f"b{i}")))
        print(f"{'POST /faults':24s} {figures(adds)}")
        print(f"{'DELETE /faults/{name}':24s} {figures(removes)}")

        ib = ib_insync.IB()
        ib.connect(gw.host, gw.port, clientId=1, timeout=10)
        idle = round_trips(ib, 40)
        rss_before = rss_mib()
        stop = threading.Event()
        churned = [0]

        def churn() -> None:
            churner = ControlClient(gw.control.url)
            while not stop.is_set():
                name = f"c{churned[0]}"
                churner.add("order_reject", name=name)
                churner.remove(name)
                churned[0] += 1

        thread = threading.Thread(target=churn, daemon=True)
        thread.start()
        busy = round_trips(ib, 40)
        stop.set()
        thread.join(10)
        ib.disconnect()
        print(f"{'reqCurrentTime idle':24s} {figures(idle)}")
        print(f"{'reqCurrentTime churning':24s} {figures(busy)}  ({churned[0]} add+remove pairs meanwhile)")
        print(f"peak RSS {rss_before:.1f} MiB before the churn, {rss_mib():.1f} MiB after; "
              f"faults active after: {len(gw.faults)}")

        # hostile callers: how long each costs the server before it is answered and closed
        limits = ControlLimits(request_timeout_s=0.5)
        server = ControlServer(gw, "127.0.0.1", 0, limits=limits)
        asyncio.run_coroutine_threadsafe(server.start(), gw.loop).result(10)
        oversize = []
        for _ in range(args.hostile):
            t0 = time.perf_counter()
            with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
                sock.sendall(b"POST /faults HTTP/1.1\r\nContent-Length: 10000000\r\n\r\n")
                while sock.recv(65536):
                    pass
            oversize.append((time.perf_counter() - t0) * 1000)
        print(f"{'413 (10 MB announced)':24s} {figures(oversize)}")
        t0 = time.perf_counter()
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            sock.sendall(b"POST /faults HTTP/1.1\r\nContent-Length: 50\r\n\r\n{")
            while sock.recv(65536):
                pass
        print(f"{'408 (stalled body)':24s} answered after {(time.perf_counter() - t0) * 1000:.0f} ms "
              f"(request_timeout_s {limits.request_timeout_s})")
        asyncio.run_coroutine_threadsafe(server.stop(), gw.loop).result(10)


if __name__ == "__main__":
    main()
