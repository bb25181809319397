"""Inbound requests, decoded once: ONE table from message id to a :class:`RequestSpec`.

ib_insync's decoder has one table per direction; this is the inbound one. A row says what a
request is called, where its id sits in the text encoding, which reply kind carries its
answers (and so its injected latency), whether the mock serves it (or what error the real
gateway gives), and which attributes the event log records. :func:`decode_request` turns a
decoded field list into a frozen :class:`Request`; the session, the event log, the tap, the
faults and the handler dispatch all read that one object.

A second encoding (protobuf, server version 201+) produces the same :class:`Request`: it
looks the spec up by message id with :func:`spec_of`, fills ``req_id`` and ``attrs`` from its
own message and ``fields`` with the request in the text layout, so a behaviour (handler,
fault, metric) is written once for both. Nothing here raises on a short or odd message.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from .fields import field_at, float_or_none, int_at, int_or_none
from .kinds import ReplyKind
from .versions import CME_TAGGING_FIELDS

K = ReplyKind
Attrs = dict[str, object]
AttrReader = Callable[[Sequence[str]], Attrs]


@dataclass(frozen=True)
class RequestSpec:
    """One row of the inbound table."""

    msg_id: int
    name: str
    #: text encoding: index of the request's id (reqId, orderId, tickerId); None if it has none
    req_id_at: int | None = None
    id_label: str = "reqId"
    reply_kind: ReplyKind = K.OTHER
    #: False: the mock does not serve it and answers ``not_served_error`` (as the real gateway
    #: does for a request it refuses); unknown ids are not served either
    served: bool = True
    not_served_error: tuple[int, str] | None = None
    attrs: AttrReader | None = None
    known: bool = True

    def error_for_not_served(self) -> tuple[int, str]:
        """(code, text) the real gateway answers for a request this mock does not serve."""
        if self.not_served_error is not None:
            return self.not_served_error
        return 321, f"Error validating request.-'{self.msg_id}' : cause - {self.name} is not supported"


@dataclass(frozen=True, eq=False)
class Request:
    """One decoded client request, whatever its encoding."""

    spec: RequestSpec
    #: the request's id, or -1 when it has none or it is unreadable (error(-1, ...) is still valid)
    req_id: int
    #: named values the event log and the metrics read (see docs/contracts.md §1)
    attrs: Mapping[str, object]
    #: the request in the text encoding's layout (handlers that read deeper walk these)
    fields: tuple[str, ...]
    encoding: str = "text"

    @property
    def msg_id(self) -> int:
        return self.spec.msg_id

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def reply_kind(self) -> ReplyKind:
        return self.spec.reply_kind

    @property
    def served(self) -> bool:
        return self.spec.served

    def field(self, i: int, default: str = "") -> str:
        return field_at(self.fields, i, default)

    def int_field(self, i: int, what: str) -> int:
        """A required integer field: ValueError (error 320, "Error reading request") when it is not one."""
        return int_at(self.fields, i, what)

    def required_id(self) -> int:
        """The request's id, or ValueError naming the field (the request is answered with error 320)."""
        if self.spec.req_id_at is None:
            return -1
        return int_at(self.fields, self.spec.req_id_at, self.spec.id_label)


# ---------------------------------------------------------------------------------------------- attributes
def _g(f: Sequence[str], i: int) -> str:
    return field_at(f, i)


def _place_order(f: Sequence[str]) -> Attrs:
    return {
        "order_id": int_or_none(f, 1), "con_id": int_or_none(f, 2), "symbol": _g(f, 3), "sec_type": _g(f, 4),
        "exchange": _g(f, 9), "currency": _g(f, 11), "action": _g(f, 16),
        "total_qty": float_or_none(f, 17), "order_type": _g(f, 18), "lmt_price": float_or_none(f, 19),
        "aux_price": float_or_none(f, 20), "tif": _g(f, 21), "account": _g(f, 23), "order_ref": _g(f, 26),
    }


def _with_contract(req_at: int) -> AttrReader:
    c = req_at + 1

    def read(f: Sequence[str]) -> Attrs:
        return {"req_id": int_or_none(f, req_at), "con_id": int_or_none(f, c), "symbol": _g(f, c + 1),
                "sec_type": _g(f, c + 2), "exchange": _g(f, c + 7), "currency": _g(f, c + 9)}
    return read


