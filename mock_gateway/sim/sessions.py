"""Trading sessions per kind of contract: when a market trades, and when its liquid hours are.

Used for contractData's tradingHours/liquidHours strings, for history bars (bars exist only
inside sessions; useRTH keeps only liquid hours) and for DAY orders (they expire at the close).
Weekends are closed; exchange holidays are not modelled.
"""
from __future__ import annotations

import bisect
import functools
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class SessionRule:
    """One trading day's hours in ``tz``; a start after the end means the session opens the evening before."""

    tz: str
    trading: tuple[time, time]
    liquid: tuple[time, time]
    sunday_evening_open: bool = False   # 24-hour markets open Sunday evening for Monday's session

    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)


#: Session rules by security type (the exchange's local time zone, like IB's timeZoneId).
SESSION_RULES: dict[str, SessionRule] = {
    "STK": SessionRule("US/Eastern", (time(4, 0), time(20, 0)), (time(9, 30), time(16, 0))),
    "OPT": SessionRule("US/Eastern", (time(9, 30), time(16, 0)), (time(9, 30), time(16, 0))),
    "FUT": SessionRule("US/Central", (time(17, 0), time(16, 0)), (time(8, 30), time(15, 0)), True),
    "CASH": SessionRule("US/Eastern", (time(17, 15), time(17, 0)), (time(17, 15), time(17, 0)), True),
}


def _span(rule: SessionRule, day: date, hours: tuple[time, time]) -> tuple[datetime, datetime]:
    zone = rule.zone()
    open_t, close_t = hours
    open_day = day - timedelta(days=1) if open_t > close_t else day
    return (datetime.combine(open_day, open_t, zone), datetime.combine(day, close_t, zone))


def session_on(rule: SessionRule, day: date, rth: bool) -> tuple[datetime, datetime] | None:
    """The session that closes on ``day`` (local date), or None on weekends."""
    if day.weekday() >= 5:
        return None
    return _span(rule, day, rule.liquid if rth else rule.trading)


def sessions_between(rule: SessionRule, start_epoch: float, end_epoch: float, rth: bool) -> list[tuple[float, float]]:
    """(open, close) epoch seconds of every session overlapping [start_epoch, end_epoch), in time order."""
    zone = rule.zone()
    first = datetime.fromtimestamp(start_epoch, zone).date() - timedelta(days=1)
    last = datetime.fromtimestamp(end_epoch, zone).date() + timedelta(days=1)
    spans = []
    day = first
    while day <= last:
        s = session_on(rule, day, rth)
        if s is not None:
            a, b = s[0].timestamp(), s[1].timestamp()
            if b > start_epoch and a < end_epoch:
                spans.append((a, b))
        day += timedelta(days=1)
    return spans


#: Session closes are worked out a block of epoch seconds at a time and kept: every DAY order asks
#: for one when it is placed, and working them out costs ~90 us an order.
CLOSE_BLOCK_S = 7 * 86400


@functools.lru_cache(maxsize=64)
def _closes_in_block(rule: SessionRule, rth: bool, block: int) -> tuple[float, ...]:
    """Epoch closes, in order, of the sessions that close in ``[block, block + 1) x CLOSE_BLOCK_S``."""
    start, end = block * CLOSE_BLOCK_S, (block + 1) * CLOSE_BLOCK_S
    return tuple(close for _, close in sessions_between(rule, start - 86400, end + 86400, rth) if start <= close < end)


def session_close_after(rule: SessionRule, epoch: float, rth: bool) -> float:
    """Epoch seconds of the close of the session in force at ``epoch`` (or of the next one)."""
    block = int(epoch // CLOSE_BLOCK_S)
    for b in range(block, block + 3):   # a close is never more than four days away (a weekend)
        closes = _closes_in_block(rule, rth, b)
        i = bisect.bisect_right(closes, epoch)
        if i < len(closes):
            return closes[i]
    raise ValueError("no session within three weeks")  # unreachable for the rules above


def hours_string(rule: SessionRule, start: datetime, days: int, rth: bool) -> str:
    """IB's tradingHours/liquidHours text, e.g. ``20261124:0930-20261124:1600;20261128:CLOSED``."""
    zone = rule.zone()
    today = start.astimezone(zone).date()
    parts = []
    for k in range(days):
        day = today + timedelta(days=k)
        span = session_on(rule, day, rth)
        if span is None:
            parts.append(f"{day:%Y%m%d}:CLOSED")
        else:
            a, b = span
            parts.append(f"{a:%Y%m%d:%H%M}-{b:%Y%m%d:%H%M}")
    return ";".join(parts)


def expiry_epoch(last_trade_date: str, sec_type: str) -> float:
    """Epoch seconds when a derivative expires: the close of its last trading day's liquid session."""
    rule = SESSION_RULES.get(sec_type, SESSION_RULES["OPT"])
    day = datetime.strptime(last_trade_date[:8], "%Y%m%d").date()
    return datetime.combine(day, rule.liquid[1], rule.zone()).timestamp()
