"""Bars: which bar slots exist, bars aggregated from the live grid, and generated history before sim 0.

History before the run is generated directly at bar resolution (a six-hour grid of the past
month would be wasteful), seeded by (instrument, bar size) and walked backwards from the
initial price, so the last history bar closes where the live path starts: no jump at sim 0.
The k-th bar before sim 0 is the same whatever range was asked for.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .pricing import TRADING_SECONDS_PER_YEAR
from .sessions import SessionRule, sessions_between

DAY_S = 86400.0
HISTORY_CHUNK = 1024
#: Share of a liquid-hours second's variance and volume that an extended-hours second carries.
EXTENDED_HOURS_ACTIVITY = 0.25


@dataclass(frozen=True)
class Slot:
    """One bar's time span in sim seconds; ``label_s`` is the time the bar is reported at."""

    start_s: float
    end_s: float
    label_s: float


def history_slots(rule: SessionRule, epoch0: float, from_s: float, to_s: float, bar_size_s: float) -> list[Slot]:
    """Bar slots inside the trading sessions overlapping [from_s, to_s) (sim seconds), oldest first.

    Intraday bars are aligned to multiples of the bar size on the epoch and clipped to the session;
    daily bars are one per session, labelled at its open.
    """
    out: list[Slot] = []
    for open_e, close_e in sessions_between(rule, epoch0 + from_s, epoch0 + to_s, rth=False):
        a_s, b_s = open_e - epoch0, close_e - epoch0
        if bar_size_s >= DAY_S:
            if a_s < to_s and b_s > from_s:
                out.append(Slot(a_s, b_s, a_s))
            continue
        t = math.floor(open_e / bar_size_s) * bar_size_s - epoch0
        while t < b_s:
            s, e = max(t, a_s), min(t + bar_size_s, b_s)
            if from_s <= s < to_s:
                out.append(Slot(s, e, s))
            t += bar_size_s
    return out


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
    for open_e, close_e in sessions_between(rule, epoch0 + slot.start_s, epoch0 + slot.end_s, rth=True):
        a, b = max(slot.start_s, open_e - epoch0), min(slot.end_s, close_e - epoch0)
        if a < b:
            return Slot(a, b, a)
    return None


def activity_weighted(rule: SessionRule, epoch0: float, slots: list[Slot]) -> np.ndarray:
    """Each slot's history seconds (up to sim 0), extended hours counting EXTENDED_HOURS_ACTIVITY of a liquid second.

    Generated history then moves (and trades) mostly in liquid hours, so useRTH bars show
    overnight gaps of a realistic size.
    """
    if not slots:
        return np.empty(0)
    starts = np.array([s.start_s for s in slots])
    ends = np.minimum(np.array([s.end_s for s in slots]), 0.0)
    liquid = sessions_between(rule, epoch0 + starts.min(), epoch0 + max(ends.max(), starts.min() + 1), rth=True)
    overlap = np.zeros(len(slots))
    for open_e, close_e in liquid:
        a, b = open_e - epoch0, close_e - epoch0
        overlap += np.clip(np.minimum(ends, b) - np.maximum(starts, a), 0.0, None)
    total = ends - starts
    return overlap + EXTENDED_HOURS_ACTIVITY * (total - overlap)


@dataclass
class OHLCV:
    """Bars as arrays (one row per slot), the shape generators and aggregators exchange."""

    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray


class GeneratedHistory:
    """Bars before sim 0 for one instrument and bar size, from a GBM walked backwards from the initial price."""

    def __init__(self, initial_price: float, drift_annual: float, volatility_annual: float,
                 rng: np.random.Generator, volume_per_s: float) -> None:
        self.initial_price = initial_price
        self.drift, self.vol = drift_annual, volatility_annual
        self.rng = rng
        self.volume_per_s = volume_per_s
        self._draws = np.empty((4, 0))

    def _z(self, n: int) -> np.ndarray:
        """Normal draws for ordinals 1..n (4 rows: close, high, low, volume), drawn in fixed chunks."""
        while self._draws.shape[1] < n:
            self._draws = np.concatenate([self._draws, self.rng.standard_normal((4, HISTORY_CHUNK))], axis=1)
        return self._draws[:, :n]

    def bars(self, durations_s: np.ndarray) -> OHLCV:
        """Bars for the given slot durations, ordered newest first (ordinal 1 ends at sim 0)."""
        n = len(durations_s)
        z = self._z(n)
        years = np.maximum(durations_s, 1.0) / TRADING_SECONDS_PER_YEAR
        sd = self.vol * np.sqrt(years)
        log_ret = (self.drift - 0.5 * self.vol ** 2) * years + sd * z[0]
        close = self.initial_price * np.exp(-np.concatenate([[0.0], np.cumsum(log_ret)[:-1]]))
        open_ = close * np.exp(-log_ret)
        high = np.maximum(open_, close) * np.exp(0.5 * sd * np.abs(z[1]))
        low = np.minimum(open_, close) * np.exp(-0.5 * sd * np.abs(z[2]))
        volume = np.rint(self.volume_per_s * durations_s * np.exp(0.4 * z[3] - 0.08))
        return OHLCV(open_, high, low, close, volume)


def transform(bars: OHLCV, fn: Callable[[np.ndarray], np.ndarray], increasing: bool, volume: np.ndarray) -> OHLCV:
    """Bars of a derived instrument whose price is ``fn`` of the base price (monotone in it)."""
    o, h, l, c = fn(bars.open), fn(bars.high), fn(bars.low), fn(bars.close)
    if not increasing:
        h, l = l, h
    return OHLCV(o, h, l, c, volume)
