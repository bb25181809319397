"""Price paths on the sim-time grid, generated lazily in chunks.

Each instrument's path lives on the grid ``t = i * tick_interval_s``. Chunks are computed in
order from i = 0 and cached, and every draw of a chunk comes from the instrument's own
stream in a fixed order (prices, then sizes), so the same seed gives the same path whatever
was asked first. A six-hour session at 0.25 s is 86 400 steps: 22 chunks of numpy work.
"""
from __future__ import annotations

import math
import os
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from .pricing import CALENDAR_SECONDS_PER_YEAR, TRADING_SECONDS_PER_YEAR, black_scholes

CHUNK_STEPS = 4096
#: Bytes of chunks kept in memory over every path of the process; beyond it the least recently used
#: chunks are dropped and made again, identically, from a checkpoint when next asked. A scanner
#: touches every stock's path each refresh: kept whole, one scan grew the gateway by ~200 MB per
#: 1,000 simulated seconds (2.9 GB after 12,000). ``PRELIVE_PATH_CACHE_MB`` changes the budget.
KEPT_CHUNK_BYTES = int(float(os.environ.get("PRELIVE_PATH_CACHE_MB", "256")) * 1024 * 1024)


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
class _Checkpoint:
    """What making chunk k again needs: the generator's state and the path's running values before it,
    and the running totals the chunk continues from."""

    rng_state: dict
    running: tuple
    base_volume: float
    hi0: float
    lo0: float


class _KeptChunks:
    """The chunks in memory over every path, least recently used first, within KEPT_CHUNK_BYTES."""

    def __init__(self) -> None:
        self._order: OrderedDict[tuple[int, int], weakref.ref] = OrderedDict()
        self.bytes = 0
        self._lock = threading.Lock()      # gateways on several threads of one process share the budget

    def touch(self, path: GridPath, k: int) -> None:
        with self._lock:
            if (id(path), k) in self._order:
                self._order.move_to_end((id(path), k))

    def add(self, path: GridPath, k: int, chunk: Chunk) -> None:
        with self._lock:
            if (id(path), k) in self._order:
                return
            self._order[(id(path), k)] = weakref.ref(path)
            self.bytes += _chunk_bytes(chunk)
            while self.bytes > KEPT_CHUNK_BYTES and len(self._order) > 1:
                (_, old_k), ref = self._order.popitem(last=False)
                owner = ref()
                if owner is not None:
                    self.bytes -= owner._drop(old_k)

    def forget(self, key: tuple[int, int], nbytes: int) -> None:
        with self._lock:
            if self._order.pop(key, None) is not None:
                self.bytes -= nbytes


def _chunk_bytes(chunk: Chunk) -> int:
    return sum(getattr(chunk, f).nbytes for f in ("mid", "last_size", "bid_size", "ask_size", "cum_volume",
                                                  "cum_max", "cum_min"))


_KEPT = _KeptChunks()


class GridPath:
    """Mid prices and sizes of one instrument on the grid; subclasses say how a chunk's mids are made."""

    #: Attributes a subclass's ``_mids`` carries from one chunk to the next (saved in each checkpoint).
    _running: tuple[str, ...] = ()

    def __init__(self, rng: np.random.Generator, flow: FlowParams, dt_s: float) -> None:
        self.rng = rng
        self.flow = flow
        self.dt_s = dt_s
        self._chunks: list[Chunk | None] = []
        self._checkpoints: list[_Checkpoint] = []
        self._before_zero: dict[int, Chunk] = {}     # chunks at i < 0 (replayed history only)
        weakref.finalize(self, _forget_path, id(self), self._chunks)

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
        while len(self._chunks) <= k:
            j = len(self._chunks)
            last_chunk = self._chunks[-1] if self._chunks else None
            if last_chunk is None and self._chunks:
                last_chunk = self._remake(j - 1)
            base_volume = last_chunk.cum_volume[-1] if last_chunk is not None else 0
            hi0 = last_chunk.cum_max[-1] if last_chunk is not None else -np.inf
            lo0 = last_chunk.cum_min[-1] if last_chunk is not None else np.inf
            cp = _Checkpoint(self.rng.bit_generator.state, tuple(getattr(self, a) for a in self._running),
                             base_volume, hi0, lo0)
            chunk = self._make(j, cp)
            self._checkpoints.append(cp)
            self._chunks.append(chunk)
            _KEPT.add(self, j, chunk)
        chunk = self._chunks[k]
        if chunk is None:
            chunk = self._remake(k)
        else:
            _KEPT.touch(self, k)
        return chunk

    def _make(self, j: int, cp: _Checkpoint) -> Chunk:
        mid = self._mids(j)
        last, bid, ask = self._sizes(j, len(mid))
        return Chunk(mid, last, bid, ask, cp.base_volume + np.cumsum(last),
                     np.maximum.accumulate(np.maximum(mid, cp.hi0)), np.minimum.accumulate(np.minimum(mid, cp.lo0)))

    def _remake(self, k: int) -> Chunk:
        """Chunk ``k`` again, exactly as first made: from its checkpoint, the path's own state put back after."""
        cp = self._checkpoints[k]
        saved = (self.rng.bit_generator.state, tuple(getattr(self, a) for a in self._running))
        self.rng.bit_generator.state = cp.rng_state
        for name, value in zip(self._running, cp.running):
            setattr(self, name, value)
        try:
            chunk = self._make(k, cp)
        finally:
            self.rng.bit_generator.state = saved[0]
            for name, value in zip(self._running, saved[1]):
                setattr(self, name, value)
        self._chunks[k] = chunk
        _KEPT.add(self, k, chunk)
        return chunk

    def _drop(self, k: int) -> int:
        chunk = self._chunks[k] if k < len(self._chunks) else None
        if chunk is None:
            return 0
        self._chunks[k] = None
        return _chunk_bytes(chunk)

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

    _running = ("_log_end",)

    def __init__(self, initial_price: float, drift_annual: float, volatility_annual: float, dt_s: float,
                 rng: np.random.Generator, flow: FlowParams) -> None:
        super().__init__(rng, flow, dt_s)
        self.initial_price = initial_price
        dt_years = dt_s / TRADING_SECONDS_PER_YEAR
        self._mu_dt = (drift_annual - 0.5 * volatility_annual ** 2) * dt_years
        self._sigma_sqrt_dt = volatility_annual * math.sqrt(dt_years)
        self._log_end = math.log(initial_price)

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


def _forget_path(path_id: int, chunks: list) -> None:
    """A path garbage collected: its kept chunks leave the budget."""
    for k, chunk in enumerate(chunks):
        if chunk is not None:
            _KEPT.forget((path_id, k), _chunk_bytes(chunk))
