"""Bars: history before sim 0 joins the live grid, sessions and useRTH, data types, determinism."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import simpy

from mock_gateway.config import MarketConfig
from mock_gateway.sim import DEFAULT_START, ContractBook, HistoryError, Market

from .support import AAPL_ID

BOOK = ContractBook.default()
EUR_ID = 12087792
DAY, HOUR, MINUTE = 86400.0, 3600.0, 60.0
NEW_YORK = ZoneInfo("US/Eastern")


def market(seed: int = 3) -> Market:
    return Market(BOOK, MarketConfig(), seed=seed, env=simpy.Environment())


def local(bar_time_s: float) -> datetime:
    return (DEFAULT_START + timedelta(seconds=bar_time_s)).astimezone(NEW_YORK)


def test_history_ends_at_the_initial_price_so_live_prices_join_without_a_jump():
    m = market()
    m.env.run(until=600)
    bars = m.bars(AAPL_ID, 600.0, DAY, MINUTE)
    before = [b for b in bars if b.time_s < 0]
    after = [b for b in bars if b.time_s >= 0]
    assert before[-1].close == 230.0 == after[0].open
    assert len(after) == 10


def test_live_bars_aggregate_the_grid():
    m = market()
    m.env.run(until=600)
    for bar in m.bars(AAPL_ID, 600.0, 600.0, MINUTE):
        prices = [m.price_at(AAPL_ID, t) for t in np.arange(bar.time_s, bar.time_s + MINUTE, 0.25)]
        assert (bar.open, bar.high, bar.low, bar.close) == (prices[0], max(prices), min(prices), prices[-1])
        assert bar.volume > 0 and bar.low <= bar.wap <= bar.high and bar.count > 0


def test_a_bar_in_progress_at_sim_zero_merges_history_and_live():
    m = market()
    m.env.run(until=1800)
    [straddling] = [b for b in m.bars(AAPL_ID, 1800.0, 2 * HOUR, HOUR) if b.time_s < 0 < b.time_s + HOUR]
    assert straddling.time_s == -1800.0                      # 14:00 UTC, the sim starts 14:30
    assert straddling.close == m.price_at(AAPL_ID, 1799.75)
    live_only = m.bars(AAPL_ID, 1800.0, 1800.0, 1800.0)[0]
    assert straddling.volume > live_only.volume


def test_one_day_of_rth_minute_bars_is_one_session_of_390_bars():
    bars = market().bars(AAPL_ID, 0.0, DAY, MINUTE, use_rth=True)
    assert len(bars) == 390
    assert local(bars[0].time_s).strftime("%a %H:%M") == "Mon 09:30"
    assert local(bars[-1].time_s).strftime("%H:%M") == "15:59"


def test_extended_hours_bars_appear_without_rth():
    bars = market().bars(AAPL_ID, 0.0, DAY, MINUTE)
    hours = {local(b.time_s).hour for b in bars}
    assert {4, 8, 17, 19} <= hours and 3 not in hours and 20 not in hours


def test_five_days_of_rth_five_minute_bars_skip_the_weekend():
    bars = market().bars(AAPL_ID, 0.0, 5 * DAY, 300.0, use_rth=True)
    days = sorted({local(b.time_s).strftime("%a") for b in bars})
    assert days == ["Fri", "Mon", "Thu"] and len(bars) == 3 * 78


def test_hourly_rth_bars_start_at_the_open_then_on_the_hour():
    bars = market().bars(AAPL_ID, 0.0, DAY, HOUR, use_rth=True)
    assert [local(b.time_s).strftime("%H:%M") for b in bars] == \
        ["09:30", "10:00", "11:00", "12:00", "13:00", "14:00", "15:00"]


def test_a_month_of_daily_rth_bars_has_one_bar_per_weekday_at_the_open():
    bars = market().bars(AAPL_ID, 0.0, 30 * DAY, DAY, use_rth=True)
    assert len(bars) == 21
    assert all(local(b.time_s).strftime("%H:%M") == "09:30" and local(b.time_s).weekday() < 5 for b in bars)


def test_a_history_bar_is_the_same_whatever_range_was_asked():
    a, b = market(), market()
    month = {bar.time_s: bar for bar in a.bars(AAPL_ID, 0.0, 30 * DAY, HOUR)}
    week_ago = b.bars(AAPL_ID, -3 * DAY, DAY, HOUR)
    assert week_ago and all(month[bar.time_s] == bar for bar in week_ago)


def test_history_is_seeded():
    assert market(seed=1).bars(AAPL_ID, 0.0, DAY, HOUR) == market(seed=1).bars(AAPL_ID, 0.0, DAY, HOUR)
    assert market(seed=1).bars(AAPL_ID, 0.0, DAY, HOUR) != market(seed=2).bars(AAPL_ID, 0.0, DAY, HOUR)


def test_history_bars_are_consistent_ohlc_on_the_tick_grid():
    for bar in market().bars(AAPL_ID, 0.0, 5 * DAY, 300.0):
        assert bar.low <= min(bar.open, bar.close) <= max(bar.open, bar.close) <= bar.high
        assert round(bar.high * 100) == pytest.approx(bar.high * 100) and bar.volume > 0
        assert bar.low <= bar.wap <= bar.high and bar.count >= 1


def test_bid_bars_lie_below_ask_bars_and_carry_no_volume():
    m = market()
    m.env.run(until=300)
    bid = m.bars(AAPL_ID, 300.0, DAY, MINUTE, "BID")
    ask = m.bars(AAPL_ID, 300.0, DAY, MINUTE, "ASK")
    mid = m.bars(AAPL_ID, 300.0, DAY, MINUTE, "MIDPOINT")
    assert len(bid) == len(ask) == len(mid)
    for b, a, x in zip(bid, ask, mid):
        assert b.close < x.close < a.close and b.volume == a.volume == x.volume == -1


def test_bid_ask_bars_span_the_lowest_bid_to_the_highest_ask():
    m = market()
    m.env.run(until=300)
    [bar] = m.bars(AAPL_ID, 300.0, 60.0, MINUTE, "BID_ASK")
    bids = [m.quote_at(AAPL_ID, t).bid for t in np.arange(240, 300, 0.25)]
    asks = [m.quote_at(AAPL_ID, t).ask for t in np.arange(240, 300, 0.25)]
    assert (bar.low, bar.high) == (min(bids), max(asks))
    assert bar.open == pytest.approx(np.mean(bids)) and bar.close == pytest.approx(np.mean(asks))


def test_bars_stop_at_the_current_sim_time():
    m = market()
    m.env.run(until=90)
    bars = m.bars(AAPL_ID, 10 * HOUR, 10 * HOUR, MINUTE)
    assert bars[-1].time_s == 60.0


@pytest.mark.parametrize("con_id, what, bar_size", [
    (EUR_ID, "TRADES", MINUTE), (AAPL_ID, "FOO", MINUTE), (AAPL_ID, "TRADES", 0.0)])
def test_requests_the_market_cannot_answer_raise_history_error(con_id, what, bar_size):
    with pytest.raises(HistoryError):
        market().bars(con_id, 0.0, DAY, bar_size, what)


def test_forex_midpoint_history_is_available_around_the_clock():
    m = market()
    bars = m.bars(EUR_ID, 0.0, DAY, HOUR, "MIDPOINT")
    start = m.quote_at(EUR_ID, 0.0)
    assert len(bars) == 24 and bars[-1].close == pytest.approx((start.bid + start.ask) / 2, abs=1e-12)


def test_option_history_is_the_value_of_the_underlyings_history_at_each_bar():
    call = next(s for s in BOOK if s.sec_type == "OPT" and s.right == "C")
    m = market()
    bars = m.bars(call.con_id, 0.0, DAY, 1800.0, "TRADES")
    under = m.bars(call.under_con_id, 0.0, DAY, 1800.0, "TRADES")
    close_s = bars[-1].time_s + 1800.0
    [under_bar] = [b for b in under if b.time_s == bars[-1].time_s]
    value = m._instrument(call.con_id).path.value(under_bar.close, close_s)
    assert bars[-1].close == pytest.approx(float(value), abs=0.01) and all(b.low > 0 for b in bars)


def test_weekly_bars_group_the_daily_bars_of_each_local_week():
    m = market()
    daily = m.bars(AAPL_ID, 0.0, 35 * DAY, DAY)            # a week more: the first week is served whole
    weekly = m.bars(AAPL_ID, 0.0, 28 * DAY, 7 * DAY)
    assert 4 <= len(weekly) <= 5
    for week in weekly:
        members = [d for d in daily if local(d.time_s).isocalendar()[:2] == local(week.time_s).isocalendar()[:2]]
        # dated by the week's last trading day, as IB dates 1W bars (end of period)
        assert week.time_s == members[-1].time_s and week.open == members[0].open and week.close == members[-1].close
        assert week.high == max(d.high for d in members) and week.volume == sum(d.volume for d in members)
