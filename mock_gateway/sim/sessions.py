"""Trading sessions per kind of contract: when a market trades, and when its liquid hours are.

Used for contractData's tradingHours/liquidHours strings, for history bars (bars exist only
inside sessions; useRTH keeps only liquid hours), for market data (no trades outside the
trading session) and for orders (DAY orders expire at the close; a market order placed while
the market is closed waits for the open). Which days trade, and which close early, comes from
the exchange's calendar (:mod:`.calendar`, ``exchange_calendars``): XNYS for US stocks and
options, CMES for CME futures. IDEALPRO FX trades Sunday 17:15 to Friday 17:00 New York time
with no holidays.
"""
from __future__ import annotations

import bisect
import math
import functools
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from . import calendar, table_cache
from .calendar import FIRST_YEAR, LAST_YEAR, CalendarRangeError, regular_session


@dataclass(frozen=True)
class SessionRule:
    """One trading day's usual hours in ``tz``; a start after the end means the session opens the evening before.

    ``calendar`` names the ``exchange_calendars`` calendar that says which days trade and which
    close early ("" = every weekday trades). On an early-close day both sessions end early by as
    much as the calendar's close is before ``liquid``'s end (NYSE 13:00: extended hours end 17:00).
    """

    tz: str
    trading: tuple[time, time]
    liquid: tuple[time, time]
    sunday_evening_open: bool = False   # 24-hour markets open Sunday evening for Monday's session
    calendar: str = ""

    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)


#: Session rules by security type (the exchange's local time zone, like IB's timeZoneId).
SESSION_RULES: dict[str, SessionRule] = {
    # US stocks: IB's 04:00-20:00 extended session around NYSE's regular hours
    "STK": SessionRule("US/Eastern", (time(4, 0), time(20, 0)), (time(9, 30), time(16, 0)), calendar="XNYS"),
    "OPT": SessionRule("US/Eastern", (time(9, 30), time(16, 0)), (time(9, 30), time(16, 0)), calendar="XNYS"),
    # CME Globex: 17:00 the evening before to 16:00 Chicago, a daily break 16:00-17:00; liquid 08:30-16:00
    "FUT": SessionRule("US/Central", (time(17, 0), time(16, 0)), (time(8, 30), time(16, 0)), True, calendar="CMES"),
    # IDEALPRO: Sunday 17:15 to Friday 17:00 New York, a daily break 17:00-17:15
    "CASH": SessionRule("US/Eastern", (time(17, 15), time(17, 0)), (time(17, 15), time(17, 0)), True),
}

#: European listing venues (IB's exchange codes) and the continuous session of each, in local time, with its
#: ``exchange_calendars`` calendar: Xetra, LSE, Euronext Paris / Amsterdam / Brussels, BME, SIX, Nasdaq
#: Stockholm / Helsinki. Stocks listed there and the indices IB prices from them (DAX and ESTX50 on EUREX, CAC40
#: on MONEP, EOE on FTA, IBEX35 on MEFFRV, SMI on EBS, Z on ICEEU) trade these hours, not New York's.
_EU = (time(9, 0), time(17, 30))
EXCHANGE_SESSION_RULES: dict[str, SessionRule] = {
    "IBIS": SessionRule("Europe/Berlin", _EU, _EU, calendar="XETR"),
    "LSE": SessionRule("Europe/London", (time(8, 0), time(16, 30)), (time(8, 0), time(16, 30)), calendar="XLON"),
    "SBF": SessionRule("Europe/Paris", _EU, _EU, calendar="XPAR"),
    "AEB": SessionRule("Europe/Amsterdam", _EU, _EU, calendar="XAMS"),
    "ENEXT.BE": SessionRule("Europe/Brussels", _EU, _EU, calendar="XBRU"),
    "BM": SessionRule("Europe/Madrid", _EU, _EU, calendar="XMAD"),
    "EBS": SessionRule("Europe/Zurich", _EU, _EU, calendar="XSWX"),
    "SFB": SessionRule("Europe/Stockholm", _EU, _EU, calendar="XSTO"),
    "HEX": SessionRule("Europe/Helsinki", (time(10, 0), time(18, 30)), (time(10, 0), time(18, 30)), calendar="XHEL"),
}
#: Index venues that price from a listing venue's session.
EXCHANGE_SESSION_RULES.update({"EUREX": EXCHANGE_SESSION_RULES["IBIS"], "MONEP": EXCHANGE_SESSION_RULES["SBF"],
                               "FTA": EXCHANGE_SESSION_RULES["AEB"], "MEFFRV": EXCHANGE_SESSION_RULES["BM"],
                               "ICEEU": EXCHANGE_SESSION_RULES["LSE"]})


