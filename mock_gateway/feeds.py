"""Market streams from the world to the sessions: quotes, historical bars and their updates, real-time bars.

Market data fans out from one grid-step listener: each contract's quote is read once per step
and diffed per subscription, so a tick goes out only when something changed. Periodic streams
(5-second real-time bars, keepUpToDate bar updates) are SimPy processes that run only while
someone is subscribed. The feed owns every market subscription, per connection; it writes to a
:class:`~mock_gateway.replies.ReplyChannel` and reads the world, nothing else. Account streams
are in :mod:`mock_gateway.account_feed`.
"""
from __future__ import annotations

import logging
import math
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from .errors import RequestError
from .protocol import messages as m
from .protocol.kinds import ReplyKind
from .protocol.time import ib_time
from .connection_table import ConnectionTable
from .cooperative import SLICE_BUDGET_S
from .stepwise import ChunkSizer, StepRunner
from .replies import PreparedReply, ReplyChannel
from .streamed import ReplyStreams, run_steps
from .sim.clock import SimClock
from .sim.contracts import ContractSpec
from .protocol.fields import fmt_float
from .protocol.versions import FRACTIONAL_SIZE_SUPPORT, SYNT_REALTIME_BARS
from .quote_ticks import (
    DELAYED_TICK,
    MarketDataSub,
    TickView,
    changed_ticks,
    first_ticks,
    statistics_ticks,
    generic_ticks_refusal,
)
from . import tick_by_tick as tbt
from .sim.bar_rules import no_data_text
from .sim.history import HORIZON_S
from .sim.market import (MAX_SLOTS_PER_REQUEST, BarTable, HistoryError, Quote, calendar_duration_s, group_calendar,
                         session_rule)
from .sim.sessions import is_open
from .sim.periodic import Periodic
from .sim.world import World

K = ReplyKind
log = logging.getLogger("mock_gateway.feeds")
Fields = list[str]

REALTIME_BAR_S = 5.0
#: keepUpToDate sends the bar in progress this often.
HISTORICAL_UPDATE_S = 5.0
#: CPU one chunk of a historical request's work aims at (bar slots computed, or rows formatted): most of the
#: time budget, so that a turn of the loop is one or two chunks.
HISTORY_CHUNK_TARGET_S = 0.6 * SLICE_BUDGET_S
#: The first chunk's size, before its cost is known: ~0.5 ms for minute bars (benchmarks/hist_bench.py).
HISTORY_FIRST_SLOTS = 256
#: Never fewer slots per chunk: computing any chunk costs ~0.35 ms whatever its size (the price path's walk
#: over its levels, the sessions), so much smaller chunks would multiply that cost without shortening a hold.
HISTORY_MIN_SLOTS = 256
#: Nor more: a run of cheap chunks (nights, weekends, years before any data) grows the size, and the chunk after
#: it may cover trading hours at ~1 us a slot (768 slots: ~1.1 ms with the fixed part).
HISTORY_MAX_SLOTS = 768
#: Rows formatted in one go before their cost is known (~0.2 ms), and never fewer per chunk (each call of
#: the column formatter costs ~30 us whatever its size).
HISTORY_FIRST_ROWS = 64
HISTORY_MIN_ROWS = 16
#: A reply with more fields than this is encoded ahead in steps (Session.prepare) instead of in send().
PREPARE_FIELDS = 2000
#: How many windows (of twice the ticks asked) reqHistoricalTicks searches before it answers with what it found.
HISTORICAL_TICK_WINDOWS = 8
#: reqHistoricalTicks reads its one-second bars in parts of this many seconds (a minute of BID and ASK history
#: is ~2.5 ms) and splits this many rows into trades between checks of the time budget (mock_gateway.streamed):
#: 1000 BID_ASK ticks are ~60 ms of work.
TICK_STEP_S = 60.0
TICK_STEP_ROWS = 64
#: reqHistogramData reads its bars ten days at a time (a year of hourly bars is ~7 ms of work), cut at 08:00 UTC.
HISTOGRAM_STEP_S = 10 * 86400.0
HISTOGRAM_CUT_UTC_S = 8 * 3600.0
#: Price levels a histogram is binned into.
HISTOGRAM_LEVELS = 60
@dataclass
class MarketDataRequest:
    req_id: int
    spec: ContractSpec
    generic_ticks: frozenset[str]
    snapshot: bool
    regulatory_snapshot: bool = False
    generic_text: str = ""       # the genericTickList as sent (IB's 321 quotes it)


@dataclass
class BarsRequest:
    req_id: int
    spec: ContractSpec
    bar_size_s: float
    what_to_show: str
    use_rth: bool
    format_date: int
    listed_epoch: float | None = None      # epoch seconds: no bar starts before the listing date
    adjusted: bool = False                 # ADJUSTED_LAST: TRADES scaled for the dividends gone ex since


@dataclass
class _Connection:
    """One connection's market subscriptions, by request id."""

    channel: ReplyChannel
    market_data: dict[int, MarketDataSub] = field(default_factory=dict)
    realtime_bars: dict[int, BarsRequest] = field(default_factory=dict)
    historical_updates: dict[int, BarsRequest] = field(default_factory=dict)
    historical_pending: set[int] = field(default_factory=set)   # keepUpToDate requests whose bars are not sent yet
    tick_by_tick: dict[int, tbt.TickByTickSub] = field(default_factory=dict)

    def empty(self) -> bool:
        return not (self.market_data or self.realtime_bars or self.historical_updates or self.tick_by_tick)


