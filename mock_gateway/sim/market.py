"""The market: one seeded price path per contract on a fixed sim-time grid, quotes and bars from it.

Prices change only at grid times ``i * tick_interval_s``. The grid is computed on demand, so
an idle gateway costs nothing; :meth:`Market.add_listener` starts a SimPy process that steps
the grid (and calls the listeners) only while someone listens.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np
import simpy

from . import rng as rngmod
from .clock import DEFAULT_START
from .contracts import ContractBook, ContractSpec
from .history import (
    DAY_S,
    OHLCV,
    GeneratedHistory,
    Slot,
    activity_weighted,
    aligned_slots,
    history_slots,
    in_liquid_hours,
    transform,
)
from .paths import CHUNK_STEPS, FLOW_BY_SEC_TYPE, GbmPath, GridPath, OptionPath, ScaledPath
from .pricing import bid_ask, midpoint, round_to_tick
from .replay import load_replay
from .sessions import SESSION_RULES, SessionTimeline, expiry_epoch, rule_for

if TYPE_CHECKING:   # config imports sim.clock, so sim modules import config only for types
    from ..config import MarketConfig

WHAT_TO_SHOW = ("TRADES", "MIDPOINT", "BID", "ASK", "BID_ASK")

#: Floating-point slack when mapping a time to its grid step.
_EPS = 1e-9


class UnknownContract(KeyError):
    """A conId the market has no price for (the gateway answers error 200)."""


class HistoryError(ValueError):
    """A bars request the market cannot answer; the gateway sends error 162 with this text."""


@dataclass(frozen=True)
class Quote:
    """Top of book and day statistics at one grid time (``time_s`` is that grid time)."""

    bid: float
    ask: float
    last: float
    bid_size: int
    ask_size: int
    last_size: int
    volume: int              # printed since sim 0
    high: float              # since sim 0
    low: float
    open: float              # the price at sim 0
    close: float             # the previous session's close (the last history bar)
    time_s: float


@dataclass(frozen=True)
class Bar:
    """One bar; ``time_s`` is its start in sim seconds (negative: before the run). volume/wap/count are -1 for
    non-TRADES data, as IB sends them."""

    time_s: float
    open: float
    high: float
    low: float
    close: float
    volume: float
    wap: float
    count: int


@dataclass
class _Instrument:
    spec: ContractSpec
    path: GridPath
    replayed: bool = False
    sessions: SessionTimeline | None = None   # None: the path is replayed as recorded, hours and all
    open: float = 0.0
    close: float = 0.0
    quote_chunks: dict[int, _QuoteChunk] = field(default_factory=dict)


@dataclass(frozen=True)
class _QuoteChunk:
    """A chunk's quotes as plain lists, rounded once with numpy, so a streamed quote is a few list lookups."""

    bid: list[float]
    ask: list[float]
    last: list[float]
    high: list[float]
    low: list[float]
    bid_size: list[int]
    ask_size: list[int]
    last_size: list[int]
    volume: list[int]


#: Quote chunks kept per instrument (streaming reads the newest; older ones are rebuilt on demand).
_QUOTE_CHUNKS_KEPT = 4


