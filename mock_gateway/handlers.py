"""Inbound requests: ONE table from message id to request handler (ib_insync's decoder, reversed).

A handler reads the request's fields, asks the world, and queues replies on the session with
the reply kind that carries their latency. A request the gateway cannot serve gets the error
the real gateway would give, and the session lives on. Streaming subscriptions are kept by
:mod:`mock_gateway.feeds`.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from . import reference
from .faults.base import ReplyKind
from .protocol import messages as m
from .protocol.fields import parse_int
from .protocol.ids import request_name
from .protocol.orders import OrderParseError, parse_place_order
from .session import RequestError
from .sim import bar_rules
from .sim.contracts import ContractQuery, ContractSpec

if TYPE_CHECKING:
    from .session import Session

log = logging.getLogger("mock_gateway.handlers")

Handler = Callable[["Session", list[str]], None]
K = ReplyKind

NO_SECURITY = "No security definition has been found for the request"


# ---------------------------------------------------------------------------------------------- helpers
def _int(f: list[str], i: int, what: str) -> int:
    try:
        value = parse_int(f[i])
    except (IndexError, ValueError):
        value = None
    if value is None:
        raise ValueError(f"{what} (field {i}) must be an integer, got {f[i] if i < len(f) else 'nothing'!r}")
    return value


def _field(f: list[str], i: int, default: str = "") -> str:
    return f[i] if i < len(f) else default


def _contract_at(f: list[str], i: int) -> ContractQuery:
    if len(f) < i + 12:
        raise ValueError(f"request ends inside its contract (needs fields {i}..{i + 11}, has {len(f)})")
    return ContractQuery.from_wire(f[i:i + 12])


def qualify(session: Session, req_id: int, query: ContractQuery) -> ContractSpec:
    """The one contract a request names, or RequestError 200 (unknown or ambiguous), as TWS answers."""
    found = session.gw.world.contracts.match(query)
    if len(found) == 1:
        return found[0]
    if not found:
        raise RequestError(req_id, 200, NO_SECURITY)
    name = query.symbol or query.local_symbol
    raise RequestError(req_id, 200, f"The contract description specified for {name} is ambiguous.")


# ---------------------------------------------------------------------------------------------- session level
def req_current_time(s: Session, f: list[str]) -> None:
    s.send(K.OTHER, [m.current_time(int(s.gw.clock.epoch_now()))])


def req_ids(s: Session, f: list[str]) -> None:
    s.send(K.OTHER, [m.next_valid_id(s.gw.next_order_id(s.client_id or 0))])


def req_managed_accts(s: Session, f: list[str]) -> None:
    s.send(K.OTHER, [m.managed_accounts(s.gw.config.account_ids)])


def req_market_data_type(s: Session, f: list[str]) -> None:
    data_type = _int(f, 2, "marketDataType")
    if data_type not in (1, 2, 3, 4):
        raise RequestError(-1, 321, f"Error validating request.-'cm' : cause - Invalid market data type {data_type}")
    s.market_data_type = data_type   # live data is always available here, so ticks stay live (type 1)


def ignore(s: Session, f: list[str]) -> None:
    """Requests with no reply (setServerLogLevel, news bulletins: there are none)."""


# ---------------------------------------------------------------------------------------------- contracts
def req_contract_details(s: Session, f: list[str]) -> None:
    req_id = _int(f, 2, "reqId")
    query = ContractQuery.from_wire(f[3:15], _field(f, 16), _field(f, 17)) if len(f) >= 15 else _contract_at(f, 3)
    found = s.gw.world.contracts.match(query)
    if not found:
        raise RequestError(req_id, 200, NO_SECURITY)
    sv = s.server_version
    s.send(K.CONTRACT_DATA, [m.contract_data(sv, req_id, spec, spec) for spec in found] + [m.contract_data_end(req_id)])


# ---------------------------------------------------------------------------------------------- market data
@dataclass
class MarketDataRequest:
    req_id: int
    spec: ContractSpec
    generic_ticks: frozenset[str]
    snapshot: bool


def req_mkt_data(s: Session, f: list[str]) -> None:
    req_id = _int(f, 2, "reqId")
    query = _contract_at(f, 3)
    i = 15
    if query.sec_type == "BAG":
        i += 1 + 4 * _int(f, i, "comboLegs count")
        raise RequestError(req_id, 321, "Error validating request.-'bW' : cause - combo market data is not "
                                        "available in this mock")
    if _field(f, i) == "1":
        i += 3
    generic = frozenset(t.strip() for t in _field(f, i + 1).split(",") if t.strip())
    snapshot = _field(f, i + 2) == "1" or _field(f, i + 3) == "1"
    if req_id in s.market_data:
        raise RequestError(req_id, 322, "Error processing request.-'bW' : cause - Duplicate ticker id")
    spec = qualify(s, req_id, query)
    s.gw.feeds.start_market_data(s, MarketDataRequest(req_id, spec, generic, snapshot))


def cancel_mkt_data(s: Session, f: list[str]) -> None:
    req_id = _int(f, 2, "reqId")
    if not s.gw.feeds.stop_market_data(s, req_id):
        raise RequestError(req_id, 300, f"Can't find EId with tickerId:{req_id}")


# ---------------------------------------------------------------------------------------------- bars
def parse_bar_size_s(text: str) -> float:
    """'5 secs', '1 min', '1 hour', '1 day', '1W' ... to seconds; BarRuleError (321) for what IB refuses."""
    return bar_rules.parse_bar_size(text).seconds


def parse_duration_s(text: str) -> float:
    """'3600 S', '2 D', '1 W', '1 M', '1 Y' to seconds; BarRuleError (321) for what IB refuses."""
    return bar_rules.parse_duration(text).seconds


def parse_end_datetime(text: str) -> datetime | None:
    """endDateTime as the clients send it; '' is now. A time without a zone is read as UTC."""
    text = text.strip()
    if not text:
        return None
    from zoneinfo import ZoneInfo

    parts = text.replace("-", " ", 1).split()
    try:
        if len(parts) == 1 and len(parts[0]) == 8:
            return datetime.strptime(parts[0], "%Y%m%d").replace(hour=23, minute=59, second=59, tzinfo=timezone.utc)
        when = datetime.strptime(parts[0] + parts[1], "%Y%m%d%H:%M:%S")
        zone = ZoneInfo(parts[2]) if len(parts) > 2 else timezone.utc
    except (ValueError, IndexError, KeyError) as exc:
        raise ValueError(f"Invalid end date/time {text!r}: {exc}") from None
    return when.replace(tzinfo=zone)


@dataclass
class BarsRequest:
    req_id: int
    spec: ContractSpec
    bar_size_s: float
    what_to_show: str
    use_rth: bool
    format_date: int
    listed_epoch: float | None = None      # no bars start before the listing date


def req_historical_data(s: Session, f: list[str]) -> None:
    req_id = _int(f, 1, "reqId")
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
    except bar_rules.BarRuleError as exc:
        raise RequestError(req_id, exc.code, f"Error validating request.-'bP' : cause - {exc.text}") from None
    try:
        end = parse_end_datetime(end_text)
    except ValueError as exc:
        raise RequestError(req_id, 321, f"Error validating request.-'bP' : cause - {exc}") from None
    if keep_up_to_date and end is not None:
        raise RequestError(req_id, 321, "Error validating request.-'bP' : cause - End date not supported with live "
                                        "updates")
    spec = qualify(s, req_id, query)
    now_epoch = s.gw.clock.epoch_now()
    end_epoch = now_epoch if end is None else min(now_epoch, end.timestamp())
    listed = listing_epoch(spec)
    try:
        bar_rules.check_window(bar, duration, what, spec.sec_type, spec.symbol, spec.exchange, end_epoch, now_epoch,
                               listed)
    except bar_rules.BarRuleError as exc:
        raise RequestError(req_id, exc.code, exc.text) from None
    req = BarsRequest(req_id, spec, bar.seconds, "TRADES" if what == "ADJUSTED_LAST" else what, use_rth,
                      format_date, listed)
    s.gw.feeds.send_historical_data(s, req, end, duration.seconds, keep_up_to_date)


def listing_epoch(spec: ContractSpec) -> float | None:
    """Epoch seconds of the contract's first day of history (its listing date), None if unknown."""
    if not spec.listing_date:
        return None
    day = datetime.strptime(spec.listing_date[:8], "%Y%m%d").replace(tzinfo=timezone.utc)
    return day.timestamp()


