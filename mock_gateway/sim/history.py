"""Bars: which bar slots exist, and generated history before sim 0 computed directly at the times asked.

History before the run is a seeded process evaluated only where a bar needs it, never walked:

* the log price is ``log(anchor) + growth * t + B(t)``, where ``anchor`` is the contract's price at
  sim 0 (so history ends exactly where the live grid starts: no seam) and ``B`` is a Brownian bridge
  pinned to 0 at sim 0 and at ``-HORIZON_S``;
* ``B`` is built by Levy's midpoint construction over ``PAST_LEVELS`` dyadic levels: the value at a
  whole second needs one seeded normal per level, drawn from a counter-based hash of
  (seed, contract, level, node), so any point costs O(levels) whatever the date and the same
  point has the same value whatever was asked before;
* levels whose interval is longer than ``REVERSION_YEARS`` move less than a free Brownian motion
  would, so decades back the price stays within a plausible band around its trend (the price of
  an equity with 25 % volatility 35 years ago is not a factor 1000 away from today);
* a bar's high and low are drawn from the exact distribution of a Brownian bridge's maximum and
  minimum between its open and close, keyed by the bar, so they bracket open and close.

A request therefore costs time and memory proportional to the bars it returns.
"""
from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timezone

import numpy as np

from .calendar import CalendarRangeError
from .sessions import SessionRule, session_spans

DAY_S = 86400.0
#: The dyadic construction covers 2**PAST_LEVELS seconds before sim 0 (about 136 years).
PAST_LEVELS = 32
HORIZON_S = float(2 ** PAST_LEVELS)
#: Seconds in a calendar year, the time basis of the history process.
YEAR_S = 365.25 * 86400
#: Bridge levels longer than this many years displace as if they were this long (mean reversion).
REVERSION_YEARS = 2.0
#: Share of a liquid-hours second's volume that an extended-hours second carries.
EXTENDED_HOURS_ACTIVITY = 0.25

_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)


@dataclass(frozen=True)
class Slot:
    """One bar's time span in sim seconds; ``label_s`` is the time the bar is reported at."""

    start_s: float
    end_s: float
    label_s: float


# ----------------------------------------------------------------------------------------------- sessions
@functools.lru_cache(maxsize=512)
def _session_arrays_in_year(rule: SessionRule, year: int, rth: bool) -> tuple[np.ndarray, np.ndarray]:
    """(opens, closes) of the sessions whose open falls in ``year`` (UTC), read from the rule's session table
    (:func:`.sessions.session_spans`, microseconds): a first request into a far year does not hold the loop."""
    a = datetime(year, 1, 1, tzinfo=timezone.utc).timestamp()
    b = datetime(year + 1, 1, 1, tzinfo=timezone.utc).timestamp()
    try:
        opens, closes = session_spans(rule, a, b, rth)
    except CalendarRangeError:       # before the exchange calendars the mock has: every weekday trades
        opens, closes = session_spans(replace(rule, calendar=""), a, b, rth)
    keep = (opens >= a) & (opens < b)
    opens, closes = opens[keep], closes[keep]
    opens.flags.writeable = closes.flags.writeable = False     # shared by every request through the cache
    return opens, closes


@functools.lru_cache(maxsize=512)
def _sessions_in_year(rule: SessionRule, year: int, rth: bool) -> tuple[tuple[float, float], ...]:
    """Sessions whose open falls in ``year`` (UTC), worked out once: daily bars over decades reuse them."""
    opens, closes = _session_arrays_in_year(rule, year, rth)
    return tuple(zip(opens.tolist(), closes.tolist()))


def sessions_cached(rule: SessionRule, start_epoch: float, end_epoch: float, rth: bool) -> list[tuple[float, float]]:
    """``sessions_between`` through a per-year cache; the same spans, in time order."""
    y0 = datetime.fromtimestamp(start_epoch - 2 * DAY_S, timezone.utc).year
    y1 = datetime.fromtimestamp(end_epoch, timezone.utc).year
    out = []
    for year in range(y0, y1 + 1):
        out.extend(s for s in _sessions_in_year(rule, year, rth) if s[1] > start_epoch and s[0] < end_epoch)
    return out


