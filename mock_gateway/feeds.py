"""Market streams from the world to the sessions: quotes, historical bars and their updates, real-time bars.

Market data fans out from one grid-step listener: each contract's quote is read once per step
and diffed per subscription, so a tick goes out only when something changed. Periodic streams
(5-second real-time bars, keepUpToDate bar updates) are SimPy processes that run only while
someone is subscribed. The feed owns every market subscription, per connection; it writes to a
:class:`~mock_gateway.replies.ReplyChannel` and reads the world, nothing else. Account streams
are in :mod:`mock_gateway.account_feed`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from .errors import RequestError
from .protocol import messages as m
from .protocol.kinds import ReplyKind
from .protocol.time import ib_time
from .replies import ReplyChannel
from .sim.clock import SimClock
from .sim.contracts import ContractSpec
from .sim.market import HistoryError, Quote
from .sim.periodic import Periodic
from .sim.world import World

K = ReplyKind
Fields = list[str]

REALTIME_BAR_S = 5.0
#: keepUpToDate sends the bar in progress this often.
HISTORICAL_UPDATE_S = 5.0
#: Tick types (ibapi/ticktype.py).
BID_SIZE, BID, ASK, ASK_SIZE, LAST, LAST_SIZE, HIGH, LOW, VOLUME, CLOSE = 0, 1, 2, 3, 4, 5, 6, 7, 8, 9
OPEN, LAST_TIMESTAMP, SHORTABLE, RT_VOLUME = 14, 45, 46, 48


@dataclass
class MarketDataRequest:
    req_id: int
    spec: ContractSpec
    generic_ticks: frozenset[str]
    snapshot: bool


@dataclass
class BarsRequest:
    req_id: int
    spec: ContractSpec
    bar_size_s: float
    what_to_show: str
    use_rth: bool
    format_date: int


@dataclass
class MarketDataSub:
    """One streaming reqMktData: the last values sent, to send only changes."""

    session: ReplyChannel
    req_id: int
    spec: ContractSpec
    generic_ticks: frozenset[str]
    bid: float = math.nan
    ask: float = math.nan
    bid_size: int = -1
    ask_size: int = -1
    volume: int = -1
    high: float = math.nan
    low: float = math.nan


@dataclass
class _Connection:
    """One connection's market subscriptions, by request id."""

    channel: ReplyChannel
    market_data: dict[int, MarketDataSub] = field(default_factory=dict)
    realtime_bars: dict[int, BarsRequest] = field(default_factory=dict)
    historical_updates: dict[int, BarsRequest] = field(default_factory=dict)

    def empty(self) -> bool:
        return not (self.market_data or self.realtime_bars or self.historical_updates)


