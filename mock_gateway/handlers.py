"""Inbound requests: ONE table from message id to request handler (ib_insync's decoder, reversed).

A handler reads the request's fields, asks the world, and queues replies on the session with
the reply kind that carries their latency. A request the gateway cannot serve gets the error
the real gateway would give, and the session lives on. Streaming subscriptions are kept by
:mod:`mock_gateway.feeds`.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from . import depth, option_calc, reference, tick_by_tick
from .desks import Desks
from .errors import NoSecurityDefinition, RequestError
from .feeds import BarsRequest, MarketDataRequest
from .protocol import messages as m
from .protocol.fields import field_at, int_at, parse_float, parse_int
from .protocol.kinds import ReplyKind
from .protocol.orders import OrderParseError, parse_place_order
from .protocol.requests import REQUEST_SPECS, Request
from .protocol.time import parse_end_datetime
from .replies import ReplyChannel
from .scanners import parse_scan_request
from .sim import bar_rules
from .sim.contracts import ContractQuery, ContractSpec
from .sim.world import World


log = logging.getLogger("mock_gateway.handlers")

Handler = Callable[[Desks, ReplyChannel, Request], None]
K = ReplyKind


# ---------------------------------------------------------------------------------------------- helpers
_int = int_at
_field = field_at


def _contract_at(f: Sequence[str], i: int) -> ContractQuery:
    if len(f) < i + 12:
        raise ValueError(f"request ends inside its contract (needs fields {i}..{i + 11}, has {len(f)})")
    try:
        return ContractQuery.from_wire(f[i:i + 12])
    except OverflowError:      # a conId or strike like 1e400: read as infinity, no integer
        raise ValueError(f"contract field out of range (conId {f[i]!r}, strike {f[i + 4]!r})") from None


def qualify(world: World, req_id: int, query: ContractQuery) -> ContractSpec:
    """The one contract a request names, or RequestError 200 (unknown or ambiguous), as TWS answers."""
    found = world.contracts.match(query)
    if len(found) == 1:
        return found[0]
    if not found:
        raise NoSecurityDefinition(req_id)
    name = query.symbol or query.local_symbol
    raise RequestError(req_id, 200, f"The contract description specified for {name} is ambiguous.")


# ---------------------------------------------------------------------------------------------- session level
def req_current_time(g: Desks, s: ReplyChannel, r: Request) -> None:
    s.send(K.OTHER, [m.current_time(int(g.clock.epoch_now()))])


def req_current_time_in_millis(g: Desks, s: ReplyChannel, r: Request) -> None:
    s.send(K.OTHER, [m.current_time_in_millis(int(g.clock.epoch_now() * 1000))])


def req_ids(g: Desks, s: ReplyChannel, r: Request) -> None:
    s.send(K.OTHER, [m.next_valid_id(g.world.orders.next_valid_id(s.client_id or 0))])


def req_managed_accts(g: Desks, s: ReplyChannel, r: Request) -> None:
    s.send(K.OTHER, [m.managed_accounts(g.config.account_ids)])


def req_market_data_type(g: Desks, s: ReplyChannel, r: Request) -> None:
    f = r.fields
    data_type = _int(f, 2, "marketDataType")
    if data_type not in (1, 2, 3, 4):
        raise RequestError(-1, 321, f"Error validating request.-'cm' : cause - Invalid market data type {data_type}")
    g.feeds.set_market_data_type(s, data_type)


def ignore(g: Desks, s: ReplyChannel, r: Request) -> None:
    """Requests with no reply (setServerLogLevel, news bulletins: there are none)."""


# ---------------------------------------------------------------------------------------------- contracts
def req_contract_details(g: Desks, s: ReplyChannel, r: Request) -> None:
    f = r.fields
    req_id = r.required_id()
    query = ContractQuery.from_wire(f[3:15], _field(f, 16), _field(f, 17)) if len(f) >= 15 else _contract_at(f, 3)
    reference.send_contract_details(g, s, req_id, query)   # a whole chain is long: sent in slices


# ---------------------------------------------------------------------------------------------- market data
def req_mkt_data(g: Desks, s: ReplyChannel, r: Request) -> None:
    f = r.fields
    req_id = r.required_id()
    query = _contract_at(f, 3)
    i = 15
    if query.sec_type == "BAG":
        i += 1 + 4 * _int(f, i, "comboLegs count")
        raise RequestError(req_id, 321, "Error validating request.-'bW' : cause - combo market data is not "
                                        "available in this mock")
    if _field(f, i) == "1":
        i += 3
    generic = frozenset(t.strip() for t in _field(f, i + 1).split(",") if t.strip())
    snapshot, regulatory = _field(f, i + 2) == "1", _field(f, i + 3) == "1"
    if g.feeds.has_market_data(s, req_id):
        raise RequestError(req_id, 322, "Error processing request.-'bW' : cause - Duplicate ticker id")
    spec = qualify(g.world, req_id, query)
    g.feeds.start_market_data(s, MarketDataRequest(req_id, spec, generic, snapshot, regulatory,
                                                   _field(f, i + 1)))


def cancel_mkt_data(g: Desks, s: ReplyChannel, r: Request) -> None:
    f = r.fields
    req_id = r.required_id()
    if not g.feeds.stop_market_data(s, req_id):
        raise RequestError(req_id, 300, f"Can't find EId with tickerId:{req_id}")


# ---------------------------------------------------------------------------------------------- market depth
def req_mkt_depth(g: Desks, s: ReplyChannel, r: Request) -> None:
    """reqMktDepth: [10, 5, reqId, contract(12, primaryExchange included), numRows, isSmartDepth, mktDepthOptions]
    (ibapi client.reqMktDepth at every version this mock speaks: >= 149 and >= 146 SMART_DEPTH)."""
    f = r.fields
    req_id = r.required_id()
    query = _contract_at(f, 3)
    rows = _int(f, 15, "numRows")
    is_smart = _field(f, 16) == "1"
    if g.depth.has(s, req_id):
        raise RequestError(req_id, 322, depth.DUPLICATE_ID)
    if rows < 1:
        raise RequestError(req_id, 321, f"Error validating request.-'bX' : cause - Invalid number of rows {rows}: "
                                        "ask for at least 1")
    spec = qualify(g.world, req_id, query)
    try:
        venue = depth.depth_venue(spec, query.exchange, is_smart, g.world.market.config.data_permission)
    except ValueError as exc:
        raise RequestError(req_id, 10092, str(exc)) from None
    g.depth.start(s, req_id, spec, venue, rows)


def cancel_mkt_depth(g: Desks, s: ReplyChannel, r: Request) -> None:
    """cancelMktDepth: [11, 1, reqId, isSmartDepth]; a line the connection does not hold gets 310."""
    req_id = r.required_id()
    if not g.depth.stop(s, req_id):
        raise RequestError(req_id, 310, f"Can't find the subscribed market depth with tickerId:{req_id}")


# ---------------------------------------------------------------------------------------------- option calculations
OPTION_CALC_NOT_AN_OPTION = ("Error validating request.-'cx' : cause - Option calculations are only available for "
                             "options (OPT, FOP)")


def _option_calc_inputs(g: Desks, r: Request, input_name: str):
    """(reqId, the option's model now, the input value, the underlying price) of a 54/55 request.

    Layout [54|55, version, reqId, contract(12), input, underPrice, miscOptions] (ibapi client.py; the
    protobuf requests are decoded into it). The misc options are read first, as IB reads the request:
    a field that is not ``tag=value;`` is 320 whatever the contract."""
    f = r.fields
    req_id = r.required_id()
    query = _contract_at(f, 3)
    value = parse_float(_field(f, 15))
    under = parse_float(_field(f, 16))
    try:
        option_calc.parse_misc_options(_field(f, 17))
    except option_calc.MiscOptionsFormatError as exc:
        raise RequestError(req_id, 320, str(exc)) from None
    if value is None:
        raise ValueError(f"{input_name} (field 15) is missing")
    spec = qualify(g.world, req_id, query)
    model = g.world.market.option_model(spec.con_id, g.clock.env.now)
    if model is None:
        raise RequestError(req_id, 321, OPTION_CALC_NOT_AN_OPTION)
    # no underlying price given (unset or not positive): the simulated underlying's mid, as IB prices with its own
    return req_id, model, value, under if under is not None and under > 0 else model.under_price


def calculate_implied_volatility(g: Desks, s: ReplyChannel, r: Request) -> None:
    req_id, model, price, under = _option_calc_inputs(g, r, "optionPrice")
    s.send(K.MARKET_DATA, [option_calc.implied_volatility(model, price, under).fields(s.server_version, req_id)])


def calculate_option_price(g: Desks, s: ReplyChannel, r: Request) -> None:
    req_id, model, vol, under = _option_calc_inputs(g, r, "volatility")
    s.send(K.MARKET_DATA, [option_calc.option_price(model, vol, under).fields(s.server_version, req_id)])


# ---------------------------------------------------------------------------------------------- bars
#: IB: "The maximum number of simultaneous open historical data requests from the API is 50"
#: (historical_limitations.html); a keepUpToDate request stays open until cancelled.
MAX_HISTORICAL_UPDATES = 50
HISTORICAL_UPDATES_LIMIT = ("Error processing request:-'wd' : cause - Only 50 simultaneous API historical data "
                            "requests allowed.")


def req_historical_data(g: Desks, s: ReplyChannel, r: Request) -> None:
    f = r.fields
    req_id = r.required_id()
    query = _contract_at(f, 2)
    end_text, bar_text, duration_text = _field(f, 15), _field(f, 16), _field(f, 17)
    use_rth, what, format_date = _field(f, 18) == "1", _field(f, 19).upper(), parse_int(_field(f, 20)) or 1
    i = 21
    if query.sec_type == "BAG":
        i += 1 + 4 * _int(f, i, "comboLegs count")
    keep_up_to_date = _field(f, i) == "1"
    try:
        bar = bar_rules.parse_bar_size(bar_text)
        duration = bar_rules.parse_duration(duration_text)
        bar_rules.check_adjusted_last(what, bool(end_text.strip()), bar)
    except bar_rules.BarRuleError as exc:
        raise RequestError(req_id, exc.code, f"Error validating request.-'bP' : cause - {exc.text}") from None
    try:
        end = parse_end_datetime(end_text)
    except ValueError as exc:
        raise RequestError(req_id, 321, f"Error validating request.-'bP' : cause - {exc}") from None
    if keep_up_to_date and end is not None:
        raise RequestError(req_id, 321, "Error validating request.-'bP' : cause - End date not supported with live "
                                        "updates")
    if keep_up_to_date and g.feeds.historical_update_count(excluding=(s.conn_id, req_id)) >= MAX_HISTORICAL_UPDATES:
        raise RequestError(req_id, 322, HISTORICAL_UPDATES_LIMIT)
    spec = qualify(g.world, req_id, query)
    now_epoch = g.clock.epoch_now()
    end_epoch = now_epoch if end is None else min(now_epoch, end.timestamp())
    listed = bar_rules.listing_epoch(spec.listing_date) if spec.listing_date else None
    try:
        bar_rules.check_window(bar, duration, what, spec.sec_type, spec.symbol, spec.exchange, end_epoch, now_epoch,
                               listed)
    except bar_rules.BarRuleError as exc:
        raise RequestError(req_id, exc.code, exc.text) from None
    adjusted = what == "ADJUSTED_LAST"           # TRADES bars adjusted for dividends (splits: the path already is)
    req = BarsRequest(req_id, spec, bar.seconds, "TRADES" if adjusted else what, use_rth, format_date, listed,
                      adjusted)
    g.feeds.send_historical_data(s, req, end, duration.seconds, keep_up_to_date)


def req_historical_ticks(g: Desks, s: ReplyChannel, r: Request) -> None:
    """reqHistoricalTicks: [96, reqId, contract(12), includeExpired, start, end, numberOfTicks, whatToShow,
    useRth, ignoreSize, miscOptions] (ibapi client.reqHistoricalTicks)."""
    f = r.fields
    req_id = r.required_id()
    query = _contract_at(f, 2)
    start_text, end_text = _field(f, 15), _field(f, 16)
    count, what, use_rth = parse_int(_field(f, 17)) or 0, _field(f, 18).upper(), _field(f, 19) == "1"
    if bool(start_text.strip()) == bool(end_text.strip()):
        raise RequestError(req_id, 321, "Error validating request.-'cz' : cause - Exactly one of start and end dates "
                                        "must be specified")
    if not 0 < count <= 1000:
        raise RequestError(req_id, 321, "Error validating request.-'cz' : cause - Number of ticks must be between 1 "
                                        "and 1000")
    if what not in ("TRADES", "BID_ASK", "MIDPOINT"):
        raise RequestError(req_id, 321, f"Error validating request.-'cz' : cause - Invalid whatToShow {what}: "
                                        "TRADES, BID_ASK or MIDPOINT")
    try:
        start, end = parse_end_datetime(start_text), parse_end_datetime(end_text)
    except ValueError as exc:
        raise RequestError(req_id, 321, f"Error validating request.-'cz' : cause - {exc}") from None
    spec = qualify(g.world, req_id, query)
    if what == "TRADES" and spec.sec_type == "CASH":
        raise RequestError(req_id, 162, bar_rules.no_data_text(spec.symbol, spec.exchange, what))
    listed = bar_rules.listing_epoch(spec.listing_date) if spec.listing_date else None
    g.feeds.send_historical_ticks(s, req_id, spec, start, end, count, what, use_rth, listed)


#: What IB answers when the account has no live subscription for tick-by-tick data (delayed data has no
#: tick-by-tick form).
TICK_BY_TICK_NOT_SUBSCRIBED = "Requested market data requires additional subscription for API."
TICK_BY_TICK_LIMIT = "Max number of tick-by-tick requests has been reached."


def req_tick_by_tick_data(g: Desks, s: ReplyChannel, r: Request) -> None:
    """reqTickByTickData: [97, reqId, contract(12), tickType, numberOfTicks, ignoreSize] (ibapi client.py; the
    last two from server version 140)."""
    f = r.fields
    req_id = r.required_id()
    query = _contract_at(f, 2)
    type_text = _field(f, 14)
    number_of_ticks = max(0, parse_int(_field(f, 15)) or 0)
    ignore_size = _field(f, 16) == "1"
    if g.feeds.has_tick_by_tick(s, req_id):
        raise RequestError(req_id, 322, "Error processing request.-'bW' : cause - Duplicate ticker id")
    tick_type = tick_by_tick.TICK_TYPES.get(type_text)
    if tick_type is None:
        raise RequestError(req_id, 321, f"Error validating request.-'cA' : cause - Invalid tick type {type_text[:40]!r}: "
                                        "Last, AllLast, BidAsk or MidPoint (case sensitive)")
    spec = qualify(g.world, req_id, query)
    refused = tick_by_tick.refusal(spec)
    if refused:
        raise RequestError(req_id, 321, f"Error validating request.-'cA' : cause - {refused}")
    if g.world.market.config.data_permission != "live":
        raise RequestError(req_id, 10089, TICK_BY_TICK_NOT_SUBSCRIBED)
    if g.feeds.tick_by_tick_count() >= tick_by_tick.max_subscriptions(g.config.market_data_lines):
        raise RequestError(req_id, 10190, TICK_BY_TICK_LIMIT)
    sub = tick_by_tick.TickByTickSub(s, req_id, spec, tick_type, ignore_size)
    g.feeds.start_tick_by_tick(s, sub, number_of_ticks)


def cancel_tick_by_tick_data(g: Desks, s: ReplyChannel, r: Request) -> None:
    """cancelTickByTickData: [98, reqId]; an unknown id is ignored, as TWS does."""
    g.feeds.stop_tick_by_tick(s, r.required_id())


_HISTOGRAM_PERIOD_S = {"day": 86400, "days": 86400, "week": 7 * 86400, "weeks": 7 * 86400, "month": 30 * 86400,
                       "months": 30 * 86400}


def req_histogram_data(g: Desks, s: ReplyChannel, r: Request) -> None:
    """reqHistogramData: [88, reqId, contract(12), includeExpired, useRTH, timePeriod] ('3 days', '1 week')."""
    f = r.fields
    req_id = r.required_id()
    query = _contract_at(f, 2)
    use_rth, period = _field(f, 15) == "1", _field(f, 16).strip().lower().split()
    if len(period) != 2 or not period[0].isdigit() or period[1] not in _HISTOGRAM_PERIOD_S \
            or not 0 < int(period[0]) * _HISTOGRAM_PERIOD_S[period[1]] <= 366 * 86400:
        raise RequestError(req_id, 321, f"Error validating request.-'cy' : cause - Invalid period {_field(f, 16)!r}: "
                                        "an integer and days, weeks or months, up to a year")
    spec = qualify(g.world, req_id, query)
    g.feeds.send_histogram(s, req_id, spec, use_rth, int(period[0]) * _HISTOGRAM_PERIOD_S[period[1]])


def cancel_historical_data(g: Desks, s: ReplyChannel, r: Request) -> None:
    f = r.fields
    req_id = r.required_id()
    if not g.feeds.stop_historical_updates(s, req_id):
        raise RequestError(req_id, 366, f"No historical data query found for ticker id:{req_id}")


def req_real_time_bars(g: Desks, s: ReplyChannel, r: Request) -> None:
    f = r.fields
    req_id = r.required_id()
    query = _contract_at(f, 3)
    what, use_rth = _field(f, 16).upper(), _field(f, 17) == "1"
    if g.feeds.has_realtime_bars(s, req_id):
        raise RequestError(req_id, 322, "Error processing request.-'bW' : cause - Duplicate ticker id")
    spec = qualify(g.world, req_id, query)
    g.feeds.start_realtime_bars(s, BarsRequest(req_id, spec, 5.0, what or "TRADES", use_rth, 2))


def cancel_real_time_bars(g: Desks, s: ReplyChannel, r: Request) -> None:
    g.feeds.stop_realtime_bars(s, r.required_id())


# ---------------------------------------------------------------------------------------------- orders
def place_order(g: Desks, s: ReplyChannel, r: Request) -> None:
    f = r.fields
    order_id = r.required_id()
    try:
        wire = parse_place_order(f, s.server_version)
    except OrderParseError as exc:
        g.orders.refuse(s, order_id, 320, f"Error reading request. Message id 3. {exc}", rule="unreadable_field")
    g.orders.place(s, wire)


def cancel_order(g: Desks, s: ReplyChannel, r: Request) -> None:
    g.orders.cancel(s, r.required_id())   # manualCancelOrderTime (>= 169) is not used


def req_global_cancel(g: Desks, s: ReplyChannel, r: Request) -> None:
    g.orders.global_cancel(s)


def req_open_orders(g: Desks, s: ReplyChannel, r: Request) -> None:
    g.orders.send_open_orders(s, all_clients=False)


def req_all_open_orders(g: Desks, s: ReplyChannel, r: Request) -> None:
    g.orders.send_open_orders(s, all_clients=True)


def req_auto_open_orders(g: Desks, s: ReplyChannel, r: Request) -> None:
    f = r.fields
    if s.client_id != 0:
        raise RequestError(-1, 321, "Error validating request.-'bb' : cause - The reqAutoOpenOrders request is only "
                                    "allowed for client id 0")
    # accepted with nothing to bind: the mock has no orders placed in a TWS window (see OrderDesk._recipients)


def req_completed_orders(g: Desks, s: ReplyChannel, r: Request) -> None:
    f = r.fields
    g.orders.send_completed_orders(s, api_only=_field(f, 1) == "1")


def req_executions(g: Desks, s: ReplyChannel, r: Request) -> None:
    f = r.fields
    req_id = r.required_id()
    g.orders.send_executions(s, req_id, client_id=parse_int(_field(f, 3)) or None, account=_field(f, 4),
                                time_text=_field(f, 5), symbol=_field(f, 6), sec_type=_field(f, 7),
                                exchange=_field(f, 8), side=_field(f, 9))


# ---------------------------------------------------------------------------------------------- account
def _account_or_error(g: Desks, account: str, req_id: int = -1) -> str:
    accounts = g.config.account_ids
    if not account:
        return accounts[0]
    if account not in accounts:
        raise RequestError(req_id, 321, f"Error validating request.-'bg' : cause - Account {account} is not "
                                        f"managed by this session ({','.join(accounts)})")
    return account


def req_account_updates(g: Desks, s: ReplyChannel, r: Request) -> None:
    f = r.fields
    subscribe = _field(f, 2) == "1"
    account = _account_or_error(g, _field(f, 3))
    if subscribe:
        g.accounts.start_account_updates(s, account)
    else:
        g.accounts.stop_account_updates(s)


def _accounts_or_error(g: Desks, account: str, req_id: int) -> str:
    """A '...Multi' request's account: one managed account, or ''/'All' for every one."""
    if account and account != "All":
        _account_or_error(g, account, req_id)
    return account


def req_account_updates_multi(g: Desks, s: ReplyChannel, r: Request) -> None:
    f = r.fields
    req_id = r.required_id()
    account = _accounts_or_error(g, _field(f, 3), req_id)
    g.accounts.start_account_updates_multi(s, req_id, account, _field(f, 4))


def cancel_account_updates_multi(g: Desks, s: ReplyChannel, r: Request) -> None:
    g.accounts.stop_account_updates_multi(s, r.required_id())


def req_account_summary(g: Desks, s: ReplyChannel, r: Request) -> None:
    f = r.fields
    req_id = r.required_id()
    if g.accounts.has_account_summary(s, req_id):
        raise RequestError(req_id, 322, "Error processing request.-'bW' : cause - Duplicate ticker id")
    g.accounts.start_account_summary(s, req_id, _field(f, 3), _field(f, 4))


def cancel_account_summary(g: Desks, s: ReplyChannel, r: Request) -> None:
    g.accounts.stop_account_summary(s, r.required_id())


def req_positions(g: Desks, s: ReplyChannel, r: Request) -> None:
    g.accounts.start_positions(s)


def cancel_positions(g: Desks, s: ReplyChannel, r: Request) -> None:
    g.accounts.stop_positions(s)


def req_pnl(g: Desks, s: ReplyChannel, r: Request) -> None:
    f = r.fields
    req_id = r.required_id()
    account = _account_or_error(g, _field(f, 2), req_id)
    if g.accounts.has_pnl(s, req_id):
        raise RequestError(req_id, 322, "Error processing request.-'bW' : cause - Duplicate ticker id")
    g.accounts.start_pnl(s, req_id, account)


def cancel_pnl(g: Desks, s: ReplyChannel, r: Request) -> None:
    g.accounts.stop_pnl(s, r.required_id())


def req_pnl_single(g: Desks, s: ReplyChannel, r: Request) -> None:
    f = r.fields
    req_id = r.required_id()
    account = _account_or_error(g, _field(f, 2), req_id)
    if g.accounts.has_pnl(s, req_id):
        raise RequestError(req_id, 322, "Error processing request.-'bW' : cause - Duplicate ticker id")
    g.accounts.start_pnl(s, req_id, account, _int(f, 4, "conId"))


def req_positions_multi(g: Desks, s: ReplyChannel, r: Request) -> None:
    f = r.fields
    req_id = r.required_id()
    account = _accounts_or_error(g, _field(f, 3), req_id)
    g.accounts.send_positions_multi(s, req_id, account, _field(f, 4))


# ---------------------------------------------------------------------------------------------- scanners
def req_scanner_parameters(g: Desks, s: ReplyChannel, r: Request) -> None:
    g.scanners.parameters(s)


def req_scanner_subscription(g: Desks, s: ReplyChannel, r: Request) -> None:
    g.scanners.subscribe(s, parse_scan_request(r))


def cancel_scanner_subscription(g: Desks, s: ReplyChannel, r: Request) -> None:
    g.scanners.cancel(s, r.int_field(2, "reqId"))


# ---------------------------------------------------------------------------------------------- not served
def not_served(g: Desks, s: ReplyChannel, r: Request) -> None:
    """A request the mock does not serve: the error the real gateway gives (the spec says which)."""
    code, text = r.spec.error_for_not_served()
    log.info("conn %d: %s is not served by the mock gateway (error %d)", s.conn_id, r.name, code)
    s.error(r.req_id, code, text)


def unknown_message(g: Desks, s: ReplyChannel, r: Request) -> None:
    log.warning("conn %d: unknown request message id %s", s.conn_id, r.fields[0][:20] if r.fields else "")
    s.error(-1, 320, f"Error reading request. Message id {r.msg_id}. Unknown message id")


# ---------------------------------------------------------------------------------------------- the table
HANDLERS: dict[int, Handler] = {
    1: req_mkt_data,
    2: cancel_mkt_data,
    3: place_order,
    4: cancel_order,
    5: req_open_orders,
    6: req_account_updates,
    7: req_executions,
    8: req_ids,
    9: req_contract_details,
    10: req_mkt_depth,
    11: cancel_mkt_depth,
    12: ignore,                 # reqNewsBulletins: there are none
    13: ignore,                 # cancelNewsBulletins
    14: ignore,                 # setServerLoglevel
    15: req_auto_open_orders,
    16: req_all_open_orders,
    17: req_managed_accts,
    20: req_historical_data,
    22: req_scanner_subscription,
    23: cancel_scanner_subscription,
    24: req_scanner_parameters,
    25: cancel_historical_data,
    49: req_current_time,
    50: req_real_time_bars,
    51: cancel_real_time_bars,
    54: calculate_implied_volatility,
    55: calculate_option_price,
    56: ignore,                 # cancelCalculateImpliedVolatility: answered once, nothing left to stop
    57: ignore,                 # cancelCalculateOptionPrice: likewise
    58: req_global_cancel,
    59: req_market_data_type,
    61: req_positions,
    62: req_account_summary,
    63: cancel_account_summary,
    64: cancel_positions,
    74: req_positions_multi,
    75: ignore,                 # cancelPositionsMulti: positionsMulti is answered once
    76: req_account_updates_multi,
    77: cancel_account_updates_multi,
    78: reference.req_sec_def_opt_params,
    79: reference.req_soft_dollar_tiers,
    80: reference.req_family_codes,
    81: reference.req_matching_symbols,
    82: reference.req_mkt_depth_exchanges,
    83: reference.req_smart_components,
    84: reference.req_news_article,
    85: reference.req_news_providers,
    86: reference.req_historical_news,
    87: reference.req_head_timestamp,
    88: req_histogram_data,
    89: ignore,                 # cancelHistogramData
    90: ignore,                 # cancelHeadTimestamp
    91: reference.req_market_rule,
    92: req_pnl,
    93: cancel_pnl,
    94: req_pnl_single,
    95: cancel_pnl,             # cancelPnLSingle: [95, reqId], the same shape as cancelPnL
    96: req_historical_ticks,
    97: req_tick_by_tick_data,
    98: cancel_tick_by_tick_data,
    99: req_completed_orders,
    101: ignore,                # cancelWshMetaData
    103: ignore,                # cancelWshEventData
    104: reference.req_user_info,
    105: req_current_time_in_millis,
    106: reference.cancel_contract_data,   # stops a long contract-details answer still being sent
    107: ignore,                # cancelHistoricalTicks: historical ticks are not served
}


def handler_of(request: Request) -> Handler:
    """The handler a request runs: its row, or the not-served / unknown answer."""
    handler = HANDLERS.get(request.msg_id)
    if handler is not None:
        return handler
    return not_served if request.spec.known else unknown_message


def dispatch_request(desks: Desks, session: ReplyChannel, request: Request) -> None:
    """Run the handler for one request; every failure becomes an error reply, never a dead session."""
    try:
        handler_of(request)(desks, session, request)
    except RequestError as exc:   # with the request's reply kind, so it keeps its place behind delayed replies
        session.error(exc.req_id, exc.code, exc.text, kind=request.reply_kind)
    except (ValueError, IndexError) as exc:
        log.warning("conn %d: malformed %s: %s", session.conn_id, request.name, exc)
        session.error(request.req_id, 320, f"Error reading request. Message id {request.msg_id}. {exc}")
    except Exception as exc:  # a bug here must not take the session down
        log.exception("conn %d: %s failed", session.conn_id, request.name)
        session.error(request.req_id, 321, f"Error validating request.-'{request.msg_id}' : cause - internal error "
                                           f"in the mock gateway: {exc!r}")


_unserved_with_handlers = sorted(i for i in HANDLERS if not REQUEST_SPECS[i].served)
if _unserved_with_handlers:   # the table and the handlers must agree: a served row has a handler
    raise RuntimeError(f"requests {_unserved_with_handlers} have handlers but their spec says not served")

__all__ = ["HANDLERS", "BarsRequest", "MarketDataRequest", "dispatch_request", "handler_of", "parse_bar_size_s",
           "parse_duration_s", "parse_end_datetime", "qualify"]