class Market:
    """Prices, quotes and bars of every contract in the book, seeded by ``seed``."""

    def __init__(self, contracts: ContractBook, config: MarketConfig | None = None, seed: int = 42,
                 env: simpy.Environment | None = None, start: datetime = DEFAULT_START) -> None:
        self.contracts = contracts
        if config is None:
            from ..config import MarketConfig
            config = MarketConfig()
        self.config = config
        if self.config.tick_interval_s <= 0:
            raise ValueError(f"tick_interval_s must be > 0, got {self.config.tick_interval_s}")
        self.seed = seed
        self.env = env or simpy.Environment()
        self.start = start
        self.epoch0 = start.timestamp()
        self.dt_s = float(self.config.tick_interval_s)
        self._instruments: dict[int, _Instrument] = {}
        self._histories: dict[tuple[int, float], GeneratedHistory] = {}
        self._replay = load_replay(self.config.replay_csv, self.epoch0) if self.config.replay_csv else {}
        self._listeners: list[Callable[[float], None]] = []
        self._stepper: simpy.Process | None = None

    # ------------------------------------------------------------------ grid
    @property
    def tick_interval_s(self) -> float:
        return self.dt_s

    def grid_index(self, t_s: float) -> int:
        """The grid step in force at sim time ``t_s``."""
        return math.floor(t_s / self.dt_s + _EPS)

    def grid_time(self, i: int) -> float:
        return i * self.dt_s

    # ------------------------------------------------------------------ instruments
    def _instrument(self, con_id: int) -> _Instrument:
        inst = self._instruments.get(con_id)
        if inst is None:
            spec = self.contracts.get(con_id)
            if spec is None:
                raise UnknownContract(con_id)
            inst = self._instruments[con_id] = self._make_instrument(spec)
            if not inst.replayed:
                inst.sessions = SessionTimeline(rule_for(spec.sec_type), self.epoch0)
            tick = spec.min_tick
            inst.open = float(round_to_tick(inst.path.at("mid", 0), tick))
            # the previous close: the last replayed price before sim 0, or where generated history ends
            inst.close = float(round_to_tick(inst.path.at("mid", -1), tick)) if inst.replayed else inst.open
        return inst

    def _make_instrument(self, spec: ContractSpec) -> _Instrument:
        cfg = self.config
        flow = FLOW_BY_SEC_TYPE.get(spec.sec_type, FLOW_BY_SEC_TYPE["STK"])
        stream = rngmod.stream(self.seed, "market", spec.path_key)
        replay = self._replay.get(spec.path_key.upper()) or self._replay.get(spec.symbol.upper()) \
            if spec.sec_type == "STK" else self._replay.get(spec.path_key.upper())
        if replay is not None:
            return _Instrument(spec, replay(flow, self.dt_s, self.seed), replayed=True)
        if spec.sec_type == "OPT":
            under = self._instrument(spec.under_con_id).path
            path: GridPath = OptionPath(under, spec.strike, spec.right, expiry_epoch(spec.last_trade_date, "OPT")
                                        - self.epoch0, cfg.volatility_annual, stream, flow)
        elif spec.sec_type == "FUT" and self._front_month(spec) is not spec:
            front = self._front_month(spec)
            path = ScaledPath(self._instrument(front.con_id).path, spec.initial_price / front.initial_price,
                              stream, flow)
        else:
            path = GbmPath(spec.initial_price, cfg.drift_annual, cfg.volatility_annual, self.dt_s, stream, flow)
        return _Instrument(spec, path)

    def _front_month(self, spec: ContractSpec) -> ContractSpec:
        months = [s for s in self.contracts if s.sec_type == "FUT" and s.symbol == spec.symbol]
        return min(months, key=lambda s: s.last_trade_date)

    # ------------------------------------------------------------------ quotes
    def quote(self, con_id: int) -> Quote:
        """The quote at the current sim time."""
        return self.quote_at(con_id, self.env.now)

    def trading_index(self, inst: _Instrument, t_s: float) -> int:
        """The grid step whose prices are in force at ``t_s``: outside the trading session, the last step
        before the close (no trades, quotes as they were at the close), or step 0 before any session."""
        i = max(self.grid_index(t_s), 0)
        if inst.sessions is None:
            return i
        is_open, since_s, _ = inst.sessions.state(self.grid_time(i))
        if is_open:
            return i
        return max(math.ceil(since_s / self.dt_s - _EPS) - 1, 0) if since_s > -math.inf else 0

    def is_trading(self, con_id: int, t_s: float) -> bool:
        """Whether the contract's market is in its trading session (extended hours included) at ``t_s``."""
        inst = self._instrument(con_id)
        return inst.sessions is None or inst.sessions.is_open(t_s)

    def quote_at(self, con_id: int, t_s: float) -> Quote:
        inst = self._instrument(con_id)
        i = self.trading_index(inst, t_s)
        k, j = divmod(i, CHUNK_STEPS)
        q = self._quote_chunk(inst, k)
        return Quote(q.bid[j], q.ask[j], q.last[j], q.bid_size[j], q.ask_size[j], q.last_size[j], q.volume[j],
                     q.high[j], q.low[j], inst.open, inst.close, i * self.dt_s)

    def price_at(self, con_id: int, t_s: float) -> float:
        """The last price at sim time ``t_s`` (>= 0), rounded to the contract's tick."""
        inst = self._instrument(con_id)
        k, j = divmod(self.trading_index(inst, t_s), CHUNK_STEPS)
        return self._quote_chunk(inst, k).last[j]

    def _quote_chunk(self, inst: _Instrument, k: int) -> _QuoteChunk:
        q = inst.quote_chunks.get(k)
        if q is None:
            c, tick = inst.path.chunk(k), inst.spec.min_tick
            bid, ask = bid_ask(c.mid, tick, self.config.spread_ticks)
            q = _QuoteChunk(bid.tolist(), ask.tolist(), round_to_tick(c.mid, tick).tolist(),
                            round_to_tick(c.cum_max, tick).tolist(), round_to_tick(c.cum_min, tick).tolist(),
                            c.bid_size.tolist(), c.ask_size.tolist(), c.last_size.tolist(), c.cum_volume.tolist())
            if len(inst.quote_chunks) >= _QUOTE_CHUNKS_KEPT:
                inst.quote_chunks.pop(next(iter(inst.quote_chunks)))
            inst.quote_chunks[k] = q
        return q

    def first_time(self, con_id: int, side: str, op: str, level: float, from_s: float, until_s: float) -> float | None:
        """The first grid time in [from_s, until_s] at which ``side`` (bid/ask/last) is ``op`` (<= or >=) ``level``.

        Orders wait for the market this way instead of watching every step: a resting order costs
        nothing until the time it can fill.
        """
        inst = self._instrument(con_id)
        i0 = max(self.grid_index(from_s), 0)
        i1 = max(self.grid_index(until_s), i0) + 1
        mid = inst.path.field("mid", i0, i1)
        values = self._side_values(inst.spec, mid, side)
        hits = np.flatnonzero(values <= level + 1e-12 if op == "<=" else values >= level - 1e-12)
        n = 0
        while n < len(hits):          # only a step inside the trading session can trade
            t = self.grid_time(i0 + int(hits[n]))
            if inst.sessions is None:
                return t
            is_open, _, until_s = inst.sessions.state(t)
            if is_open:
                return t
            n = int(np.searchsorted(hits, self.grid_index(until_s - _EPS) - i0, side="right"))
        return None

    def _side_values(self, spec: ContractSpec, mid: np.ndarray, side: str) -> np.ndarray:
        if side == "last":
            return round_to_tick(mid, spec.min_tick)
        bid, ask = bid_ask(mid, spec.min_tick, self.config.spread_ticks)
        if side == "bid":
            return bid
        if side == "ask":
            return ask
        if side == "mid":
            return midpoint(bid, ask, spec.min_tick)
        raise ValueError(f"unknown quote side {side!r}")

    # ------------------------------------------------------------------ listeners
    def add_listener(self, fn: Callable[[float], None]) -> None:
        """Call ``fn(now_s)`` after every grid step from now on; the grid is stepped only while someone listens."""
        self._listeners.append(fn)
        if self._stepper is None or not self._stepper.is_alive:
            self._stepper = self.env.process(self._step_grid())

    def remove_listener(self, fn: Callable[[float], None]) -> None:
        if fn in self._listeners:
            self._listeners.remove(fn)

    def _step_grid(self):
        """While anyone listens: wait for the next grid time, then tell every listener."""
        while self._listeners:
            next_t = self.grid_time(self.grid_index(self.env.now) + 1)
            yield self.env.timeout(max(0.0, next_t - self.env.now))
            for fn in list(self._listeners):
                fn(self.env.now)

    # ------------------------------------------------------------------ bars
    def bars(self, con_id: int, end_s: float, duration_s: float, bar_size_s: float, what_to_show: str = "TRADES",
             use_rth: bool = False) -> list[Bar]:
        """Bars starting in [end_s - duration_s, min(end_s, now)), oldest first; sim seconds, may be negative."""
        what = what_to_show.upper()
        inst = self._instrument(con_id)
        spec = inst.spec
        if what not in WHAT_TO_SHOW:
            raise HistoryError(f"Historical Market Data Service error message:No data of type {what} is available")
        if what == "TRADES" and spec.sec_type == "CASH":
            raise HistoryError("Historical Market Data Service error message:No historical market data for "
                               f"{spec.symbol}/CASH@{spec.exchange} Last")
        if bar_size_s <= 0 or duration_s <= 0 or bar_size_s > DAY_S:
            raise HistoryError("Historical Market Data Service error message:invalid step "
                               f"(bar size {bar_size_s:g} s; 1 s to 1 day are supported)")
        from_s = end_s - duration_s
        to_s = min(end_s, self.env.now + _EPS)
        out: list[Bar] = []
        for slot, hist, live in self._slot_spans(inst, from_s, to_s, bar_size_s, use_rth, what):
            parts = []
            if hist is not None:
                parts.append(hist)
            if live is not None:
                grid = self._grid_bar(inst, live[0], min(live[1], to_s), what)
                if grid is not None:
                    parts.append(grid)
            if parts:
                out.append(_merge(slot.label_s, parts, what))
        return out

    def _slot_spans(self, inst: _Instrument, from_s: float, to_s: float, bar_size_s: float, use_rth: bool,
                    what: str):
        """(slot, history bar or None, live span or None) per bar; history slots are counted back from sim 0."""
        spec = inst.spec
        rule = SESSION_RULES.get(spec.sec_type, SESSION_RULES["STK"])
        daily = bar_size_s >= DAY_S
        size = DAY_S if daily else bar_size_s
        asked_from_s, from_s = from_s, from_s - size   # a bar clipped to liquid hours may start inside the range
        out = []
        if inst.replayed:
            slots = history_slots(rule, self.epoch0, from_s, to_s, size) if daily \
                else aligned_slots(from_s, to_s, size, self.epoch0)
            for slot in slots:
                out.append((slot, None, (slot.start_s, slot.end_s)))
        else:
            past = history_slots(rule, self.epoch0, min(from_s, 0.0), 0.0, size) if from_s < 0 else []
            generated = self._generated(inst, size, past)
            parts = history_parts(generated, spec, what, self.config.spread_ticks) if generated is not None else []
            claimed_to = 0.0
            for k, slot in enumerate(past):
                live = None
                if slot.end_s > 0:    # the bar in progress at sim 0: history before, live after
                    aligned_end = slot.end_s if daily else \
                        math.floor((self.epoch0 + slot.start_s) / size) * size + size - self.epoch0
                    live, claimed_to = (0.0, aligned_end), aligned_end
                if slot.start_s >= from_s and slot.start_s < to_s:
                    out.append((slot, parts[len(past) - 1 - k], live))
            if daily:
                later = [s for s in history_slots(rule, self.epoch0, max(from_s, claimed_to), to_s, size)
                         if s.start_s >= max(from_s, 0.0)]
            else:
                later = aligned_slots(max(from_s, claimed_to), to_s, size, self.epoch0)
                if claimed_to == 0.0 and from_s <= 0.0 and later and later[0].start_s > 0:
                    later.insert(0, Slot(0.0, later[0].start_s, 0.0))
            out.extend((s, None, (s.start_s, s.end_s)) for s in later)
        if use_rth:
            out = [_clip_rth(rule, self.epoch0, o) for o in out]
        return [o for o in out if o is not None and o[0].label_s >= asked_from_s]

    def _generated(self, inst: _Instrument, size: float, past: list[Slot]) -> OHLCV | None:
        """Generated history for ``past`` (oldest first), returned newest first (row 0 ends at sim 0)."""
        if not past:
            return None
        spec = inst.spec
        rule = SESSION_RULES.get(spec.sec_type, SESSION_RULES["STK"])
        activity_s = activity_weighted(rule, self.epoch0, past[::-1])
        flow = inst.path.flow
        volume_per_s = flow.lot * flow.trade_lots * flow.trade_probability / self.dt_s
        if isinstance(inst.path, ScaledPath):
            front = self._front_month(spec)
            base = self._generated(self._instrument(front.con_id), size, past)
            ratio = inst.path.ratio
            return transform(base, lambda p: p * ratio, True, base.volume * 0.1)
        if isinstance(inst.path, OptionPath):
            under = self.contracts.get(spec.under_con_id)
            hist = self._history(spec, size, under.initial_price, volume_per_s)
            synthetic = hist.bars(activity_s)
            ends = np.array([min(x.end_s, 0.0) for x in reversed(past)])
            path = inst.path
            return transform(synthetic, lambda s: path.value(s, ends), spec.right == "C", synthetic.volume)
        return self._history(spec, size, spec.initial_price, volume_per_s).bars(activity_s)

    def _history(self, spec: ContractSpec, size: float, initial: float, volume_per_s: float) -> GeneratedHistory:
        key = (spec.con_id, size)
        if key not in self._histories:
            self._histories[key] = GeneratedHistory(initial, self.config.drift_annual, self.config.volatility_annual,
                                                    rngmod.stream(self.seed, "history", spec.path_key, int(size)),
                                                    volume_per_s)
        return self._histories[key]

    def _grid_bar(self, inst: _Instrument, a_s: float, b_s: float, what: str) -> _Part | None:
        """Aggregate the grid steps in [a_s, b_s) into one bar part."""
        path, spec = inst.path, inst.spec
        lo = math.ceil(a_s / self.dt_s - _EPS)
        hi = math.ceil(b_s / self.dt_s - _EPS)
        if not inst.replayed:
            lo = max(lo, 0)
        if hi <= lo:
            return None
        mid = path.field("mid", lo, hi)
        if what == "TRADES":
            last = round_to_tick(mid, spec.min_tick)
            size = path.field("last_size", lo, hi).astype(float)
            volume = float(size.sum())
            wap = round(float((last * size).sum() / volume) if volume > 0 else float(last.mean()), 6)
            return _Part(float(last[0]), float(last.max()), float(last.min()), float(last[-1]), volume, wap,
                         int(np.count_nonzero(size)))
        tick = spec.min_tick
        bid, ask = bid_ask(mid, tick, self.config.spread_ticks)
        if what == "BID_ASK":
            return _Part(float(bid.mean()), float(ask.max()), float(bid.min()), float(ask.mean()), -1, -1, -1, len(mid))
        series = {"BID": bid, "ASK": ask, "MIDPOINT": midpoint(bid, ask, tick)}[what]
        return _Part(float(series[0]), float(series.max()), float(series.min()), float(series[-1]), -1, -1, -1)