def cancel_historical_data(s: Session, f: list[str]) -> None:
    req_id = _int(f, 2, "reqId")
    if not s.gw.feeds.stop_historical_updates(s, req_id):
        raise RequestError(req_id, 366, f"No historical data query found for ticker id:{req_id}")


def req_real_time_bars(s: Session, f: list[str]) -> None:
    req_id = _int(f, 2, "reqId")
    query = _contract_at(f, 3)
    what, use_rth = _field(f, 16).upper(), _field(f, 17) == "1"
    if req_id in s.realtime_bars:
        raise RequestError(req_id, 322, "Error processing request.-'bW' : cause - Duplicate ticker id")
    spec = qualify(s, req_id, query)
    s.gw.feeds.start_realtime_bars(s, BarsRequest(req_id, spec, 5.0, what or "TRADES", use_rth, 2))


def cancel_real_time_bars(s: Session, f: list[str]) -> None:
    s.gw.feeds.stop_realtime_bars(s, _int(f, 2, "reqId"))


# ---------------------------------------------------------------------------------------------- orders
def place_order(s: Session, f: list[str]) -> None:
    order_id = _int(f, 1, "orderId")
    try:
        wire = parse_place_order(f, s.server_version)
    except OrderParseError as exc:
        raise RequestError(order_id, 320, f"Error reading request. Message id 3. {exc}") from None
    s.gw.orders.place(s, wire)


