"""Memory of the mock gateway under a full house: 32 ib_insync clients streaming and trading.

    python benchmarks/clients32_bench.py [--sim-minutes 10] [--speed 4] [--lines 3] [--order-every-s 2]

The gateway runs in its own process with its defaults (real pacing rules, every message in the
event log, which streams to a temporary file). 32 clients connect (IB's limit), each subscribes
to ``--lines`` market-data lines (96 in all with the default 3) and places a market order every
``--order-every-s`` wall seconds (0: stream only). Prints the gateway's resident memory once
per simulated minute and the growth from the end of the first minute to the end.

Streaming must be flat. Trading adds the day's order book, which the gateway keeps on purpose
(reqExecutions, reqCompletedOrders and reqAllOpenOrders answer from it, as TWS answers for the
whole day): the figure printed per order is that cost. Keep ``--speed`` low enough for the
machine: a gateway that cannot keep up with the simulated clock piles up unsent replies
(bounded per client by ``MAX_WRITE_BUFFER_BYTES``), which is backlog, not a leak.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SYMBOLS = ("AAPL", "MSFT", "SPY", "QQQ", "IBM", "MMM")   # the default contract book's stocks


def serve(speed: float) -> None:
    """Child process: a gateway with the defaults; prints its port, runs until killed."""
    from mock_gateway.config import GatewayConfig
    from mock_gateway.server import Gateway

    async def run() -> None:
        gw = Gateway(GatewayConfig(port=0, speed=speed))
        await gw.start()
        print(gw.port, gw.event_log.path, flush=True)
        await asyncio.Event().wait()

    asyncio.run(run())


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def trader(port: int, client_id: int, lines: int, order_every_s: float, stop: asyncio.Event,
                 counts: dict[str, int]) -> None:
    import ib_insync

    ib = ib_insync.IB()
    await ib.connectAsync("127.0.0.1", port, clientId=client_id, timeout=30)
    contracts = [ib_insync.Stock(SYMBOLS[(client_id + i) % len(SYMBOLS)], "SMART", "USD") for i in range(lines)]
    await ib.qualifyContractsAsync(*contracts)
    for contract in contracts:
        ib.reqMktData(contract)
    side = "BUY"
    while not stop.is_set():
        if order_every_s > 0:
            ib.placeOrder(contracts[0], ib_insync.MarketOrder(side, 1))
            counts["orders"] += 1
            side = "SELL" if side == "BUY" else "BUY"
        try:
            await asyncio.wait_for(stop.wait(), (order_every_s or 5.0) + (client_id % 7) * 0.1)
        except asyncio.TimeoutError:
            pass
    counts["ticks"] += sum(len(t.ticks) for t in ib.tickers())
    ib.disconnect()


async def main(args: argparse.Namespace) -> int:
    logging.getLogger("ib_insync").setLevel(logging.CRITICAL)   # 32 clients' info lines would drown the figures
    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(args.speed)], stdout=subprocess.PIPE,
                            text=True, cwd=ROOT)
    try:
        port_text, log_path = proc.stdout.readline().split(maxsplit=1)
        port, log_path = int(port_text), Path(log_path.strip())
        stop = asyncio.Event()
        counts = {"orders": 0, "ticks": 0}
        tasks = [asyncio.create_task(trader(port, cid, args.lines, args.order_every_s, stop, counts))
                 for cid in range(1, 33)]
        t0 = time.monotonic()
        samples: list[tuple[float, float, float]] = []
        print(f"32 clients x {args.lines} market-data lines, speed {args.speed:g}, {args.sim_minutes} sim minutes")
        print(f"{'sim min':>8} {'RSS MiB':>9} {'event log MiB':>14}")
        for minute in range(1, args.sim_minutes + 1):
            target = t0 + minute * 60 / args.speed
            await asyncio.sleep(max(0.0, target - time.monotonic()))
            failed = [t for t in tasks if t.done() and t.exception()]
            if failed:
                raise RuntimeError(f"a client failed: {failed[0].exception()!r}")
            size = log_path.stat().st_size / 2**20 if log_path.exists() else float("nan")
            samples.append((minute, rss_mib(proc.pid), size))
            print(f"{minute:>8} {samples[-1][1]:>9.1f} {size:>14.1f}", flush=True)
        stop.set()
        await asyncio.gather(*tasks)
        first, last = samples[0][1], samples[-1][1]
        growth = (last - first) / first * 100
        per_order = f", {(last - first) * 1024 / counts['orders']:.1f} KiB per order" if counts["orders"] else ""
        print(f"RSS after minute 1: {first:.1f} MiB, at the end: {last:.1f} MiB, growth {growth:+.1f} %; "
              f"{counts['orders']} orders placed{per_order}; event log {samples[-1][2]:.0f} MiB on disk")
        return 0
    finally:
        proc.kill()
        proc.wait()


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--serve":
        serve(float(sys.argv[2]))
        sys.exit(0)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sim-minutes", type=int, default=10)
    parser.add_argument("--speed", type=float, default=4.0)
    parser.add_argument("--lines", type=int, default=3)
    parser.add_argument("--order-every-s", type=float, default=2.0)
    sys.exit(asyncio.run(main(parser.parse_args())))