@dataclass
class _Part:
    """Part of a bar: history before sim 0 or the live grid after it."""

    open: float
    high: float
    low: float
    close: float
    volume: float
    wap: float
    count: int
    weight: int = 1          # BID_ASK averages over time


def history_parts(bars: OHLCV, spec: ContractSpec, what: str, spread_ticks: int) -> list[_Part]:
    """Generated trade-price bars as parts of the requested data type, converted with numpy in one go.

    Quotes are made around each price exactly as the live grid makes them from its mid.
    """
    tick = spec.min_tick
    o, h, l, c = (round_to_tick(x, tick) for x in (bars.open, bars.high, bars.low, bars.close))
    n = len(o)
    none = [-1] * n
    if what == "TRADES":
        flow = FLOW_BY_SEC_TYPE.get(spec.sec_type, FLOW_BY_SEC_TYPE["STK"])
        count = np.maximum(1, (bars.volume / max(1.0, flow.lot * flow.trade_lots)).astype(np.int64))
        wap = np.round(np.clip((h + l + c) / 3, l, h), 6)
        cols = (o, h, l, c, bars.volume, wap, count)
    else:
        (bo, ao), (bh, ah), (bl, al), (bc, ac) = (bid_ask(x, tick, spread_ticks) for x in (o, h, l, c))
        if what == "BID_ASK":
            cols = ((bo + bc) / 2, ah, bl, (ao + ac) / 2, none, none, none)
        elif what == "BID":
            cols = (bo, bh, bl, bc, none, none, none)
        elif what == "ASK":
            cols = (ao, ah, al, ac, none, none, none)
        else:
            cols = tuple(midpoint(b, a, tick) for b, a in ((bo, ao), (bh, ah), (bl, al), (bc, ac))) + (none, none, none)
    lists = [x.tolist() if isinstance(x, np.ndarray) else x for x in cols]
    return [_Part(*row) for row in zip(*lists)]


