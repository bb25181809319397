"""The ticks of one reqMktData line, in the order and with the types a real gateway sends them, per sec type.

Pure: a subscription's last-sent values and a :class:`TickView` of the market at one grid time in,
the messages to send out. :mod:`mock_gateway.feeds` owns the subscriptions and the timing.

What the real gateway does (sources in docs/fidelity.md, "Market data"):

* first tickReqParams (81) and marketDataType (58) (two of three recorded 2026 sessions; the order is a race
  in the gateway), then on a live line the book: bid (1) and ask (2) as tickPrice
  with their sizes, last (4) with its size, lastSize (5), volume (8), high (6), low (7), close (9),
  open (14; stocks, futures, options, indices), lastTimestamp (45), the exchanges of a SMART stock's
  bid, ask and last (32, 33, 84), halted (49, tickGeneric);
* a delayed line opens with the day's statistics, then last, open and the book, without halted (the same
  recorded stream, delayed AAPL);
* currencies have no last, size or volume; their stream is bid, ask, high, low, close, halted;
  indices have a level (4, size 0) and no book;
* outside the contract's trading session live bid and ask read -1 with size 0 (a weekend FX stream
  shows ``bid=-1.0, bidSize=0.0``);
* on a trade: last (4) only when the price moved, lastSize (5) only when the size changed, then
  volume (8), then the book's changes: a price change is a tickPrice with its size, a size change
  alone a tickSize (recorded ib_insync stream in nautilus_trader's test kit);
* options: tickOptionComputation for the bid (10), ask (11), last (12) and the model (13).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from .protocol import messages as m
from .protocol.fields import fmt_float
from .sim.contract_spec import SMART_COMPONENTS
from .sim.contracts import ContractSpec
from .sim.market import ContractStats, OptionModel, Quote
from .sim.pricing import implied_vol, option_greeks

Fields = list[str]

#: Tick types (ibapi/ticktype.py).
BID_SIZE, BID, ASK, ASK_SIZE, LAST, LAST_SIZE, HIGH, LOW, VOLUME, CLOSE = 0, 1, 2, 3, 4, 5, 6, 7, 8, 9
BID_OPTION, ASK_OPTION, LAST_OPTION, MODEL_OPTION, OPEN = 10, 11, 12, 13, 14
BID_EXCH, ASK_EXCH, LAST_TIMESTAMP, SHORTABLE, RT_VOLUME, HALTED, LAST_EXCH = 32, 33, 45, 46, 48, 49, 84
#: Live tick type -> its delayed twin (ibapi/ticktype.py: DELAYED_BID 66 ... DELAYED_MODEL_OPTION 83,
#: DELAYED_LAST_TIMESTAMP 88).
DELAYED_TICK = {BID: 66, ASK: 67, LAST: 68, BID_SIZE: 69, ASK_SIZE: 70, LAST_SIZE: 71, HIGH: 72, LOW: 73,
                VOLUME: 74, CLOSE: 75, OPEN: 76, BID_OPTION: 80, ASK_OPTION: 81, LAST_OPTION: 82, MODEL_OPTION: 83,
                LAST_TIMESTAMP: 88}
#: Generic-tick answers (ibapi/ticktype.py): option volume/open interest, volatilities, 13/26/52-week ranges,
#: average volume, mark price, trade count/rate, volume rate, last RTH trade, RT trade volume, RT historical
#: volatility, IB dividends.
OPTION_CALL_OI, OPTION_PUT_OI, OPTION_CALL_VOLUME, OPTION_PUT_VOLUME = 27, 28, 29, 30
OPTION_HISTORICAL_VOL, OPTION_IMPLIED_VOL, AVG_VOLUME, MARK_PRICE = 23, 24, 21, 37
LOW_13_WEEK, HIGH_13_WEEK, LOW_26_WEEK, HIGH_26_WEEK, LOW_52_WEEK, HIGH_52_WEEK = 15, 16, 17, 18, 19, 20
TRADE_COUNT, TRADE_RATE, VOLUME_RATE, LAST_RTH_TRADE, RT_HISTORICAL_VOL, IB_DIVIDENDS = 54, 55, 56, 57, 58, 59
RT_TRD_VOLUME = 77
#: Shortable shares (tickSize 89, generic 236 with shortable 46): shares available to borrow (ib_insync Ticker.shortableShares).
SHORTABLE_SHARES = 89
#: Futures open interest (tickSize 86, generic 588), average option volume (tickSize 87, generic 105).
FUTURES_OPEN_INTEREST, AVG_OPT_VOLUME = 86, 87
#: Regular-session minutes in a US trading day: the per-minute rates (294, 295) are the day's average over them.
SESSION_MINUTES = 390
#: The mock's futures open interest: this many days of the contract's average volume.
OPEN_INTEREST_DAYS_OF_VOLUME = 2.0
#: The mock's lendable pool: this many days of the stock's average volume (a recorded AAPL answer, 87.9 M shares in
#: 2026, is about 1.5 days of its volume).
SHORTABLE_DAYS_OF_VOLUME = 1.5
#: The generic tick ids IB accepts: the "Legal ones for (STK)" of a real 321 (IB Gateway, 2026-02-10, quoted in a
#: public repository), with the older numbers it also takes (221 for 232, 220 for 221, 47 for 258, 59 for 456) and
#: 104 (historical volatility, accepted though not listed). Current gateways list the same ticks, in the same
#: words, for FUT, OPT and IND (their 321 texts quoted in public repositories, 2025-2026): the list is the
#: gateway's, only the sec type in parentheses changes. No text for CASH, CRYPTO, FOP or BOND is public; the
#: mock gives them the same list (docs/fidelity.md, "Market data").
LEGAL_GENERIC_TEXT = (
    "100(Option Volume),101(Option Open Interest),105(Average Opt Volume),106(impvolat),165(Misc. Stats),"
    "221/220(Creditman Mark Price),225(Auction),232/221(Pl Price),233(RTVolume),236(inventory),258/47(Fundamentals),"
    "292(Wide_news),293(TradeCount),294(TradeRate),295(VolumeRate),318(LastRTHTrade),375(RTTrdVolume),"
    "411(rthistvol),456/59(IBDividends),460(Bond Factor Multiplier),577(EtfNavLast(navlast)),586(IPOHLMPRC),"
    "587(Pl Price Delayed),588(Futures Open Interest),595(Short-Term Volume X Mins),614(EtfNavMisc(high/low)),"
    "619(Creditman Slow Mark Price),623(EtfFrozenNavLast(fznavlast))")
LEGAL_GENERIC = frozenset({100, 101, 104, 105, 106, 165, 220, 221, 225, 232, 233, 236, 258, 47, 292, 293, 294,
                           295, 318, 375, 411, 456, 59, 460, 577, 586, 587, 588, 595, 614, 619, 623})
#: The names this module used when only stocks were checked.
LEGAL_STK_GENERIC_TEXT, LEGAL_STK_GENERIC = LEGAL_GENERIC_TEXT, LEGAL_GENERIC


def generic_tick_ids(text: str) -> list[int] | None:
    """The generic tick ids of a reqMktData list ("233,236", "mdoff,292:BRFG" ...); None when one is not a number."""
    ids = []
    for token in text.split(","):
        token = token.strip().lstrip("+")
        if not token or token.lower() == "mdoff":
            continue
        head, colon, param = token.partition(":")
        head = head.strip()
        if not head.isascii() or not head.isdigit() or len(head) > 6 or (colon and not param.strip()):
            return None
        ids.append(int(head))
    return ids


def generic_ticks_refusal(sec_type: str, text: str) -> str | None:
    """IB's 321 text when a generic tick list names a tick IB does not serve (or is malformed), else None."""
    if not text.strip():
        return None
    ids = generic_tick_ids(text)
    if ids and all(i in LEGAL_GENERIC for i in ids):     # a list naming no tick ("mdoff" alone) is refused too
        return None
    return (f"Error validating request.-'bQ' : cause - Incorrect generic tick list of {text}.  Legal ones for "
            f"({sec_type}) are: {LEGAL_GENERIC_TEXT}")


