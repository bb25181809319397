"""Historical data as IB's HMDS serves and refuses it, through ib_insync 0.9.86 over a real socket.

Each test is one rule of docs/fidelity.md ("Historical data").
"""
from __future__ import annotations

import asyncio

import pytest

from mock_gateway.faults.base import FaultStack

LEGAL = ("1 secs, 5 secs, 10 secs, 15 secs, 30 secs, 1 min, 2 mins, 3 mins, 5 mins, 10 mins, 15 mins, 20 mins, "
         "30 mins, 1 hour, 2 hours, 3 hours, 4 hours, 8 hours, 1 day, 1W, 1M")


@pytest.fixture
def gateway(mock_gateway_factory):
    return mock_gateway_factory(faults=FaultStack([]))      # no pacing: these tests send many requests


def history(gw, contract, end: str, duration: str, bar: str, what: str = "TRADES", rth: bool = False):
    """(bars, [(code, text)]) for one reqHistoricalData."""
    import ib_insync

    async def run():
        ib = ib_insync.IB()
        errors: list[tuple[int, str]] = []
        ib.errorEvent += lambda req_id, code, text, *_: errors.append((code, text)) if req_id > 0 else None
        await ib.connectAsync(gw.host, gw.port, clientId=7, timeout=5)
        try:
            bars = await asyncio.wait_for(
                ib.reqHistoricalDataAsync(contract, end, duration, bar, what, rth, formatDate=2), 10)
            return list(bars), errors
        finally:
            ib.disconnect()

    return asyncio.get_event_loop().run_until_complete(run())


def aapl():
    import ib_insync
    return ib_insync.Stock("AAPL", "SMART", "USD")


def test_one_second_bars_years_before_the_run_are_answered_at_once_with_no_data(gateway):
    bars, errors = history(gateway, aapl(), "20231006 20:00:00", "30 S", "1 secs")     # older than six months
    assert bars == [] and errors == [(162, "Historical Market Data Service error message:HMDS query returned no "
                                           "data: AAPL@SMART Last")]


def test_one_second_bars_weeks_before_the_run_are_the_bars_asked(gateway):
    bars, errors = history(gateway, aapl(), "20261006 15:00:00 US/Eastern", "30 S", "1 secs")
    assert errors == [] and len(bars) == 30
    assert [int(b.date.timestamp()) for b in bars] == list(range(int(bars[0].date.timestamp()),
                                                                 int(bars[0].date.timestamp()) + 30))


@pytest.mark.parametrize("bar", ["1 sec", "7 mins", "1 hours", "1 days", "2 weeks"])
def test_an_illegal_bar_size_gets_321_naming_the_legal_ones(gateway, bar):
    bars, errors = history(gateway, aapl(), "", "1 D", bar)
    assert bars == [] and len(errors) == 1
    code, text = errors[0]
    assert code == 321 and text.endswith("Historical data bar size setting is invalid. Legal ones are: " + LEGAL)


@pytest.mark.parametrize("duration, limit", [("400 D", "365 days"), ("53 W", "52 weeks"), ("13 M", "12 months")])
def test_durations_past_a_units_limit_must_be_made_in_years(gateway, duration, limit):
    bars, errors = history(gateway, aapl(), "", duration, "1 day")
    assert bars == [] and errors[0][0] == 321
    assert f"durations longer than {limit} must be made in years." in errors[0][1]


def test_a_duration_in_years_is_served(gateway):
    bars, errors = history(gateway, aapl(), "", "2 Y", "1 day")
    assert errors == [] and 480 < len(bars) < 530


@pytest.mark.parametrize("duration", ["1 X", "D", "0 D", "1.5 D"])
def test_a_malformed_duration_is_321(gateway, duration):
    bars, errors = history(gateway, aapl(), "", duration, "1 hour")
    assert bars == [] and errors[0][0] == 321 and "duration is invalid" in errors[0][1]


def test_seconds_bars_beyond_the_step_table_exceed_the_time_length(gateway):
    bars, errors = history(gateway, aapl(), "", "1 D", "1 secs")
    assert bars == [] and errors == [(162, "Historical Market Data Service error message:Time length exceed max.")]