def history_slots(rule: SessionRule, epoch0: float, from_s: float, to_s: float, bar_size_s: float,
                  rth: bool = False) -> list[Slot]:
    """Bar slots inside the trading sessions overlapping [from_s, to_s) (sim seconds), oldest first.

    Intraday bars are aligned to multiples of the bar size on the epoch and clipped to the
    session; daily bars are one per session, labelled at its open.
    """
    out: list[Slot] = []
    for open_e, close_e in sessions_cached(rule, epoch0 + from_s, epoch0 + to_s, rth):
        a_s, b_s = open_e - epoch0, close_e - epoch0
        if bar_size_s >= DAY_S:
            if a_s < to_s and b_s > from_s:
                out.append(Slot(a_s, b_s, a_s))
            continue
        t = math.floor(open_e / bar_size_s) * bar_size_s - epoch0
        t = max(t, math.floor((epoch0 + from_s) / bar_size_s) * bar_size_s - epoch0)
        while t < b_s and t < to_s:
            s, e = max(t, a_s), min(t + bar_size_s, b_s)
            if from_s <= s < to_s:
                out.append(Slot(s, e, s))
            t += bar_size_s
    return out


def session_arrays(rule: SessionRule, start_epoch: float, end_epoch: float, rth: bool) -> tuple[np.ndarray, np.ndarray]:
    """(opens, closes) epoch seconds of the sessions overlapping [start_epoch, end_epoch), as arrays."""
    y0 = datetime.fromtimestamp(start_epoch - 2 * DAY_S, timezone.utc).year
    y1 = datetime.fromtimestamp(end_epoch, timezone.utc).year
    parts = [_session_arrays_in_year(rule, y, rth) for y in range(y0, y1 + 1)]
    opens = np.concatenate([p[0] for p in parts]) if parts else np.empty(0)
    closes = np.concatenate([p[1] for p in parts]) if parts else np.empty(0)
    keep = (closes > start_epoch) & (opens < end_epoch)
    return opens[keep], closes[keep]


def slot_arrays(rule: SessionRule, epoch0: float, from_s: float, to_s: float, bar_size_s: float,
                rth: bool) -> tuple[np.ndarray, np.ndarray]:
    """``history_slots`` as (starts, ends) arrays in sim seconds, built without a Python loop per bar.

    useRTH bars come from the liquid sessions, so they are clipped to liquid hours as IB's are.
    """
    opens, closes = session_arrays(rule, epoch0 + from_s, epoch0 + to_s, rth)
    o, c = opens - epoch0, closes - epoch0
    if bar_size_s >= DAY_S:
        keep = (o < to_s) & (c > from_s) & (o >= from_s)
        return o[keep], c[keep]
    first = np.floor(opens / bar_size_s) * bar_size_s - epoch0
    first = np.maximum(first, math.floor((epoch0 + from_s) / bar_size_s) * bar_size_s - epoch0)
    last = np.minimum(c, to_s)
    counts = np.maximum(np.ceil((last - first) / bar_size_s - 1e-9), 0).astype(np.int64)
    total = int(counts.sum())
    if total == 0:
        return np.empty(0), np.empty(0)
    offsets = np.repeat(np.cumsum(counts) - counts, counts)
    t = np.repeat(first, counts) + bar_size_s * (np.arange(total) - offsets)
    starts = np.maximum(t, np.repeat(o, counts))
    ends = np.minimum(t + bar_size_s, np.repeat(c, counts))
    keep = (starts >= from_s) & (starts < to_s) & (starts < ends)
    return starts[keep], ends[keep]


