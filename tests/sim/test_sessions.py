"""Session closes (what a DAY order expires at) are the first close after the moment asked about."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from mock_gateway.sim.sessions import CLOSE_BLOCK_S, SESSION_RULES, session_close_after, sessions_between


def close_by_scanning(rule, epoch: float, rth: bool) -> float:
    """The definition: the earliest close after ``epoch`` among the sessions of the next eight days."""
    return min(close for _, close in sessions_between(rule, epoch, epoch + 8 * 86400, rth) if close > epoch)


def _moments() -> list[float]:
    start = datetime(2026, 1, 1, tzinfo=ZoneInfo("UTC")).timestamp()
    every_7h_for_a_year = [start + k * 7 * 3600 + 17 for k in range(1252)]
    block_edges = [b * CLOSE_BLOCK_S + d for b in range(2923, 2927) for d in (-1.0, 0.0, 1.0)]
    return every_7h_for_a_year + block_edges


@pytest.mark.parametrize("sec_type", sorted(SESSION_RULES))
@pytest.mark.parametrize("rth", [True, False])
def test_the_close_after_a_moment_is_the_first_one_after_it_all_year(sec_type, rth):
    rule = SESSION_RULES[sec_type]
    moments = _moments()
    closes = [c for _, c in sessions_between(rule, moments[0], moments[-1], rth)]
    moments += [c + d for c in closes[:40] for d in (-0.5, 0.0, 0.5)]   # at and around a close
    assert [session_close_after(rule, e, rth) for e in moments] == [close_by_scanning(rule, e, rth) for e in moments]


def test_a_friday_evening_order_expires_at_mondays_close_in_new_york():
    ny = ZoneInfo("America/New_York")
    friday_evening = datetime(2026, 3, 6, 17, 0, tzinfo=ny).timestamp()   # the weekend before DST starts
    monday_close = datetime(2026, 3, 9, 16, 0, tzinfo=ny).timestamp()
    assert session_close_after(SESSION_RULES["STK"], friday_evening, rth=True) == monday_close