def cancel_order(s: Session, f: list[str]) -> None:
    s.gw.orders.cancel(s, _int(f, 2, "orderId"))   # manualCancelOrderTime (>= 169) is not used


def req_global_cancel(s: Session, f: list[str]) -> None:
    s.gw.orders.global_cancel(s)


def req_open_orders(s: Session, f: list[str]) -> None:
    s.gw.orders.send_open_orders(s, all_clients=False)


def req_all_open_orders(s: Session, f: list[str]) -> None:
    s.gw.orders.send_open_orders(s, all_clients=True)


def req_auto_open_orders(s: Session, f: list[str]) -> None:
    if s.client_id != 0:
        raise RequestError(-1, 321, "Error validating request.-'bb' : cause - The reqAutoOpenOrders request is only "
                                    "allowed for client id 0")
    s.auto_open_orders = _field(f, 2) == "1"


def req_completed_orders(s: Session, f: list[str]) -> None:
    s.gw.orders.send_completed_orders(s, api_only=_field(f, 1) == "1")


def req_executions(s: Session, f: list[str]) -> None:
    req_id = _int(f, 2, "reqId")
    s.gw.orders.send_executions(s, req_id, client_id=parse_int(_field(f, 3)) or None, account=_field(f, 4),
                                time_text=_field(f, 5), symbol=_field(f, 6), sec_type=_field(f, 7),
                                exchange=_field(f, 8), side=_field(f, 9))


# ---------------------------------------------------------------------------------------------- account
def _account_or_error(s: Session, account: str, req_id: int = -1) -> str:
    accounts = s.gw.config.account_ids
    if not account:
        return accounts[0]
    if account not in accounts:
        raise RequestError(req_id, 321, f"Error validating request.-'bg' : cause - Account {account} is not "
                                        f"managed by this session ({','.join(accounts)})")
    return account


def req_account_updates(s: Session, f: list[str]) -> None:
    subscribe = _field(f, 2) == "1"
    account = _account_or_error(s, _field(f, 3))
    if subscribe:
        s.gw.accounts.start_account_updates(s, account)
    else:
        s.gw.accounts.stop_account_updates(s)


def _accounts_or_error(s: Session, account: str, req_id: int) -> str:
    """A '...Multi' request's account: one managed account, or ''/'All' for every one."""
    if account and account != "All":
        _account_or_error(s, account, req_id)
    return account


def req_account_updates_multi(s: Session, f: list[str]) -> None:
    req_id = _int(f, 2, "reqId")
    account = _accounts_or_error(s, _field(f, 3), req_id)
    s.gw.accounts.start_account_updates_multi(s, req_id, account, _field(f, 4))