def stock_generic_ticks_refusal(text: str) -> str | None:
    """:func:`generic_ticks_refusal` for a stock."""
    return generic_ticks_refusal("STK", text)


#: Shortable (tick 46, generic 236): above 2.5 means at least 1,000 shares can be borrowed (API 9.2 notes).
SHORTABLE_PLENTY = 3.0
#: tickOptionComputation's "not computed" values (ibapi decoder): implied vol -1, delta -2, prices -1.
NOT_COMPUTED_IV, NOT_COMPUTED_DELTA = -1.0, -2.0


@dataclass(frozen=True)
class TickView:
    """The market of one contract at one grid time, as a subscription sees it."""

    quote: Quote
    epoch_s: float            # the quote's time in epoch seconds
    trading: bool             # in the contract's session and not halted
    in_session: bool          # in the contract's session (a halted market is in session)
    halted: int               # tick 49's value
    option: OptionModel | None = None


@dataclass
class MarketDataSub:
    """One reqMktData line: what was sent last, so that only changes go out."""

    session: object           # the ReplyChannel the ticks go to
    req_id: int
    spec: ContractSpec
    generic_ticks: frozenset[str]
    bid: float = math.nan
    ask: float = math.nan
    bid_size: float = -1
    ask_size: float = -1
    last: float = math.nan
    last_size: float = -1
    volume: float = -1
    high: float = math.nan
    low: float = math.nan
    halted: int = -1
    #: day VWAP for RTVolume (233): traded value and volume since the subscription's first quote
    value_traded: float = 0.0
    volume_traded: float = 0.0
    option_key: tuple = ()
    shape: tuple = ()         # (has a book, prints trades, tick ids): see changed_ticks
    data_type: int = 1        # granted: 1 live, 2 frozen, 3 delayed, 4 delayed frozen
    ids: dict[int, int] = field(default_factory=dict)   # tick type -> the tick type sent (delayed: 66..)

    def tid(self, tick_type: int) -> int:
        return self.ids.get(tick_type, tick_type)


