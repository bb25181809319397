"""Market depth (reqMktDepth, 10; cancelMktDepth, 11): the order book around the simulated quotes, as IB serves it.

The desk keeps every depth subscription per connection and streams row edits at each grid step of the
market (the same steps reqMktData's quotes move on), from the pure book of :mod:`mock_gateway.sim.order_book`:
level 0 is the L1 quote of the same instant. Subscriptions that show the same book (contract, venue,
rows) share one group: the book and its edits are computed once per step for the group, whatever the
number of requests, and a new request starts from the group's current book.

What the real gateway does (sources in docs/fidelity.md, "Market depth"):

* a SMART contract needs ``isSmartDepth`` (then updateMktDepthL2 with the exchange in ``marketMaker``,
  ``isSmartDepth`` 1, and notice 2152 naming the exchanges); without it, and for a venue or sec type
  with no deep book, 10092 "Deep market data is not supported for this combination of security
  type/exchange"; so also for an account without depth permissions (paper/demo logins);
* an exchange whose only market maker is itself (ARCA, NYSE, IDEALPRO, CME) sends updateMktDepth,
  ISLAND (NASDAQ TotalView) updateMktDepthL2 with market-maker ids;
* 309 "Max number (3) of market depth requests has been reached" past the account's limit of distinct
  securities (3, one more per 100 market data lines, at most 60); more requests for a security already
  in depth do not count;
* fewer rows than asked when the book is shallower; outside the trading session the book is empty.
"""
from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field

from .connection_table import ConnectionTable
from .errors import RequestError
from .protocol import messages as m
from .protocol.kinds import ReplyKind
from .replies import ReplyChannel
from .sim.clock import SimClock
from .sim.contracts import ContractSpec
from .sim.order_book import ASK, BID, DELETE, INSERT, BookShape, Level, LevelDraws, RowEdit, book_side, row_edits
from .sim.world import World

K = ReplyKind
log = logging.getLogger("mock_gateway.depth")
Fields = list[str]

#: reqMktDepthExchanges' rows: (exchange, secType, listingExch, serviceDataType, aggGroup). "Deep" is a book
#: without market makers (updateMktDepth), "Deep2" one with them (updateMktDepthL2); a listing exchange limits
#: the venue to the securities listed there. What depth serves is read from this one table.
DEPTH_EXCHANGES = (("ISLAND", "STK", "NASDAQ", "Deep2", 1), ("NYSE", "STK", "NYSE", "Deep", 1),
                   ("ARCA", "STK", "ARCA", "Deep", 1), ("IDEALPRO", "CASH", "", "Deep", 4),
                   ("CME", "FUT", "", "Deep", 2))
#: Exchange names a request may use for a depth venue (the contract book's aliases).
VENUE_ALIASES = {"NASDAQ": "ISLAND", "GLOBEX": "CME"}
#: A SMART depth line's venues as real gateways' 2152 notices list them (2026, paper account): the exchanges that
#: send their book, the exchanges that send only their top, and the books an account without depth subscriptions
#: lacks ("Need additional market data permissions - Depth: NASDAQ; BATS; ARCA; BEX; NYSE; ").
SMART_DEPTH_EXCHANGES = ("IEX", "NASDAQ", "BATS", "ARCA", "BEX", "NYSE")
SMART_FREE_DEPTH_EXCHANGES = ("IEX",)
SMART_TOP_EXCHANGES = ("BYX", "PEARL", "AMEX", "T24X", "MEMX", "OVERNIGHT", "EDGEA", "TXSE", "CHX", "IBEOS", "NYSENAT",
                       "PSX", "LTSE", "ISE", "DRCTEDGE")