def cancel_account_updates_multi(s: Session, f: list[str]) -> None:
    s.account_updates_multi.pop(_int(f, 2, "reqId"), None)


def req_account_summary(s: Session, f: list[str]) -> None:
    req_id = _int(f, 2, "reqId")
    if req_id in s.account_summaries:
        raise RequestError(req_id, 322, "Error processing request.-'bW' : cause - Duplicate ticker id")
    s.gw.accounts.start_account_summary(s, req_id, _field(f, 3), _field(f, 4))


def cancel_account_summary(s: Session, f: list[str]) -> None:
    s.account_summaries.pop(_int(f, 2, "reqId"), None)


def req_positions(s: Session, f: list[str]) -> None:
    s.gw.accounts.start_positions(s)


def cancel_positions(s: Session, f: list[str]) -> None:
    s.positions_subscribed = False


def req_pnl(s: Session, f: list[str]) -> None:
    req_id = _int(f, 1, "reqId")
    account = _account_or_error(s, _field(f, 2), req_id)
    if req_id in s.pnl_subscriptions:
        raise RequestError(req_id, 322, "Error processing request.-'bW' : cause - Duplicate ticker id")
    s.gw.accounts.start_pnl(s, req_id, account)


def cancel_pnl(s: Session, f: list[str]) -> None:
    s.pnl_subscriptions.pop(_int(f, 1, "reqId"), None)


def req_pnl_single(s: Session, f: list[str]) -> None:
    req_id = _int(f, 1, "reqId")
    account = _account_or_error(s, _field(f, 2), req_id)
    if req_id in s.pnl_subscriptions:
        raise RequestError(req_id, 322, "Error processing request.-'bW' : cause - Duplicate ticker id")
    s.gw.accounts.start_pnl(s, req_id, account, _int(f, 4, "conId"))


def req_positions_multi(s: Session, f: list[str]) -> None:
    req_id = _int(f, 2, "reqId")
    account = _accounts_or_error(s, _field(f, 3), req_id)
    s.gw.accounts.send_positions_multi(s, req_id, account, _field(f, 4))


# ---------------------------------------------------------------------------------------------- not implemented
#: What the real gateway answers for requests this mock does not serve: (reqId field index or None, code, text).
NOT_SERVED: dict[int, tuple[int | None, int, str]] = {
    10: (2, 10092, "Deep market data is not supported for this combination of security type/exchange"),
    18: (None, 321, "Error validating request.-'bh' : cause - FA data operations ignored for non-FA customers."),
    19: (None, 321, "Error validating request.-'bh' : cause - FA data operations ignored for non-FA customers."),
    21: (2, 321, "Error validating request.-'bn' : cause - Option exercise is not available in this mock"),
    22: (1, 162, "Historical Market Data Service error message:API scanner subscription cancelled: no scanner "
                 "permissions"),
    24: (None, 321, "Error validating request.-'bq' : cause - Scanner parameters are not available"),
    52: (2, 430, "We are sorry, but fundamentals data for the security specified is not available.Not allowed"),
    54: (2, 321, "Error validating request.-'cx' : cause - Option computations are not available in this mock"),
    55: (2, 321, "Error validating request.-'cx' : cause - Option computations are not available in this mock"),
    84: (1, 10276, "News feed is not allowed"),
    86: (1, 10276, "News feed is not allowed"),
    88: (1, 162, "Historical Market Data Service error message:HMDS query returned no data"),
    96: (1, 162, "Historical Market Data Service error message:HMDS query returned no data"),
    97: (1, 10089, "Requested market data requires additional subscription for API."),
}


def not_served(s: Session, f: list[str]) -> None:
    msg_id = int(f[0])
    where, code, text = NOT_SERVED.get(msg_id, (None, 321, ""))
    req_id = (parse_int(_field(f, where)) if where is not None else None)
    if req_id is None:
        req_id = -1
    if not text:
        text = f"Error validating request.-'{msg_id}' : cause - {request_name(msg_id)} is not supported"
    log.info("conn %d: %s is not served by the mock gateway (error %d)", s.conn_id, request_name(msg_id), code)
    s.error(req_id, code, text)


