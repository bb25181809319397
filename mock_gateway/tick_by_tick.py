"""Tick-by-tick data (reqTickByTickData, 97): the Time & Sales stream, from the same quotes reqMktData reads.

Pure: a subscription's last-sent state and the market at one grid time in, tickByTick (99) messages
out. :mod:`mock_gateway.feeds` owns the subscriptions, the timing and the limits.

What the real gateway does (sources in docs/fidelity.md, "Tick-by-tick data"):

* the tick type is one of ``Last``, ``AllLast``, ``BidAsk``, ``MidPoint`` (case sensitive, TWS API docs);
* a trade printed on the reqMktData line (volume moved) is a Last/AllLast tick with the same price, size
  and time (lastTimestamp); BidAsk sends the whole top of book when a price or size changed (only a price
  change with ``ignoreSize``); MidPoint when the mid moved;
* nothing streams outside the contract's session or while it is halted (Time & Sales is empty then);
* ``numberOfTicks`` > 0: that many past ticks first, as tickByTick messages, then the stream.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .protocol import messages as m
from .sim.contracts import ContractSpec
from .sim.market import Quote

Fields = list[str]

#: reqTickByTickData's tickType text -> the tickByTick tick type (ibapi decoder: 1 Last, 2 AllLast, 3 BidAsk,
#: 4 MidPoint); case sensitive as IB documents it.
TICK_TYPES: dict[str, int] = {"Last": 1, "AllLast": 2, "BidAsk": 3, "MidPoint": 4}
#: reqHistoricalTicks' whatToShow that serves each tick type's history.
HISTORY_OF: dict[int, str] = {1: "TRADES", 2: "TRADES", 3: "BID_ASK", 4: "MIDPOINT"}
#: numberOfTicks is capped as reqHistoricalTicks is (TWS API docs: "Max is 1000 per request").
MAX_HISTORICAL_TICKS = 1000


@dataclass
class TickByTickSub:
    """One tick-by-tick subscription: what it sent last, so that only new trades and quote changes go out."""

    session: object            # the ReplyChannel its ticks go to
    req_id: int
    spec: ContractSpec
    tick_type: int             # 1..4
    ignore_size: bool = False
    exchange: str = ""
    volume: float = -1.0
    bid: float = math.nan
    ask: float = math.nan
    bid_size: float = -1.0
    ask_size: float = -1.0
    mid: float = math.nan
    live: bool = True          # False while its numberOfTicks past ticks are still being read and sent


def prime(sub: TickByTickSub, q: Quote) -> None:
    """Take the market at subscription time as already sent: the stream starts with the next change."""
    sub.volume, sub.bid, sub.ask, sub.bid_size, sub.ask_size = q.volume, q.bid, q.ask, q.bid_size, q.ask_size
    sub.mid = _mid(q)


def _mid(q: Quote) -> float:
    return round((q.bid + q.ask) / 2.0, 10) if q.bid > 0 and q.ask > 0 else math.nan


def changed(sv: int, sub: TickByTickSub, q: Quote, epoch_s: float, trading: bool) -> list[Fields]:
    """The tickByTick messages for what changed since the last send (none while the market does not trade)."""
    if not trading:
        prime(sub, q)           # what happened outside the session is not replayed when it reopens
        return []
    r, t = sub.req_id, int(epoch_s)
    if sub.tick_type in (1, 2):
        if not prints_trades(sub.spec):
            return []
        if q.volume == sub.volume or q.last_size <= 0:
            sub.volume = q.volume
            return []
        sub.volume = q.volume
        return [m.tick_by_tick_last(sv, r, sub.tick_type, t, q.last, q.last_size, 0, sub.exchange, "")]
    if sub.tick_type == 3:
        moved = q.bid != sub.bid or q.ask != sub.ask
        resized = q.bid_size != sub.bid_size or q.ask_size != sub.ask_size
        if not moved and (sub.ignore_size or not resized):
            return []
        sub.bid, sub.ask, sub.bid_size, sub.ask_size = q.bid, q.ask, q.bid_size, q.ask_size
        return [m.tick_by_tick_bid_ask(sv, r, t, q.bid, q.ask, q.bid_size, q.ask_size, 0)]
    mid = _mid(q)
    if math.isnan(mid) or mid == sub.mid:
        return []
    sub.mid = mid
    return [m.tick_by_tick_mid_point(r, t, mid)]


def prints_trades(spec: ContractSpec) -> bool:
    """Currencies are quoted, not printed (IDEALPRO has no Time & Sales trades; reqMktData sends no last)."""
    return spec.sec_type != "CASH"


def refusal(spec: ContractSpec) -> str | None:
    """Why IB serves no real-time tick-by-tick for this contract (TWS API docs "Tick-by-Tick Data"), or None."""
    if spec.sec_type in ("OPT", "FOP"):
        return "Tick-by-tick data is not available for options in real time"
    if spec.sec_type == "BAG":
        return "Tick-by-tick data is not available for combos"
    if spec.sec_type == "IND" and spec.exchange != "CME":
        return "Tick-by-tick data is only available for indices on CME"
    return None


def history(sv: int, sub: TickByTickSub, rows: list[tuple]) -> list[Fields]:
    """Past ticks (reqHistoricalTicks rows of :data:`HISTORY_OF` the sub's type) as tickByTick messages."""
    r = sub.req_id
    if sub.tick_type in (1, 2):
        return [m.tick_by_tick_last(sv, r, sub.tick_type, t, price, size, 0, exchange, "")
                for t, price, size, exchange in rows]
    if sub.tick_type == 3:
        return [m.tick_by_tick_bid_ask(sv, r, t, bid, ask, bid_size, ask_size, 0)
                for t, bid, ask, bid_size, ask_size in rows]
    return [m.tick_by_tick_mid_point(r, t, price) for t, price, _ in rows]


def max_subscriptions(market_data_lines: int) -> int:
    """Simultaneous tick-by-tick subscriptions an account may hold: the market depth formula (TWS API docs,
    "Tick-by-Tick Data"): 3 by default, one more per 100 market data lines above 300 (quote booster packs)."""
    return max(3, market_data_lines // 100)


__all__ = ["HISTORY_OF", "MAX_HISTORICAL_TICKS", "TICK_TYPES", "TickByTickSub", "changed", "history",
           "max_subscriptions", "prime", "prints_trades", "refusal"]