def _clip_rth(rule, epoch0: float, entry):
    slot, hist, live = entry
    clipped = in_liquid_hours(rule, epoch0, slot)
    if clipped is None:
        return None
    if live is not None:
        live = (max(live[0], clipped.start_s), min(live[1], clipped.end_s))
        if live[0] >= live[1]:
            live = None
    if hist is not None and clipped.start_s >= 0:
        hist = None           # the liquid part of this bar is all live
    return (clipped, hist, live)


def _merge(label_s: float, ps: list[_Part], what: str) -> Bar:
    if len(ps) == 1:
        p = ps[0]
        return Bar(label_s, p.open, p.high, p.low, p.close, p.volume, p.wap, p.count)
    first, last = ps[0], ps[-1]
    high, low = max(p.high for p in ps), min(p.low for p in ps)
    if what == "TRADES":
        volume = sum(p.volume for p in ps)
        wap = sum(p.wap * p.volume for p in ps) / volume if volume > 0 else last.close
        return Bar(label_s, first.open, high, low, last.close, volume, round(wap, 6), sum(p.count for p in ps))
    if what == "BID_ASK":
        w = sum(p.weight for p in ps)
        return Bar(label_s, sum(p.open * p.weight for p in ps) / w, high, low,
                   sum(p.close * p.weight for p in ps) / w, -1, -1, -1)
    return Bar(label_s, first.open, high, low, last.close, -1, -1, -1)


__all__ = ["Bar", "HistoryError", "Market", "Quote", "UnknownContract", "WHAT_TO_SHOW"]