def unknown_message(s: Session, f: list[str]) -> None:
    log.warning("conn %d: unknown request message id %s", s.conn_id, f[0])
    s.error(-1, 320, f"Error reading request. Message id {f[0]}. Unknown message id")


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
    11: ignore,                 # cancelMktDepth: depth is never served, so nothing to cancel
    12: ignore,                 # reqNewsBulletins: there are none
    13: ignore,                 # cancelNewsBulletins
    14: ignore,                 # setServerLoglevel
    15: req_auto_open_orders,
    16: req_all_open_orders,
    17: req_managed_accts,
    20: req_historical_data,
    23: ignore,                 # cancelScannerSubscription
    25: cancel_historical_data,
    49: req_current_time,
    50: req_real_time_bars,
    51: cancel_real_time_bars,
    56: ignore,                 # cancelCalculateImpliedVolatility
    57: ignore,                 # cancelCalculateOptionPrice
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
    85: reference.req_news_providers,
    87: reference.req_head_timestamp,
    89: ignore,                 # cancelHistogramData
    90: ignore,                 # cancelHeadTimestamp
    91: reference.req_market_rule,
    92: req_pnl,
    93: cancel_pnl,
    94: req_pnl_single,
    95: cancel_pnl,             # cancelPnLSingle: [95, reqId], the same shape as cancelPnL
    98: ignore,                 # cancelTickByTickData
    99: req_completed_orders,
    **{msg_id: not_served for msg_id in NOT_SERVED},
}


#: The reply kind of a request's answers (and of its errors): which injected latency applies.
REPLY_KIND_OF_REQUEST: dict[int, ReplyKind] = {
    1: K.MARKET_DATA, 3: K.ORDER_ACK, 4: K.ORDER_ACK, 5: K.ORDER_ACK, 6: K.ACCOUNT_DATA, 9: K.CONTRACT_DATA,
    16: K.ORDER_ACK, 20: K.HISTORICAL_DATA, 50: K.HISTORICAL_DATA, 58: K.ORDER_ACK, 61: K.ACCOUNT_DATA,
    62: K.ACCOUNT_DATA, 74: K.ACCOUNT_DATA, 76: K.ACCOUNT_DATA, 78: K.CONTRACT_DATA, 81: K.CONTRACT_DATA,
    87: K.HISTORICAL_DATA, 92: K.ACCOUNT_DATA, 94: K.ACCOUNT_DATA, 99: K.ORDER_ACK,
}


def _req_id_guess(f: list[str]) -> int:
    """The id an error about a malformed request should carry: the request's id field if readable."""
    msg_id = f[0]
    index = {"3": 1, "4": 2, "20": 1, "92": 1, "93": 1}.get(msg_id, 2)
    value = parse_int(_field(f, index)) if _field(f, index).lstrip("-").isdigit() else None
    return value if value is not None else -1


def dispatch_request(session: Session, fields: list[str]) -> None:
    """Run the handler for one request; every failure becomes an error reply, never a dead session."""
    msg_id = int(fields[0])
    handler = HANDLERS.get(msg_id)
    if handler is None:
        handler = not_served if msg_id in _KNOWN_IDS else unknown_message
    try:
        handler(session, fields)
    except RequestError as exc:   # with the request's reply kind, so it keeps its place behind delayed replies
        session.error(exc.req_id, exc.code, exc.text, kind=REPLY_KIND_OF_REQUEST.get(msg_id, K.OTHER))
    except (ValueError, IndexError) as exc:
        log.warning("conn %d: malformed %s: %s", session.conn_id, request_name(msg_id), exc)
        session.error(_req_id_guess(fields), 320, f"Error reading request. Message id {msg_id}. {exc}")
    except Exception as exc:  # a bug here must not take the session down
        log.exception("conn %d: %s failed", session.conn_id, request_name(msg_id))
        session.error(_req_id_guess(fields), 321, f"Error validating request.-'{msg_id}' : cause - internal error "
                                                   f"in the mock gateway: {exc!r}")


def _known_ids() -> frozenset[int]:
    from .protocol.ids import REQUEST_NAMES

    return frozenset(REQUEST_NAMES)


_KNOWN_IDS = _known_ids()

__all__ = ["HANDLERS", "dispatch_request", "parse_bar_size_s", "parse_duration_s", "parse_end_datetime",
           "MarketDataRequest", "BarsRequest", "qualify"]