def has_book(spec: ContractSpec) -> bool:
    return spec.sec_type != "IND"


def trades(spec: ContractSpec) -> bool:
    """Whether the stream carries last, sizes and volume (currencies are quoted, not printed)."""
    return spec.sec_type != "CASH"


def _has_open(spec: ContractSpec) -> bool:
    return spec.sec_type not in ("CASH", "CRYPTO")


def _exchange_letters(spec: ContractSpec, view: TickView, salt: int) -> str:
    """The letters of the venues at a SMART stock's best price: a deterministic subset of the SMART components."""
    n = len(SMART_COMPONENTS)
    bits = (hash((spec.con_id, round(view.quote.time_s * 4), salt)) & ((1 << n) - 1)) or 1 << (spec.con_id % n)
    return "".join(letter for bit, _, letter in SMART_COMPONENTS if bits >> bit & 1)


def _shows_exchanges(sub: MarketDataSub) -> bool:
    return sub.spec.sec_type == "STK" and sub.spec.exchange == "SMART" and sub.data_type in (1, 2)


def _book(sub: MarketDataSub, view: TickView) -> tuple[float, float, float, float]:
    """(bid, bid size, ask, ask size) as sent: -1 and 0 outside the session for live and delayed lines."""
    q = view.quote
    if not view.in_session and sub.data_type in (1, 3):
        return -1.0, 0, -1.0, 0
    return q.bid, q.bid_size, q.ask, q.ask_size


def first_ticks(sv: int, sub: MarketDataSub, view: TickView) -> list[Fields]:
    """The ticks after tickReqParams and marketDataType: the whole top of book and the day's statistics."""
    spec, r, q = sub.spec, sub.req_id, view.quote
    out = _delayed_opening(sv, sub, view) if sub.data_type in (3, 4) else _live_opening(sv, sub, view)
    sub.last, sub.last_size, sub.volume, sub.high, sub.low, sub.halted = (q.last, q.last_size, q.volume, q.high,
                                                                          q.low, view.halted)
    sub.value_traded, sub.volume_traded = q.last * max(q.volume, 0), max(q.volume, 0)
    if "233" in sub.generic_ticks and trades(spec) and q.volume > 0:
        out.append(_rt_volume(sv, sub, view, q.last_size, single=False))
    if "236" in sub.generic_ticks and spec.sec_type == "STK":
        out.append(m.tick_generic(r, SHORTABLE, SHORTABLE_PLENTY))
    out += option_ticks(sv, sub, view, first=True)
    return out


