"""The market: one seeded price path per contract on a fixed sim-time grid, quotes and bars from it.

Prices change only at grid times ``i * tick_interval_s``. The grid is computed on demand, so
an idle gateway costs nothing; :meth:`Market.add_listener` starts a SimPy process that steps
the grid (and calls the listeners) only while someone listens.
"""
from __future__ import annotations

import math
from array import array
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING

import numpy as np
import simpy

from . import rng as rngmod
from .clock import DEFAULT_START
from .contracts import ContractBook, ContractQuery, ContractSpec
from .corporate_actions import DividendBook, adjustment_factors, dividend_factors
from .halts import NOT_HALTED, AlwaysOpen, HaltBook, HaltedTimeline
from .history import (
    DAY_S,
    EXTENDED_HOURS_ACTIVITY,
    OHLCV,
    PastProcess,
    HORIZON_S,
    Slot,
    aligned_slots,
    history_slots,
    in_liquid_hours,
    liquid_overlap_s,
    slot_arrays,
    transform,
)
from .paths import CHUNK_STEPS, FLOW_BY_SEC_TYPE, GbmPath, GridPath, OptionPath, ScaledPath
from .pricing import CALENDAR_SECONDS_PER_YEAR, _digits, bid_ask, midpoint, round_to_tick
from .replay import load_replay
from .sessions import SESSION_RULES, SessionTimeline, expiry_epoch, rule_for, venue_rule

if TYPE_CHECKING:   # config imports sim.clock, so sim modules import config only for types
    from ..config import MarketConfig

WHAT_TO_SHOW = ("TRADES", "MIDPOINT", "BID", "ASK", "BID_ASK")
#: Long-run growth of generated history per sec type (equities rise over decades; currencies do not).
HISTORY_GROWTH_ANNUAL = {"STK": 0.07, "IND": 0.07, "FUT": 0.07, "OPT": 0.07, "CRYPTO": 0.3}

#: No request may ask for more bar slots than this (bounded cost whatever the input).
MAX_SLOTS_PER_REQUEST = 200_000

#: Floating-point slack when mapping a time to its grid step.
_EPS = 1e-9


def session_rule(sec_type: str | ContractSpec):
    """The session rule a sec type trades under (indices trade the options' hours, crypto the currencies'), or a
    contract: a stock or index listed in Europe trades its own venue's hours (``sessions.EXCHANGE_SESSION_RULES``)."""
    from .universe_book import RULE_OF

    if not isinstance(sec_type, str):
        own = venue_rule(sec_type)
        if own is not None:
            return own
        sec_type = sec_type.sec_type
    return SESSION_RULES[RULE_OF.get(sec_type, "STK")]


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
class ContractStats:
    """What the statistics generic ticks report (165, 104, 106, 318, 456), from the contract's own daily bars."""

    ranges: tuple[float, float, float, float, float, float]     # 13/26/52-week low, high, low, high, low, high
    avg_volume: float            # 90-day average daily volume
    hist_vol: float              # 30-day historical volatility, annualised
    implied_vol: float           # the price process's volatility (what its options are priced at)
    last_rth: float              # the last regular-hours close
    dividends: str               # tick 59: "past 12 months,next 12 months,next date,next amount" ('' if none)


