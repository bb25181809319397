"""Option calculations (issue 11): CPU per calculateOptionPrice / calculateImpliedVolatility answer, in process.

Prints microseconds per computation (model price and greeks; implied-volatility inversion, including prices
no volatility gives) and the worst single inversion over a grid of strikes, expiries and prices, so a flood of
54/55 requests can be sized against the gateway's event loop. Run: ``python benchmarks/option_calc_bench.py``.
"""
from __future__ import annotations

import time

from mock_gateway.option_calc import implied_volatility, option_price
from mock_gateway.sim.market import OptionModel

REPEATS = 5


def main() -> None:
    models = [OptionModel(strike=k, right=r, years=y, vol=0.3, under_price=100.0)
              for k in (50.0, 80.0, 100.0, 120.0, 200.0) for r in ("C", "P") for y in (1 / 365, 0.1, 1.0, 3.0)]
    n = 0
    t0 = time.perf_counter()
    prices = []
    for model in models:
        for vol in (0.05, 0.2, 0.5, 1.5):
            prices.append((model, option_price(model, vol, 100.0).opt_price))
            n += 1
    price_us = (time.perf_counter() - t0) / n * 1e6
    worst_us, total, m = 0.0, 0.0, 0
    for model, price in prices + [(model, p) for model in models for p in (0.0001, 0.01, 99.9, 150.0)]:
        dt = float("inf")
        for _ in range(REPEATS):     # the best of a few: a loaded machine preempts single calls for milliseconds
            t = time.perf_counter()
            implied_volatility(model, price, 100.0)
            dt = min(dt, (time.perf_counter() - t) * 1e6)
        worst_us, total, m = max(worst_us, dt), total + dt, m + 1
    print(f"calculateOptionPrice: {price_us:.1f} us per answer ({n} answers)")
    print(f"calculateImpliedVolatility: {total / m:.1f} us mean, {worst_us:.1f} us worst ({m} answers, "
          f"including prices no volatility gives; best of {REPEATS} each)")


if __name__ == "__main__":
    main()