#: How far delayed data lags: measured 600 s on a 2026 account (IB documents 15-20 minutes).
DELAYED_LAG_S = 600.0
#: A snapshot ends when its ticks have come, or this long after the request when one never comes (TWS API docs,
#: "Requesting Watchlist Data": "tickSnapshotEnd ... 11 seconds later"; ib_insync's author: "Each snapshot should
#: be finished in about 12 seconds"). Outside the session there is no live bid or ask to wait for.
SNAPSHOT_TIMEOUT_S = 11.0
#: What one regulatory snapshot costs (TWS API docs: "Each regulatory snapshot made will incur a fee of 0.01 USD").
REGULATORY_SNAPSHOT_FEE_USD = 0.01
#: A snapshot with a generic tick list (real gateway's text; the TWS API docs: "Snapshot requests can only be
#: made for the default tick types; no generic ticks can be specified").
SNAPSHOT_GENERIC_TICKS = ("Error validating request.-'bO' : cause - Snapshot market data subscription is not "
                          "applicable to generic ticks")
NOT_SUBSCRIBED = ("Requested market data is not subscribed. Check API status by selecting the Account menu then "
                  "under Management choose Market Data Subscription Manager and/or availability of delayed data.")
DELAYED_DISPLAYED = "Requested market data is not subscribed. Displaying delayed market data."
DELAYED_NOT_ENABLED = "Requested market data is not subscribed. Delayed market data is not enabled."


def grant_data_type(permission: str, requested: int, market_open: bool) -> tuple[int | None, int | None, str]:
    """(granted type or None, error code or None, error text) for reqMktData under an account's permission.

    Live accounts get live data for 1 and 3, and frozen data (2, 4) only while the market is closed;
    delayed-only accounts get 354 for 1 and 2 and delayed data (with 10167) for 3 and 4, 4 being
    served as 3 while the market is open; accounts with neither get 354, or 10168 for 3 and 4.
    """
    if permission == "live":
        return (1 if market_open or requested in (1, 3) else 2), None, ""
    if permission == "delayed":
        if requested in (1, 2):
            return None, 354, NOT_SUBSCRIBED + "Delayed market data is available."
        return (3 if market_open or requested == 3 else 4), 10167, DELAYED_DISPLAYED
    if requested in (1, 2):
        return None, 354, NOT_SUBSCRIBED
    return None, 10168, DELAYED_NOT_ENABLED


def _tick_rows(tables: list[BarTable], what: str, epoch0: float, exchange: str) -> list[tuple]:
    """Ticks from one-second bars: a trade per second that traded, a quote or midpoint per second."""
    first = tables[0]
    epochs = (epoch0 + first.time_s).astype(np.int64).tolist()
    if what == "TRADES":
        return [(t, c, v, exchange) for t, c, v in zip(epochs, first.close.tolist(), first.volume.tolist()) if v > 0]
    if what == "BID_ASK":
        bid, ask = tables
        n = min(len(bid), len(ask))
        return [(t, b, a, 100.0, 100.0) for t, b, a in zip(epochs[:n], bid.close.tolist()[:n], ask.close.tolist()[:n])]
    return [(t, c, 0.0) for t, c in zip(epochs, first.close.tolist())]


def _fmt_floats(values: np.ndarray) -> list[str]:
    """``fmt_float`` over an array (same text), fast: Python's shortest repr of the value rounded to 10 decimals."""
    r = np.round(np.asarray(values, dtype=float), 10)
    out = [t[:-2] if t[-2:] == ".0" else t for t in map(repr, r.tolist())]
    a = np.abs(r)
    odd = ~np.isfinite(r) | (a < 1e-4) | (a >= 1e15)
    for i in np.flatnonzero(odd).tolist():   # rare: tiny, huge or non-finite values take the scalar formatter
        out[i] = fmt_float(float(values[i]))
    return out


def _fmt_ints(values: np.ndarray) -> list[str]:
    return list(map(str, np.rint(np.asarray(values, dtype=float)).astype(np.int64).tolist()))


def bar_rows(server_version: int, req: BarsRequest, table: BarTable, epoch0: float) -> list[str]:
    """The bar fields of historicalData (17) for ``table``, laid out as ``messages.historical_data`` lays them."""
    n = len(table)
    if n == 0:
        return []
    epochs = epoch0 + table.time_s
    if req.bar_size_s >= 86400:     # a session opens on its trading day's date in UTC for every rule here
        days = np.floor(epochs / 86400).astype(np.int64).astype("datetime64[D]")
        dates = [d.replace("-", "") for d in np.datetime_as_string(days).tolist()]
    elif req.format_date == 2:
        dates = _fmt_ints(epochs)
    else:
        dates = [ib_time(e) for e in epochs.tolist()]
    volume = _fmt_ints(table.volume) if server_version < FRACTIONAL_SIZE_SUPPORT else _fmt_floats(table.volume)
    cols = [dates, _fmt_floats(table.open), _fmt_floats(table.high), _fmt_floats(table.low),
            _fmt_floats(table.close), volume, _fmt_floats(table.wap)]
    if server_version < SYNT_REALTIME_BARS:
        cols.append(["false"] * n)
    cols.append(_fmt_ints(table.count))
    k = len(cols)
    rows: list[str] = [""] * (n * k)
    for j, col in enumerate(cols):
        rows[j::k] = col
    return rows