def test_bars_of_30_seconds_or_less_older_than_six_months_return_no_data(gateway):
    bars, errors = history(gateway, aapl(), "20250101 16:00:00 US/Eastern", "1800 S", "30 secs")
    assert bars == [] and errors[0][0] == 162 and "HMDS query returned no data" in errors[0][1]
    bars, errors = history(gateway, aapl(), "20250101 16:00:00 US/Eastern", "1 D", "1 min")
    assert errors == [] and bars


def test_weekly_and_monthly_bars_are_served(gateway):
    weekly, e1 = history(gateway, aapl(), "", "1 Y", "1W")
    monthly, e2 = history(gateway, aapl(), "", "2 Y", "1M")
    assert e1 == e2 == []
    assert 50 <= len(weekly) <= 54 and 23 <= len(monthly) <= 25
    assert all(b.low <= min(b.open, b.close) and b.high >= max(b.open, b.close) for b in weekly + monthly)


def test_forex_has_no_trades_history(gateway):
    import ib_insync
    bars, errors = history(gateway, ib_insync.Forex("EURUSD"), "", "1 D", "1 hour", "TRADES")
    assert bars == [] and errors[0][0] == 162
    assert errors[0][1].startswith("Historical Market Data Service error message:No historical market data for EUR/CASH")
    bars, errors = history(gateway, ib_insync.Forex("EURUSD"), "", "1 D", "1 hour", "MIDPOINT")
    assert errors == [] and len(bars) >= 20


def test_bid_ask_bars_average_the_bid_and_ask_and_span_bid_low_to_ask_high(gateway):
    bars, errors = history(gateway, aapl(), "", "1 D", "1 hour", "BID_ASK")
    mids, _ = history(gateway, aapl(), "", "1 D", "1 hour", "MIDPOINT")
    assert errors == [] and len(bars) == len(mids)
    for ba, mid in zip(bars, mids):
        assert ba.low <= mid.low and ba.high >= mid.high and ba.volume == -1


def test_adjusted_last_is_served_for_stocks(gateway):
    adjusted, errors = history(gateway, aapl(), "", "5 D", "1 day", "ADJUSTED_LAST")
    trades, _ = history(gateway, aapl(), "", "5 D", "1 day", "TRADES")
    assert errors == [] and [b.close for b in adjusted] == [b.close for b in trades]   # no splits in the sim


def test_a_long_daily_history_is_answered_in_full(gateway):
    bars, errors = history(gateway, aapl(), "", "20 Y", "1 day")
    assert errors == [] and 4950 <= len(bars) <= 5230      # weekdays, less exchange holidays
    times = [b.date for b in bars]
    assert times == sorted(times) and len(set(times)) == len(times)


def ticks_and_histogram(gw, what: str):
    import ib_insync

    async def run():
        ib = ib_insync.IB()
        await ib.connectAsync(gw.host, gw.port, clientId=9, timeout=5)
        try:
            contract = aapl()
            await ib.qualifyContractsAsync(contract)
            ticks = await asyncio.wait_for(ib.reqHistoricalTicksAsync(contract, "", "20261120 15:00:00 US/Eastern",
                                                                      50, what, False), 10)
            histogram = await asyncio.wait_for(ib.reqHistogramDataAsync(contract, False, "3 days"), 10)
            return list(ticks), list(histogram)
        finally:
            ib.disconnect()

    return asyncio.get_event_loop().run_until_complete(run())


@pytest.mark.parametrize("what", ["TRADES", "BID_ASK", "MIDPOINT"])
def test_historical_ticks_are_served_from_the_same_path(gateway, what):
    ticks, histogram = ticks_and_histogram(gateway, what)
    assert len(ticks) == 50
    times = [t.time.timestamp() for t in ticks]
    assert times == sorted(times) and times[-1] < 1795204800            # before 2026-11-20 15:00 New York
    if what == "BID_ASK":
        assert all(t.priceBid < t.priceAsk for t in ticks)
    else:
        assert all(200 < t.price < 260 for t in ticks)
    assert histogram and all(p.count >= 0 for p in histogram)
    prices = [p.price for p in histogram]
    assert prices == sorted(prices)


def test_an_absurd_duration_is_answered_from_the_listing_date_and_the_gateway_keeps_serving(gateway):
    bars, errors = history(gateway, aapl(), "", "999999999 Y", "1 day")
    assert errors == [] and str(bars[0].date) == "1980-12-12" and len(bars) > 11000
    bars, errors = history(gateway, aapl(), "18000101 00:00:00", "1 Y", "1 day")
    assert bars == [] and errors[0][0] == 162