def _live_opening(sv: int, sub: MarketDataSub, view: TickView) -> list[Fields]:
    """A live (or frozen) line's opening: book, trade, day statistics, strings, halted (IB's sample order)."""
    spec, r, q = sub.spec, sub.req_id, view.quote
    out: list[Fields] = []
    if has_book(spec):
        bid, bid_size, ask, ask_size = _book(sub, view)
        out += [m.tick_price(sv, r, sub.tid(BID), bid, bid_size), m.tick_price(sv, r, sub.tid(ASK), ask, ask_size)]
        sub.bid, sub.bid_size, sub.ask, sub.ask_size = bid, bid_size, ask, ask_size
    if not has_book(spec):
        out.append(m.tick_price(sv, r, sub.tid(LAST), q.last, 0))
    elif trades(spec):
        out += [m.tick_price(sv, r, sub.tid(LAST), q.last, q.last_size),
                m.tick_size(sv, r, sub.tid(LAST_SIZE), q.last_size),
                m.tick_size(sv, r, sub.tid(VOLUME), q.volume)]
    out += [m.tick_price(sv, r, sub.tid(HIGH), q.high, 0), m.tick_price(sv, r, sub.tid(LOW), q.low, 0),
            m.tick_price(sv, r, sub.tid(CLOSE), q.close, 0)]
    if _has_open(spec):
        out.append(m.tick_price(sv, r, sub.tid(OPEN), q.open, 0))
    if trades(spec):
        out.append(m.tick_string(r, sub.tid(LAST_TIMESTAMP), str(int(view.epoch_s))))
    if _shows_exchanges(sub) and view.in_session:
        out += [m.tick_string(r, BID_EXCH, _exchange_letters(spec, view, 1)),
                m.tick_string(r, ASK_EXCH, _exchange_letters(spec, view, 2)),
                m.tick_string(r, LAST_EXCH, _exchange_letters(spec, view, 3)[:1])]
    if has_book(spec):
        out.append(m.tick_generic(r, HALTED, view.halted))
    return out


def _delayed_opening(sv: int, sub: MarketDataSub, view: TickView) -> list[Fields]:
    """A delayed line's opening, as a recorded delayed AAPL stream sends it (IB Gateway, server version 225,
    2026-08-24): high 72, low 73, volume 74, close 75, last 68 with its size (no separate 71), lastTimestamp
    88, open 76, then bid 66 and ask 67 with their sizes; no halted (49) and no exchange strings. (Open's place
    varies between recordings: another one of the same day has it first.)"""
    spec, r, q = sub.spec, sub.req_id, view.quote
    out = [m.tick_price(sv, r, sub.tid(HIGH), q.high, 0), m.tick_price(sv, r, sub.tid(LOW), q.low, 0)]
    if has_book(spec) and trades(spec):
        out.append(m.tick_size(sv, r, sub.tid(VOLUME), q.volume))
    out.append(m.tick_price(sv, r, sub.tid(CLOSE), q.close, 0))
    if not has_book(spec):
        out.append(m.tick_price(sv, r, sub.tid(LAST), q.last, 0))
    elif trades(spec):
        out += [m.tick_price(sv, r, sub.tid(LAST), q.last, q.last_size),
                m.tick_string(r, sub.tid(LAST_TIMESTAMP), str(int(view.epoch_s)))]
    if _has_open(spec):
        out.append(m.tick_price(sv, r, sub.tid(OPEN), q.open, 0))
    if has_book(spec):
        bid, bid_size, ask, ask_size = _book(sub, view)
        out += [m.tick_price(sv, r, sub.tid(BID), bid, bid_size), m.tick_price(sv, r, sub.tid(ASK), ask, ask_size)]
        sub.bid, sub.bid_size, sub.ask, sub.ask_size = bid, bid_size, ask, ask_size
    return out


