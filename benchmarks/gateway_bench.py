"""Mock gateway hot-path figures, measured with a real ib_insync client over loopback.

    python benchmarks/gateway_bench.py [--rounds 2000] [--orders 500] [--seconds 5]

Prints (targets from the issue in brackets):
  * reqCurrentTime round trip p50 / p99            [p50 < 0.3 ms, p99 < 2 ms]
  * market order -> fill (orderStatus Filled) p95   [< 2 ms, no injected latency]
  * tick messages per second delivered to one ib_insync client   [>= 20,000/s]

The gateway runs in its own process (as `prelive gateway` does), with no faults: no pacing
rules, no injected latency. ib_insync's own 45 msg/s throttle is switched off
(``client.MaxRequests = 0``), so the figures are the gateway's, not the throttle's.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def serve(speed: float, tick_interval_s: float) -> None:
    """Child process: a gateway with no faults and no per-tick logging; prints its port, runs until killed."""
    import asyncio

    from mock_gateway.config import GatewayConfig, MarketConfig
    from mock_gateway.faults.base import FaultStack
    from mock_gateway.server import Gateway

    async def run() -> None:
        config = GatewayConfig(port=0, speed=speed, faults=FaultStack([]), log_market_data=False,
                               market=MarketConfig(tick_interval_s=tick_interval_s))
        gw = Gateway(config)
        await gw.start()
        print(gw.port, flush=True)
        await asyncio.Event().wait()

    asyncio.run(run())


class Server:
    def __init__(self, speed: float = 1.0, tick_interval_s: float = 0.25) -> None:
        self.proc = subprocess.Popen([sys.executable, __file__, "--serve", str(speed), str(tick_interval_s)],
                                     stdout=subprocess.PIPE, text=True, cwd=ROOT)
        self.port = int(self.proc.stdout.readline())

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.kill()
        self.proc.wait()


async def _client(port: int):
    import ib_insync

    ib = ib_insync.IB()
    ib.client.MaxRequests = 0
    await ib.connectAsync("127.0.0.1", port, clientId=1, timeout=10)
    return ib


def _percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


async def bench_current_time(rounds: int) -> tuple[float, float]:
    with Server() as server:
        ib = await _client(server.port)
        for _ in range(100):                          # warm up both sides
            await ib.reqCurrentTimeAsync()
        samples = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            await ib.reqCurrentTimeAsync()
            samples.append((time.perf_counter() - t0) * 1000)
        ib.disconnect()
    return statistics.median(samples), _percentile(samples, 99)


async def bench_market_fill(orders: int) -> tuple[float, float]:
    """placeOrder until the client has seen orderStatus Filled (execDetails comes just before it)."""
    import asyncio

    import ib_insync

    with Server() as server:
        ib = await _client(server.port)
        contract = ib_insync.Stock("AAPL", "SMART", "USD")
        await ib.qualifyContractsAsync(contract)
        waiting: dict[int, asyncio.Future] = {}

        def on_status(trade) -> None:
            fut = waiting.get(trade.order.orderId)
            if trade.orderStatus.status == "Filled" and fut is not None and not fut.done():
                fut.set_result(time.perf_counter())
        ib.orderStatusEvent += on_status
        samples = []
        loop = asyncio.get_running_loop()
        for i in range(orders + 20):
            order = ib_insync.MarketOrder("BUY" if i % 2 else "SELL", 1)
            order.orderId = ib.client.getReqId()
            fut = waiting[order.orderId] = loop.create_future()
            t0 = time.perf_counter()
            ib.placeOrder(contract, order)
            t1 = await asyncio.wait_for(fut, 5)
            if i >= 20:                                # the first orders warm up
                samples.append((t1 - t0) * 1000)
        ib.disconnect()
    return statistics.median(samples), _percentile(samples, 95)


async def bench_ticks(seconds: float, speed: float) -> float:
    import asyncio

    import ib_insync

    symbols = ["AAPL", "MSFT", "SPY", "QQQ", "IBM"]
    # 5 stocks at 0.25 s grid steps: 20 x speed quote updates per wall second to send (several ticks each)
    with Server(speed=speed) as server:
        ib = await _client(server.port)
        for s in symbols:
            contract = ib_insync.Stock(s, "SMART", "USD")
            await ib.qualifyContractsAsync(contract)
            ib.reqMktData(contract)
        await asyncio.sleep(1.0)
        n0, t0 = ib.client._numMsgRecv, time.perf_counter()
        await asyncio.sleep(seconds)
        n1, t1 = ib.client._numMsgRecv, time.perf_counter()
        ib.disconnect()
    return (n1 - n0) / (t1 - t0)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        serve(float(sys.argv[2]), float(sys.argv[3]))
        return
    import asyncio

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2000, help="reqCurrentTime round trips")
    parser.add_argument("--orders", type=int, default=500, help="market orders")
    parser.add_argument("--seconds", type=float, default=5.0, help="tick measurement window")
    parser.add_argument("--tick-speed", type=float, default=1000.0,
                        help="sim speed of the tick test (the offered load: 20 x speed quote updates/s)")
    args = parser.parse_args()
    p50, p99 = asyncio.run(bench_current_time(args.rounds))
    print(f"reqCurrentTime round trip   p50 {p50:.3f} ms   p99 {p99:.3f} ms   "
          f"(target p50 < 0.3 ms, p99 < 2 ms; {args.rounds} rounds)")
    f50, f95 = asyncio.run(bench_market_fill(args.orders))
    print(f"market order -> Filled      p50 {f50:.3f} ms   p95 {f95:.3f} ms   "
          f"(target p95 < 2 ms; {args.orders} orders)")
    rate = asyncio.run(bench_ticks(args.seconds, args.tick_speed))
    print(f"ticks delivered to one ib_insync client   {rate:,.0f} msg/s   (target >= 20,000/s; "
          f"{20 * args.tick_speed:,.0f} quote updates/s offered)")


if __name__ == "__main__":
    main()
