"""The vectorised session tables say what the per-day session rules say, and contract hours follow the simulated date."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

import pytest

from mock_gateway.reference import details_at
from mock_gateway.sim.calendar import CalendarRangeError
from mock_gateway.sim.contracts import ContractQuery, ContractBook
from mock_gateway.sim.sessions import SESSION_RULES, session_spans, sessions_between

RULES = {**{kind: rule for kind, rule in SESSION_RULES.items()},
         **{f"{kind} without calendar": replace(rule, calendar="") for kind, rule in SESSION_RULES.items()
            if rule.calendar}}


def utc(*args) -> float:
    return datetime(*args, tzinfo=timezone.utc).timestamp()


@pytest.mark.parametrize("rth", [False, True])
@pytest.mark.parametrize("kind", sorted(RULES))
def test_session_spans_equal_sessions_between_year_by_year(kind, rth):
    rule = RULES[kind]
    for year in (1960, 1987, 1999, 2000, 2001, 2008, 2020, 2026, 2045, 2046, 2069):
        a, b = utc(year, 1, 1), utc(year + 1, 1, 1)
        try:
            expected = sessions_between(rule, a, b, rth)
        except CalendarRangeError:
            with pytest.raises(CalendarRangeError):
                session_spans(rule, a, b, rth)
            continue
        opens, closes = session_spans(rule, a, b, rth)
        assert list(zip(opens.tolist(), closes.tolist())) == expected, year


def test_session_spans_keep_holidays_and_early_closes():
    opens, closes = session_spans(SESSION_RULES["STK"], utc(2026, 11, 25), utc(2026, 11, 28), rth=True)
    days = [datetime.fromtimestamp(o, timezone.utc).day for o in opens]
    assert days == [25, 27]                                    # Thanksgiving (26th) does not trade
    assert closes[-1] == utc(2026, 11, 27, 18, 0)              # 13:00 New York, the early close


def test_session_spans_before_the_table_take_the_per_day_path():
    rule = replace(SESSION_RULES["STK"], calendar="")
    a, b = utc(1930, 3, 1), utc(1930, 3, 15)
    opens, closes = session_spans(rule, a, b, rth=True)
    assert list(zip(opens.tolist(), closes.tolist())) == sessions_between(rule, a, b, True)
    assert len(opens) == 10


def _aapl():
    start = datetime(2026, 12, 1, 15, 0, tzinfo=timezone.utc)
    book = ContractBook.default(start)
    return start, book.match(ContractQuery(symbol="AAPL", sec_type="STK", currency="USD"))[0]


def test_contract_hours_at_the_start_are_the_books():
    start, spec = _aapl()
    details = details_at(spec, start)
    assert (details.trading_hours, details.liquid_hours) == (spec.trading_hours, spec.liquid_hours)
    assert details.con_id == spec.con_id and details.long_name == spec.long_name


def test_contract_hours_start_at_the_simulated_date_not_the_start_date():
    start, spec = _aapl()                                      # Tuesday 2026-12-01
    details = details_at(spec, datetime(2026, 12, 5, 15, 0, tzinfo=timezone.utc))   # Saturday
    assert details.trading_hours.startswith("20261205:CLOSED;20261206:CLOSED;20261207:0400-20261207:2000")
    assert details.liquid_hours.startswith("20261205:CLOSED;20261206:CLOSED;20261207:0930-20261207:1600")
    assert spec.trading_hours.startswith("20261201:0400-20261201:2000")


def test_contract_hours_use_new_york_dates_not_utc_ones():
    _, spec = _aapl()
    late_evening_ny = datetime(2026, 12, 2, 3, 0, tzinfo=timezone.utc)       # 22:00 on the 1st in New York
    assert details_at(spec, late_evening_ny).trading_hours.startswith("20261201:")
