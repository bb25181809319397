"""Exchange trading days from a maintained calendar (``exchange_calendars``): holidays and early closes.

The mock's sessions (:mod:`.sessions`) ask one question of this module: on which local dates
does an exchange trade, and when does its regular session open and close that day. The
answer comes from ``exchange_calendars`` (XNYS for US stock and option venues, CMES for CME
Globex), so NYSE's holidays (Thanksgiving, Good Friday, Juneteenth...) and early closes
(13:00 New York the day after Thanksgiving and on Christmas Eve) are the library's, not ours.
"""
from __future__ import annotations

import functools
import threading
from datetime import date, timedelta

import numpy as np

#: The span of years the calendars are built for (building XNYS for it takes ~0.3 s, once).
FIRST_YEAR, LAST_YEAR = 2000, 2045
#: The calendars the session rules name (:data:`.sessions.SESSION_RULES`).
CALENDARS = ("XNYS", "CMES")


class CalendarRangeError(ValueError):
    """The simulated date is outside the years the exchange calendars cover."""


_BUILD_LOCK = threading.Lock()      # one build per calendar, whichever thread asks first (a warm-up or a request)


@functools.lru_cache(maxsize=8)
def _schedule(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(local trading dates as days since 1970-01-01, open epoch seconds, close epoch seconds) of ``name``'s
    regular sessions, in date order."""
    with _BUILD_LOCK:
        return _build(name)


@functools.lru_cache(maxsize=8)
def _build(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    import exchange_calendars as xcals    # ~0.7 s to import: only when a calendar is first asked for

    cal = xcals.get_calendar(name, start=f"{FIRST_YEAR}-01-01", end=f"{LAST_YEAR}-12-31")
    s = cal.schedule
    days = s.index.values.astype("datetime64[D]").astype(np.int64)
    opens = s["open"].values.astype("datetime64[s]").astype(np.int64).astype(float)
    closes = s["close"].values.astype("datetime64[s]").astype(np.int64).astype(float)
    return days, opens, closes


@functools.lru_cache(maxsize=8)
def _by_date(name: str) -> dict[date, tuple[float, float]]:
    days, opens, closes = _schedule(name)
    epoch = date(1970, 1, 1)
    return {epoch + timedelta(days=int(d)): (float(o), float(c)) for d, o, c in zip(days, opens, closes)}


def regular_closes(name: str) -> tuple[np.ndarray, np.ndarray]:
    """(local trading dates as days since 1970-01-01, close epoch seconds) of every regular session of ``name``."""
    days, _, closes = _schedule(name)
    return days, closes


def warm_up(names: tuple[str, ...] = CALENDARS) -> None:
    """Build the calendars now (import ~0.7 s, build ~0.4 s), so that no request pays for them."""
    for name in names:
        _by_date(name)


def regular_session(name: str, day: date) -> tuple[float, float] | None:
    """(open, close) epoch seconds of ``name``'s regular session on the local trading date ``day``; None if closed.

    Raises CalendarRangeError for a date outside FIRST_YEAR..LAST_YEAR: the mock will not invent
    a calendar it does not have.
    """
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise CalendarRangeError(f"{day.isoformat()} is outside the exchange calendars the mock has "
                                 f"({FIRST_YEAR}-{LAST_YEAR}); start the scenario within those years")
    return _by_date(name).get(day)


__all__ = ["CALENDARS", "CalendarRangeError", "FIRST_YEAR", "LAST_YEAR", "regular_closes", "regular_session", "warm_up"]