def aligned_slots(from_s: float, to_s: float, bar_size_s: float, epoch0: float) -> list[Slot]:
    """Bar slots aligned to multiples of the bar size on the epoch, starting in [from_s, to_s) (sim seconds).

    The live grid never closes, so live bars ignore sessions (useRTH still clips them to liquid hours).
    """
    out = []
    t = math.ceil((epoch0 + from_s) / bar_size_s - 1e-9) * bar_size_s - epoch0
    while t < to_s:
        out.append(Slot(t, t + bar_size_s, t))
        t += bar_size_s
    return out


def in_liquid_hours(rule: SessionRule, epoch0: float, slot: Slot) -> Slot | None:
    """The slot clipped to liquid hours (useRTH=1), or None if it lies outside them."""
    for open_e, close_e in sessions_cached(rule, epoch0 + slot.start_s, epoch0 + slot.end_s, rth=True):
        a, b = max(slot.start_s, open_e - epoch0), min(slot.end_s, close_e - epoch0)
        if a < b:
            return Slot(a, b, a)
    return None


def liquid_overlap_s(rule: SessionRule, epoch0: float, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Seconds of each [start, end) (sim seconds) that fall in liquid hours; vectorised over the sessions."""
    if len(starts) == 0:
        return np.empty(0)
    opens, closes = session_arrays(rule, epoch0 + float(starts.min()), epoch0 + float(ends.max()), rth=True)
    if not len(opens):
        return np.zeros(len(starts))
    opens, closes = opens - epoch0, closes - epoch0
    # each slot overlaps at most a few sessions: the ones around its start
    idx = np.searchsorted(closes, starts, side="right")
    overlap = np.zeros(len(starts))
    for shift in (0, 1, 2):
        j = np.clip(idx + shift, 0, len(opens) - 1)
        valid = (idx + shift) < len(opens)
        part = np.clip(np.minimum(ends, closes[j]) - np.maximum(starts, opens[j]), 0.0, None)
        overlap += np.where(valid, part, 0.0)
    return np.minimum(overlap, ends - starts)


# ----------------------------------------------------------------------------------------------- the process
def _splitmix(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser: a counter-based hash, so draws are keyed by position, not by order."""
    with np.errstate(over="ignore"):
        z = (x + np.uint64(0x9E3779B97F4A7C15)) & _MASK64
        z = ((z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)) & _MASK64
        z = ((z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)) & _MASK64
        return z ^ (z >> np.uint64(31))


def _uniform(key: np.ndarray) -> np.ndarray:
    """Uniform draws in (0, 1) from uint64 keys."""
    return ((_splitmix(key) >> np.uint64(11)).astype(np.float64) + 0.5) / float(1 << 53)


#: Standard normal quantiles at 2**16 equally likely levels: a hashed normal is one table lookup.
_NORMAL_LEVELS = 1 << 16


@functools.cache
def _normal_table() -> np.ndarray:
    """Built on first use (about 30 ms), not at import: the gateway starts fast."""
    from statistics import NormalDist

    inv = NormalDist().inv_cdf
    return np.array([inv((k + 0.5) / _NORMAL_LEVELS) for k in range(_NORMAL_LEVELS)])


def warm_up() -> None:
    """Build what the first historical request would otherwise build on the gateway's loop (the normal table)."""
    _normal_table()


def keyed_normal(key: np.ndarray) -> np.ndarray:
    """Standard normal draws from uint64 keys: the top 16 bits of one hash pick an equally likely quantile."""
    return _normal_table()[(_splitmix(key) >> np.uint64(48)).astype(np.intp)]


#: Positions whose levels are drawn in one 2-D array (bounds its memory: levels x block x 8 bytes).
_BRIDGE_BLOCK = 2048
#: Odd multipliers that spread (level, node) over the 64-bit key space before hashing.
_NODE_MUL = np.uint64(0x9E3779B97F4A7C15)
_LEVEL_MUL = np.uint64(0xC2B2AE3D27D4EB4F)


def _key(base: int, *parts) -> np.ndarray:
    """Mix integer arrays/scalars into uint64 keys (hash chaining)."""
    k = np.full(np.shape(parts[0]) if parts else (), np.uint64(base & 0xFFFFFFFFFFFFFFFF), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for p in parts:
            k = _splitmix(k ^ (np.asarray(p).astype(np.int64).astype(np.uint64)))
    return k


@dataclass
class OHLCV:
    """Bars as arrays (one row per slot), the shape generators and aggregators exchange."""

    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray


class PastProcess:
    """A contract's price before sim 0, evaluated directly at any whole second (see the module doc)."""

    def __init__(self, anchor_price: float, growth_annual: float, volatility_annual: float, key: int) -> None:
        if anchor_price <= 0:
            raise ValueError(f"a history anchor price must be > 0, got {anchor_price}")
        self.log_anchor = math.log(anchor_price)
        self.growth = growth_annual
        self.vol = volatility_annual
        self.key = key & 0xFFFFFFFFFFFFFFFF
        # displacement sd of a midpoint at each level (interval 2**(PAST_LEVELS - j) seconds)
        sds = []
        for j in range(PAST_LEVELS):
            years = 2.0 ** (PAST_LEVELS - j) / YEAR_S
            sds.append(volatility_annual * math.sqrt(min(years, REVERSION_YEARS) / 4.0))
        self._sds = np.array(sds)
        with np.errstate(over="ignore"):
            self._level_keys = _splitmix(np.uint64(self.key) ^ (np.arange(PAST_LEVELS, dtype=np.uint64) * _LEVEL_MUL))

    def bridge(self, t_s: np.ndarray) -> np.ndarray:
        """B(t) at sim seconds ``t_s`` (<= 0, rounded down to whole seconds); 0 at sim 0."""
        pos_all = np.clip(np.floor(np.asarray(t_s, dtype=float)) + HORIZON_S, 0, HORIZON_S).astype(np.int64)
        pos, inverse = np.unique(pos_all, return_inverse=True)
        return self._bridge_sorted(pos)[inverse].reshape(pos_all.shape)

    def _bridge_sorted(self, pos: np.ndarray) -> np.ndarray:
        """The bridge at sorted, distinct positions: at each level the midpoint of the interval a position is in.

        The top levels, where every position falls in the same half (a request spans a small part of
        the horizon), are walked once as scalars with one keyed draw for all of them. Below them a
        position's interval at level j is its top j bits and the half it falls in is bit j, so every
        level's draws are computed at once (a 2-D array, in blocks of positions); only the midpoint
        recursion goes level by level. Same draws, same values: only fewer array operations (a request
        of a few bars costs ~0.2 ms, not ~1 ms of per-level overhead).
        """
        n = pos.shape
        top = np.int64(1) << np.int64(PAST_LEVELS)
        at_top = pos == top
        below = pos[~at_top]       # sim 0 itself is 0 whatever the walk: it must not stop the shared walk
        shared, _, lo_s, hi_s = self._shared_levels(below) if len(below) else (0, 0, 0.0, 0.0)
        out = np.empty(n)
        if shared < PAST_LEVELS:
            shifts = np.arange(PAST_LEVELS - shared, 0, -1, dtype=np.int64)[:, None]   # PAST_LEVELS - j
            level_keys = self._level_keys[shared:, None]
            sds = self._sds[shared:]
            for first in range(0, len(pos), _BRIDGE_BLOCK):
                block = pos[first:first + _BRIDGE_BLOCK]
                with np.errstate(over="ignore"):
                    keys = (block >> shifts).astype(np.uint64) * _NODE_MUL + level_keys
                z = keyed_normal(keys)
                upper = ((block >> (shifts - 1)) & 1).astype(bool)
                lower = ~upper
                lo_v, hi_v = np.full(len(block), lo_s), np.full(len(block), hi_s)
                for k in range(len(sds)):
                    mid_v = 0.5 * (lo_v + hi_v) + sds[k] * z[k]
                    np.copyto(lo_v, mid_v, where=upper[k])
                    np.copyto(hi_v, mid_v, where=lower[k])
                out[first:first + len(block)] = lo_v
        else:
            out[:] = lo_s
        return np.where(at_top, 0.0, out)

    def _shared_levels(self, pos: np.ndarray) -> tuple[int, int, float, float]:
        """(levels every position walks alike, the interval start after them, its two end values)."""
        first, last = int(pos[0]), int(pos[-1])
        if last >= (1 << PAST_LEVELS):
            return 0, 0, 0.0, 0.0
        shared = 0
        while shared < PAST_LEVELS and first >> (PAST_LEVELS - shared - 1) == last >> (PAST_LEVELS - shared - 1):
            shared += 1
        if not shared:
            return 0, 0, 0.0, 0.0
        nodes = np.array([first >> (PAST_LEVELS - j) for j in range(shared)], dtype=np.uint64)
        with np.errstate(over="ignore"):
            z = keyed_normal(nodes * _NODE_MUL + self._level_keys[:shared]).tolist()
        lo, lo_v, hi_v = 0, 0.0, 0.0
        for j in range(shared):
            mid_v = 0.5 * (lo_v + hi_v) + float(self._sds[j]) * z[j]
            half = 1 << (PAST_LEVELS - j - 1)
            if first - lo >= half:
                lo, lo_v = lo + half, mid_v
            else:
                hi_v = mid_v
        return shared, lo, lo_v, hi_v

    def log_price(self, t_s: np.ndarray) -> np.ndarray:
        t = np.minimum(np.asarray(t_s, dtype=float), 0.0)
        return self.log_anchor + self.growth * t / YEAR_S + self.bridge(t)

    def bars(self, starts_s: np.ndarray, ends_s: np.ndarray, size_key: int) -> OHLCV:
        """OHLC of bars [start, end) before sim 0; volume is left at 1 per second (the caller scales it)."""
        starts = np.asarray(starts_s, dtype=float)
        ends = np.minimum(np.asarray(ends_s, dtype=float), 0.0)
        both = self.log_price(np.concatenate([starts, ends]))
        lo_, lc = both[:len(starts)], both[len(starts):]
        span_years = np.maximum(ends - starts, 1.0) / YEAR_S
        var = self.vol ** 2 * span_years
        c = lc - lo_
        k = _key(self.key ^ 0x5BD1E995, size_key, np.floor(starts))
        u_hi, u_lo, z_vol = _uniform(k), _uniform(k ^ np.uint64(0xA5A5A5A5)), keyed_normal(k ^ np.uint64(0x3C3C3C3C))
        # extremes of a Brownian bridge from 0 to c with variance var: exact inverse-CDF draws
        up = 0.5 * (c + np.sqrt(c * c - 2.0 * var * np.log(u_hi)))
        down = 0.5 * (c - np.sqrt(c * c - 2.0 * var * np.log(u_lo)))
        o, cl = np.exp(lo_), np.exp(lc)
        high, low = np.exp(lo_ + up), np.exp(lo_ + down)
        volume = np.exp(0.4 * z_vol - 0.08)
        return OHLCV(o, np.maximum(high, np.maximum(o, cl)), np.minimum(low, np.minimum(o, cl)), cl, volume)


def transform(bars: OHLCV, fn: Callable[[np.ndarray], np.ndarray], increasing: bool, volume: np.ndarray) -> OHLCV:
    """Bars of a derived instrument whose price is ``fn`` of the base price (monotone in it)."""
    o, h, l, c = fn(bars.open), fn(bars.high), fn(bars.low), fn(bars.close)
    if not increasing:
        h, l = l, h
    return OHLCV(o, h, l, c, volume)