def statistics_ticks(sv: int, sub: MarketDataSub, view: TickView, stats: ContractStats) -> list[Fields]:
    """The generic ticks asked for that report statistics, once at the start (IB refreshes them slowly)."""
    ids = set(generic_tick_ids(",".join(sub.generic_ticks)) or ())
    r, q = sub.req_id, view.quote
    out: list[Fields] = []
    if 165 in ids:
        out += [m.tick_price(sv, r, t, v, 0) for t, v in zip(range(LOW_13_WEEK, HIGH_52_WEEK + 1), stats.ranges)]
        out.append(m.tick_size(sv, r, AVG_VOLUME, round(stats.avg_volume)))
    if 104 in ids:
        out.append(m.tick_generic(r, OPTION_HISTORICAL_VOL, round(stats.hist_vol, 6)))
    if 106 in ids:
        out.append(m.tick_generic(r, OPTION_IMPLIED_VOL, round(stats.implied_vol, 6)))
    if 411 in ids:
        out.append(m.tick_generic(r, RT_HISTORICAL_VOL, round(stats.hist_vol * 100, 4)))
    if ids & {221, 232}:
        mid = (q.bid + q.ask) / 2 if q.bid > 0 and q.ask > 0 else q.last
        out.append(m.tick_price(sv, r, MARK_PRICE, round(mid, 6), 0))
    if 100 in ids or 101 in ids:       # the stock's listed options: a share of its own turnover, calls over puts
        volume = max(q.volume, 0) / 100.0
        if 100 in ids:
            out += [m.tick_size(sv, r, OPTION_CALL_VOLUME, round(volume * 0.55)),
                    m.tick_size(sv, r, OPTION_PUT_VOLUME, round(volume * 0.45))]
        if 101 in ids:
            out += [m.tick_size(sv, r, OPTION_CALL_OI, round(stats.avg_volume / 10 * 0.55)),
                    m.tick_size(sv, r, OPTION_PUT_OI, round(stats.avg_volume / 10 * 0.45))]
    if 236 in ids and sub.spec.sec_type == "STK":
        out.append(m.tick_size(sv, r, SHORTABLE_SHARES, round(stats.avg_volume * SHORTABLE_DAYS_OF_VOLUME)))
    if 293 in ids:
        out.append(m.tick_generic(r, TRADE_COUNT, float(q.volume // 100 if q.volume > 0 else 0)))
    if 294 in ids:      # trades per minute: the average day's count (trades of 100) over its session
        out.append(m.tick_generic(r, TRADE_RATE, round(stats.avg_volume / 100 / SESSION_MINUTES, 2)))
    if 295 in ids:      # volume per minute
        out.append(m.tick_generic(r, VOLUME_RATE, round(stats.avg_volume / SESSION_MINUTES, 2)))
    if 105 in ids and sub.spec.sec_type == "STK":   # the listed options' average daily volume (as 100/101 model it)
        out.append(m.tick_size(sv, r, AVG_OPT_VOLUME, round(stats.avg_volume / 100.0)))
    if 588 in ids and sub.spec.sec_type == "FUT":
        out.append(m.tick_size(sv, r, FUTURES_OPEN_INTEREST, round(stats.avg_volume * OPEN_INTEREST_DAYS_OF_VOLUME)))
    if 318 in ids:
        out.append(m.tick_price(sv, r, LAST_RTH_TRADE, stats.last_rth, 0))
    if ids & {456, 59} and stats.dividends:
        out.append(m.tick_string(r, IB_DIVIDENDS, stats.dividends))
    return out


def changed_ticks(sv: int, sub: MarketDataSub, view: TickView) -> list[Fields]:
    """What changed since the last send, trade first (last, lastSize, volume, lastTimestamp), then the book.

    Runs for every subscription at every grid step: the per-sub facts are looked up once (``sub.shape``)."""
    shape = sub.shape or _shape(sub)
    book, printed, tid = shape
    r, q = sub.req_id, view.quote
    out: list[Fields] = []
    if view.halted != sub.halted and book:
        out.append(m.tick_generic(r, HALTED, view.halted))
        sub.halted = view.halted
    if not book:
        if q.last != sub.last:
            out.append(m.tick_price(sv, r, tid[LAST], q.last, 0))
            sub.last = q.last
    elif printed and q.volume != sub.volume and view.trading:
        traded = max(q.volume - max(sub.volume, 0), 0)
        if q.last != sub.last:
            out.append(m.tick_price(sv, r, tid[LAST], q.last, q.last_size))
        if q.last_size != sub.last_size:
            out.append(m.tick_size(sv, r, tid[LAST_SIZE], q.last_size))
        out.append(m.tick_size(sv, r, tid[VOLUME], q.volume))
        out.append(m.tick_string(r, tid[LAST_TIMESTAMP], str(int(view.epoch_s))))
        sub.value_traded += q.last * traded
        sub.volume_traded += traded
        if sub.generic_ticks:
            if "233" in sub.generic_ticks:
                out.append(_rt_volume(sv, sub, view, q.last_size, single=traded == q.last_size))
            if "375" in sub.generic_ticks:
                out.append(_rt_volume(sv, sub, view, q.last_size, single=traded == q.last_size,
                                      tick_type=RT_TRD_VOLUME))
        sub.last, sub.last_size, sub.volume = q.last, q.last_size, q.volume
    if book:
        if view.in_session or sub.data_type not in (1, 3):
            bid, bid_size, ask, ask_size = q.bid, q.bid_size, q.ask, q.ask_size
        else:
            bid, bid_size, ask, ask_size = -1.0, 0, -1.0, 0
        sides: list[Fields] = []
        if bid != sub.bid:
            sides.append(m.tick_price(sv, r, tid[BID], bid, bid_size))
        elif bid_size != sub.bid_size:
            sides.append(m.tick_size(sv, r, tid[BID_SIZE], bid_size))
        if ask != sub.ask:
            sides.append(m.tick_price(sv, r, tid[ASK], ask, ask_size))
        elif ask_size != sub.ask_size:
            sides.append(m.tick_size(sv, r, tid[ASK_SIZE], ask_size))
        # A rising book moves its ask first: a client that quotes after every tick (nautilus_trader builds a
        # QuoteTick from its last bid and ask on each tickPrice) then sees a wider book in between, never the
        # new bid against the old ask (a locked or crossed quote).
        out += sides[::-1] if len(sides) == 2 and ask > sub.ask else sides
        sub.bid, sub.bid_size, sub.ask, sub.ask_size = bid, bid_size, ask, ask_size
    if q.high != sub.high:
        out.append(m.tick_price(sv, r, tid[HIGH], q.high, 0))
        sub.high = q.high
    if q.low != sub.low:
        out.append(m.tick_price(sv, r, tid[LOW], q.low, 0))
        sub.low = q.low
    if view.option is not None:
        out += option_ticks(sv, sub, view, first=False)
    return out


def _shape(sub: MarketDataSub) -> tuple:
    """(has a book, prints trades, tick type -> the type sent) of a subscription, worked out once."""
    tid = {t: sub.ids.get(t, t) for t in (BID, ASK, LAST, BID_SIZE, ASK_SIZE, LAST_SIZE, HIGH, LOW, VOLUME,
                                          LAST_TIMESTAMP)}
    sub.shape = (has_book(sub.spec), trades(sub.spec), tid)
    return sub.shape


def _rt_volume(sv: int, sub: MarketDataSub, view: TickView, size: float, single: bool,
               tick_type: int = RT_VOLUME) -> Fields:
    """RTVolume (48, generic 233): "last;size;ms;day volume;VWAP;single trade" (TWS API tick types)."""
    vwap = sub.value_traded / sub.volume_traded if sub.volume_traded > 0 else view.quote.last
    text = (f"{fmt_float(view.quote.last)};{m.fmt_size(sv, size)};{int(view.epoch_s * 1000)};"
            f"{m.fmt_size(sv, view.quote.volume)};{fmt_float(round(vwap, 8))};{'true' if single else 'false'}")
    return m.tick_string(sub.req_id, tick_type, text)


def option_ticks(sv: int, sub: MarketDataSub, view: TickView, first: bool) -> list[Fields]:
    """tickOptionComputation for bid, ask, last and model, when the option's inputs moved (or at the start)."""
    model = view.option
    if model is None:
        return []
    q = view.quote
    key = (sub.bid, sub.ask, q.last, round(model.under_price, 6), round(model.years * 365 * 96))
    if not first and key == sub.option_key:
        return []
    sub.option_key = key
    spot, k, years, right = model.under_price, model.strike, model.years, model.right
    out: list[Fields] = []
    for tick_type, price in ((BID_OPTION, sub.bid), (ASK_OPTION, sub.ask), (LAST_OPTION, q.last),
                             (MODEL_OPTION, None)):
        vol = model.vol if price is None else (implied_vol(price, spot, k, years, right) if price > 0 else None)
        if vol is None:
            out.append(m.tick_option_computation(sv, sub.req_id, sub.tid(tick_type), NOT_COMPUTED_IV,
                                                 NOT_COMPUTED_DELTA, -1.0, -1.0, -2.0, -2.0, -2.0, spot))
            continue
        value, delta, gamma, vega, theta = option_greeks(spot, k, years, vol, right)
        out.append(m.tick_option_computation(sv, sub.req_id, sub.tid(tick_type), vol, delta,
                                             value if price is None else price, 0.0, gamma, vega, theta, spot))
    return out


__all__ = ["ContractStats", "DELAYED_TICK", "MarketDataSub", "TickView", "changed_ticks", "first_ticks",
           "generic_tick_ids", "generic_ticks_refusal", "option_ticks", "statistics_ticks",
           "stock_generic_ticks_refusal"]