def _hist(f: Sequence[str]) -> Attrs:
    # [20, reqId, contract12 (2-13), includeExpired, end, barSize, duration, useRTH, whatToShow, ...]
    a = _with_contract(1)(f)
    a.update({"end": _g(f, 15), "bar_size": _g(f, 16), "duration": _g(f, 17),
              "what_to_show": _g(f, 19), "keep_up_to_date": _g(f, 21) == "1"})
    return a


def _rt_bars(f: Sequence[str]) -> Attrs:
    # [50, 3, reqId, contract12 (3-14), barSize, whatToShow, useRTH, options]
    a = _with_contract(2)(f)
    a["what_to_show"] = _g(f, 16)
    return a


def _mkt_depth(f: Sequence[str]) -> Attrs:
    # [10, 5, reqId, contract12 (3-14), numRows, isSmartDepth, mktDepthOptions]
    a = _with_contract(2)(f)
    a.update({"num_rows": int_or_none(f, 15), "is_smart_depth": _g(f, 16) == "1"})
    return a


def _req_id(at: int) -> AttrReader:
    return lambda f: {"req_id": int_or_none(f, at)}


# ---------------------------------------------------------------------------------------------- the table
_FA = (321, "Error validating request.-'bh' : cause - FA data operations ignored for non-FA customers.")
_HMDS_NO_DATA = (162, "Historical Market Data Service error message:HMDS query returned no data")


def _not_served(msg_id: int, name: str, req_id_at: int | None, error: tuple[int, str] | None = None) -> RequestSpec:
    return RequestSpec(msg_id, name, req_id_at, served=False, not_served_error=error,
                       attrs=_req_id(req_id_at) if req_id_at is not None else None)


