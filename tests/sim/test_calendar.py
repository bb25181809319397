"""The trading day: holidays, early closes, the CME break, the FX week, IB's hours strings, quotes outside hours."""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from mock_gateway.config import AccountConfig, GatewayConfig, MarketConfig
from mock_gateway.sim import SimClock, World
from mock_gateway.sim.calendar import CalendarRangeError
from mock_gateway.sim.sessions import (
    SESSION_RULES,
    SessionTimeline,
    hours_string,
    is_open,
    next_open_after,
    session_on,
)

NY, CHI = ZoneInfo("America/New_York"), ZoneInfo("America/Chicago")
STK, OPT, FUT, FX = (SESSION_RULES[k] for k in ("STK", "OPT", "FUT", "CASH"))


def ny(*args) -> float:
    return datetime(*args, tzinfo=NY).timestamp()


def chi(*args) -> float:
    return datetime(*args, tzinfo=CHI).timestamp()


@pytest.mark.parametrize("holiday", [date(2026, 11, 26), date(2026, 4, 3), date(2026, 6, 19), date(2026, 12, 25)])
def test_us_stock_venues_are_closed_on_nyse_holidays(holiday):
    assert session_on(STK, holiday, rth=True) is None and session_on(STK, holiday, rth=False) is None


def test_the_day_after_thanksgiving_closes_at_1300_and_its_extended_hours_at_1700():
    day = date(2026, 11, 27)
    assert session_on(STK, day, rth=True)[1].timestamp() == ny(2026, 11, 27, 13, 0)
    assert session_on(STK, day, rth=False)[1].timestamp() == ny(2026, 11, 27, 17, 0)
    assert session_on(OPT, day, rth=False)[1].timestamp() == ny(2026, 11, 27, 13, 0)


def test_us_stocks_trade_0400_to_2000_with_liquid_hours_0930_to_1600():
    assert not is_open(STK, ny(2026, 11, 24, 3, 59), rth=False)
    assert is_open(STK, ny(2026, 11, 24, 4, 0), rth=False) and not is_open(STK, ny(2026, 11, 24, 9, 29), rth=True)
    assert is_open(STK, ny(2026, 11, 24, 15, 59), rth=True) and not is_open(STK, ny(2026, 11, 24, 16, 0), rth=True)
    assert is_open(STK, ny(2026, 11, 24, 19, 59), rth=False) and not is_open(STK, ny(2026, 11, 24, 20, 0), rth=False)


def test_cme_futures_break_daily_from_1600_to_1700_chicago_and_open_sunday_evening():
    assert is_open(FUT, chi(2026, 11, 24, 15, 59), rth=False)
    assert not is_open(FUT, chi(2026, 11, 24, 16, 30), rth=False)
    assert is_open(FUT, chi(2026, 11, 24, 17, 0), rth=False)
    assert not is_open(FUT, chi(2026, 12, 5, 12, 0), rth=False)                 # Saturday
    assert next_open_after(FUT, chi(2026, 12, 5, 12, 0), rth=False) == chi(2026, 12, 6, 17, 0)


def test_idealpro_fx_trades_sunday_1715_to_friday_1700_new_york():
    assert not is_open(FX, ny(2026, 12, 6, 17, 14), rth=False)
    assert is_open(FX, ny(2026, 12, 6, 17, 15), rth=False)                      # the Sunday open
    assert not is_open(FX, ny(2026, 12, 8, 17, 5), rth=False)                   # the daily break
    assert is_open(FX, ny(2026, 12, 11, 16, 59), rth=False)
    assert not is_open(FX, ny(2026, 12, 11, 17, 0), rth=False)                  # Friday close
    assert next_open_after(FX, ny(2026, 12, 11, 17, 0), rth=False) == ny(2026, 12, 13, 17, 15)


def test_after_the_friday_close_the_next_open_is_monday_and_after_a_holiday_the_next_trading_day():
    assert next_open_after(STK, ny(2026, 11, 20, 17, 0), rth=True) == ny(2026, 11, 23, 9, 30)
    assert next_open_after(STK, ny(2026, 11, 20, 17, 0), rth=False) == ny(2026, 11, 23, 4, 0)
    assert next_open_after(STK, ny(2026, 11, 25, 16, 0), rth=True) == ny(2026, 11, 27, 9, 30)