def venue_rule(contract: object) -> SessionRule | None:
    """The session rule of a stock's or index's own venue (:data:`EXCHANGE_SESSION_RULES`), None for US hours."""
    if getattr(contract, "sec_type", "") not in ("STK", "IND"):
        return None
    venue = getattr(contract, "primary_exchange", "") or getattr(contract, "exchange", "")
    return EXCHANGE_SESSION_RULES.get(venue)


def _span(rule: SessionRule, day: date, hours: tuple[time, time]) -> tuple[datetime, datetime]:
    zone = rule.zone()
    open_t, close_t = hours
    open_day = day - timedelta(days=1) if open_t > close_t else day
    return (datetime.combine(open_day, open_t, zone), datetime.combine(day, close_t, zone))


@functools.lru_cache(maxsize=8192)
def session_on(rule: SessionRule, day: date, rth: bool) -> tuple[datetime, datetime] | None:
    """The session that closes on ``day`` (local date), or None when the market does not trade that day."""
    if day.weekday() >= 5:
        return None
    open_dt, close_dt = _span(rule, day, rule.liquid if rth else rule.trading)
    if rule.calendar:
        regular = regular_session(rule.calendar, day)
        if regular is None:
            return None                       # an exchange holiday
        usual_close = datetime.combine(day, rule.liquid[1], rule.zone())
        early_by = usual_close.timestamp() - regular[1]
        if early_by > 0:                      # an early close: every session of the day ends that much sooner
            close_dt = datetime.fromtimestamp(close_dt.timestamp() - early_by, rule.zone())
            if close_dt <= open_dt:
                return None
    return open_dt, close_dt


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


#: Local dates the vectorised session tables cover (history before or after them takes the per-day path).
TABLE_FIRST_DAY, TABLE_LAST_DAY = date(1950, 1, 1), date(2070, 12, 31)
_EPOCH_DAY = date(1970, 1, 1)


def _day_number(day: date) -> int:
    return (day - _EPOCH_DAY).days


def _local_epochs(tz: str, days: np.ndarray, at: time) -> np.ndarray:
    """Epoch seconds of local wall time ``at`` on each of ``days`` (days since 1970-01-01) in ``tz``."""
    import pandas as pd     # exchange_calendars' own dependency

    naive = (days * 86400 + (at.hour * 3600 + at.minute * 60 + at.second)).astype("datetime64[s]")
    local = pd.DatetimeIndex(naive).tz_localize(tz, ambiguous="raise", nonexistent="raise")
    return local.tz_convert("UTC").tz_localize(None).values.astype("datetime64[s]").astype(np.int64).astype(float)


@dataclass(frozen=True)
class _DayTable:
    """What :func:`session_on` says for every local date from TABLE_FIRST_DAY on, as arrays."""

    opens: np.ndarray      # epoch seconds of the session closing that day (meaningful where ``trades``)
    closes: np.ndarray
    trades: np.ndarray     # bool: a session closes that day
    unknown: np.ndarray    # bool: a weekday outside the exchange calendar's years (session_on raises)


def _table_key(rule: SessionRule, rth: bool) -> str:
    """What a day table depends on: the rule, the dates, the time-zone rules, pandas and the calendar."""
    key = (f"day_table:{rule!r}:rth={rth}:{TABLE_FIRST_DAY}..{TABLE_LAST_DAY}:tz={table_cache.zone_fingerprint(rule.tz)}"
           f":pandas={table_cache.version_of('pandas')}")
    return key + (f":{calendar._cache_key(rule.calendar)}" if rule.calendar else "")


def _cached_table(arrays: dict[str, np.ndarray] | None) -> _DayTable | None:
    """The cached table if it has a day table's shape, else None (then it is rebuilt)."""
    n = _day_number(TABLE_LAST_DAY) - _day_number(TABLE_FIRST_DAY) + 1
    if arrays is None or set(arrays) != {"opens", "closes", "trades", "unknown"}:
        return None
    want = {"opens": np.float64, "closes": np.float64, "trades": np.bool_, "unknown": np.bool_}
    if any(arrays[k].dtype != t or arrays[k].shape != (n,) for k, t in want.items()):
        return None
    return _DayTable(arrays["opens"], arrays["closes"], arrays["trades"], arrays["unknown"])


