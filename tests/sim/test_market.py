"""The price path: seeded, on the tick grid, independent of who asks what and when."""
from __future__ import annotations

import math

import numpy as np
import simpy

from mock_gateway.config import MarketConfig
from mock_gateway.sim import ContractBook, Market, rng
from mock_gateway.sim.pricing import TRADING_SECONDS_PER_YEAR, black_scholes

from .support import AAPL_ID

BOOK = ContractBook.default()
EUR_ID, ES_FRONT_ID, ES_NEXT_ID = 12087792, 650000100, 650000101


def market(seed: int = 1, **cfg) -> Market:
    return Market(BOOK, MarketConfig(**cfg), seed=seed, env=simpy.Environment())


def path(m: Market, con_id: int, times: list[float]) -> list[float]:
    return [m.price_at(con_id, t) for t in times]


TIMES = [0.0, 0.25, 10.0, 600.0, 3600.0, 6 * 3600.0]


def test_the_same_seed_gives_the_same_path_whatever_was_asked_before():
    a, b = market(), market()
    b.price_at(ES_FRONT_ID, 7200.0)             # other contracts and later times first
    b.bars(AAPL_ID, 0.0, 5 * 86400, 3600)
    b.quote_at(AAPL_ID, 20000.0)
    assert path(a, AAPL_ID, TIMES) == path(b, AAPL_ID, TIMES)


def test_drawing_from_the_faults_stream_does_not_change_the_path():
    a = market(seed=5)
    rng.stream(5, "faults", "order_reject").random(1000)
    b = market(seed=5)
    assert path(a, AAPL_ID, TIMES) == path(b, AAPL_ID, TIMES)


def test_a_different_seed_gives_a_different_path():
    assert path(market(seed=1), AAPL_ID, TIMES[1:]) != path(market(seed=2), AAPL_ID, TIMES[1:])


def test_the_path_starts_at_the_initial_price():
    assert market().price_at(AAPL_ID, 0.0) == 230.0


def test_prices_and_quotes_are_on_the_tick_grid_with_the_configured_spread():
    m = market(spread_ticks=2)
    for t in np.linspace(0, 3600, 37):
        for con_id, tick in ((AAPL_ID, 0.01), (EUR_ID, 0.00005), (ES_FRONT_ID, 0.25)):
            q = m.quote_at(con_id, float(t))
            for price in (q.bid, q.ask, q.last):
                assert math.isclose(price / tick, round(price / tick), abs_tol=1e-6)
            assert math.isclose(q.ask - q.bid, 2 * tick, rel_tol=1e-6)
            assert q.bid <= q.last <= q.ask


def test_the_price_only_changes_at_grid_times():
    m = market(tick_interval_s=0.5)
    assert m.price_at(AAPL_ID, 100.0) == m.price_at(AAPL_ID, 100.49)
    assert m.quote_at(AAPL_ID, 100.3).time_s == 100.0


def test_quote_is_at_the_current_sim_time():
    m = market()
    m.env.run(until=1234.6)
    assert m.quote(AAPL_ID) == m.quote_at(AAPL_ID, 1234.5)


def test_volume_accumulates_and_high_low_bracket_the_path():
    m = market()
    q = m.quote_at(AAPL_ID, 3600.0)
    prices = path(m, AAPL_ID, list(np.arange(0, 3600.25, 0.25)))
    assert (q.high, q.low) == (max(prices), min(prices))
    assert q.volume > m.quote_at(AAPL_ID, 1800.0).volume > 0
    assert q.open == 230.0 and q.bid_size > 0 and q.ask_size > 0


def test_realised_volatility_matches_the_configured_annual_volatility():
    m = market(volatility_annual=0.30, tick_interval_s=1.0)
    mids = m._instrument(AAPL_ID).path.field("mid", 0, 200_000)
    per_step = np.std(np.diff(np.log(mids)))
    annual = per_step * math.sqrt(TRADING_SECONDS_PER_YEAR / 1.0)
    assert abs(annual - 0.30) < 0.01


def test_a_later_futures_month_moves_with_the_front_month():
    m = market()
    ratio0 = m.price_at(ES_NEXT_ID, 0) / m.price_at(ES_FRONT_ID, 0)
    ratio1 = m.price_at(ES_NEXT_ID, 5000) / m.price_at(ES_FRONT_ID, 5000)
    assert abs(ratio0 - ratio1) < 1e-4


def test_an_option_is_priced_by_black_scholes_on_its_underlying():
    m = market()
    call = next(s for s in BOOK if s.sec_type == "OPT" and s.symbol == "AAPL" and s.right == "C")
    t = 1800.0
    spot = m._instrument(AAPL_ID).path.at("mid", m.grid_index(t))
    expiry_s = m._instrument(call.con_id).path.expiry_s
    theo = float(black_scholes(spot, call.strike, (expiry_s - t) / (365 * 86400), 0.25, "C"))
    assert abs(m.price_at(call.con_id, t) - theo) <= 0.005 + 1e-9


def test_first_time_finds_the_first_grid_step_that_crosses_a_level():
    m = market()
    level = 230.5
    t = m.first_time(AAPL_ID, "ask", ">=", level, 0.0, 6 * 3600.0)
    assert t is not None and m.quote_at(AAPL_ID, t).ask >= level
    assert all(m.quote_at(AAPL_ID, x).ask < level for x in np.arange(0, t, 0.25))


def test_first_time_returns_none_when_the_level_is_not_reached_in_time():
    assert market().first_time(AAPL_ID, "bid", ">=", 1000.0, 0.0, 60.0) is None


def test_listeners_are_called_at_every_grid_step_only_while_registered():
    m = market(tick_interval_s=0.5)
    calls: list[float] = []
    m.add_listener(calls.append)
    m.env.run(until=2.1)
    m.remove_listener(calls.append)
    m.env.run(until=10)
    assert calls == [0.5, 1.0, 1.5, 2.0]


def test_an_idle_market_schedules_nothing():
    m = market()
    m.quote(AAPL_ID)
    assert math.isinf(m.env.peek())


def test_a_replayed_csv_is_followed_through_each_bar(tmp_path):
    csv = tmp_path / "bars.csv"
    csv.write_text("symbol,time,open,high,low,close,volume\n"
                   "AAPL,2026-11-24T14:29:00,100,101,99.5,100.5,6000\n"
                   "AAPL,1795530600,100.5,100.8,100.0,100.2,1200\n")
    m = market(replay_csv=csv)
    m.env.run(until=30)
    assert m.price_at(AAPL_ID, 0.0) == 100.5                  # the second bar opens at sim 0 (14:30 UTC)
    assert 100.0 <= m.quote(AAPL_ID).last <= 100.8
    prices = path(m, AAPL_ID, list(np.arange(0, 60, 0.25)))
    assert max(prices) == 100.8 and min(prices) == 100.0
    assert abs(m.price_at(AAPL_ID, 59.9) - 100.2) < 0.01
    [history] = m.bars(AAPL_ID, 0.0, 60.0, 60.0)
    assert (history.open, history.high, history.low) == (100.0, 101.0, 99.5) and history.time_s == -60.0
    assert m.price_at(ES_FRONT_ID, 0.0) == 5900.0 and m.quote(ES_FRONT_ID).volume > 0  # others keep their GBM path
