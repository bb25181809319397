"""What the account model costs per refresh: every reqAccountUpdates row and every summary row of a
multi-currency account holding many positions, as the 3-minute refresh builds them per account.

    .venv/bin/python benchmarks/account_bench.py

Prints wall milliseconds per build and the row counts. Target: a refresh of an account with 40
positions in four currencies under 20 ms on one core (the feed builds it once per refresh, shared
by every subscribed session).
"""
from __future__ import annotations

import time

from mock_gateway.config import AccountConfig, GatewayConfig, PositionConfig
from mock_gateway.sim import SimClock, World
from mock_gateway.sim.account import SUMMARY_TAGS


def world_with(positions: int) -> World:
    symbols = ["AAPL", "MSFT", "IBM", "MMM", "SPY", "EUR.USD", "GBP.USD"]
    held = [PositionConfig(symbols[i % len(symbols)], 10 + i, 100.0) for i in range(min(positions, len(symbols)))]
    account = AccountConfig("DU1", 1_000_000.0, cash_by_currency={"EUR": 50_000.0, "GBP": 20_000.0, "JPY": 1e6},
                            positions=held, segments=("S", "C"))
    world = World(GatewayConfig(accounts=[account]), SimClock())
    acct = world.account()
    specs = [s for s in world.contracts if s.sec_type in ("STK", "FUT", "OPT")][:positions]
    for spec in specs:
        acct.apply_fill(spec, "BUY", 1, world.market.price_at(spec.con_id, 0.0), 1.0)
    world.env.run(until=600)
    return world


def per_call_ms(fn, repeat: int = 50) -> float:
    t0 = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - t0) / repeat * 1000


if __name__ == "__main__":
    for n in (0, 10, 40):
        acct = world_with(n).account()
        rows = acct.update_rows()
        summary = acct.summary_rows([*SUMMARY_TAGS, "$LEDGER:ALL"])
        print(f"{n:3d} positions, {len(acct.currencies())} currencies: update_rows {len(rows):4d} rows "
              f"{per_call_ms(acct.update_rows):7.2f} ms   summary {len(summary):3d} rows "
              f"{per_call_ms(lambda: acct.summary_rows([*SUMMARY_TAGS, '$LEDGER:ALL'])):7.2f} ms")