_SPECS: tuple[RequestSpec, ...] = (
    RequestSpec(1, "reqMktData", 2, reply_kind=K.MARKET_DATA, attrs=_with_contract(2)),
    RequestSpec(2, "cancelMktData", 2, attrs=_req_id(2)),
    RequestSpec(3, "placeOrder", 1, "orderId", K.ORDER_ACK, attrs=_place_order),
    RequestSpec(4, "cancelOrder", 2, "orderId", K.ORDER_ACK, attrs=lambda f: {"order_id": int_or_none(f, 2)}),
    RequestSpec(5, "reqOpenOrders", reply_kind=K.ORDER_ACK),
    RequestSpec(6, "reqAccountUpdates", reply_kind=K.ACCOUNT_DATA,
                attrs=lambda f: {"subscribe": _g(f, 2) == "1", "account": _g(f, 3)}),
    RequestSpec(7, "reqExecutions", 2, attrs=_req_id(2)),
    RequestSpec(8, "reqIds", attrs=lambda f: {"num_ids": int_or_none(f, 2)}),
    RequestSpec(9, "reqContractDetails", 2, reply_kind=K.CONTRACT_DATA, attrs=_with_contract(2)),
    RequestSpec(10, "reqMktDepth", 2, reply_kind=K.MARKET_DATA, attrs=_mkt_depth),
    RequestSpec(11, "cancelMktDepth", 2, attrs=lambda f: {"req_id": int_or_none(f, 2), "is_smart_depth": _g(f, 3) == "1"}),
    RequestSpec(12, "reqNewsBulletins"),
    RequestSpec(13, "cancelNewsBulletins"),
    RequestSpec(14, "setServerLoglevel"),
    RequestSpec(15, "reqAutoOpenOrders"),
    RequestSpec(16, "reqAllOpenOrders", reply_kind=K.ORDER_ACK),
    RequestSpec(17, "reqManagedAccts"),
    _not_served(18, "reqFa", None, _FA),
    _not_served(19, "replaceFa", None, _FA),
    RequestSpec(20, "reqHistoricalData", 1, reply_kind=K.HISTORICAL_DATA, attrs=_hist),
    _not_served(21, "exerciseOptions", 2, (321, "Error validating request.-'bn' : cause - Option exercise is not "
                                                "available in this mock")),
    RequestSpec(22, "reqScannerSubscription", 1, reply_kind=K.CONTRACT_DATA),
    RequestSpec(23, "cancelScannerSubscription", 2),
    RequestSpec(24, "reqScannerParameters", reply_kind=K.CONTRACT_DATA),
    RequestSpec(25, "cancelHistoricalData", 2, attrs=_req_id(2)),
    RequestSpec(49, "reqCurrentTime"),
    RequestSpec(50, "reqRealTimeBars", 2, reply_kind=K.HISTORICAL_DATA, attrs=_rt_bars),
    RequestSpec(51, "cancelRealTimeBars", 2, attrs=_req_id(2)),
    _not_served(52, "reqFundamentalData", 2, (430, "We are sorry, but fundamentals data for the security specified "
                                                   "is not available.Not allowed")),
    _not_served(53, "cancelFundamentalData", None),
    # [54|55, version, reqId, contract(12), optionPrice|volatility, underPrice, miscOptions]
    RequestSpec(54, "calculateImpliedVolatility", 2, reply_kind=K.MARKET_DATA, attrs=_with_contract(2)),
    RequestSpec(55, "calculateOptionPrice", 2, reply_kind=K.MARKET_DATA, attrs=_with_contract(2)),
    RequestSpec(56, "cancelCalculateImpliedVolatility", 2, attrs=_req_id(2)),
    RequestSpec(57, "cancelCalculateOptionPrice", 2, attrs=_req_id(2)),
    RequestSpec(58, "reqGlobalCancel", reply_kind=K.ORDER_ACK),
    RequestSpec(59, "reqMarketDataType", attrs=lambda f: {"market_data_type": int_or_none(f, 2)}),
    RequestSpec(61, "reqPositions", reply_kind=K.ACCOUNT_DATA),
    RequestSpec(62, "reqAccountSummary", 2, reply_kind=K.ACCOUNT_DATA,
                attrs=lambda f: {"req_id": int_or_none(f, 2), "group": _g(f, 3), "tags": _g(f, 4)}),
    RequestSpec(63, "cancelAccountSummary", 2),
    RequestSpec(64, "cancelPositions"),
    _not_served(65, "verifyRequest", None),
    _not_served(66, "verifyMessage", None),
    _not_served(67, "queryDisplayGroups", None),
    _not_served(68, "subscribeToGroupEvents", None),
    _not_served(69, "updateDisplayGroup", None),
    _not_served(70, "unsubscribeFromGroupEvents", None),
    RequestSpec(71, "startApi", attrs=lambda f: {"client_id": int_or_none(f, 2)}),
    _not_served(72, "verifyAndAuthRequest", None),
    _not_served(73, "verifyAndAuthMessage", None),
    RequestSpec(74, "reqPositionsMulti", 2, reply_kind=K.ACCOUNT_DATA),
    RequestSpec(75, "cancelPositionsMulti", 2),
    RequestSpec(76, "reqAccountUpdatesMulti", 2, reply_kind=K.ACCOUNT_DATA,
                attrs=lambda f: {"req_id": int_or_none(f, 2), "account": _g(f, 3)}),
    RequestSpec(77, "cancelAccountUpdatesMulti", 2),
    RequestSpec(78, "reqSecDefOptParams", 1, reply_kind=K.CONTRACT_DATA),
    RequestSpec(79, "reqSoftDollarTiers", 1),
    RequestSpec(80, "reqFamilyCodes"),
    RequestSpec(81, "reqMatchingSymbols", 1, reply_kind=K.CONTRACT_DATA),
    RequestSpec(82, "reqMktDepthExchanges"),
    RequestSpec(83, "reqSmartComponents", 1),
    RequestSpec(84, "reqNewsArticle", 1),
    RequestSpec(85, "reqNewsProviders"),
    RequestSpec(86, "reqHistoricalNews", 1),
    RequestSpec(87, "reqHeadTimestamp", 1, reply_kind=K.HISTORICAL_DATA),
    RequestSpec(88, "reqHistogramData", 1, reply_kind=K.HISTORICAL_DATA),
    RequestSpec(89, "cancelHistogramData", 1),
    RequestSpec(90, "cancelHeadTimestamp", 1),
    RequestSpec(91, "reqMarketRule"),
    RequestSpec(92, "reqPnL", 1, reply_kind=K.ACCOUNT_DATA,
                attrs=lambda f: {"req_id": int_or_none(f, 1), "account": _g(f, 2)}),
    RequestSpec(93, "cancelPnL", 1, attrs=_req_id(1)),
    RequestSpec(94, "reqPnLSingle", 1, reply_kind=K.ACCOUNT_DATA),
    RequestSpec(95, "cancelPnLSingle", 1),
    RequestSpec(96, "reqHistoricalTicks", 1, reply_kind=K.HISTORICAL_DATA),
    RequestSpec(97, "reqTickByTickData", 1, reply_kind=K.MARKET_DATA),
    RequestSpec(98, "cancelTickByTickData", 1),
    RequestSpec(99, "reqCompletedOrders", reply_kind=K.ORDER_ACK),
    # ids of TWS API 10.x (ibapi 10.51 message.py); from 201 the official client sends them as protobuf
    _not_served(100, "reqWshMetaData", 1, (10276, "News feed is not allowed")),
    RequestSpec(101, "cancelWshMetaData", 1),
    _not_served(102, "reqWshEventData", 1, (10276, "News feed is not allowed")),
    RequestSpec(103, "cancelWshEventData", 1),
    RequestSpec(104, "reqUserInfo", 1),
    RequestSpec(105, "reqCurrentTimeInMillis"),
    RequestSpec(106, "cancelContractData", 1),
    RequestSpec(107, "cancelHistoricalTicks", 1),
    _not_served(108, "reqConfig", 1),
    _not_served(109, "updateConfig", 1),
)