#: NASDAQ TotalView market participant ids an ISLAND (Deep2) row names.
ISLAND_MAKERS = ("NSDQ", "ARCX", "EDGX", "BATS", "GSCO", "MSCO", "UBSS", "CDRG", "SUSQ", "VIRT", "JPMS", "NITE")
#: Price levels per side the simulated venues show; a request for more rows gets these (TWS returns "the
#: available entries" when the book is smaller than the rows asked).
BOOK_LEVELS = 20
#: The least wall time between two depth passes: at speed 100 a pass every 20 grid steps (the book then jumps
#: from one pass's state to the next's in one set of edits) instead of 400 passes a wall second.
DEPTH_PASS_WALL_S = 0.05
#: How long a deeper level's size rests before it is drawn again (sim seconds).
SIZE_REST_S = 5.0
#: Lots per sec type: depth sizes are whole lots (an IDEALPRO book recorded in 2022 shows EUR.USD rows of 1M to
#: 11.65M, median 4M: nautilus_trader's test resource eurusd_depth.pkl).
LOT_BY_SEC_TYPE = {"STK": 100.0, "CASH": 500_000.0, "FUT": 1.0}
#: The most simultaneous depth securities any account gets (TWS: one per 100 lines, at least 3, at most 60).
MAX_DEPTH_SECURITIES = 60

NOT_SUPPORTED = "Deep market data is not supported for this combination of security type/exchange"
DUPLICATE_ID = "Error processing request.-'bW' : cause - Duplicate ticker id"
NOTICE_SMART_DEPTH = 2152