@dataclass(frozen=True)
class OptionModel:
    """An option's Black-Scholes inputs at one time: the underlying's mid, years to expiry, the path's volatility."""

    strike: float
    right: str
    years: float
    vol: float
    under_price: float


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
class BarTable:
    """Bars as columns (numpy arrays, oldest first): what large answers are built and formatted from."""

    time_s: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    wap: np.ndarray
    count: np.ndarray

    def __len__(self) -> int:
        return len(self.time_s)

    @classmethod
    def empty(cls) -> BarTable:
        return cls(*(np.empty(0) for _ in range(8)))

    @classmethod
    def from_bars(cls, bars: list[Bar]) -> BarTable:
        if not bars:
            return cls.empty()
        cols = list(zip(*((b.time_s, b.open, b.high, b.low, b.close, b.volume, b.wap, b.count) for b in bars)))
        return cls(*(np.array(c, dtype=float) for c in cols))

    @classmethod
    def concat(cls, tables: list[BarTable]) -> BarTable:
        tables = [t for t in tables if len(t)]
        if not tables:
            return cls.empty()
        if len(tables) == 1:
            return tables[0]
        return cls(*(np.concatenate([getattr(t, f) for t in tables]) for f in _TABLE_FIELDS))

    def select(self, mask: np.ndarray) -> BarTable:
        return BarTable(*(getattr(self, f)[mask] for f in _TABLE_FIELDS))

    def to_bars(self) -> list[Bar]:
        cols = [getattr(self, f).tolist() for f in _TABLE_FIELDS]
        cols[7] = [int(c) for c in cols[7]]
        return [Bar(*row) for row in zip(*cols)]


_TABLE_FIELDS = ("time_s", "open", "high", "low", "close", "volume", "wap", "count")


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
    """A chunk's quotes rounded once with numpy, held as typed arrays so a streamed quote is a few lookups.

    ``array.array`` rather than lists: 8 bytes a value instead of 32, and no objects for the garbage
    collector to walk (lists of a few hundred scanned stocks made full collections take ~100 ms).
    """

    bid: array
    ask: array
    last: array
    high: array
    low: array
    bid_size: array
    ask_size: array
    last_size: array
    volume: array


def _floats(values: np.ndarray) -> array:
    return array("d", np.ascontiguousarray(values, dtype=np.float64).tobytes())


def _ints(values: np.ndarray) -> array:
    return array("q", np.ascontiguousarray(values, dtype=np.int64).tobytes())


