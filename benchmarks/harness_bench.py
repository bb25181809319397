"""Harness figures: metrics on a large event log, and the tap's forwarding overhead.

    python benchmarks/harness_bench.py [--orders 5000] [--ticks 200000] [--frames 20000]
"""
from __future__ import annotations

import argparse
import asyncio
import time

from harness import metrics as M
from harness.metrics.report import compute_metrics
from harness.tap import start_tap
from mock_gateway.eventlog import EventLog
from mock_gateway.protocol.framing import FrameDecoder, encode_frame, encode_handshake


def synthetic_log(orders: int, ticks: int) -> list[dict]:
    log = EventLog(None)
    w = log.write
    w(dir="sys", msg="connect", conn=1, sim=0.0)
    w(dir="out", msg="nextValidId", conn=1, client_id=1, sim=0.0, attrs={"order_id": 1})
    per_order = max(1, ticks // max(orders, 1))
    t = 0.0
    for i in range(orders):
        for _ in range(per_order):
            t += 0.25
            w(dir="out", msg="tickPrice", conn=1, client_id=1, sim=t, attrs={"req_id": 4, "price": 100.0})
        w(dir="in", msg="placeOrder", conn=1, client_id=1, sim=t,
          attrs={"order_id": i + 2, "total_qty": 100, "order_ref": f"r{i}", "action": "BUY", "symbol": "AAPL"})
        w(dir="out", msg="openOrder", conn=1, client_id=1, sim=t + 0.02, attrs={"order_id": i + 2})
        w(dir="out", msg="execDetails", conn=1, client_id=1, sim=t + 0.05,
          attrs={"order_id": i + 2, "exec_id": f"e{i}", "shares": 100, "price": 100.0, "side": "BOT", "client_id": 1,
                 "symbol": "AAPL"})
        if i % 10 == 0:
            w(dir="sys", msg="account_mark", sim=t, attrs={"account": "DU1", "net_liquidation": 1e6 + i})
    return log.events or []


def bench_metrics(orders: int, ticks: int) -> None:
    events = synthetic_log(orders, ticks)
    t0 = time.perf_counter()
    df = M.events_frame(events)
    t1 = time.perf_counter()
    compute_metrics(df, df)
    t2 = time.perf_counter()
    print(f"metrics: {len(events):,} events ({orders:,} orders): frame {t1 - t0:.2f} s, "
          f"all metrics with a baseline {t2 - t1:.2f} s")


async def _echo_server():
    async def serve(r, w):
        decoder = FrameDecoder(expect_handshake=True)
        try:
            while data := await r.read(65536):
                for kind, fields in decoder.feed(data):
                    w.write(encode_frame(["176", "x"]) if kind == "hello" else encode_frame(["49", "1", fields[-1]]))
                await w.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        w.close()
    return await asyncio.start_server(serve, "127.0.0.1", 0)


async def _round_trips(port: int, frames: int) -> float:
    r, w = await asyncio.open_connection("127.0.0.1", port)
    w.write(encode_handshake())
    decoder, got = FrameDecoder(), 0
    while got < 1:
        got += len(decoder.feed(await r.read(65536)))
    t0 = time.perf_counter()
    for i in range(frames):  # one request, one reply, in lock step: latency per message
        w.write(encode_frame(["49", "1", str(i)]))
        n = 0
        while n < 1:
            n += len(decoder.feed(await r.read(65536)))
    elapsed = time.perf_counter() - t0
    w.close()
    return elapsed


async def bench_tap(frames: int) -> None:
    server = await _echo_server()
    port = server.sockets[0].getsockname()[1]
    direct = await _round_trips(port, frames)
    log = EventLog(None, source="tap")
    async with start_tap("127.0.0.1", port, log) as tap:
        tapped = await _round_trips(tap.port, frames)
    await asyncio.sleep(0.1)
    server.close()
    await server.wait_closed()
    print(f"tap: {frames:,} round trips direct {direct / frames * 1e6:.0f} us each, through the tap "
          f"{tapped / frames * 1e6:.0f} us each (+{(tapped - direct) / frames * 1e6:.0f} us, "
          f"{len(log.events or []):,} events logged)")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--orders", type=int, default=5000)
    p.add_argument("--ticks", type=int, default=200_000)
    p.add_argument("--frames", type=int, default=20_000)
    a = p.parse_args()
    bench_metrics(a.orders, a.ticks)
    asyncio.run(bench_tap(a.frames))


if __name__ == "__main__":
    main()