@functools.lru_cache(maxsize=32)
def _day_table(rule: SessionRule, rth: bool) -> _DayTable:
    """Every session of ``rule`` over the table's dates at once, equal to :func:`session_on` day by day:
    from the on-disk table cache when this machine built it before (~2 ms), else built (~10 ms and
    pandas' import, ~0.3 s, for the first)."""
    key = _table_key(rule, rth)
    cached = _cached_table(table_cache.load(key))
    if cached is not None:
        return cached
    table = _build_day_table(rule, rth)
    table_cache.store(key, {"opens": table.opens, "closes": table.closes, "trades": table.trades,
                            "unknown": table.unknown})
    return table


def _build_day_table(rule: SessionRule, rth: bool) -> _DayTable:
    days = np.arange(_day_number(TABLE_FIRST_DAY), _day_number(TABLE_LAST_DAY) + 1, dtype=np.int64)
    open_t, close_t = rule.liquid if rth else rule.trading
    opens = _local_epochs(rule.tz, days - 1 if open_t > close_t else days, open_t)
    closes = _local_epochs(rule.tz, days, close_t)
    trades = (days + 3) % 7 < 5                       # 1970-01-01 was a Thursday
    unknown = np.zeros(len(days), dtype=bool)
    if rule.calendar:
        known = (days >= _day_number(date(FIRST_YEAR, 1, 1))) & (days <= _day_number(date(LAST_YEAR, 12, 31)))
        unknown = trades & ~known
        cal_days, cal_closes = calendar.regular_closes(rule.calendar)
        i = np.clip(np.searchsorted(cal_days, days), 0, len(cal_days) - 1)
        listed = cal_days[i] == days
        trades &= known & listed
        early_by = _local_epochs(rule.tz, days, rule.liquid[1]) - np.where(listed, cal_closes[i], np.inf)
        closes = np.where(trades & (early_by > 0), closes - early_by, closes)
        trades &= closes > opens
    return _DayTable(opens, closes, trades, unknown)


def session_spans(rule: SessionRule, start_epoch: float, end_epoch: float, rth: bool) -> tuple[np.ndarray, np.ndarray]:
    """:func:`sessions_between` as (opens, closes) arrays, read from a precomputed table (microseconds a year).

    Raises CalendarRangeError where sessions_between does; dates beyond the table take the per-day path.
    """
    zone = rule.zone()
    first = datetime.fromtimestamp(start_epoch, zone).date() - timedelta(days=1)
    last = datetime.fromtimestamp(end_epoch, zone).date() + timedelta(days=1)
    if first < TABLE_FIRST_DAY or last > TABLE_LAST_DAY:
        spans = sessions_between(rule, start_epoch, end_epoch, rth)
        return np.array([a for a, _ in spans], dtype=float), np.array([b for _, b in spans], dtype=float)
    table = _day_table(rule, rth)
    i, j = (first - TABLE_FIRST_DAY).days, (last - TABLE_FIRST_DAY).days + 1
    if table.unknown[i:j].any():
        regular_session(rule.calendar, TABLE_FIRST_DAY + timedelta(days=i + int(np.argmax(table.unknown[i:j]))))
    opens, closes = table.opens[i:j], table.closes[i:j]
    keep = table.trades[i:j] & (closes > start_epoch) & (opens < end_epoch)
    return opens[keep], closes[keep]


def warm_up(rules: tuple[SessionRule, ...] | None = None) -> None:
    """Build the exchange calendars and every rule's session tables now, so that no request pays for them.

    ~1.1 s for the calendars (once per process) and ~10 ms a table; history asks for a rule's
    table with and without its calendar (years outside the calendar's trade every weekday).
    """
    from dataclasses import replace

    calendar.warm_up()
    for rule in rules if rules is not None else tuple(SESSION_RULES.values()):
        for rth in (False, True):
            _day_table(rule, rth)
            if rule.calendar:
                _day_table(replace(rule, calendar=""), rth)


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


def session_at(rule: SessionRule, epoch: float, rth: bool) -> tuple[float, float] | None:
    """(open, close) epoch seconds of the session in force at ``epoch`` (open <= epoch < close), or None."""
    for open_e, close_e in sessions_between(rule, epoch, epoch + 1.0, rth):
        if open_e <= epoch < close_e:
            return open_e, close_e
    return None


def is_open(rule: SessionRule, epoch: float, rth: bool) -> bool:
    """Whether the market trades at ``epoch`` (in liquid hours when ``rth``)."""
    return session_at(rule, epoch, rth) is not None


#: How far ahead a next open is looked for: beyond any run of holidays and weekends.
NEXT_OPEN_HORIZON_S = 21 * 86400


def next_open_after(rule: SessionRule, epoch: float, rth: bool) -> float:
    """Epoch seconds of the first session open strictly after ``epoch``."""
    for open_e, _ in sessions_between(rule, epoch, epoch + NEXT_OPEN_HORIZON_S, rth):
        if open_e > epoch:
            return open_e
    raise CalendarRangeError(f"no session opens within 21 days of epoch {epoch:.0f}")


