"""Exchange trading days from a maintained calendar (``exchange_calendars``): holidays and early closes.

The mock's sessions (:mod:`.sessions`) ask one question of this module: on which local dates
does an exchange trade, and when does its regular session open and close that day. The
answer comes from ``exchange_calendars`` (XNYS for US stock and option venues, CMES for CME
Globex), so NYSE's holidays (Thanksgiving, Good Friday, Juneteenth...) and early closes
(13:00 New York the day after Thanksgiving and on Christmas Eve) are the library's, not ours.
"""
from __future__ import annotations

import functools
from datetime import date

#: The span of years the calendars are built for (building XNYS for it takes ~0.3 s, once).
FIRST_YEAR, LAST_YEAR = 2000, 2045


class CalendarRangeError(ValueError):
    """The simulated date is outside the years the exchange calendars cover."""


@functools.lru_cache(maxsize=8)
def _schedule(name: str) -> dict[date, tuple[float, float]]:
    """Local trading date -> (open, close) epoch seconds of the regular session, for every session of ``name``."""
    import exchange_calendars as xcals    # ~1 s to import: only when a session is first asked for

    cal = xcals.get_calendar(name, start=f"{FIRST_YEAR}-01-01", end=f"{LAST_YEAR}-12-31")
    s = cal.schedule
    opens = [t.timestamp() for t in s["open"]]
    closes = [t.timestamp() for t in s["close"]]
    return {d.date(): (float(o), float(c)) for d, o, c in zip(s.index, opens, closes)}


def regular_session(name: str, day: date) -> tuple[float, float] | None:
    """(open, close) epoch seconds of ``name``'s regular session on the local trading date ``day``; None if closed.

    Raises CalendarRangeError for a date outside FIRST_YEAR..LAST_YEAR: the mock will not invent
    a calendar it does not have.
    """
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise CalendarRangeError(f"{day.isoformat()} is outside the exchange calendars the mock has "
                                 f"({FIRST_YEAR}-{LAST_YEAR}); start the scenario within those years")
    return _schedule(name).get(day)


__all__ = ["CalendarRangeError", "FIRST_YEAR", "LAST_YEAR", "regular_session"]
