"""What the trading calendar and IB's order checks cost: building the calendars once, one order's checks,
a session lookup, and placing a resting order while the market is closed (held until the open).

Prints figures; no assertions. Run: python benchmarks/orders_day_bench.py
"""
from __future__ import annotations

import time
from datetime import date, datetime, timezone
from statistics import median

from mock_gateway.config import AccountConfig, GatewayConfig, MarketConfig
from mock_gateway.sim import ContractQuery, OrderRequest, SimClock, World
from mock_gateway.sim.calendar import regular_session
from mock_gateway.sim.order_rules import check_order
from mock_gateway.sim.sessions import SESSION_RULES, SessionTimeline, is_open

AAPL = ContractQuery(symbol="AAPL", sec_type="STK", exchange="SMART", currency="USD")


def timed(fn, n: int) -> float:
    t = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t) / n * 1e6


def main() -> None:
    t = time.perf_counter()
    regular_session("XNYS", date(2026, 11, 24))
    regular_session("CMES", date(2026, 11, 24))
    build_s = time.perf_counter() - t
    start = datetime(2026, 11, 24, 22, 0, tzinfo=timezone.utc)        # 17:00 New York: closed
    world = World(GatewayConfig(start=start, market=MarketConfig(), accounts=[AccountConfig("DU1", 1e6)]),
                  SimClock(start=start))
    spec = world.contracts.match(AAPL)[0]
    request = OrderRequest(1, AAPL, "BUY", 100, "LMT", lmt_price=100.0)
    check_us = median(timed(lambda: check_order(request, spec), 2000) for _ in range(5))
    rule = SESSION_RULES["STK"]
    epoch = start.timestamp()
    lookup_us = median(timed(lambda: is_open(rule, epoch, True), 2000) for _ in range(5))
    timeline = SessionTimeline(rule, epoch, True)
    timeline_us = median(timed(lambda: timeline.is_open(10.0), 20000) for _ in range(5))
    n = [1000]

    def place():
        n[0] += 1
        world.orders.place(OrderRequest(n[0], AAPL, "BUY", 100, "LMT", lmt_price=100.0), client_id=1)
        world.clock.run_due()
    held_us = median(timed(place, 300) for _ in range(5))
    print(f"calendars XNYS+CMES 2000-2045 imported and built once: {build_s:.2f} s")
    print(f"check_order (all of IB's checks) {check_us:.1f} us/order; is_open via the calendar {lookup_us:.1f} us; "
          f"SessionTimeline.is_open (kept span) {timeline_us:.2f} us")
    print(f"resting LMT placed while closed (399, held PreSubmitted) {held_us:.0f} us/order")


if __name__ == "__main__":
    main()