def hours_string(rule: SessionRule, start: datetime, days: int, rth: bool) -> str:
    """IB's tradingHours/liquidHours text for ``days`` local dates from ``start``'s.

    As the current gateway writes it (nautilus_trader's recorded contract details, 2022): each
    session as ``openDate:HHMM-closeDate:HHMM`` listed under the date it opens (a futures or FX
    session opens the evening before), and ``date:CLOSED`` for a date on which no session opens
    or closes, e.g. ``20221208:1715-20221209:1700;20221210:CLOSED;20221211:1715-20221212:1700``.
    """
    zone = rule.zone()
    today = start.astimezone(zone).date()
    entries: list[tuple[date, int, str]] = []
    touched: set[date] = set()
    end = today + timedelta(days=days)
    for k in range(days + 1):              # the last date's evening may open the next day's session
        span = session_on(rule, today + timedelta(days=k), rth)
        if span is None:
            continue
        a, b = span
        touched.update((a.date(), b.date()))
        if a.date() < end:
            entries.append((a.date(), 0, f"{a:%Y%m%d:%H%M}-{b:%Y%m%d:%H%M}"))
    for k in range(days):
        day = today + timedelta(days=k)
        if day not in touched:
            entries.append((day, 1, f"{day:%Y%m%d}:CLOSED"))
    return ";".join(text for _, _, text in sorted(entries))


def expiry_epoch(last_trade_date: str, sec_type: str) -> float:
    """Epoch seconds when a derivative expires: the close of its last trading day's liquid session."""
    rule = SESSION_RULES.get(sec_type, SESSION_RULES["OPT"])
    day = datetime.strptime(last_trade_date[:8], "%Y%m%d").date()
    try:
        span = session_on(rule, day, rth=True)
    except CalendarRangeError:
        span = None
    if span is not None:
        return span[1].timestamp()
    return datetime.combine(day, rule.liquid[1], rule.zone()).timestamp()


#: Security types that follow another type's sessions (as the contract universe writes their hours strings).
RULE_ALIASES = {"IND": "OPT", "ETF": "STK", "CRYPTO": "CASH"}


def rule_for(sec_type: str | object) -> SessionRule:
    """The session rule of a security type (US stock hours for types the mock has no rule of its own for), or of a
    contract (a ContractSpec): its venue's own rule when it lists in Europe, else its security type's."""
    if not isinstance(sec_type, str):
        own = venue_rule(sec_type)
        if own is not None:
            return own
        sec_type = getattr(sec_type, "sec_type")
    kind = sec_type.upper()
    return SESSION_RULES.get(RULE_ALIASES.get(kind, kind), SESSION_RULES["STK"])


class SessionTimeline:
    """One rule's sessions on the sim-seconds axis (sim 0 = ``epoch0``), the last answer kept.

    Quotes and order matching ask "is the market open at t?" once per grid step; consecutive
    questions nearly always fall in the same session or the same closed stretch, so the answer
    comes from the kept span without a calendar lookup.
    """

    def __init__(self, rule: SessionRule, epoch0: float, rth: bool = False) -> None:
        self.rule, self.epoch0, self.rth = rule, epoch0, rth
        self._spans: list[tuple[float, float, bool]] = []     # (from_s, until_s, open), most recent first

    def state(self, t_s: float) -> tuple[bool, float, float]:
        """(open, from_s, until_s): whether the market trades at ``t_s`` and the sim span [from_s, until_s) of that."""
        for a, b, is_open in self._spans:
            if a <= t_s < b:
                return is_open, a, b
        e = self.epoch0 + t_s
        span = session_at(self.rule, e, self.rth)
        if span is not None:
            is_open, a, b = True, span[0], span[1]
        else:
            before = [c for _, c in sessions_between(self.rule, e - NEXT_OPEN_HORIZON_S, e, self.rth) if c <= e]
            is_open, a, b = False, (max(before) if before else -math.inf), next_open_after(self.rule, e, self.rth)
        entry = (a - self.epoch0, b - self.epoch0, is_open)
        self._spans = [entry, *self._spans[:3]]
        return entry[2], entry[0], entry[1]

    def close_after(self, t_s: float) -> float:
        """Sim time of the close of the session in force at ``t_s``, or of the next one."""
        is_open, _, until_s = self.state(t_s)
        return until_s if is_open else self.state(until_s)[2]

    def is_open(self, t_s: float) -> bool:
        return self.state(t_s)[0]
