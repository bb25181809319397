"""Price paths on the sim-time grid, generated lazily in chunks.

Each instrument's path lives on the grid ``t = i * tick_interval_s``. Chunks are computed in
order from i = 0, and every draw of a chunk comes from the instrument's own stream in a fixed
order (prices, then sizes), so the same seed gives the same path whatever was asked first. A
six-hour session at 0.25 s is 86 400 steps: 22 chunks of numpy work.

Only the newest CHUNKS_KEPT chunks of a path stay built (224 KB each): a chunk asked for again
after that is rebuilt from how it began (the stream's state and the running extremes and volume),
so the same values come back and a long session over hundreds of instruments (a scanner touches
every stock) holds a bounded amount of memory instead of every chunk since the start.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .pricing import CALENDAR_SECONDS_PER_YEAR, TRADING_SECONDS_PER_YEAR, black_scholes

CHUNK_STEPS = 4096
#: Chunks a path keeps built; an older one is rebuilt from its saved start when asked for again.
CHUNKS_KEPT = 6


@dataclass(frozen=True)
class FlowParams:
    """Trade and book sizes of one kind of instrument, in the units IB reports."""

    lot: int                    # sizes are whole lots
    trade_lots: float           # mean lots per printed trade
    book_lots: float            # mean lots at the best bid / ask
    trade_probability: float    # chance a grid step prints a trade (thin markets print rarely)


FLOW_BY_SEC_TYPE = {
    "STK": FlowParams(lot=100, trade_lots=3.0, book_lots=6.0, trade_probability=1.0),
    "FUT": FlowParams(lot=1, trade_lots=5.0, book_lots=30.0, trade_probability=1.0),
    "OPT": FlowParams(lot=1, trade_lots=3.0, book_lots=40.0, trade_probability=0.1),
    "CASH": FlowParams(lot=100_000, trade_lots=0.0, book_lots=20.0, trade_probability=0.0),
    "IND": FlowParams(lot=1, trade_lots=0.0, book_lots=0.0, trade_probability=0.0),     # a computed level
    "CRYPTO": FlowParams(lot=1, trade_lots=0.05, book_lots=2.0, trade_probability=0.3),
}


@dataclass
class Chunk:
    """One chunk of the grid: mid prices and sizes, plus the running extremes and volume from i = 0."""

    mid: np.ndarray
    last_size: np.ndarray
    bid_size: np.ndarray
    ask_size: np.ndarray
    cum_volume: np.ndarray      # volume printed from i = 0 up to and including each step
    cum_max: np.ndarray         # highest mid from i = 0
    cum_min: np.ndarray


@dataclass(frozen=True)
class _ChunkStart:
    """How chunk k began: enough to rebuild it with the same draws once it was let go."""

    rng_state: dict
    own_state: object           # a subclass's running state (the GBM's last log price)
    base_volume: int
    hi0: float
    lo0: float


class GridPath:
    """Mid prices and sizes of one instrument on the grid; subclasses say how a chunk's mids are made."""

    def __init__(self, rng: np.random.Generator, flow: FlowParams, dt_s: float) -> None:
        self.rng = rng
        self.flow = flow
        self.dt_s = dt_s
        self._chunks: dict[int, Chunk] = {}          # built chunks, oldest first, at most CHUNKS_KEPT
        self._starts: list[_ChunkStart] = []         # how every chunk made so far began
        self._before_zero: dict[int, Chunk] = {}     # chunks at i < 0 (replayed history only)

    # -- what subclasses provide
    def _mids(self, k: int) -> np.ndarray:
        """Mid prices of chunk ``k`` (steps k*CHUNK_STEPS ...); may draw from ``self.rng`` (k >= 0, in order)."""
        raise NotImplementedError

    def _sizes(self, k: int, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        f = self.flow
        trades = self.rng.random(n) < f.trade_probability
        last = np.where(trades, np.maximum(1, np.rint(self.rng.exponential(f.trade_lots, n))), 0) * f.lot
        bid = np.maximum(1, np.rint(self.rng.exponential(f.book_lots, n))) * f.lot
        ask = np.maximum(1, np.rint(self.rng.exponential(f.book_lots, n))) * f.lot
        return last.astype(np.int64), bid.astype(np.int64), ask.astype(np.int64)

    def _own_state(self) -> object:
        """A subclass's running state between chunks (none by default)."""
        return None

    def _restore_own_state(self, state: object) -> None:
        pass

    supports_negative = False

    # -- cache
    def chunk(self, k: int) -> Chunk:
        if k < 0:
            if not self.supports_negative:
                raise IndexError("this path has no grid before sim time 0; history comes from history.py")
            if k not in self._before_zero:
                mid = self._mids(k)
                last, bid, ask = self._sizes(k, len(mid))
                self._before_zero[k] = Chunk(mid, last, bid, ask, np.cumsum(last), mid.copy(), mid.copy())
            return self._before_zero[k]
        built = self._chunks.get(k)
        if built is not None:
            return built
        while len(self._starts) <= k:                # new chunks, in order: each draws after the last
            j = len(self._starts)
            prev = self._chunks.get(j - 1) if j else None
            if j and prev is None:
                prev = self.chunk(j - 1)
            start = _ChunkStart(self.rng.bit_generator.state, self._own_state(),
                                prev.cum_volume[-1] if prev is not None else 0,
                                prev.cum_max[-1] if prev is not None else -np.inf,
                                prev.cum_min[-1] if prev is not None else np.inf)
            self._starts.append(start)
            self._keep(j, self._build(j, start))
        built = self._chunks.get(k)
        if built is None:                            # let go earlier: the same draws again, from its start
            saved = self.rng.bit_generator.state, self._own_state()
            start = self._starts[k]
            self.rng.bit_generator.state = start.rng_state
            self._restore_own_state(start.own_state)
            try:
                built = self._build(k, start)
            finally:
                self.rng.bit_generator.state = saved[0]
                self._restore_own_state(saved[1])
            self._keep(k, built)
        return built

    def _build(self, k: int, start: _ChunkStart) -> Chunk:
        mid = self._mids(k)
        last, bid, ask = self._sizes(k, len(mid))
        return Chunk(mid, last, bid, ask, start.base_volume + np.cumsum(last),
                     np.maximum.accumulate(np.maximum(mid, start.hi0)),
                     np.minimum.accumulate(np.minimum(mid, start.lo0)))

    def _keep(self, k: int, chunk: Chunk) -> None:
        while len(self._chunks) >= CHUNKS_KEPT:
            self._chunks.pop(next(iter(self._chunks)))
        self._chunks[k] = chunk

    def field(self, name: str, i0: int, i1: int) -> np.ndarray:
        """Values of chunk field ``name`` for grid steps i0 <= i < i1."""
        if i1 <= i0:
            return np.empty(0)
        k0, k1 = i0 // CHUNK_STEPS, (i1 - 1) // CHUNK_STEPS
        parts = [getattr(self.chunk(k), name) for k in range(k0, k1 + 1)]
        arr = parts[0] if len(parts) == 1 else np.concatenate(parts)
        off = i0 - k0 * CHUNK_STEPS
        return arr[off:off + (i1 - i0)]

    def at(self, name: str, i: int):
        return getattr(self.chunk(i // CHUNK_STEPS), name)[i % CHUNK_STEPS]


class GbmPath(GridPath):
    """Geometric Brownian motion from ``initial_price``; drift and volatility annualised over trading time."""

    def __init__(self, initial_price: float, drift_annual: float, volatility_annual: float, dt_s: float,
                 rng: np.random.Generator, flow: FlowParams) -> None:
        super().__init__(rng, flow, dt_s)
        self.initial_price = initial_price
        dt_years = dt_s / TRADING_SECONDS_PER_YEAR
        self._mu_dt = (drift_annual - 0.5 * volatility_annual ** 2) * dt_years
        self._sigma_sqrt_dt = volatility_annual * math.sqrt(dt_years)
        self._log_end = math.log(initial_price)

    def _own_state(self) -> object:
        return self._log_end

    def _restore_own_state(self, state: object) -> None:
        self._log_end = state

    def _mids(self, k: int) -> np.ndarray:
        z = self.rng.standard_normal(CHUNK_STEPS)
        steps = self._mu_dt + self._sigma_sqrt_dt * z
        if k == 0:
            steps[0] = 0.0                  # the path starts exactly at the initial price
        logs = self._log_end + np.cumsum(steps)
        self._log_end = float(logs[-1])
        return np.exp(logs)


class ScaledPath(GridPath):
    """Another instrument's path times a constant (a later futures month over the front month)."""

    def __init__(self, base: GridPath, ratio: float, rng: np.random.Generator, flow: FlowParams) -> None:
        super().__init__(rng, flow, base.dt_s)
        self.base, self.ratio = base, ratio

    def _mids(self, k: int) -> np.ndarray:
        return self.base.chunk(k).mid * self.ratio


class OptionPath(GridPath):
    """Black-Scholes value of an option on its underlying's path, at the volatility of the price process."""

    def __init__(self, underlying: GridPath, strike: float, right: str, expiry_s: float, volatility_annual: float,
                 rng: np.random.Generator, flow: FlowParams) -> None:
        super().__init__(rng, flow, underlying.dt_s)
        self.underlying, self.strike, self.right = underlying, strike, right
        self.expiry_s, self.vol = expiry_s, volatility_annual

    def value(self, spot, t_s) -> np.ndarray:
        years = (self.expiry_s - np.asarray(t_s, dtype=float)) / CALENDAR_SECONDS_PER_YEAR
        return black_scholes(spot, self.strike, years, self.vol, self.right)

    def _mids(self, k: int) -> np.ndarray:
        t = (k * CHUNK_STEPS + np.arange(CHUNK_STEPS)) * self.dt_s
        return self.value(self.underlying.chunk(k).mid, t)


class ReplayPath(GridPath):
    """Replayed bars: a deterministic tick path through each bar's open, high/low and close."""

    supports_negative = True

    def __init__(self, knot_t_s: np.ndarray, knot_price: np.ndarray, volume_t_s: np.ndarray,
                 volume_per_s: np.ndarray, book_seed: int, flow: FlowParams, dt_s: float) -> None:
        super().__init__(np.random.default_rng(book_seed), flow, dt_s)
        self.knot_t_s, self.knot_price = knot_t_s, knot_price
        self._volume_t_s, self._volume_per_s = volume_t_s, volume_per_s
        self._book_seed = book_seed

    def _mids(self, k: int) -> np.ndarray:
        t = (k * CHUNK_STEPS + np.arange(CHUNK_STEPS)) * self.dt_s
        return np.interp(t, self.knot_t_s, self.knot_price)

    def _sizes(self, k: int, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        t = (k * CHUNK_STEPS + np.arange(n)) * self.dt_s
        idx = np.searchsorted(self._volume_t_s, t, side="right") - 1
        rate = np.where(idx >= 0, self._volume_per_s[np.clip(idx, 0, None)], 0.0)
        last = np.rint(rate * self.dt_s).astype(np.int64)
        # chunks may be made in any order here, so book sizes come from a generator keyed by the chunk
        g = np.random.default_rng([self._book_seed, abs(k), int(k < 0)])
        book = np.maximum(1, np.rint(g.exponential(self.flow.book_lots, (2, n)))) * self.flow.lot
        return last, book[0].astype(np.int64), book[1].astype(np.int64)
