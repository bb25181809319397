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
from datetime import date

import numpy as np

from . import table_cache

#: The span of years the calendars are built for (building XNYS for it takes ~0.3 s, once).
FIRST_YEAR, LAST_YEAR = 2000, 2045
#: The calendars the session rules name (:data:`.sessions.SESSION_RULES`).
CALENDARS = ("XNYS", "CMES")


_EPOCH_DAY = date(1970, 1, 1)


class CalendarRangeError(ValueError):
    """The simulated date is outside the years the exchange calendars cover."""


_BUILD_LOCK = threading.Lock()      # one build per calendar, whichever thread asks first (a warm-up or a request)


@functools.lru_cache(maxsize=8)
def _schedule(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(local trading dates as days since 1970-01-01, open epoch seconds, close epoch seconds) of ``name``'s
    regular sessions, in date order."""
    with _BUILD_LOCK:
        return _build(name)


def _cache_key(name: str) -> str:
    """What the schedule depends on: the calendar, the years, and the libraries that compute it."""
    return (f"calendar:{name}:{FIRST_YEAR}-{LAST_YEAR}:exchange_calendars={table_cache.version_of('exchange_calendars')}"
            f":pandas={table_cache.version_of('pandas')}")


def _valid(arrays: dict[str, np.ndarray] | None) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The cached (days, opens, closes) if they have the shape a schedule has, else None."""
    if arrays is None or set(arrays) != {"days", "opens", "closes"}:
        return None
    days, opens, closes = arrays["days"], arrays["opens"], arrays["closes"]
    if not (days.dtype == np.int64 and opens.dtype == closes.dtype == np.float64
            and days.ndim == opens.ndim == closes.ndim == 1 and len(days) == len(opens) == len(closes) > 0):
        return None
    if not (np.all(np.diff(days) > 0) and np.all(closes > opens)):
        return None
    return days, opens, closes


@functools.lru_cache(maxsize=8)
def _build(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """From the on-disk table cache (a few ms) when this machine built it before, else from the library."""
    key = _cache_key(name)
    cached = _valid(table_cache.load(key))
    if cached is not None:
        return cached
    built = _compute(name)
    table_cache.store(key, dict(zip(("days", "opens", "closes"), built)))
    return built


def _compute(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    import exchange_calendars as xcals    # ~0.7 s to import: only when a calendar is first computed

    cal = xcals.get_calendar(name, start=f"{FIRST_YEAR}-01-01", end=f"{LAST_YEAR}-12-31")
    s = cal.schedule
    days = s.index.values.astype("datetime64[D]").astype(np.int64)
    opens = s["open"].values.astype("datetime64[s]").astype(np.int64).astype(float)
    closes = s["close"].values.astype("datetime64[s]").astype(np.int64).astype(float)
    return days, opens, closes


def regular_closes(name: str) -> tuple[np.ndarray, np.ndarray]:
    """(local trading dates as days since 1970-01-01, close epoch seconds) of every regular session of ``name``."""
    days, _, closes = _schedule(name)
    return days, closes


def warm_up(names: tuple[str, ...] = CALENDARS) -> None:
    """Build the calendars now (import ~0.7 s, build ~0.4 s), so that no request pays for them."""
    for name in names:
        _schedule(name)


def regular_session(name: str, day: date) -> tuple[float, float] | None:
    """(open, close) epoch seconds of ``name``'s regular session on the local trading date ``day``; None if closed.

    Raises CalendarRangeError for a date outside FIRST_YEAR..LAST_YEAR: the mock will not invent
    a calendar it does not have.
    """
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise CalendarRangeError(f"{day.isoformat()} is outside the exchange calendars the mock has "
                                 f"({FIRST_YEAR}-{LAST_YEAR}); start the scenario within those years")
    days, opens, closes = _schedule(name)
    number = (day - _EPOCH_DAY).days
    i = int(np.searchsorted(days, number))
    if i == len(days) or days[i] != number:
        return None
    return float(opens[i]), float(closes[i])


__all__ = ["CALENDARS", "CalendarRangeError", "FIRST_YEAR", "LAST_YEAR", "regular_closes", "regular_session", "warm_up"]