#: Quote chunks kept per instrument (streaming reads the newest; older ones are rebuilt on demand).
_QUOTE_CHUNKS_KEPT = 4
#: Quote chunks kept over every instrument of a market (~300 KB each): four per stock over a session's
#: universe were gigabytes (a scan reads every stock; it keeps none, see ``last_close_volume_at``).
_QUOTE_CHUNKS_TOTAL = 256       # ~75 MB; twice the default 100 streamed lines, so streaming never thrashes it


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
        self._past: dict[int, PastProcess] = {}
        self._front_months: dict[str, ContractSpec] = {}
        self._replay = load_replay(self.config.replay_csv, self.epoch0) if self.config.replay_csv else {}
        self._listeners: list[Callable[[float], None]] = []
        self._stepper: simpy.Process | None = None
        #: The scenario's trading halts (MarketConfig.halts): closed stretches of a symbol's sessions.
        self.halts = HaltBook.from_config(getattr(self.config, "halts", None) or ())
        #: Cash dividends (built-in table and the scenario's), what ADJUSTED_LAST adjusts for.
        self.dividends = DividendBook(getattr(self.config, "dividends", None) or {})
        self._closes_before: dict[tuple[int, float], float | None] = {}
        self._stats: dict[tuple[int, int], ContractStats] = {}
        self._quote_lru: OrderedDict[tuple[int, int], None] = OrderedDict()   # (conId, chunk) over instruments

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
                inst.sessions = SessionTimeline(rule_for(spec), self.epoch0)
            halts = self.halts.windows(spec.symbol)
            if halts:            # a halt is a closed stretch: no prints, the quote stands, orders wait
                inst.sessions = HaltedTimeline(inst.sessions or AlwaysOpen(), halts)
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
        front = self._front_months.get(spec.symbol)
        if front is None:      # by the symbol index, not a scan of the universe
            months = self.contracts.match(ContractQuery(symbol=spec.symbol, sec_type="FUT"))
            front = self._front_months[spec.symbol] = min(months, key=lambda s: s.last_trade_date)
        return front

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

    def option_model(self, con_id: int, t_s: float) -> OptionModel | None:
        """The model inputs of an option at ``t_s`` (None for other contracts): what tickOptionComputation reports."""
        inst = self._instrument(con_id)
        path = inst.path
        if not isinstance(path, OptionPath):
            return None
        under = self.quote_at(inst.spec.under_con_id, t_s)
        years = max(path.expiry_s - t_s, 0.0) / CALENDAR_SECONDS_PER_YEAR
        return OptionModel(path.strike, path.right, years, path.vol, (under.bid + under.ask) / 2.0)

    def halt_status(self, spec: ContractSpec, t_s: float) -> int:
        """Tick 49's value for the contract at ``t_s``: 0 trading, 1 halted, 2 volatility pause."""
        return self.halts.status(spec.symbol, t_s) if self.halts else NOT_HALTED

    def halted_timeline(self, spec: ContractSpec, timeline):
        """``timeline`` (an order's session timeline) with the contract's halts cut out of it."""
        halts = self.halts.windows(spec.symbol) if self.halts else ()
        return HaltedTimeline(timeline, halts) if halts else timeline

    def last_close_volume_at(self, con_id: int, t_s: float) -> tuple[float, float, int]:
        """(last, previous close, volume) at ``t_s``, as ``quote_at`` gives them, without keeping the
        instrument's quote chunk (~300 KB of arrays): for one look at many instruments, as a scan takes.
        Kept for every stock (as lists then), one scanner grew the gateway by 2.5 GB over 12,000 simulated
        seconds."""
        inst = self._instrument(con_id)
        i = self.trading_index(inst, t_s)
        k, j = divmod(i, CHUNK_STEPS)
        q = inst.quote_chunks.get(k)
        if q is not None:
            return q.last[j], inst.close, q.volume[j]
        c, tick = inst.path.chunk(k), inst.spec.min_tick
        last = float(np.round(np.round(c.mid[j] / tick) * tick, _digits(tick)))   # round_to_tick's operations
        return last, inst.close, int(c.cum_volume[j])

    def quote_at(self, con_id: int, t_s: float) -> Quote:
        inst = self._instrument(con_id)
        i = self.trading_index(inst, t_s)
        k, j = divmod(i, CHUNK_STEPS)
        q = self._quote_chunk(inst, k)
        return Quote(q.bid[j], q.ask[j], q.last[j], q.bid_size[j], q.ask_size[j], q.last_size[j], q.volume[j],
                     q.high[j], q.low[j], inst.open, inst.close, i * self.dt_s)

    def grid_trades(self, con_id: int, second_s: float) -> list[tuple[float, float]]:
        """(price, size) of each trade printed in the one-second window starting at sim second ``second_s`` (>= 0):
        the grid steps whose lastSize is above 0, as the streamed quotes print them (one trade a step)."""
        inst = self._instrument(con_id)
        lo = max(math.ceil(second_s / self.dt_s - _EPS), 0)
        hi = math.ceil((second_s + 1.0) / self.dt_s - _EPS)
        if hi <= lo:
            return []
        size = inst.path.field("last_size", lo, hi)
        price = round_to_tick(inst.path.field("mid", lo, hi), inst.spec.min_tick)
        return [(p, z) for p, z in zip(price.tolist(), size.tolist()) if z > 0]

    def price_at(self, con_id: int, t_s: float) -> float:
        """The last price at sim time ``t_s`` (>= 0), rounded to the contract's tick."""
        inst = self._instrument(con_id)
        k, j = divmod(self.trading_index(inst, t_s), CHUNK_STEPS)
        return self._quote_chunk(inst, k).last[j]

    def _quote_chunk(self, inst: _Instrument, k: int) -> _QuoteChunk:
        q = inst.quote_chunks.get(k)
        if q is not None and (inst.spec.con_id, k) in self._quote_lru:
            self._quote_lru.move_to_end((inst.spec.con_id, k))
        if q is None:
            c, tick = inst.path.chunk(k), inst.spec.min_tick
            bid, ask = bid_ask(c.mid, tick, self.config.spread_ticks)
            q = _QuoteChunk(_floats(bid), _floats(ask), _floats(round_to_tick(c.mid, tick)),
                            _floats(round_to_tick(c.cum_max, tick)), _floats(round_to_tick(c.cum_min, tick)),
                            _ints(c.bid_size), _ints(c.ask_size), _ints(c.last_size), _ints(c.cum_volume))
            if len(inst.quote_chunks) >= _QUOTE_CHUNKS_KEPT:
                oldest = next(iter(inst.quote_chunks))
                inst.quote_chunks.pop(oldest)
                self._quote_lru.pop((inst.spec.con_id, oldest), None)
            inst.quote_chunks[k] = q
            self._quote_lru[(inst.spec.con_id, k)] = None
            while len(self._quote_lru) > _QUOTE_CHUNKS_TOTAL:    # a scan touches every stock: bounded over all
                (con_id, old_k), _ = self._quote_lru.popitem(last=False)
                other = self._instruments.get(con_id)
                if other is not None:
                    other.quote_chunks.pop(old_k, None)
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
        """Bars starting in [end_s - duration_s, min(end_s, now)), oldest first; sim seconds, may be negative.

        Bars longer than a day (1W, 1M) aggregate the daily bars by local calendar week or month.
        The work is proportional to the bars in the window, whatever its end date.
        """
        return self.bar_table(con_id, end_s, duration_s, bar_size_s, what_to_show, use_rth).to_bars()

    def bar_table(self, con_id: int, end_s: float, duration_s: float, bar_size_s: float,
                  what_to_show: str = "TRADES", use_rth: bool = False) -> BarTable:
        """:meth:`bars` as columns, without a Python object per bar for the history part."""
        what = what_to_show.upper()
        inst = self._instrument(con_id)
        spec = inst.spec
        if what not in WHAT_TO_SHOW:
            raise HistoryError(f"Historical Market Data Service error message:No data of type {what} is available")
        if what == "TRADES" and spec.sec_type == "CASH":
            raise HistoryError("Historical Market Data Service error message:No historical market data for "
                               f"{spec.symbol}/CASH@{spec.exchange} Last")
        if bar_size_s <= 0 or duration_s <= 0:
            raise HistoryError(f"Historical Market Data Service error message:invalid step: {bar_size_s:g}")
        if min(duration_s, max(end_s, 0.0) + HORIZON_S) / min(bar_size_s, DAY_S) > MAX_SLOTS_PER_REQUEST:
            raise HistoryError("Historical Market Data Service error message:Time length exceed max.")
        if end_s <= -HORIZON_S:
            return BarTable.empty()
        duration_s = min(duration_s, end_s + HORIZON_S)      # nothing before the history horizon
        if bar_size_s > DAY_S:
            return self._calendar_table(spec, end_s, duration_s, bar_size_s, what, use_rth)
        from_s = end_s - duration_s
        to_s = min(end_s, self.env.now + _EPS)
        if inst.replayed:
            entries = self._slot_spans(inst, from_s, to_s, bar_size_s, use_rth, what)
            return BarTable.from_bars(self._merged(inst, entries, to_s, what))
        done, entries = self._history_and_live(inst, from_s, to_s, bar_size_s, use_rth, what)
        return BarTable.concat([done, BarTable.from_bars(self._merged(inst, entries, to_s, what))])

    def contract_stats(self, con_id: int, t_s: float) -> ContractStats:
        """The contract's year of regular-hours daily bars up to ``t_s``, summarised (kept per contract and day)."""
        now_e = self.epoch0 + t_s
        key = (con_id, int(now_e // DAY_S))
        stats = self._stats.get(key)
        if stats is not None:
            return stats
        spec = self._instrument(con_id).spec
        what = "MIDPOINT" if spec.sec_type == "CASH" else "TRADES"
        try:
            days = self.bar_table(con_id, t_s, 366 * DAY_S, DAY_S, what, True)
        except HistoryError:
            days = BarTable.empty()
        if not len(days):
            days = BarTable.from_bars([Bar(t_s, *([self.quote_at(con_id, t_s).last] * 4), 0.0, 0.0, 0)])
        epochs = self.epoch0 + days.time_s
        ranges: list[float] = []
        for weeks in (13, 26, 52):
            recent = epochs >= now_e - weeks * 7 * DAY_S
            ranges += [float(days.low[recent].min()), float(days.high[recent].max())] if recent.any() else \
                [float(days.low.min()), float(days.high.max())]
        volume = np.maximum(days.volume[epochs >= now_e - 90 * DAY_S], 0.0)
        closes = days.close[-31:]
        rets = np.diff(np.log(closes)) if len(closes) > 2 else np.zeros(2)
        stats = ContractStats(tuple(ranges), float(volume.mean()) if len(volume) else 0.0,
                              float(np.std(rets, ddof=1) * math.sqrt(252)), float(self.config.volatility_annual),
                              float(days.close[-1]), self._dividend_text(spec, now_e))
        self._stats[key] = stats
        return stats

    def _dividend_text(self, spec: ContractSpec, now_e: float) -> str:
        """Tick 59: the past year's dividends, the next year's (the last one repeated at its interval), the next
        ex-date and amount; '' for a contract without dividends."""
        today = self._sim_date(now_e - self.epoch0)
        tz = spec.time_zone_id
        ahead = self.dividends.dividends(spec.symbol, until=today + timedelta(days=365))
        past = [d for d in ahead if d.ex_epoch(tz) <= now_e]
        if not past:
            return ""
        nxt = [d for d in ahead if d.ex_epoch(tz) > now_e]
        past12 = sum(d.amount for d in past if d.ex_epoch(tz) > now_e - 365 * DAY_S)
        next12 = sum(d.amount for d in nxt)
        head = f"{round(past12, 6):g},{round(next12, 6):g}"
        return f"{head},{nxt[0].ex_date:%Y%m%d},{nxt[0].amount:g}" if nxt else f"{head},,"

    def _sim_date(self, t_s: float) -> date:
        return datetime.fromtimestamp(self.epoch0 + t_s, timezone.utc).date()

    def adjust_for_dividends(self, con_id: int, table: BarTable, now_s: float) -> BarTable:
        """ADJUSTED_LAST: ``table`` (TRADES bars) with every bar before an ex-date that has passed by ``now_s``
        scaled by that dividend's factor (:mod:`.corporate_actions`)."""
        spec = self._instrument(con_id).spec
        dividends = self.dividends.dividends(spec.symbol, until=self._sim_date(now_s))
        if not dividends or not len(table):
            return table

        def close_before(ex_epoch: float) -> float | None:
            key = (con_id, ex_epoch)
            if key not in self._closes_before:
                try:
                    days = self.bar_table(con_id, ex_epoch - self.epoch0, 10 * DAY_S, DAY_S, "TRADES", True)
                except HistoryError:          # before the listing or the history horizon: nothing to adjust
                    days = BarTable.empty()
                days = days.select(self.epoch0 + days.time_s < ex_epoch)
                self._closes_before[key] = float(days.close[-1]) if len(days) else None
            return self._closes_before[key]

        exs, factors = dividend_factors(dividends, spec.time_zone_id, self.epoch0 + now_s, close_before)
        f = adjustment_factors(self.epoch0 + table.time_s, exs, factors)
        scaled = [np.round(getattr(table, c) * f, 6) for c in ("open", "high", "low", "close")]
        wap = np.where(table.wap > 0, np.round(table.wap * f, 6), table.wap)
        return BarTable(table.time_s, *scaled, table.volume, wap, table.count)

    def _merged(self, inst: _Instrument, entries, to_s: float, what: str) -> list[Bar]:
        out: list[Bar] = []
        for slot, hist, live in entries:
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

    def _calendar_table(self, spec: ContractSpec, end_s: float, duration_s: float, bar_size_s: float, what: str,
                        use_rth: bool) -> BarTable:
        """Weekly (1W) or monthly (1M) bars: the daily bars grouped by calendar week or month, every period the
        window overlaps whole (the real gateway answered 5 weekly bars for "1 M" ending Monday 2023-09-04, the
        first the week of Friday Aug 4, in @stoqey/ib's live suite)."""
        monthly = bar_size_s >= 28 * DAY_S
        duration_s = calendar_duration_s(self.epoch0, end_s, duration_s, monthly)
        daily = self.bar_table(spec.con_id, end_s, duration_s, DAY_S, what, use_rth)
        return group_calendar(daily, self.epoch0, monthly, what)

    def _history_and_live(self, inst: _Instrument, from_s: float, to_s: float, bar_size_s: float, use_rth: bool,
                          what: str) -> tuple[BarTable, list]:
        """Bars wholly before sim 0 (computed as arrays), and (slot, history part, live span) for the rest."""
        spec = inst.spec
        rule = session_rule(spec)
        daily = bar_size_s >= DAY_S
        size = DAY_S if daily else bar_size_s
        asked_from_s = from_s
        starts, ends = slot_arrays(rule, self.epoch0, from_s - size, min(to_s, 0.0), size, use_rth) \
            if from_s < 0 else (np.empty(0), np.empty(0))
        keep = starts >= asked_from_s
        starts, ends = starts[keep], ends[keep]
        straddler = None
        if len(starts) and ends[-1] > 0:          # the bar in progress at sim 0: history before, live after
            straddler = (Slot(float(starts[-1]), float(ends[-1]), float(starts[-1])))
            starts, ends = starts[:-1], ends[:-1]
        done = BarTable.empty()
        if len(starts):
            done = history_table(self._generated(inst, size, starts, ends), starts, spec, what,
                                 self.config.spread_ticks)
        entries = []
        claimed_to = 0.0
        if straddler is not None:
            gen = self._generated(inst, size, np.array([straddler.start_s]), np.array([straddler.end_s]))
            aligned_end = straddler.end_s if daily else \
                math.floor((self.epoch0 + straddler.start_s) / size) * size + size - self.epoch0
            claimed_to = aligned_end
            live = (0.0, aligned_end)
            if use_rth:
                live = (0.0, min(aligned_end, straddler.end_s))
            entries.append((straddler, history_parts(gen, spec, what, self.config.spread_ticks)[0], live))
        if to_s > 0:
            lo = max(from_s - size, claimed_to)
            if daily:
                later = [s for s in history_slots(rule, self.epoch0, lo, to_s, size, use_rth)
                         if s.start_s >= max(asked_from_s, 0.0, claimed_to)]
                entries.extend((s, None, (s.start_s, s.end_s)) for s in later)
            else:
                later = aligned_slots(max(lo, 0.0), to_s, size, self.epoch0)
                if claimed_to == 0.0 and from_s <= 0.0 and later and later[0].start_s > 0:
                    later.insert(0, Slot(0.0, later[0].start_s, 0.0))
                more = [(s, None, (s.start_s, s.end_s)) for s in later]
                if use_rth:
                    more = [e for e in (_clip_rth(rule, self.epoch0, e) for e in more) if e is not None]
                entries.extend(e for e in more if e[0].label_s >= asked_from_s)
        return done, entries

    def _slot_spans(self, inst: _Instrument, from_s: float, to_s: float, bar_size_s: float, use_rth: bool,
                    what: str):
        """Replayed instruments: (slot, None, live span) per bar; the replayed path covers history too."""
        spec = inst.spec
        rule = session_rule(spec)
        daily = bar_size_s >= DAY_S
        size = DAY_S if daily else bar_size_s
        asked_from_s, from_s = from_s, from_s - size   # a bar clipped to liquid hours may start inside the range
        slots = history_slots(rule, self.epoch0, from_s, to_s, size) if daily \
            else aligned_slots(from_s, to_s, size, self.epoch0)
        out = [(slot, None, (slot.start_s, slot.end_s)) for slot in slots]
        if use_rth:
            out = [_clip_rth(rule, self.epoch0, o) for o in out]
        return [o for o in out if o is not None and o[0].label_s >= asked_from_s]

    def _generated(self, inst: _Instrument, size: float, starts: np.ndarray, ends: np.ndarray) -> OHLCV:
        """Generated history for the slots [starts, ends) (sim seconds, oldest first), in the same order."""
        spec = inst.spec
        rule = session_rule(spec)
        ends = np.minimum(ends, 0.0)
        liquid = liquid_overlap_s(rule, self.epoch0, starts, ends)
        activity_s = liquid + EXTENDED_HOURS_ACTIVITY * (ends - starts - liquid)
        flow = inst.path.flow
        volume_per_s = flow.lot * flow.trade_lots * flow.trade_probability / self.dt_s
        if isinstance(inst.path, ScaledPath):
            front = self._front_month(spec)
            base = self._generated(self._instrument(front.con_id), size, starts, ends)
            ratio = inst.path.ratio
            return transform(base, lambda p: p * ratio, True, np.rint(base.volume * 0.1))
        if isinstance(inst.path, OptionPath):
            under = self.contracts.get(spec.under_con_id)
            synthetic = self._past_process(under).bars(starts, ends, int(size))
            path = inst.path
            volume = np.rint(volume_per_s * activity_s * synthetic.volume)
            return transform(synthetic, lambda s: path.value(s, ends), spec.right == "C", volume)
        bars = self._past_process(spec).bars(starts, ends, int(size))
        bars.volume = np.rint(volume_per_s * activity_s * bars.volume)
        return bars

    def _past_process(self, spec: ContractSpec) -> PastProcess:
        """The contract's history process, anchored at its price at sim 0."""
        proc = self._past.get(spec.con_id)
        if proc is None:
            anchor = spec.initial_price
            if spec.sec_type in ("STK", "IND", "FUT", "CASH", "CRYPTO") and spec.con_id in self._instruments:
                anchor = float(self._instruments[spec.con_id].path.at("mid", 0))
            growth = HISTORY_GROWTH_ANNUAL.get(spec.sec_type, 0.0)
            key = int.from_bytes(rngmod.stream(self.seed, "history", spec.path_key).bytes(8), "little")
            proc = self._past[spec.con_id] = PastProcess(anchor, growth, self.config.volatility_annual, key)
        return proc

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


def history_columns(bars: OHLCV, spec: ContractSpec, what: str, spread_ticks: int) -> tuple[np.ndarray, ...]:
    """Generated trade-price bars as (open, high, low, close, volume, wap, count) of the requested data type.

    Quotes are made around each price exactly as the live grid makes them from its mid.
    """
    tick = spec.min_tick
    o, h, l, c = (round_to_tick(x, tick) for x in (bars.open, bars.high, bars.low, bars.close))
    none = np.full(len(o), -1.0)
    if what == "TRADES":
        flow = FLOW_BY_SEC_TYPE.get(spec.sec_type, FLOW_BY_SEC_TYPE["STK"])
        count = np.maximum(1, np.floor(bars.volume / max(1.0, flow.lot * flow.trade_lots)))
        wap = np.round(np.clip((h + l + c) / 3, l, h), 6)
        return o, h, l, c, np.asarray(bars.volume, dtype=float), wap, count
    (bo, ao), (bh, ah), (bl, al), (bc, ac) = (bid_ask(x, tick, spread_ticks) for x in (o, h, l, c))
    if what == "BID_ASK":
        return (bo + bc) / 2, ah, bl, (ao + ac) / 2, none, none, none
    if what == "BID":
        return bo, bh, bl, bc, none, none, none
    if what == "ASK":
        return ao, ah, al, ac, none, none, none
    mids = tuple(midpoint(b, a, tick) for b, a in ((bo, ao), (bh, ah), (bl, al), (bc, ac)))
    return mids + (none, none, none)


def history_parts(bars: OHLCV, spec: ContractSpec, what: str, spread_ticks: int) -> list[_Part]:
    """:func:`history_columns` as bar parts, to merge with the live grid."""
    cols = [x.tolist() for x in history_columns(bars, spec, what, spread_ticks)]
    cols[6] = [int(x) for x in cols[6]]
    return [_Part(*row) for row in zip(*cols)]


def history_table(bars: OHLCV, labels_s: np.ndarray, spec: ContractSpec, what: str, spread_ticks: int) -> BarTable:
    """Bars wholly before sim 0, as columns straight from the arrays."""
    return BarTable(np.asarray(labels_s, dtype=float), *history_columns(bars, spec, what, spread_ticks))


def calendar_duration_s(epoch0: float, end_s: float, duration_s: float, monthly: bool) -> float:
    """The window of weekly (1W) or monthly (1M) bars: back to the start of the week or month that holds the
    window's first day (UTC days, as group_calendar keys them), so every period it overlaps is served whole."""
    first_day = int(np.floor((epoch0 + end_s - duration_s) / DAY_S))
    if monthly:
        period_start = int(np.datetime64(first_day, "D").astype("datetime64[M]").astype("datetime64[D]").astype(np.int64))
    else:
        period_start = first_day - (first_day + 3) % 7                            # that week's Monday
    return end_s + epoch0 - period_start * DAY_S


def group_calendar(daily: BarTable, epoch0: float, monthly: bool, what: str) -> BarTable:
    """Daily bars grouped by ISO week (Monday first) or calendar month, labelled at each group's last bar: IB dates a
    weekly or monthly bar by the end of its period (nautilus_trader PR #2380, 2025: "for week and month bar, the date
    represents the end period"; stoqey/ibkr #149, 2026: weekly NVDA bars dated Friday, Thursday 2026-06-18 in
    Juneteenth's week), the last trading day in the range for a period the range cuts.

    Daily bars are labelled at their session's open, which falls on the trading day's date in UTC
    for every session rule here, so the UTC date groups them.
    """
    if not len(daily):
        return daily
    days = np.floor((epoch0 + daily.time_s) / DAY_S).astype(np.int64)
    if monthly:
        keys = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    else:
        keys = days - (days + 3) % 7                    # 1970-01-01 was a Thursday: this is the Monday
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    ends = np.r_[starts[1:], len(keys)] - 1
    high = np.maximum.reduceat(daily.high, starts)
    low = np.minimum.reduceat(daily.low, starts)
    if what == "TRADES":
        volume = np.add.reduceat(daily.volume, starts)
        wap = np.round(np.add.reduceat(daily.wap * daily.volume, starts) / np.maximum(volume, 1.0), 6)
        count = np.add.reduceat(daily.count, starts)
        return BarTable(daily.time_s[ends], daily.open[starts], high, low, daily.close[ends], volume, wap, count)
    none = np.full(len(starts), -1.0)
    if what == "BID_ASK":
        sizes = (ends - starts + 1).astype(float)
        return BarTable(daily.time_s[ends], np.add.reduceat(daily.open, starts) / sizes, high, low,
                        np.add.reduceat(daily.close, starts) / sizes, none, none, none)
    return BarTable(daily.time_s[ends], daily.open[starts], high, low, daily.close[ends], none, none, none)


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


__all__ = ["Bar", "BarTable", "HistoryError", "group_calendar", "Market", "Quote", "UnknownContract", "WHAT_TO_SHOW"]
