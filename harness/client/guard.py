"""When not to send: the market is closed (warning 399), or the same order was just rejected (201).

Pure bookkeeping on the gateway's answers, with the strategy's clock (bar times in epoch seconds,
the gateway's time) passed in, so it behaves the same at any scenario speed.

* Closed market. IB does not reject a market order sent while the exchange is closed: it answers
  warning 399 "...will not be placed at the exchange until 2026-11-25 09:30:00 US/Eastern" and
  holds the order until then. The guard takes that as the market's state for the symbol: closed
  until the named time (or, if the text cannot be read, until the held order is released). The
  warning is the gateway's own answer for this account and this order, so it covers holidays,
  early closes and exchange sessions that a client-side reading of ``tradingHours`` can get wrong
  (time-zone names, the pre-v970 format without dates, unscheduled closures).
* Rejection back-off. A 201 ("Order rejected - reason: ...") for a short sale on a cash account
  or missing funds comes back every time the same order is sent from the same position. The
  guard blocks the same (symbol, side, quantity, position) for ``initial_backoff_s`` of strategy
  time, doubling on each repeat up to ``max_backoff_s``; a change of position ends the block
  (the order is no longer the same). Each block is logged once.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

log = logging.getLogger("harness.client")

_UNTIL = re.compile(r"until\s+(\d{4}-\d{2}-\d{2})\s+(\d{2}:\d{2}(?::\d{2})?)\s*([A-Za-z_/+\-0-9]*)")
#: IB's zone names that are not IANA names on every system
_ZONE_ALIASES = {"US/Eastern": "America/New_York", "US/Central": "America/Chicago", "US/Pacific": "America/Los_Angeles",
                 "US/Mountain": "America/Denver", "EST": "America/New_York", "EST5EDT": "America/New_York",
                 "CST": "America/Chicago", "CST6CDT": "America/Chicago", "MET": "Europe/Berlin",
                 "GB": "Europe/London", "Japan": "Asia/Tokyo", "Hongkong": "Asia/Hong_Kong"}


def held_until_s(text: str) -> float | None:
    """Epoch seconds of the time a 399 warning names ("...until 2026-11-25 09:30:00 US/Eastern"), None if absent."""
    m = _UNTIL.search(text or "")
    if not m:
        return None
    date, clock, zone = m.groups()
    fmt = "%Y-%m-%d %H:%M:%S" if clock.count(":") == 2 else "%Y-%m-%d %H:%M"
    try:
        naive = datetime.strptime(f"{date} {clock}", fmt)
    except ValueError:
        return None
    tz = None
    for name in (zone, _ZONE_ALIASES.get(zone, "")):
        if not name:
            continue
        try:
            tz = ZoneInfo(name)
            break
        except (ZoneInfoNotFoundError, ValueError):
            continue
    if tz is None:
        return None   # an unknown zone: better "until released" than a wrong hour
    return naive.replace(tzinfo=tz).timestamp()


@dataclass
class _Backoff:
    until_s: float
    delay_s: float
    position: float


@dataclass
class OrderGuard:
    initial_backoff_s: float = 300.0
    max_backoff_s: float = 86400.0
    clock_s: float = 0.0                                    # the strategy's latest time (bar start, epoch s)
    closed_until_s: dict[str, float | None] = field(default_factory=dict)   # symbol -> reopening, None: unknown
    backoffs: dict[tuple[str, str, float], _Backoff] = field(default_factory=dict)

    # ------------------------------------------------------------ closed market
    def on_held(self, symbol: str, text: str) -> None:
        """A 399 on one of our orders: the symbol's market is closed until the time it names."""
        until = held_until_s(text)
        known = symbol in self.closed_until_s
        self.closed_until_s[symbol] = until
        if not known:
            when = datetime.fromtimestamp(until).astimezone().isoformat() if until is not None else "its release"
            log.warning("399 on %s: market closed, order held until %s; no new %s orders until then",
                        symbol, when, symbol)

    def on_released(self, symbol: str) -> None:
        """A held order of ``symbol`` went to the exchange (Submitted) or executed: the market is open."""
        if self.closed_until_s.pop(symbol, 0.0) != 0.0:
            log.info("%s: market open again; orders resume", symbol)

    def market_closed(self, symbol: str, now_s: float | None = None) -> bool:
        if symbol not in self.closed_until_s:
            return False
        until = self.closed_until_s[symbol]
        now = self.clock_s if now_s is None else now_s
        if until is not None and now >= until:
            self.on_released(symbol)
            return False
        return True

    # ------------------------------------------------------------ rejections
    def on_rejected(self, symbol: str, action: str, qty: float, position: float, reason: str) -> None:
        """A 201 on one of our orders: the same order from the same position is blocked for a while."""
        key = (symbol, action.upper(), round(float(qty), 6))
        prev = self.backoffs.get(key)
        delay = self.initial_backoff_s if prev is None or prev.position != position else \
            min(prev.delay_s * 2.0, self.max_backoff_s)
        self.backoffs[key] = _Backoff(self.clock_s + delay, delay, position)
        log.warning("201 on %s %g %s from position %g (%s): not sending the same order for %g s",
                    action, qty, symbol, position, reason.strip(), delay)

    def rejected_recently(self, symbol: str, action: str, qty: float, position: float,
                          now_s: float | None = None) -> bool:
        b = self.backoffs.get((symbol, action.upper(), round(float(qty), 6)))
        now = self.clock_s if now_s is None else now_s
        return b is not None and b.position == position and now < b.until_s
