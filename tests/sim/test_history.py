"""History before sim 0: computed directly at the times asked, bounded, reproducible and plausible."""
from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pytest
import simpy

from mock_gateway.config import MarketConfig
from mock_gateway.sim import DEFAULT_START, ContractBook, Market
from mock_gateway.sim.history import PastProcess

from .support import AAPL_ID

BOOK = ContractBook.default()
MSFT_ID = 272093
DAY, SECOND = 86400.0, 1.0


def market(seed: int = 7) -> Market:
    return Market(BOOK, MarketConfig(), seed=seed, env=simpy.Environment())


def sim_s(*when: int) -> float:
    return datetime(*when, tzinfo=timezone.utc).timestamp() - DEFAULT_START.timestamp()


def test_seconds_bars_years_before_the_run_are_answered_with_exactly_the_bars_asked():
    bars = market().bars(AAPL_ID, sim_s(2023, 10, 6, 20), 30.0, SECOND)
    assert len(bars) == 30
    assert [b.time_s for b in bars] == [sim_s(2023, 10, 6, 20) - 30 + k for k in range(30)]


def test_a_bar_is_the_same_whatever_was_asked_before_it():
    end = sim_s(2019, 3, 14, 18)
    alone = market().bars(AAPL_ID, end, 3600.0, 60.0)
    m = market()
    m.bars(AAPL_ID, sim_s(2001, 1, 5, 18), 30 * DAY, 3600.0)
    m.bars(AAPL_ID, end + 7200.0, 3 * 3600.0, 60.0)
    assert m.bars(AAPL_ID, end, 3600.0, 60.0) == alone


def test_history_depends_on_the_seed():
    end = sim_s(2019, 3, 14, 18)
    assert market(1).bars(AAPL_ID, end, DAY, 3600.0) != market(2).bars(AAPL_ID, end, DAY, 3600.0)


def test_daily_bars_over_decades_stay_positive_and_near_the_contracts_level():
    bars = market().bars(MSFT_ID, 0.0, 36 * 365 * DAY, DAY)
    lows, highs = np.array([b.low for b in bars]), np.array([b.high for b in bars])
    assert len(bars) > 8000 and lows.min() > 0
    assert highs.max() < 420.0 * 4 and lows.min() > 420.0 / 200      # anchored at 420, plausible growth
    first_year = np.mean([b.close for b in bars[:250]])
    assert first_year < 420.0                                        # equities grew over the decades


def test_every_bar_brackets_its_open_and_close():
    for bar in market().bars(AAPL_ID, sim_s(2015, 6, 1), 5 * DAY, 300.0):
        assert bar.low <= min(bar.open, bar.close) <= max(bar.open, bar.close) <= bar.high
        assert bar.volume > 0 and bar.low <= bar.wap <= bar.high


def test_consecutive_bars_join_open_to_close():
    bars = market().bars(AAPL_ID, sim_s(2015, 6, 1, 18), 3600.0, 60.0)
    assert all(a.close == b.open for a, b in zip(bars, bars[1:]))


def test_the_process_is_pinned_at_the_anchor_at_sim_zero():
    proc = PastProcess(230.0, 0.07, 0.25, key=11)
    assert np.exp(proc.log_price(np.array([0.0]))[0]) == pytest.approx(230.0, rel=1e-12)
    near = np.exp(proc.log_price(np.array([-1.0, -60.0])))
    assert np.all(np.abs(near / 230.0 - 1) < 0.01)


def test_the_process_at_a_point_does_not_depend_on_the_other_points_asked():
    proc = PastProcess(100.0, 0.0, 0.3, key=5)
    t = np.array([-123456789.0])
    assert proc.log_price(t)[0] == proc.log_price(np.array([-5.0, -123456789.0, -1e9]))[1]