def test_hours_strings_have_the_current_gateway_format():
    # nautilus_trader's recorded contract details: sessions under the date they open, CLOSED for empty dates
    fx = hours_string(FX, datetime(2022, 12, 5, 23, 0, tzinfo=timezone.utc), 7, rth=False)
    assert "20221208:1715-20221209:1700;20221210:CLOSED;20221211:1715-20221212:1700" in fx
    stk = hours_string(STK, datetime(2022, 12, 7, 15, 0, tzinfo=timezone.utc), 6, rth=False)
    assert stk == ("20221207:0400-20221207:2000;20221208:0400-20221208:2000;20221209:0400-20221209:2000;"
                   "20221210:CLOSED;20221211:CLOSED;20221212:0400-20221212:2000")
    thanksgiving = hours_string(STK, datetime(2026, 11, 25, 15, 0, tzinfo=timezone.utc), 3, rth=True)
    assert thanksgiving == "20261125:0930-20261125:1600;20261126:CLOSED;20261127:0930-20261127:1300"


def test_contract_details_hours_come_from_the_calendar_for_the_simulated_date():
    world = _world(datetime(2026, 11, 26, 15, 0, tzinfo=timezone.utc))      # Thanksgiving
    aapl = next(s for s in world.contracts if s.symbol == "AAPL" and s.sec_type == "STK")
    assert aapl.liquid_hours.startswith("20261126:CLOSED;20261127:0930-20261127:1300;20261128:CLOSED")


def test_a_date_outside_the_calendars_is_refused_with_a_clear_error():
    with pytest.raises(CalendarRangeError, match="outside the exchange calendars"):
        session_on(STK, date(1990, 1, 2), rth=True)


def test_the_timeline_answers_like_the_calendar():
    epoch0 = ny(2026, 11, 24, 9, 30)
    timeline = SessionTimeline(STK, epoch0)
    for h in range(0, 24 * 8, 1):
        t = h * 3600.0 + 17
        assert timeline.is_open(t) == is_open(STK, epoch0 + t, rth=False)


def _world(start: datetime) -> World:
    config = GatewayConfig(seed=3, start=start, market=MarketConfig(), accounts=[AccountConfig("DU1", 1e6)])
    return World(config, SimClock(start=start))


def test_no_trades_and_frozen_quotes_while_the_market_is_closed():
    world = _world(datetime(2026, 11, 25, 20, 0, tzinfo=timezone.utc))     # 15:00 New York, Thanksgiving eve
    aapl = next(s for s in world.contracts if s.symbol == "AAPL" and s.sec_type == "STK").con_id
    close_s = ny(2026, 11, 25, 20, 0) - world.market.epoch0
    at_close = world.market.quote_at(aapl, close_s - 0.001)
    for hours in (1, 12, 30):                      # the night, and Thanksgiving Day
        q = world.market.quote_at(aapl, close_s + hours * 3600)
        assert (q.bid, q.ask, q.last, q.volume) == (at_close.bid, at_close.ask, at_close.last, at_close.volume)
    friday_open_s = ny(2026, 11, 27, 4, 0) - world.market.epoch0
    hit = world.market.first_time(aapl, "ask", ">=", 0.0, close_s + 1, friday_open_s + 3600)
    assert hit is not None and hit >= friday_open_s


def test_a_run_that_starts_on_a_weekend_quotes_the_start_price_until_the_open():
    world = _world(datetime(2026, 11, 28, 15, 0, tzinfo=timezone.utc))     # Saturday
    aapl = next(s for s in world.contracts if s.symbol == "AAPL" and s.sec_type == "STK").con_id
    first = world.market.quote_at(aapl, 0.0)
    assert world.market.quote_at(aapl, 20 * 3600).last == first.last
    assert not world.market.is_trading(aapl, 0.0)
