"""A plain sleep-driven bot, as a new user writes one: ib_insync, a decision every N seconds of its own clock.

Every ``PLAIN_BOT_EVERY_S`` (default 10) seconds of its wall clock (on the grid: :00, :10, ...) it samples the streamed price, keeps a fast and a
slow moving average of the samples and flips between long and short 100 shares on each crossover.
No reconnect logic, no timers other than ``ib.sleep``: what it does depends on its clock, which is
what benchmarks/clock_bench.py checks (the same trades at speed 1 and speed 100).

Reads IB_HOST, IB_PORT, IB_CLIENT_ID, PRELIVE_SYMBOL from the environment (contracts §5).
"""
from __future__ import annotations

import os
import sys
import time

from ib_insync import IB, MarketOrder, Stock


def main() -> int:
    every_s = float(os.environ.get("PLAIN_BOT_EVERY_S", "10"))
    fast_n, slow_n = int(os.environ.get("PLAIN_BOT_FAST", "6")), int(os.environ.get("PLAIN_BOT_SLOW", "18"))
    ib = IB()
    ib.connect(os.environ.get("IB_HOST", "127.0.0.1"), int(os.environ.get("IB_PORT", "4002")),
               clientId=int(os.environ.get("IB_CLIENT_ID", "1")), timeout=30)
    contract = Stock(os.environ.get("PRELIVE_SYMBOL", "AAPL"), "SMART", "USD")
    ib.qualifyContracts(contract)
    ticker = ib.reqMktData(contract)
    prices: list[float] = []
    position, trades = 0, 0
    while ib.isConnected():
        # decide on the clock's grid (every N s of its own wall clock, like a bar-driven bot)
        ib.sleep(every_s - time.time() % every_s)
        price = ticker.marketPrice()
        if price != price or price <= 0:   # NaN: no quote yet
            continue
        prices.append(price)
        if len(prices) < slow_n:
            continue
        fast = sum(prices[-fast_n:]) / fast_n
        slow = sum(prices[-slow_n:]) / slow_n
        want = 100 if fast > slow else -100
        if want != position:
            ib.placeOrder(contract, MarketOrder("BUY" if want > position else "SELL", abs(want - position)))
            position, trades = want, trades + 1
            print(f"decision {trades}: {'long' if want > 0 else 'short'} "
                  f"at {price:.2f} (fast {fast:.2f} slow {slow:.2f})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