class Feeds:
    """Every market stream of one gateway, kept per connection."""

    def __init__(self, world: World, clock: SimClock) -> None:
        self.world = world
        self.clock = clock
        self.env = clock.env
        self.market = world.market
        #: False while a connectivity fault holds the data farm down (subscriptions stay, ticks stop)
        self.flowing = True
        self._conns: dict[int, _Connection] = {}
        self._market_subs: dict[int, dict[tuple[int, int], MarketDataSub]] = {}
        self._listening = False
        self._rt_bars = Periodic(REALTIME_BAR_S, lambda: any(c.realtime_bars for c in self._conns.values()),
                                  self._realtime_bar_tick)
        self._hist = Periodic(HISTORICAL_UPDATE_S, lambda: any(c.historical_updates for c in self._conns.values()),
                              self._historical_update_tick)

    def _conn(self, s: ReplyChannel) -> _Connection:
        conn = self._conns.get(s.conn_id)
        if conn is None:
            conn = self._conns[s.conn_id] = _Connection(s)
        return conn

    def _live_conns(self) -> list[_Connection]:
        return [self._conns[k] for k in sorted(self._conns)]

    def session_closed(self, session: ReplyChannel) -> None:
        self.drop_market_data(session)
        self._conns.pop(session.conn_id, None)

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
    def start_market_data(self, s: ReplyChannel, req: MarketDataRequest) -> None:
        q = self.market.quote(req.spec.con_id)
        sub = MarketDataSub(s, req.req_id, req.spec, req.generic_ticks)
        head = [] if req.snapshot else [
            m.tick_req_params(req.req_id, req.spec.min_tick, req.spec.bbo_exchange, req.spec.snapshot_permissions),
            m.market_data_type(req.req_id, 1)]
        msgs = head + self._full_quote(sub, q)
        if req.snapshot:
            s.send(K.MARKET_DATA, msgs + [m.tick_snapshot_end(req.req_id)])
            return
        self._conn(s).market_data[req.req_id] = sub
        self._market_subs.setdefault(req.spec.con_id, {})[(s.conn_id, req.req_id)] = sub
        s.send(K.MARKET_DATA, msgs)
        if not self._listening:
            self._listening = True
            self.market.add_listener(self._on_grid_step)

    def stop_market_data(self, s: ReplyChannel, req_id: int) -> bool:
        conn = self._conns.get(s.conn_id)
        sub = conn.market_data.pop(req_id, None) if conn is not None else None
        if sub is None:
            return False
        subs = self._market_subs.get(sub.spec.con_id, {})
        subs.pop((s.conn_id, req_id), None)
        if not subs:
            self._market_subs.pop(sub.spec.con_id, None)
        if not self._market_subs and self._listening:
            self._listening = False
            self.market.remove_listener(self._on_grid_step)
        return True

    def drop_market_data(self, s: ReplyChannel) -> None:
        """Forget every streaming subscription of a session (closed, or data lost: 1101)."""
        conn = self._conns.get(s.conn_id)
        if conn is None:
            return
        for req_id in list(conn.market_data):
            self.stop_market_data(s, req_id)
        conn.realtime_bars.clear()
        conn.historical_updates.clear()

    def _full_quote(self, sub: MarketDataSub, q: Quote) -> list[Fields]:
        sv = sub.session.server_version
        r = sub.req_id
        msgs = [m.tick_price(sv, r, BID, q.bid, q.bid_size), m.tick_price(sv, r, ASK, q.ask, q.ask_size)]
        if sub.spec.sec_type != "CASH":
            msgs += [m.tick_price(sv, r, LAST, q.last, q.last_size), m.tick_size(sv, r, VOLUME, q.volume)]
        msgs += [m.tick_price(sv, r, HIGH, q.high, 0), m.tick_price(sv, r, LOW, q.low, 0),
                 m.tick_price(sv, r, CLOSE, q.close, 0), m.tick_price(sv, r, OPEN, q.open, 0)]
        if sub.spec.sec_type != "CASH":
            msgs.append(m.tick_string(r, LAST_TIMESTAMP, str(int(self.market.epoch0 + q.time_s))))
        if "236" in sub.generic_ticks:
            msgs.append(m.tick_generic(r, SHORTABLE, 3.0))
        sub.bid, sub.ask, sub.bid_size, sub.ask_size = q.bid, q.ask, q.bid_size, q.ask_size
        sub.volume, sub.high, sub.low = q.volume, q.high, q.low
        return msgs

    def _quote_changes(self, sub: MarketDataSub, q: Quote) -> list[Fields]:
        sv = sub.session.server_version
        r = sub.req_id
        out: list[Fields] = []
        if q.bid != sub.bid:
            out.append(m.tick_price(sv, r, BID, q.bid, q.bid_size))
        elif q.bid_size != sub.bid_size:
            out.append(m.tick_size(sv, r, BID_SIZE, q.bid_size))
        if q.ask != sub.ask:
            out.append(m.tick_price(sv, r, ASK, q.ask, q.ask_size))
        elif q.ask_size != sub.ask_size:
            out.append(m.tick_size(sv, r, ASK_SIZE, q.ask_size))
        if q.volume != sub.volume and sub.spec.sec_type != "CASH":
            epoch = self.market.epoch0 + q.time_s
            out += [m.tick_price(sv, r, LAST, q.last, q.last_size), m.tick_size(sv, r, VOLUME, q.volume),
                    m.tick_string(r, LAST_TIMESTAMP, str(int(epoch)))]
            if "233" in sub.generic_ticks:
                out.append(m.tick_string(r, RT_VOLUME, f"{m.fmt_size(sv, q.last)};{q.last_size};"
                                                       f"{int(epoch * 1000)};{q.volume};{q.last};false"))
        if q.high != sub.high:
            out.append(m.tick_price(sv, r, HIGH, q.high, 0))
        if q.low != sub.low:
            out.append(m.tick_price(sv, r, LOW, q.low, 0))
        sub.bid, sub.ask, sub.bid_size, sub.ask_size = q.bid, q.ask, q.bid_size, q.ask_size
        sub.volume, sub.high, sub.low = q.volume, q.high, q.low
        return out

    def _on_grid_step(self, now: float) -> None:
        if not self.flowing:
            return
        quote = self.market.quote
        for con_id, subs in list(self._market_subs.items()):
            q = quote(con_id)
            for sub in list(subs.values()):
                msgs = self._quote_changes(sub, q)
                if msgs:
                    sub.session.send(K.MARKET_DATA, msgs)

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

    def send_historical_data(self, s: ReplyChannel, req: BarsRequest, end: datetime | None, duration_s: float,
                             keep_up_to_date: bool) -> None:
        now = self.env.now
        end_s = now if end is None else min(now, (end - self.clock.start).total_seconds())
        bars = self._bars(req, end_s, duration_s)
        epoch0 = self.market.epoch0
        dated = [(self._bar_date(req, b.time_s), b) for b in bars]
        s.send(K.HISTORICAL_DATA, [m.historical_data(s.server_version, req.req_id, ib_time(epoch0 + end_s - duration_s),
                                                     ib_time(epoch0 + end_s), dated)])
        if keep_up_to_date:
            self._conn(s).historical_updates[req.req_id] = req
            self._hist.ensure(self.env)

    def stop_historical_updates(self, s: ReplyChannel, req_id: int) -> bool:
        conn = self._conns.get(s.conn_id)
        return conn is not None and conn.historical_updates.pop(req_id, None) is not None

    def _historical_update_tick(self, now: float) -> None:
        for conn in self._live_conns():
            s = conn.channel
            for req in list(conn.historical_updates.values()):
                try:   # bars starting in the last bar_size: the last one is the bar in progress
                    bars = self._bars(req, now, req.bar_size_s)
                except RequestError:
                    continue
                if bars:
                    bar = bars[-1]
                    date = self._bar_date(req, bar.time_s)
                    s.send(K.HISTORICAL_DATA, [m.historical_data_update(s.server_version, req.req_id, date, bar)])

    def start_realtime_bars(self, s: ReplyChannel, req: BarsRequest) -> None:
        self._bars(req, self.env.now, REALTIME_BAR_S)   # surfaces HistoryError (162) at once
        self._conn(s).realtime_bars[req.req_id] = req
        self._rt_bars.ensure(self.env)

    def stop_realtime_bars(self, s: ReplyChannel, req_id: int) -> None:
        conn = self._conns.get(s.conn_id)
        if conn is not None:
            conn.realtime_bars.pop(req_id, None)

    def _realtime_bar_tick(self, now: float) -> None:
        for conn in self._live_conns():
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