#: Strings freed per step when a large reply's rows are released (~0.1 ms).
RELEASE_CHUNK = 4000


def _release(items: list) -> Generator[None, None, None]:
    """Empty ``items`` in chunks, a ``yield`` after each: objects only this list holds are freed a chunk at a time
    (a reply's fields still held elsewhere, e.g. by a delayed send, stay alive: only this reference goes)."""
    while items:
        del items[-RELEASE_CHUNK:]
        yield


class Feeds:
    """Every market stream of one gateway, kept per connection."""

    def __init__(self, world: World, clock: SimClock, on_event: Callable[..., None] | None = None) -> None:
        self.world = world
        #: where the feed reports what the run's evidence needs (a regulatory snapshot's fee): sys events
        self.on_event = on_event or (lambda msg, **kwargs: None)
        #: regulatory snapshot fees charged, by client id (USD 0.01 each, live and paper alike)
        self.regulatory_snapshot_fees_usd: dict[int, float] = {}
        self.clock = clock
        self.env = clock.env
        self.market = world.market
        #: False while a connectivity fault holds the data farm down (subscriptions stay, ticks stop)
        self.flowing = True
        self._conns: ConnectionTable[_Connection] = ConnectionTable(_Connection)
        self._data_types: dict[int, int] = {}       # reqMarketDataType per connection (1 until asked)
        self._market_subs: dict[int, dict[tuple[int, int], MarketDataSub]] = {}
        self._tbt_subs: dict[int, dict[tuple[int, int], tbt.TickByTickSub]] = {}   # by conId, then (conn, reqId)
        self._listening = False
        self._steps = StepRunner()                  # historical requests answered in steps (held there)
        self._updates_going_out = False             # a pass of keepUpToDate updates is under way
        self.streams = ReplyStreams()                # replies made in steps (first ticks, tick history)
        self._rt_bars = Periodic(REALTIME_BAR_S, lambda: any(c.realtime_bars for c in self._conns),
                                  self._realtime_bar_tick)
        self._hist = Periodic(HISTORICAL_UPDATE_S, lambda: any(c.historical_updates for c in self._conns),
                              self._historical_update_tick)

    def session_closed(self, session: ReplyChannel) -> None:
        self.drop_market_data(session)
        self._conns.drop(session.conn_id)

    # ------------------------------------------------------------------ what a connection holds
    def market_data_lines(self, conn_id: int) -> int:
        """Active streaming reqMktData subscriptions of a connection (the 100-line limit counts these)."""
        conn = self._conns.get(conn_id)
        return len(conn.market_data) if conn is not None else 0

    def has_market_data(self, s: ReplyChannel, req_id: int) -> bool:
        conn = self._conns.get(s.conn_id)
        return conn is not None and req_id in conn.market_data

    def has_realtime_bars(self, s: ReplyChannel, req_id: int) -> bool:
        conn = self._conns.get(s.conn_id)
        return conn is not None and req_id in conn.realtime_bars

    # ------------------------------------------------------------------ market data
    def set_market_data_type(self, s: ReplyChannel, data_type: int) -> None:
        """reqMarketDataType: the type this connection's next reqMktData asks for."""
        self._data_types[s.conn_id] = data_type

    def start_market_data(self, s: ReplyChannel, req: MarketDataRequest) -> None:
        spec = req.spec
        if (req.snapshot or req.regulatory_snapshot) and req.generic_ticks:
            raise RequestError(req.req_id, 321, SNAPSHOT_GENERIC_TICKS)
        refusal = generic_ticks_refusal(spec.sec_type, req.generic_text)
        if refusal:
            raise RequestError(req.req_id, 321, refusal)
        epoch = self.clock.start.timestamp() + self.env.now
        market_open = is_open(session_rule(spec), epoch, rth=False)
        granted, code, text = grant_data_type(self.market.config.data_permission,
                                              self._data_types.get(s.conn_id, 1), market_open)
        if granted is None:
            suffix = f"{spec.symbol} {spec.sec_type} ({spec.local_symbol})/TOP/ALL" if code == 354 else ""
            raise RequestError(req.req_id, code or 354, text + suffix)
        sub = MarketDataSub(s, req.req_id, spec, req.generic_ticks, data_type=granted,
                            ids=DELAYED_TICK if granted in (3, 4) else {})
        if not (req.snapshot or req.regulatory_snapshot):
            self._conns.of(s).market_data[req.req_id] = sub   # the line counts (and can be cancelled) at once
        # A new contract's first quote of the day and its year of statistics take milliseconds each: they are
        # separate steps, so a burst of lines shares the loop with other sessions (mock_gateway.streamed).
        self.streams.send(s, K.MARKET_DATA, self._first_ticks(s, req, sub, granted, code, text),
                          key=("mkt", req.req_id))

    def _first_ticks(self, s: ReplyChannel, req: MarketDataRequest, sub: MarketDataSub, granted: int,
                     code: int | None, text: str) -> Iterator[Fields | None]:
        """A line's first ticks (and a snapshot's end), then the line streams from the next grid step."""
        spec = req.spec
        t_s = self._quote_time(sub)
        # tickReqParams, marketDataType, then the 10167 of a delayed grant, then the ticks (recorded IB Gateway
        # sessions, server versions 206 and 225, 2026)
        head = [m.tick_req_params(req.req_id, spec.min_tick, spec.bbo_exchange, spec.snapshot_permissions),
                m.market_data_type(req.req_id, granted)]
        q = self.market.quote_at(spec.con_id, t_s)
        yield None
        view = self._view(sub, q, t_s)
        if code is not None:     # 10167 (delayed data displayed) after marketDataType, before the ticks
            head.append(m.error(s.server_version, req.req_id, code, text))
        msgs = head + first_ticks(s.server_version, sub, view)
        if req.generic_ticks - {"233"}:
            yield None
            msgs += statistics_ticks(s.server_version, sub, view, self.market.contract_stats(spec.con_id, t_s))
        if req.snapshot or req.regulatory_snapshot:
            yield from msgs
            if view.in_session or granted in (2, 4) or spec.sec_type == "IND":
                yield m.tick_snapshot_end(req.req_id)
            else:   # no live book to wait for: what there is now, and the end at IB's snapshot timeout
                self.env.process(self._snapshot_end_later(s, req.req_id))
                self.clock.wake()
            if req.regulatory_snapshot:
                self._charge_regulatory_snapshot(s, req)
            return
        conn = self._conns.get(s.conn_id)
        if s.closed or conn is None or conn.market_data.get(req.req_id) is not sub:
            return            # cancelled (or the client left) before its first ticks were made
        yield from msgs
        # streams only once its first ticks are sent (the stream sends them right after its last step, with no
        # pause between): no change can overtake them
        if granted not in (2, 4) and conn.market_data.get(req.req_id) is sub:   # frozen: no updates
            self._market_subs.setdefault(spec.con_id, {})[(s.conn_id, req.req_id)] = sub
            self._listen()
            self.clock.wake()          # a grid stepper started here, maybe outside a request: the clock must see it

    def _snapshot_end_later(self, s: ReplyChannel, req_id: int):
        """tickSnapshotEnd SNAPSHOT_TIMEOUT_S after a snapshot whose book never came (a SimPy process)."""
        yield self.env.timeout(SNAPSHOT_TIMEOUT_S)
        if not getattr(s, "closed", False):
            s.send(K.MARKET_DATA, [m.tick_snapshot_end(req_id)])

    def _charge_regulatory_snapshot(self, s: ReplyChannel, req: MarketDataRequest) -> None:
        """IB charges USD 0.01 per regulatory snapshot, on paper accounts too (TWS API docs, "Regulatory
        Snapshots"); the run's evidence gets each charge as a sys event."""
        client = s.client_id or 0
        total = round(self.regulatory_snapshot_fees_usd.get(client, 0.0) + REGULATORY_SNAPSHOT_FEE_USD, 2)
        self.regulatory_snapshot_fees_usd[client] = total
        self.on_event("regulatory_snapshot", conn=s.conn_id, client_id=s.client_id,
                      attrs={"req_id": req.req_id, "symbol": req.spec.symbol, "fee_usd": REGULATORY_SNAPSHOT_FEE_USD,
                             "total_usd": total, "simulated": True})

    def _quote_time(self, sub: MarketDataSub) -> float:
        return self.env.now - DELAYED_LAG_S if sub.data_type in (3, 4) else self.env.now

    def stop_market_data(self, s: ReplyChannel, req_id: int) -> bool:
        conn = self._conns.get(s.conn_id)
        sub = conn.market_data.pop(req_id, None) if conn is not None else None
        if sub is None:
            return False
        self.streams.cancel(s.conn_id, ("mkt", req_id))     # first ticks still being made: none are sent
        subs = self._market_subs.get(sub.spec.con_id, {})
        subs.pop((s.conn_id, req_id), None)
        if not subs:
            self._market_subs.pop(sub.spec.con_id, None)
        self._listen()
        return True

    def _listen(self) -> None:
        """Listen to the grid while any streaming line (reqMktData or tick-by-tick) is open, and only then."""
        wanted = bool(self._market_subs or self._tbt_subs)
        if wanted and not self._listening:
            self._listening = True
            self.market.add_listener(self._on_grid_step)
        elif not wanted and self._listening:
            self._listening = False
            self.market.remove_listener(self._on_grid_step)

    def drop_market_data(self, s: ReplyChannel) -> None:
        """Forget every streaming subscription of a session (closed, or data lost: 1101)."""
        conn = self._conns.get(s.conn_id)
        if conn is None:
            return
        for req_id in list(conn.market_data):
            self.stop_market_data(s, req_id)
        for req_id in list(conn.tick_by_tick):
            self.stop_tick_by_tick(s, req_id)
        conn.realtime_bars.clear()
        conn.historical_updates.clear()

    def _view(self, sub: MarketDataSub, q: Quote, t_s: float) -> TickView:
        """The market of ``sub``'s contract at sim time ``t_s`` (the quote ``q`` is the one in force then)."""
        spec = sub.spec
        halted = self.market.halt_status(spec, t_s)
        in_session = halted != 0 or self.market.is_trading(spec.con_id, t_s)
        option = self.market.option_model(spec.con_id, t_s) if spec.sec_type == "OPT" else None
        return TickView(q, self.market.epoch0 + q.time_s, in_session and not halted, in_session, halted, option)

    def _on_grid_step(self, now: float) -> None:
        if not self.flowing:
            return
        quote_at = self.market.quote_at
        for con_id, subs in list(self._market_subs.items()):
            views: dict[bool, TickView] = {}
            for sub in list(subs.values()):
                if getattr(sub.session, "closed", False):      # gone: its cleanup has not run yet
                    continue
                delayed = sub.data_type in (3, 4)
                view = views.get(delayed)
                if view is None:
                    t_s = now - DELAYED_LAG_S if delayed else now
                    view = views[delayed] = self._view(sub, quote_at(con_id, t_s), t_s)
                msgs = changed_ticks(sub.session.server_version, sub, view)
                if msgs:
                    sub.session.send(K.MARKET_DATA, msgs)
        for con_id, tsubs in list(self._tbt_subs.items()):
            q = quote_at(con_id, now)
            spec = next(iter(tsubs.values())).spec
            trading = self.market.is_trading(con_id, now) and not self.market.halt_status(spec, now)
            epoch_s = self.market.epoch0 + q.time_s
            for tsub in list(tsubs.values()):
                if getattr(tsub.session, "closed", False) or not tsub.live:   # closed, or past ticks still coming
                    continue
                msgs = tbt.changed(tsub.session.server_version, tsub, q, epoch_s, trading)
                if msgs:
                    tsub.session.send(K.MARKET_DATA, msgs)

    # ------------------------------------------------------------------ tick-by-tick
    def tick_by_tick_count(self) -> int:
        """Open tick-by-tick subscriptions over every connection (IB's limit is per user, not per connection)."""
        return sum(len(subs) for subs in self._tbt_subs.values())

    def has_tick_by_tick(self, s: ReplyChannel, req_id: int) -> bool:
        conn = self._conns.get(s.conn_id)
        return conn is not None and req_id in conn.tick_by_tick

    def start_tick_by_tick(self, s: ReplyChannel, sub: tbt.TickByTickSub, number_of_ticks: int) -> None:
        """Send ``number_of_ticks`` past ticks (if any), then stream from the next grid step.

        The subscription counts (limits, duplicates, cancels) at once; its past ticks are read in steps
        between other sessions' work, and it streams only once they are sent (none overtakes them).
        """
        now = self.env.now
        sub.exchange = sub.spec.primary_exchange or sub.spec.exchange
        tbt.prime(sub, self.market.quote_at(sub.spec.con_id, now))
        self._conns.of(s).tick_by_tick[sub.req_id] = sub
        self._tbt_subs.setdefault(sub.spec.con_id, {})[(s.conn_id, sub.req_id)] = sub
        if number_of_ticks > 0 and (sub.tick_type > 2 or tbt.prints_trades(sub.spec)):
            sub.live = False
            self.streams.send(s, K.MARKET_DATA, self._tick_history(s, sub, now, number_of_ticks),
                              key=("tbt", sub.req_id))
        self._listen()

    def _tick_history(self, s: ReplyChannel, sub: tbt.TickByTickSub, now: float,
                      number_of_ticks: int) -> Iterator[Fields | None]:
        # completed seconds only: the second in progress is the stream's (its one-second bar is not final)
        end = self.clock.start + timedelta(seconds=math.floor(now))
        try:
            rows = yield from self._tick_rows_steps(sub.req_id, sub.spec, None, end,
                                                    min(number_of_ticks, tbt.MAX_HISTORICAL_TICKS),
                                                    tbt.HISTORY_OF[sub.tick_type], False, None)
            yield from tbt.history(s.server_version, sub, rows)
        finally:
            sub.live = True      # the stream follows right after the last past tick is sent (no pause between)

    def stop_tick_by_tick(self, s: ReplyChannel, req_id: int) -> bool:
        conn = self._conns.get(s.conn_id)
        sub = conn.tick_by_tick.pop(req_id, None) if conn is not None else None
        if sub is None:
            return False
        self.streams.cancel(s.conn_id, ("tbt", req_id))      # past ticks still being read: none are sent
        subs = self._tbt_subs.get(sub.spec.con_id, {})
        subs.pop((s.conn_id, req_id), None)
        if not subs:
            self._tbt_subs.pop(sub.spec.con_id, None)
        self._listen()
        return True

    # ------------------------------------------------------------------ bars
    def _bar_date(self, req: BarsRequest, bar_start_s: float) -> str:
        epoch = self.market.epoch0 + bar_start_s
        if req.bar_size_s >= 86400:
            return datetime.fromtimestamp(epoch, ZoneInfo(req.spec.time_zone_id or "UTC")).strftime("%Y%m%d")
        if req.format_date == 2:
            return str(int(epoch))
        return ib_time(epoch)

    def _bars(self, req: BarsRequest, end_s: float, duration_s: float):
        try:
            return self.market.bars(req.spec.con_id, end_s, duration_s, req.bar_size_s, req.what_to_show, req.use_rth)
        except HistoryError as exc:
            raise RequestError(req.req_id, 162, str(exc)) from None

    def _bar_table(self, req: BarsRequest, end_s: float, duration_s: float) -> BarTable:
        try:
            table = self.market.bar_table(req.spec.con_id, end_s, duration_s, req.bar_size_s, req.what_to_show,
                                          req.use_rth)
        except HistoryError as exc:
            raise RequestError(req.req_id, 162, str(exc)) from None
        return self._as_requested(req, table)

    def _as_requested(self, req: BarsRequest, table: BarTable) -> BarTable:
        """Bars from the listing date on, adjusted for dividends if the request asks for ADJUSTED_LAST."""
        if req.listed_epoch is not None and len(table):
            table = table.select(self.market.epoch0 + table.time_s >= req.listed_epoch)
        if req.adjusted:
            table = self.market.adjust_for_dividends(req.spec.con_id, table, self.env.now)
        return table

    def send_historical_data(self, s: ReplyChannel, req: BarsRequest, end: datetime | None, duration_s: float,
                             keep_up_to_date: bool) -> None:
        """Answer a bars request in steps: at once if it fits one time budget (cooperative.SLICE_BUDGET_S),
        else between other sessions' work, so no request holds the event loop for much more than one budget.

        A keepUpToDate request is a subscription from now (cancelHistoricalData finds it), but its updates
        start only after its bars went out: IB sends historicalDataEnd first.
        """
        end_s, work_s = self.history_window(req, end, duration_s)
        if keep_up_to_date:
            conn = self._conns.of(s)
            conn.historical_updates[req.req_id] = req
            conn.historical_pending.add(req.req_id)
            self._hist.ensure(self.env)
        self._steps.start(self._answer_bars(s, req, end_s, duration_s, work_s, keep_up_to_date))

    def history_window(self, req: BarsRequest, end: datetime | None, duration_s: float) -> tuple[float, float]:
        """(end in sim seconds, how far back bars can exist): nothing before the listing date or the horizon."""
        now = self.env.now
        end_s = now if end is None else min(now, (end - self.clock.start).total_seconds())
        earliest_s = -HORIZON_S
        if req.listed_epoch is not None:
            earliest_s = max(earliest_s, req.listed_epoch - self.market.epoch0 - 7 * 86400.0)
        return end_s, max(0.0, min(duration_s, end_s - earliest_s))

    def _answer_bars(self, s: ReplyChannel, req: BarsRequest, end_s: float, duration_s: float, work_s: float,
                     keep_up_to_date: bool) -> Generator[None, None, None]:
        """Steps of one bars request: the table, its rows, the reply's encoding, then one send."""
        conn = self._conns.of(s) if keep_up_to_date else None

        def gone() -> bool:   # the client left, or cancelled the subscription this request opened
            return s.closed or (conn is not None and conn.historical_updates.get(req.req_id) is not req)
        try:
            table = yield from self._bar_table_steps(req, end_s, work_s, gone)
            if gone():
                return
            if not len(table):      # before the listing date, or a window without a session
                raise RequestError(req.req_id, 162, no_data_text(req.spec.symbol, req.spec.exchange,
                                                                 req.what_to_show))
            rows = yield from self._rows_steps(s.server_version, req, table)
            epoch0 = self.market.epoch0
            start_s = max(end_s - duration_s, -HORIZON_S)
            head = m.historical_data(s.server_version, req.req_id, ib_time(epoch0 + start_s),
                                     ib_time(epoch0 + end_s), [])
            head[-1] = str(len(table))
            reply = PreparedReply(head)   # encoded ahead in place by prepare(): one list of 40,000 fields, not three
            reply += rows
            prepare = getattr(s, "prepare", None)
            if prepare is not None and len(reply) > PREPARE_FIELDS:
                reply = yield from prepare(reply)
                yield                     # joining its parts, sending it and freeing it: ~0.3 ms each
            if gone():
                return
            s.send(K.HISTORICAL_DATA, [reply])
            yield
            del reply                     # its wire bytes and log text (unless a delayed send holds them)
            yield
            yield from _release(rows)     # freeing 40,000 strings at once would hold the loop ~2 ms
        except RequestError as exc:
            if conn is not None and conn.historical_updates.get(req.req_id) is req:
                del conn.historical_updates[req.req_id]     # no bars, no subscription (as when it was refused)
            s.error(exc.req_id, exc.code, exc.text, kind=K.HISTORICAL_DATA)
        except Exception:            # a bug must not leave the client waiting forever: answer, and say so
            log.exception("historical request %s failed", req.req_id)
            s.error(req.req_id, 162, no_data_text(req.spec.symbol, req.spec.exchange, req.what_to_show),
                    kind=K.HISTORICAL_DATA)
        finally:
            if conn is not None:
                conn.historical_pending.discard(req.req_id)

    def _bar_table_steps(self, req: BarsRequest, end_s: float, work_s: float, gone: Callable[[], bool]
                         ) -> Generator[None, None, BarTable]:
        """The request's bars in chunks of slots sized to a fraction of the time budget (ChunkSizer), a
        ``yield`` after each; weeks and months from daily chunks, grouped at the end."""
        if work_s <= 0:
            return BarTable.empty()
        calendar = req.bar_size_s > 86400   # grouped from plain daily bars, then as requested (as bar_table does)
        part_req = replace(req, bar_size_s=86400.0, listed_epoch=None, adjusted=False) if calendar else req
        if calendar:                        # every week or month the window overlaps, whole
            work_s = calendar_duration_s(self.market.epoch0, end_s, work_s, req.bar_size_s >= 28 * 86400)
        slot_s = min(req.bar_size_s, 86400.0)
        if min(work_s, max(end_s, 0.0) + HORIZON_S) / slot_s > MAX_SLOTS_PER_REQUEST:   # bar_table's bound, whole
            raise RequestError(req.req_id, 162, "Historical Market Data Service error message:Time length exceed max.")
        sizer = ChunkSizer(HISTORY_CHUNK_TARGET_S, HISTORY_FIRST_SLOTS, minimum=HISTORY_MIN_SLOTS,
                           maximum=max(HISTORY_MIN_SLOTS, HISTORY_MAX_SLOTS))
        parts: list[BarTable] = []
        t = end_s - work_s
        while t < end_s:
            slots = sizer.size()
            hi = min(t + slots * slot_s, end_s)
            parts.append(sizer.timed(slots, lambda: self._bar_table(part_req, hi, hi - t)))
            t = hi
            yield
            if gone():
                return BarTable.empty()
        table = BarTable.concat(parts) if len(parts) != 1 else parts[0]
        if calendar:
            table = group_calendar(table, self.market.epoch0, req.bar_size_s >= 28 * 86400, req.what_to_show)
            table = self._as_requested(req, table)
            yield
        return table

    def _rows_steps(self, server_version: int, req: BarsRequest, table: BarTable
                    ) -> Generator[None, None, list[str]]:
        """The bars' reply fields, formatted in chunks of rows sized like the table's (a ``yield`` after each)."""
        epoch0 = self.market.epoch0
        n = len(table)
        if n <= HISTORY_FIRST_ROWS:
            rows = bar_rows(server_version, req, table, epoch0)
            yield
            return rows
        sizer = ChunkSizer(HISTORY_CHUNK_TARGET_S, HISTORY_FIRST_ROWS, minimum=HISTORY_MIN_ROWS)
        rows: list[str] = []
        k = 0
        while k < n:
            size = sizer.size()
            part = table.select(slice(k, k + size))
            rows += sizer.timed(size, lambda: bar_rows(server_version, req, part, epoch0))
            k += size
            yield
        return rows

    # ------------------------------------------------------------------ ticks and histograms from the same path
    def send_historical_ticks(self, s: ReplyChannel, req_id: int, spec: ContractSpec, start: datetime | None,
                              end: datetime | None, count: int, what: str, use_rth: bool,
                              listed_epoch: float | None) -> None:
        """reqHistoricalTicks: up to ``count`` ticks (one per second at most) after ``start`` or before ``end``.

        Read from one-second bars of the same price path the bars and quotes come from; the search
        goes back (or forward) a bounded number of windows, so a request over a closed weekend ends.
        The rows are read in steps between other sessions' work (1000 ticks are tens of ms of it).
        """
        def steps() -> Iterator[Fields | None]:
            found = yield from self._tick_rows_steps(req_id, spec, start, end, count, what, use_rth, listed_epoch)
            sv = s.server_version
            if what == "TRADES":
                yield m.historical_ticks_last(sv, req_id, found, True)
            elif what == "BID_ASK":
                yield m.historical_ticks_bid_ask(sv, req_id, found, True)
            else:
                yield m.historical_ticks(sv, req_id, found, True)

        self.streams.send(s, K.HISTORICAL_DATA, steps(), key=("ticks", req_id),
                          on_failure=lambda: s.error(req_id, 162, no_data_text(spec.symbol, spec.exchange, what)))

    def historical_tick_rows(self, req_id: int, spec: ContractSpec, start: datetime | None, end: datetime | None,
                             count: int, what: str, use_rth: bool, listed_epoch: float | None) -> list[tuple]:
        """The rows reqHistoricalTicks answers, and tick-by-tick's numberOfTicks history sends: one generator."""
        return run_steps(self._tick_rows_steps(req_id, spec, start, end, count, what, use_rth, listed_epoch))

    def _tick_rows_steps(self, req_id: int, spec: ContractSpec, start: datetime | None, end: datetime | None,
                         count: int, what: str, use_rth: bool,
                         listed_epoch: float | None) -> Generator[None, None, list[tuple]]:
        """:meth:`historical_tick_rows` in steps (a few hundred seconds of one-second bars each)."""
        now = self.env.now
        t0 = self.clock.start
        forward = start is not None
        edge = (start - t0).total_seconds() if forward else (min(now, (end - t0).total_seconds()) if end else now)
        window_s = max(60.0, 2.0 * count)
        kinds = {"TRADES": ("TRADES",), "BID_ASK": ("BID", "ASK"), "MIDPOINT": ("MIDPOINT",)}[what]
        exchange = spec.primary_exchange or spec.exchange
        found: list[tuple] = []
        for k in range(HISTORICAL_TICK_WINDOWS):
            lo = edge + k * window_s if forward else edge - (k + 1) * window_s
            hi = min(lo + window_s, now)
            if hi <= lo:
                break
            rows: list[tuple] = []
            t = lo
            while t < hi:       # whole-second cuts: a one-second bar falls in exactly one part
                part_hi = min(hi, (math.floor(t / TICK_STEP_S) + 1) * TICK_STEP_S)
                tables = [self._bar_table(BarsRequest(req_id, spec, 1.0, kind, use_rth, 2, listed_epoch), part_hi,
                                          part_hi - t) for kind in kinds]
                rows += _tick_rows(tables, what, self.market.epoch0, exchange)
                t = part_hi
                yield None
            if what == "TRADES":
                rows = yield from self._split_into_trades(spec.con_id, rows)
            found = found + rows if forward else rows + found
            if len(found) >= count:
                break
        return found[:count] if forward else found[-count:]

    def _split_into_trades(self, con_id: int, rows: list[tuple]) -> Generator[None, None, list[tuple]]:
        """One-second TRADES rows of the run (sim time >= 0) as the trades the stream printed in that second, so
        reqHistoricalTicks and tick-by-tick's Last ticks agree trade for trade; seconds before the run stay one
        row each (history there is bars, not grid steps). In steps of :data:`TICK_STEP_ROWS` rows."""
        epoch0 = self.market.epoch0
        out: list[tuple] = []
        for i, row in enumerate(rows):
            if i % TICK_STEP_ROWS == TICK_STEP_ROWS - 1:
                yield None
            t, _, _, exchange = row
            second_s = t - epoch0
            if second_s < 0:
                out.append(row)
                continue
            trades = self.market.grid_trades(con_id, second_s)
            out += [(t, price, size, exchange) for price, size in trades] if trades else [row]
        return out

    def send_histogram(self, s: ReplyChannel, req_id: int, spec: ContractSpec, use_rth: bool, period_s: float) -> None:
        """reqHistogramData: traded volume by price level over the period, from the same path's bars (a year of
        them read a few weeks at a time between other sessions' work)."""
        self.streams.send(s, K.HISTORICAL_DATA, self._histogram_steps(req_id, spec, use_rth, period_s),
                          key=("histogram", req_id),
                          on_failure=lambda: s.error(req_id, 162, no_data_text(spec.symbol, spec.exchange, "TRADES")))

    def _histogram_steps(self, req_id: int, spec: ContractSpec, use_rth: bool,
                         period_s: float) -> Iterator[Fields | None]:
        bar_s = 300.0 if period_s <= 31 * 86400 else 3600.0
        req = BarsRequest(req_id, spec, bar_s, "TRADES", use_rth, 2)
        end_s = self.env.now
        parts: list[BarTable] = []
        t = end_s - period_s
        epoch0 = self.market.epoch0
        while t < end_s:      # cut at 08:00 UTC every few days: no session is open (or on a whole hour), no bar is cut
            cut_e = (math.floor((epoch0 + t - HISTOGRAM_CUT_UTC_S) / HISTOGRAM_STEP_S) + 1) * HISTOGRAM_STEP_S
            hi = min(end_s, cut_e + HISTOGRAM_CUT_UTC_S - epoch0)
            parts.append(self._bar_table(req, hi, hi - t))
            t = hi
            yield None
        table = BarTable.concat(parts) if len(parts) > 1 else parts[0]
        if not len(table):
            raise RequestError(req_id, 162, no_data_text(spec.symbol, spec.exchange, "TRADES"))
        step = max(spec.min_tick, float(table.high.max() - table.low.min()) / HISTOGRAM_LEVELS)
        step = round(step / spec.min_tick) * spec.min_tick or spec.min_tick
        levels = np.round(np.round(table.wap / step) * step, 10)
        prices, inverse = np.unique(levels, return_inverse=True)
        sizes = np.bincount(inverse, weights=np.maximum(table.volume, 0.0))
        yield m.histogram_data(req_id, list(zip(prices.tolist(), sizes.tolist())))

    def historical_update_count(self, excluding: tuple[int, int] | None = None) -> int:
        """Open keepUpToDate historical requests over every connection (IB: 50 at once per user);
        ``excluding`` (conn_id, req_id) leaves out a request that is being replaced."""
        return sum(1 for conn in self._conns.live() for req_id in conn.historical_updates
                   if (conn.channel.conn_id, req_id) != excluding)

    def stop_historical_updates(self, s: ReplyChannel, req_id: int) -> bool:
        conn = self._conns.get(s.conn_id)
        return conn is not None and conn.historical_updates.pop(req_id, None) is not None

    def _historical_update_tick(self, now: float) -> None:
        """Every keepUpToDate subscription's bar in progress, in steps (~0.25 ms each: fifty of them would hold the
        loop ~12 ms). A pass still going out when the next is due (an overloaded loop) makes that one skip: two
        passes at once could send one subscription's updates out of order."""
        if self._updates_going_out:
            return
        self._updates_going_out = True
        self._steps.start(self._update_steps(now))

    def _update_steps(self, now: float) -> Generator[None, None, None]:
        try:
            for conn in list(self._conns.live()):
                s = conn.channel
                for req in list(conn.historical_updates.values()):
                    if req.req_id in conn.historical_pending or conn.historical_updates.get(req.req_id) is not req \
                            or s.closed:
                        continue     # bars still being computed (the first update follows them), or cancelled
                    try:   # bars starting in the last bar_size: the last one is the bar in progress
                        bars = self._bars(req, now, req.bar_size_s)
                    except RequestError:
                        continue
                    if bars:
                        bar = bars[-1]
                        date = self._bar_date(req, bar.time_s)
                        s.send(K.HISTORICAL_DATA, [m.historical_data_update(s.server_version, req.req_id, date,
                                                                            bar)])
                    yield
        finally:
            self._updates_going_out = False

    def start_realtime_bars(self, s: ReplyChannel, req: BarsRequest) -> None:
        self._bars(req, self.env.now, REALTIME_BAR_S)   # surfaces HistoryError (162) at once
        self._conns.of(s).realtime_bars[req.req_id] = req
        self._rt_bars.ensure(self.env)

    def stop_realtime_bars(self, s: ReplyChannel, req_id: int) -> None:
        conn = self._conns.get(s.conn_id)
        if conn is not None:
            conn.realtime_bars.pop(req_id, None)

    def _realtime_bar_tick(self, now: float) -> None:
        for conn in self._conns.live():
            s = conn.channel
            for req in list(conn.realtime_bars.values()):
                try:
                    bars = self._bars(req, now, REALTIME_BAR_S)
                except RequestError:
                    continue
                if bars:
                    bar = bars[-1]
                    s.send(K.HISTORICAL_DATA, [m.realtime_bar(s.server_version, req.req_id,
                                                              int(self.market.epoch0 + bar.time_s), bar)])


__all__ = ["BarsRequest", "Feeds", "MarketDataRequest", "MarketDataSub"]
