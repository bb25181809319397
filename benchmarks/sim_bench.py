"""What the SimPy world costs: a six-hour session at 0.25 s steps, history requests, a busy order book.

    .venv/bin/python benchmarks/sim_bench.py

Prints wall seconds for: stepping every default-universe contract's grid through six hours
with one listener reading every quote (what streaming market data costs), the heaviest
history requests (a month of 1-minute bars, a month of hourly bars), and 1 000 resting limit
orders waiting through the session. Targets: the session under 5 s, any history request
under 0.5 s, the order book under 2 s on one core.
"""
from __future__ import annotations

import time

from mock_gateway.config import AccountConfig, GatewayConfig
from mock_gateway.sim import ContractQuery, OrderRequest, SimClock, World

SIX_HOURS_S = 6 * 3600.0


def timed(label: str, fn) -> None:
    t0 = time.perf_counter()
    detail = fn()
    print(f"{label:<58} {time.perf_counter() - t0:7.3f} s  {detail or ''}")


def session_with_listener() -> str:
    world = World(GatewayConfig(), SimClock())
    ids = [s.con_id for s in world.contracts if s.sec_type != "OPT"]
    steps = [0]

    def read_quotes(now_s: float) -> None:
        steps[0] += 1
        for con_id in ids:
            world.market.quote(con_id)

    world.market.add_listener(read_quotes)
    world.env.run(until=SIX_HOURS_S)
    return f"{steps[0]} steps x {len(ids)} quotes"


def history(bar_size_s: float) -> str:
    world = World(GatewayConfig(), SimClock())
    bars = world.market.bars(265598, 0.0, 30 * 86400.0, bar_size_s)
    return f"{len(bars)} bars"


def resting_orders() -> str:
    world = World(GatewayConfig(accounts=[AccountConfig("DU1", 1e9)]), SimClock())
    aapl = ContractQuery(symbol="AAPL", sec_type="STK", exchange="SMART", currency="USD")
    for n in range(1, 1001):
        limit = round(230.0 - 0.01 * (n % 300) - 0.5, 2)
        world.orders.place(OrderRequest(n, aapl, "BUY", 100, "LMT", lmt_price=limit, tif="GTC"), client_id=1)
    world.env.run(until=SIX_HOURS_S)
    return f"{len(world.orders.executions())} filled, {len(world.orders.open_orders())} still working"


if __name__ == "__main__":
    timed("six-hour session, 0.25 s grid, listener reads all quotes", session_with_listener)
    timed("history: 30 days of 1-minute bars", lambda: history(60.0))
    timed("history: 30 days of 1-hour bars", lambda: history(3600.0))
    timed("1000 resting GTC limit orders through six hours", resting_orders)
