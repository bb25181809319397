"""What a DAY order pays at placement for its expiry (the session close): resting limit orders placed and
acknowledged one by one, DAY against GTC, plus session_close_after on its own.

    .venv/bin/python benchmarks/day_orders_bench.py

Medians of 40 batches of 300 orders after a warm-up; the DAY - GTC difference is the expiry's cost.
"""
from __future__ import annotations

import gc
import statistics
import time

from mock_gateway.config import AccountConfig, GatewayConfig
from mock_gateway.sim import ContractQuery, OrderRequest, SimClock, World
from mock_gateway.sim.sessions import SESSION_RULES, session_close_after

AAPL = ContractQuery(symbol="AAPL", sec_type="STK", exchange="SMART", currency="USD")
BATCH = 300


def per_order_us(tif: str) -> float:
    world = World(GatewayConfig(accounts=[AccountConfig("DU1", 1e12)]), SimClock())
    world.env.run(until=1.0)
    gc.collect()
    t0 = time.perf_counter()
    for n in range(1, BATCH + 1):
        world.orders.place(OrderRequest(n, AAPL, "BUY", 100, "LMT", lmt_price=100.0, tif=tif), client_id=1)
        world.clock.run_due()
    return (time.perf_counter() - t0) / BATCH * 1e6


def session_close_after_us(calls: int = 20000) -> float:
    rule = SESSION_RULES["STK"]
    t0 = time.perf_counter()
    for k in range(calls):
        session_close_after(rule, 1_795_000_000.0 + k * 3.0, rth=True)
    return (time.perf_counter() - t0) / calls * 1e6


if __name__ == "__main__":
    for _ in range(5):    # warm up (imports, caches, allocator)
        per_order_us("DAY"), per_order_us("GTC")
    day, gtc = [], []
    for _ in range(40):
        day.append(per_order_us("DAY"))
        gtc.append(per_order_us("GTC"))
    d, g = statistics.median(day), statistics.median(gtc)
    close_us = session_close_after_us()
    print(f"resting LMT place+ack, median of 40 x {BATCH}: DAY {d:.1f} us/order, GTC {g:.1f} us/order, "
          f"DAY extra {d - g:.1f} us/order; session_close_after alone {close_us:.1f} us/call")