def max_depth_securities(market_data_lines: int) -> int:
    """Distinct securities an account may hold in depth at once (TWS "Market Depth Trader" notes)."""
    return min(MAX_DEPTH_SECURITIES, max(3, market_data_lines // 100))


def limit_text(limit: int) -> str:
    return f"Max number ({limit}) of market depth requests has been reached"


@dataclass(frozen=True)
class DepthVenue:
    """Where a depth line's book comes from and how its rows are sent."""

    name: str                 # ISLAND, ARCA, ..., or SMART
    l2: bool                  # updateMktDepthL2 (a market maker per row) rather than updateMktDepth
    smart: bool = False
    makers: tuple[str, ...] = ()


def depth_venue(spec: ContractSpec, exchange: str, is_smart_depth: bool, permission: str = "live") -> DepthVenue:
    """The venue a reqMktDepth for ``spec`` at ``exchange`` (as sent) reads, or ValueError with 10092's text.

    ``permission`` is the account's market data permission: without subscriptions ("delayed", "none") a
    directed venue is 10092 and SMART depth shows the free IEX book and the other exchanges' tops."""
    exchange = exchange.strip().upper()
    if exchange == "SMART":
        if is_smart_depth and any(sec_type == spec.sec_type for _, sec_type, _, _, _ in DEPTH_EXCHANGES):
            books = SMART_DEPTH_EXCHANGES if permission == "live" else SMART_FREE_DEPTH_EXCHANGES
            return DepthVenue("SMART", True, True, books + SMART_TOP_EXCHANGES)
        raise ValueError(NOT_SUPPORTED)
    venue = VENUE_ALIASES.get(exchange, exchange)
    for name, sec_type, listing, service, _ in DEPTH_EXCHANGES:
        if name == venue and sec_type == spec.sec_type and (not listing or listing == spec.primary_exchange):
            if permission != "live":      # no depth subscription: IB answers as for a venue without a book
                raise ValueError(NOT_SUPPORTED)
            l2 = service == "Deep2"
            return DepthVenue(name, l2, False, ISLAND_MAKERS if l2 else ())
    raise ValueError(NOT_SUPPORTED)


def smart_depth_notice(venue: DepthVenue) -> str:
    """Notice 2152 of a SMART depth line: the exchanges whose book it shows, those that send only their top, and
    (without subscriptions) the books the account lacks."""
    books = [x for x in venue.makers if x not in SMART_TOP_EXCHANGES]
    missing = [x for x in SMART_DEPTH_EXCHANGES if x not in books]
    text = f"Exchanges - Depth: {'; '.join(books)}; Top: {'; '.join(SMART_TOP_EXCHANGES)}; "
    if missing:
        text += f"Need additional market data permissions - Depth: {'; '.join(missing)}; "
    return text


@dataclass
class DepthSub:
    """One reqMktDepth line."""

    session: ReplyChannel
    req_id: int
    spec: ContractSpec
    venue: DepthVenue
    rows: int


@dataclass
class _Group:
    """Depth lines that show the same book: its last state, and who gets its edits."""

    spec: ContractSpec
    venue: DepthVenue
    rows: int
    draws: LevelDraws
    asks: list[Level] = field(default_factory=list)
    bids: list[Level] = field(default_factory=list)
    subs: dict[tuple[int, int], DepthSub] = field(default_factory=dict)


@dataclass
class _Connection:
    channel: ReplyChannel
    subs: dict[int, DepthSub] = field(default_factory=dict)


def edit_message(sv: int, sub: DepthSub, edit: RowEdit) -> Fields:
    """One row edit as the line's message: updateMktDepthL2 for a venue with market makers, else updateMktDepth."""
    lv = edit.level
    size = 0.0 if edit.operation == DELETE else lv.size
    if sub.venue.l2:
        return m.update_mkt_depth_l2(sv, sub.req_id, edit.position, lv.maker, edit.operation, edit.side, lv.price,
                                     size, sub.venue.smart)
    return m.update_mkt_depth(sv, sub.req_id, edit.position, edit.operation, edit.side, lv.price, size)


def snapshot_edits(asks: list[Level], bids: list[Level]) -> list[RowEdit]:
    """A new line's first rows: the whole book as inserts, ask and bid of each position together."""
    out: list[RowEdit] = []
    for i in range(max(len(asks), len(bids))):
        if i < len(asks):
            out.append(RowEdit(i, INSERT, ASK, asks[i]))
        if i < len(bids):
            out.append(RowEdit(i, INSERT, BID, bids[i]))
    return out


def ordered_edits(old_asks: list[Level], asks: list[Level], old_bids: list[Level], bids: list[Level]) -> list[RowEdit]:
    """Both sides' edits, the retreating side first: a falling book moves its bids down before its asks, a rising
    one its asks up before its bids. Clients that rebuild the book after every message (nautilus_trader's IB
    adapter) then never hold a crossed book between two messages of one step."""
    ask_edits, bid_edits = row_edits(ASK, old_asks, asks), row_edits(BID, old_bids, bids)
    falling = bool(old_bids) and (not bids or bids[0].price < old_bids[0].price)
    return bid_edits + ask_edits if falling else ask_edits + bid_edits


class DepthDesk:
    """Every market depth line of one gateway, kept per connection, grouped by the book they show."""

    def __init__(self, world: World, clock: SimClock, market_data_lines: int,
                 flowing: Callable[[], bool] = lambda: True) -> None:
        self.world = world
        self.clock = clock
        self.market = world.market
        self.market_data_lines = market_data_lines
        #: False while a connectivity fault holds the data farm down (lines stay, rows stop)
        self.flowing = flowing
        self._conns: ConnectionTable[_Connection] = ConnectionTable(_Connection)
        self._groups: dict[tuple[int, str, int], _Group] = {}
        self._listening = False
        #: grid steps between two depth passes: every step at speed 1; at higher speeds at most one pass per
        #: DEPTH_PASS_WALL_S of wall time (a function of the speed, so the stream stays the same per seed and speed)
        self.every_steps = max(1, math.ceil(clock.speed * DEPTH_PASS_WALL_S / self.market.tick_interval_s - 1e-9))

    # ------------------------------------------------------------------ what is held
    def has(self, s: ReplyChannel, req_id: int) -> bool:
        conn = self._conns.get(s.conn_id)
        return conn is not None and req_id in conn.subs

    def lines(self, s: ReplyChannel) -> int:
        conn = self._conns.get(s.conn_id)
        return len(conn.subs) if conn is not None else 0

    def total_lines(self) -> int:
        """Depth lines over every connection."""
        return sum(len(group.subs) for group in self._groups.values())

    def securities(self) -> set[int]:
        """conIds held in depth over every connection (IB's limit counts distinct securities per user)."""
        return {group.spec.con_id for group in self._groups.values() if group.subs}

    # ------------------------------------------------------------------ subscribe / cancel
    def start(self, s: ReplyChannel, req_id: int, spec: ContractSpec, venue: DepthVenue, rows: int) -> None:
        """Open a line (the handler has checked the request): 309 past the limit, else the book, then its edits."""
        if self.has(s, req_id):
            raise RequestError(req_id, 322, DUPLICATE_ID)
        held = self.securities()
        limit = max_depth_securities(self.market_data_lines)
        if spec.con_id not in held and len(held) >= limit:
            raise RequestError(req_id, 309, limit_text(limit))
        if self.total_lines() >= self.market_data_lines:   # the mock's bound on lines of held securities, per user
            raise RequestError(req_id, 101, "Max number of tickers has been reached")
        rows = min(rows, BOOK_LEVELS)
        key = (spec.con_id, venue.name, rows)
        group = self._groups.get(key)
        if group is None:
            shape = BookShape(spec.min_tick, LOT_BY_SEC_TYPE.get(spec.sec_type, 1.0), BOOK_LEVELS, venue.makers,
                              max(1, round(SIZE_REST_S / self.market.tick_interval_s)))
            group = self._groups[key] = _Group(spec, venue, rows, LevelDraws(shape, self.market.seed, spec.con_id))
            if self.flowing():       # while the data farm is down a new book starts empty and fills on its return
                group.asks, group.bids = self._book(group, self.clock.env.now)
        sub = DepthSub(s, req_id, spec, venue, rows)
        group.subs[(s.conn_id, req_id)] = sub
        self._conns.of(s).subs[req_id] = sub
        if venue.smart:
            s.error(req_id, NOTICE_SMART_DEPTH, smart_depth_notice(venue), kind=K.MARKET_DATA)
        msgs = [edit_message(s.server_version, sub, e) for e in snapshot_edits(group.asks, group.bids)]
        if msgs:
            s.send(K.MARKET_DATA, msgs)
        self._listen()

    def stop(self, s: ReplyChannel, req_id: int) -> bool:
        """Close a line; False when the connection holds none with that id."""
        conn = self._conns.get(s.conn_id)
        sub = conn.subs.pop(req_id, None) if conn is not None else None
        if sub is None:
            return False
        key = (sub.spec.con_id, sub.venue.name, sub.rows)
        group = self._groups.get(key)
        if group is not None:
            group.subs.pop((s.conn_id, req_id), None)
            if not group.subs:
                del self._groups[key]
        self._listen()
        return True

    def drop(self, s: ReplyChannel) -> None:
        """Forget every line of a connection (closed, or data lost: 1101)."""
        conn = self._conns.get(s.conn_id)
        if conn is None:
            return
        for req_id in list(conn.subs):
            self.stop(s, req_id)

    def session_closed(self, s: ReplyChannel) -> None:
        self.drop(s)
        self._conns.drop(s.conn_id)

    # ------------------------------------------------------------------ the stream
    def _listen(self) -> None:
        wanted = bool(self._groups)
        if wanted and not self._listening:
            self._listening = True
            self.market.add_listener(self._on_grid_step)
        elif not wanted and self._listening:
            self._listening = False
            self.market.remove_listener(self._on_grid_step)

    def _book(self, group: _Group, t_s: float) -> tuple[list[Level], list[Level]]:
        """The group's book at sim time ``t_s``: empty outside the contract's session."""
        spec = group.spec
        if not self.market.is_trading(spec.con_id, t_s) and not self.market.halt_status(spec, t_s):
            return [], []
        q = self.market.quote_at(spec.con_id, t_s)
        i = self.market.grid_index(q.time_s)
        return (book_side(group.draws, ASK, q.ask, q.ask_size, i, group.rows),
                book_side(group.draws, BID, q.bid, q.bid_size, i, group.rows))

    def _on_grid_step(self, now: float) -> None:
        if not self.flowing() or self.market.grid_index(now) % self.every_steps:
            return
        for group in list(self._groups.values()):
            if self.market.halt_status(group.spec, now):
                continue                 # a halted market's book stands still
            asks, bids = self._book(group, now)
            edits = ordered_edits(group.asks, asks, group.bids, bids)
            group.asks, group.bids = asks, bids
            if not edits:
                continue
            built: dict[int, list[Fields]] = {}      # the edits' messages per server version, built once
            for sub in list(group.subs.values()):
                if getattr(sub.session, "closed", False):
                    continue
                sv = sub.session.server_version
                msgs = built.get(sv)
                if msgs is None:
                    msgs = built[sv] = [edit_message(sv, sub, e) for e in edits]
                    sub.session.send(K.MARKET_DATA, msgs)
                    continue
                rid = str(sub.req_id)
                sub.session.send(K.MARKET_DATA, [[f[0], f[1], rid, *f[3:]] for f in msgs])


__all__ = ["BOOK_LEVELS", "DEPTH_EXCHANGES", "DepthDesk", "DepthSub", "DepthVenue", "depth_venue", "edit_message",
           "limit_text", "max_depth_securities", "ordered_edits", "smart_depth_notice", "snapshot_edits"]