#: message id -> spec, every request id the TWS API defines (ibapi/message.py)
REQUEST_SPECS: dict[int, RequestSpec] = {spec.msg_id: spec for spec in _SPECS}
#: client -> server names, as the clients call them
REQUEST_NAMES: dict[int, str] = {spec.msg_id: spec.name for spec in _SPECS}
#: The reply kind of a request's answers (and of its errors): which injected latency applies.
REPLY_KIND_OF_REQUEST: dict[int, ReplyKind] = {spec.msg_id: spec.reply_kind for spec in _SPECS
                                               if spec.reply_kind is not K.OTHER}
#: What the real gateway answers for requests this mock does not serve: (reqId field index or None, code, text).
NOT_SERVED: dict[int, tuple[int | None, int, str]] = {
    spec.msg_id: (spec.req_id_at, *spec.error_for_not_served()) for spec in _SPECS if not spec.served}

_unknown_specs: dict[int, RequestSpec] = {}


def spec_of(msg_id: int) -> RequestSpec:
    """The spec of a message id; an unknown id gets a spec that is neither known nor served."""
    spec = REQUEST_SPECS.get(msg_id)
    if spec is not None:
        return spec
    spec = _unknown_specs.get(msg_id)
    if spec is None:
        spec = RequestSpec(msg_id, f"unknown_{msg_id}", served=False, known=False)
        if len(_unknown_specs) < 1024:   # a fuzzer's ids must not grow this without bound
            _unknown_specs[msg_id] = spec
    return spec


def msg_id_of(fields: Sequence[str]) -> int:
    """The message id of a decoded field list; -1 when there is none or it is not a plain number."""
    if not fields:
        return -1
    text = fields[0]
    if not (0 < len(text) <= 9 and text.isascii() and text.lstrip("-").isdigit()):
        return -1
    try:
        return int(text)
    except ValueError:
        return -1


#: Requests that lost their version field at CME_TAGGING_FIELDS (192): cancelOrder, reqGlobalCancel.
_VERSION_DROPPED_AT_192 = frozenset({"4", "58"})


def with_version_field(fields: list[str], server_version: int) -> list[str]:
    """A text request in the layout the handlers read: from 192 cancelOrder and reqGlobalCancel come
    without their version field (ibapi client.py cancelOrder / reqGlobalCancel), which is put back
    as 1; their new tail (extOperator, manualOrderIndicator) stays at the end."""
    if server_version >= CME_TAGGING_FIELDS and fields and fields[0] in _VERSION_DROPPED_AT_192:
        return [fields[0], "1", *fields[1:]]
    return fields


def decode_request(fields: Sequence[str]) -> Request:
    """The typed request of a text-encoded message (never raises)."""
    spec = spec_of(msg_id_of(fields))
    at = spec.req_id_at
    req_id = int_or_none(fields, at) if at is not None else None
    attrs: Attrs = {}
    if spec.attrs is not None:
        try:
            attrs = spec.attrs(fields)
        except Exception:  # an attribute reader must never take a session down
            attrs = {}
    return Request(spec, -1 if req_id is None else req_id, attrs, tuple(fields))


__all__ = ["NOT_SERVED", "REPLY_KIND_OF_REQUEST", "REQUEST_NAMES", "REQUEST_SPECS", "Request", "RequestSpec",
           "decode_request", "msg_id_of", "spec_of", "with_version_field"]
