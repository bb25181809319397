"""Orders across the trading day in the SimPy world: held while closed, auctions, expiries, trailing stops."""
from __future__ import annotations

from datetime import datetime, timezone

from mock_gateway.config import AccountConfig, GatewayConfig, MarketConfig
from mock_gateway.sim import Fill, OrderUpdate, SimClock, World
from mock_gateway.sim.order_types import OrderWarning

from .support import AAPL_ID, Recorder, order

UTC = timezone.utc


def world_at(start: datetime) -> tuple[World, Recorder]:
    config = GatewayConfig(seed=11, start=start, market=MarketConfig(), accounts=[AccountConfig("DU1", 1e6)])
    world = World(config, SimClock(start=start))
    return world, Recorder(world)


def at(world: World, moment: datetime) -> float:
    return moment.timestamp() - world.market.epoch0


def test_an_order_placed_while_closed_is_warned_once_and_stays_presubmitted_until_the_open():
    world, rec = world_at(datetime(2026, 11, 24, 22, 0, tzinfo=UTC))        # 17:00 New York
    world.orders.place(order(1), client_id=1)
    open_s = at(world, datetime(2026, 11, 25, 14, 30, tzinfo=UTC))
    world.env.run(until=open_s - 1)
    assert rec.statuses() == ["PreSubmitted"] and [w.code for w in rec.of(OrderWarning)] == [399]
    world.env.run(until=open_s + 1)
    assert rec.statuses() == ["PreSubmitted", "Submitted", "Filled"]
    assert rec.of(Fill)[0].execution.time_s == open_s


def test_a_regular_hours_limit_does_not_fill_in_the_pre_market_but_an_outside_rth_one_does():
    world, rec = world_at(datetime(2026, 11, 24, 13, 0, tzinfo=UTC))        # 08:00 New York
    marketable = round(world.market.quote(AAPL_ID).ask + 1.0, 2)
    world.orders.place(order(1, order_type="LMT", lmt_price=marketable), client_id=1)
    world.orders.place(order(2, order_type="LMT", lmt_price=marketable, outside_rth=True), client_id=1)
    world.env.run(until=60)
    assert [f.order.order_id for f in rec.of(Fill)] == [2]
    world.env.run(until=at(world, datetime(2026, 11, 24, 14, 30, 1, tzinfo=UTC)))
    assert [f.order.order_id for f in rec.of(Fill)] == [2, 1]


def test_a_market_on_open_order_fills_at_the_next_regular_open():
    world, rec = world_at(datetime(2026, 11, 24, 20, 0, tzinfo=UTC))        # 15:00 New York, in session
    world.orders.place(order(1, tif="OPG"), client_id=1)
    open_s = at(world, datetime(2026, 11, 25, 14, 30, tzinfo=UTC))
    world.env.run(until=open_s + 1)
    [fill] = rec.of(Fill)
    assert fill.execution.time_s == open_s and fill.execution.price == world.market.quote_at(AAPL_ID, open_s).ask


def test_a_market_on_close_order_fills_at_the_close_and_an_unmet_limit_on_close_is_cancelled():
    world, rec = world_at(datetime(2026, 11, 24, 20, 0, tzinfo=UTC))
    world.orders.place(order(1, order_type="MOC"), client_id=1)
    low = round(world.market.quote(AAPL_ID).bid * 0.5, 2)
    world.orders.place(order(2, order_type="LOC", lmt_price=low), client_id=1)
    close_s = at(world, datetime(2026, 11, 24, 21, 0, tzinfo=UTC))
    world.env.run(until=close_s + 1)
    [fill] = rec.of(Fill)
    assert fill.order.order_id == 1 and close_s - 1 < fill.execution.time_s < close_s
    assert world.orders.find(1, 2).status == "Cancelled"


def test_a_gtd_order_expires_at_its_good_till_date():
    world, rec = world_at(datetime(2026, 11, 24, 15, 0, tzinfo=UTC))        # 10:00 New York
    far = round(world.market.quote(AAPL_ID).bid * 0.5, 2)
    world.orders.place(order(1, order_type="LMT", lmt_price=far, tif="GTD",
                             good_till_date="20261124 11:00:00 US/Eastern"), client_id=1)
    world.env.run(until=3600 + 1)
    gtd = world.orders.find(1, 1)
    assert gtd.status == "Cancelled" and gtd.completed_at_s == 3600


def test_a_trailing_stop_triggers_when_the_last_falls_its_offset_below_the_high_since_placement():
    world, rec = world_at(datetime(2026, 11, 24, 15, 0, tzinfo=UTC))
    offset = 0.5
    world.orders.place(order(1, "SELL", order_type="TRAIL", aux_price=offset, tif="GTC"), client_id=1)
    world.env.run(until=6 * 3600)
    [fill] = rec.of(Fill)
    t = fill.execution.time_s
    step = world.market.tick_interval_s
    lasts = [world.market.price_at(AAPL_ID, k * step) for k in range(int(t / step) + 1)]
    assert lasts[-1] <= max(lasts) - offset + 1e-9                      # it triggered on a real drop
    assert all(last > high - offset + 1e-9 for last, high in
               zip(lasts[:-1], [max(lasts[:i + 1]) for i in range(len(lasts) - 1)]))   # and not before


def test_an_ioc_order_placed_while_closed_waits_for_the_open_then_fills_at_once():
    world, rec = world_at(datetime(2026, 11, 24, 22, 0, tzinfo=UTC))
    world.orders.place(order(1, tif="IOC"), client_id=1)
    open_s = at(world, datetime(2026, 11, 25, 14, 30, tzinfo=UTC))
    world.env.run(until=open_s + 1)
    assert [e.status for e in rec.of(OrderUpdate)][-1] == "Filled" and rec.of(Fill)[0].execution.time_s == open_s
