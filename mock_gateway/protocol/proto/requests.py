"""Requests as protobuf: decode the official client's protobuf requests into the mock's request model.

The model of a request is the text fields a client sends at the newest text layout (178): every
handler, the fault hooks, the event log and the tap already read that model, so a protobuf request
takes exactly the path a text request takes. :func:`decode_request` maps one protobuf request
(message id without the 200 offset, payload) to those fields; bytes that are not the message the
id names raise :class:`~.wire.ProtoDecodeError`, which ends the session like a bad text frame.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..orders import CONTRACT_FIELDS
from . import wire
from .orders import place_order_text, wire_order

Values = dict[str, Any]


def _t(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):   # as the Python text clients write a double (str), inf as 'Infinite'
        return "Infinite" if value == float("inf") else str(value)
    return str(value)


def _b(values: Values, name: str) -> str:
    return "1" if values.get(name) else "0"


_PROTO_CONTRACT = {"primaryExchange": "primaryExch"}


def _contract12(c: Values) -> list[str]:
    """The contract block of text requests; an absent strike is 0.0, as every text client writes it."""
    return [_t(c.get(_PROTO_CONTRACT.get(name, name), 0.0 if name == "strike" else None)) for name in CONTRACT_FIELDS]


def _legs4(c: Values) -> list[str]:
    if c.get("secType") != "BAG":
        return []
    legs = c.get("comboLegs", [])
    out = [str(len(legs))]
    for leg in legs:
        out += [_t(leg.get("conId", 0)), _t(leg.get("ratio", 0)), leg.get("action", ""), leg.get("exchange", "")]
    return out


def _tag_values(m: dict[str, str] | None) -> str:
    return "".join(f"{k}={v};" for k, v in (m or {}).items())


def _mkt_data(v: Values) -> list[str]:
    c = v.get("contract", {})
    dnc = c.get("deltaNeutralContract")
    return ["1", "11", _t(v.get("reqId", 0)), *_contract12(c), *_legs4(c),
            *(["1", _t(dnc.get("conId", 0)), _t(dnc.get("delta", 0.0)), _t(dnc.get("price", 0.0))] if dnc else ["0"]),
            v.get("genericTickList", ""), _b(v, "snapshot"), _b(v, "regulatorySnapshot"),
            _tag_values(v.get("marketDataOptions"))]


def _option_calc(msg_id: str, v: Values, input_name: str, options_name: str) -> list[str]:
    """calculateImpliedVolatility / calculateOptionPrice in the text layout the official client writes
    (version 3, no count before the misc options: ibapi 10.x client.py)."""
    return [msg_id, "3", _t(v.get("reqId", 0)), *_contract12(v.get("contract", {})), _t(v.get(input_name, 0.0)),
            _t(v.get("underPrice", 0.0)), _tag_values(v.get(options_name))]


class UnservedProtobufField(ValueError):
    """A valid protobuf request using a feature the mock does not serve; answered with an error for ``req_id``."""

    def __init__(self, req_id: int, text: str) -> None:
        super().__init__(text)
        self.req_id = req_id


def _place_order(v: Values) -> list[str]:
    order_id = int(v.get("orderId", 0))
    if any(v.get("attachedOrders", {}).values()):   # ATTACHED_ORDERS (218): stop-loss / profit-taker children
        raise UnservedProtobufField(order_id, "attached orders (slOrderId/ptOrderId) are not served by this mock; "
                                              "place the child orders with parentId instead")
    try:
        return place_order_text(wire_order(order_id, v.get("contract", {}), v.get("order", {})))
    except ValueError as exc:
        raise UnservedProtobufField(order_id, str(exc)) from None


def _contract_data(v: Values) -> list[str]:
    c = v.get("contract", {})
    return ["9", "8", _t(v.get("reqId", 0)), *_contract12(c), _b(c, "includeExpired"), c.get("secIdType", ""),
            c.get("secId", ""), c.get("issuerId", "")]


def _historical(v: Values) -> list[str]:
    c = v.get("contract", {})
    return ["20", _t(v.get("reqId", 0)), *_contract12(c), _b(c, "includeExpired"), v.get("endDateTime", ""),
            v.get("barSizeSetting", ""), v.get("duration", ""), _b(v, "useRTH"), v.get("whatToShow", ""),
            _t(v.get("formatDate", 0)), *_legs4(c), _b(v, "keepUpToDate"), _tag_values(v.get("chartOptions"))]


def _executions(v: Values) -> list[str]:
    f = v.get("executionFilter", {})
    return ["7", "3", _t(v.get("reqId", 0)), _t(f.get("clientId", 0)), f.get("acctCode", ""), f.get("time", ""),
            f.get("symbol", ""), f.get("secType", ""), f.get("exchange", ""), f.get("side", "")]


def _simple(*layout: str) -> Callable[[Values], list[str]]:
    """Literal fields as written; ``=name`` takes the request's value, ``?name`` a bool as 1/0."""
    def build(v: Values) -> list[str]:
        out = []
        for item in layout:
            if item.startswith("="):
                out.append(_t(v.get(item[1:], "")))
            elif item.startswith("?"):
                out.append(_b(v, item[1:]))
            else:
                out.append(item)
        return out
    return build


#: request id -> (protobuf message, builder of the text-layout fields)
def _scanner_subscription(v: Values) -> list[str]:
    """The text layout from server 143: no version field; filter and plain options as tag=value; strings."""
    sub = v.get("scannerSubscription", {})
    fields = ["22", _t(v.get("reqId", 0)), _t(sub.get("numberOfRows", -1))]
    for name in ("instrument", "locationCode", "scanCode", "abovePrice", "belowPrice", "aboveVolume",
                 "marketCapAbove", "marketCapBelow", "moodyRatingAbove", "moodyRatingBelow", "spRatingAbove",
                 "spRatingBelow", "maturityDateAbove", "maturityDateBelow", "couponRateAbove", "couponRateBelow"):
        fields.append(_t(sub.get(name)))
    fields += [_b(sub, "excludeConvertible"), _t(sub.get("averageOptionVolumeAbove")),
               _t(sub.get("scannerSettingPairs")), _t(sub.get("stockTypeFilter")),
               _tag_values(sub.get("scannerSubscriptionFilterOptions")),
               _tag_values(sub.get("scannerSubscriptionOptions"))]
    return fields


REQUESTS: dict[int, tuple[str, Callable[[Values], list[str]]]] = {
    1: ("MarketDataRequest", _mkt_data),
    2: ("CancelMarketData", _simple("2", "2", "=reqId")),
    3: ("PlaceOrderRequest", _place_order),
    4: ("CancelOrderRequest", lambda v: ["4", "1", _t(v.get("orderId", 0)),
                                         v.get("orderCancel", {}).get("manualOrderCancelTime", "")]),
    5: ("OpenOrdersRequest", _simple("5", "1")),
    6: ("AccountDataRequest", _simple("6", "2", "?subscribe", "=acctCode")),
    7: ("ExecutionRequest", _executions),
    8: ("IdsRequest", _simple("8", "1", "=numIds")),
    9: ("ContractDataRequest", _contract_data),
    10: ("MarketDepthRequest", lambda v: ["10", "5", _t(v.get("reqId", 0)), *_contract12(v.get("contract", {})),
                                         _t(v.get("numRows", 0)), _b(v, "isSmartDepth"),
                                         _tag_values(v.get("marketDepthOptions"))]),
    11: ("CancelMarketDepth", _simple("11", "1", "=reqId", "?isSmartDepth")),
    14: ("SetServerLogLevelRequest", _simple("14", "1", "=logLevel")),
    15: ("AutoOpenOrdersRequest", _simple("15", "1", "?autoBind")),
    16: ("AllOpenOrdersRequest", _simple("16", "1")),
    17: ("ManagedAccountsRequest", _simple("17", "1")),
    20: ("HistoricalDataRequest", _historical),
    25: ("CancelHistoricalData", _simple("25", "1", "=reqId")),
    49: ("CurrentTimeRequest", _simple("49", "1")),
    50: ("RealTimeBarsRequest", lambda v: ["50", "3", _t(v.get("reqId", 0)), *_contract12(v.get("contract", {})),
                                           _t(v.get("barSize", 0)), v.get("whatToShow", ""), _b(v, "useRTH"),
                                           _tag_values(v.get("realTimeBarsOptions"))]),
    51: ("CancelRealTimeBars", _simple("51", "1", "=reqId")),
    54: ("CalculateImpliedVolatilityRequest", lambda v: _option_calc("54", v, "optionPrice", "impliedVolatilityOptions")),
    55: ("CalculateOptionPriceRequest", lambda v: _option_calc("55", v, "volatility", "optionPriceOptions")),
    56: ("CancelCalculateImpliedVolatility", _simple("56", "1", "=reqId")),
    57: ("CancelCalculateOptionPrice", _simple("57", "1", "=reqId")),
    58: ("GlobalCancelRequest", _simple("58", "1")),
    59: ("MarketDataTypeRequest", _simple("59", "1", "=marketDataType")),
    61: ("PositionsRequest", _simple("61", "1")),
    62: ("AccountSummaryRequest", _simple("62", "1", "=reqId", "=group", "=tags")),
    63: ("CancelAccountSummary", _simple("63", "1", "=reqId")),
    64: ("CancelPositions", _simple("64", "1")),
    71: ("StartApiRequest", _simple("71", "2", "=clientId", "=optionalCapabilities")),
    74: ("PositionsMultiRequest", _simple("74", "1", "=reqId", "=account", "=modelCode")),
    75: ("CancelPositionsMulti", _simple("75", "1", "=reqId")),
    76: ("AccountUpdatesMultiRequest", _simple("76", "1", "=reqId", "=account", "=modelCode", "?ledgerAndNLV")),
    77: ("CancelAccountUpdatesMulti", _simple("77", "1", "=reqId")),
    78: ("SecDefOptParamsRequest", _simple("78", "=reqId", "=underlyingSymbol", "=futFopExchange",
                                        "=underlyingSecType", "=underlyingConId")),
    79: ("SoftDollarTiersRequest", _simple("79", "=reqId")),
    80: ("FamilyCodesRequest", _simple("80")),
    81: ("MatchingSymbolsRequest", _simple("81", "=reqId", "=pattern")),
    82: ("MarketDepthExchangesRequest", _simple("82")),
    83: ("SmartComponentsRequest", _simple("83", "=reqId", "=bboExchange")),
    84: ("NewsArticleRequest", lambda v: ["84", _t(v.get("reqId", 0)), v.get("providerCode", ""),
                                          v.get("articleId", ""), _tag_values(v.get("newsArticleOptions"))]),
    85: ("NewsProvidersRequest", _simple("85")),
    86: ("HistoricalNewsRequest", lambda v: ["86", _t(v.get("reqId", 0)), _t(v.get("conId", 0)),
                                             v.get("providerCodes", ""), v.get("startDateTime", ""),
                                             v.get("endDateTime", ""), _t(v.get("totalResults", 0)),
                                             _tag_values(v.get("historicalNewsOptions"))]),
    88: ("HistogramDataRequest", lambda v: ["88", _t(v.get("reqId", 0)), *_contract12(v.get("contract", {})),
                                           _b(v.get("contract", {}), "includeExpired"), _b(v, "useRTH"),
                                           v.get("timePeriod", "")]),
    89: ("CancelHistogramData", _simple("89", "=reqId")),
    96: ("HistoricalTicksRequest", lambda v: ["96", _t(v.get("reqId", 0)), *_contract12(v.get("contract", {})),
                                             _b(v.get("contract", {}), "includeExpired"), v.get("startDateTime", ""),
                                             v.get("endDateTime", ""), _t(v.get("numberOfTicks", 0)),
                                             v.get("whatToShow", ""), _b(v, "useRTH"), _b(v, "ignoreSize"),
                                             _tag_values(v.get("miscOptions"))]),
    87: ("HeadTimestampRequest", lambda v: ["87", _t(v.get("reqId", 0)), *_contract12(v.get("contract", {})),
                                           _b(v.get("contract", {}), "includeExpired"), _b(v, "useRTH"),
                                           v.get("whatToShow", ""), _t(v.get("formatDate", 0))]),
    90: ("CancelHeadTimestamp", _simple("90", "=reqId")),
    22: ("ScannerSubscriptionRequest", _scanner_subscription),
    23: ("CancelScannerSubscription", _simple("23", "1", "=reqId")),
    24: ("ScannerParametersRequest", _simple("24", "1")),
    91: ("MarketRuleRequest", _simple("91", "=marketRuleId")),
    92: ("PnLRequest", _simple("92", "=reqId", "=account", "=modelCode")),
    93: ("CancelPnL", _simple("93", "=reqId")),
    94: ("PnLSingleRequest", _simple("94", "=reqId", "=account", "=modelCode", "=conId")),
    95: ("CancelPnLSingle", _simple("95", "=reqId")),
    97: ("TickByTickRequest", lambda v: ["97", _t(v.get("reqId", 0)), *_contract12(v.get("contract", {})),
                                        v.get("tickType", ""), _t(v.get("numberOfTicks", 0)), _b(v, "ignoreSize")]),
    98: ("CancelTickByTick", _simple("98", "=reqId")),
    99: ("CompletedOrdersRequest", _simple("99", "?apiOnly")),
    104: ("UserInfoRequest", _simple("104", "=reqId")),
    105: ("CurrentTimeInMillisRequest", _simple("105")),
    106: ("CancelContractData", _simple("106", "=reqId")),
    107: ("CancelHistoricalTicks", _simple("107", "=reqId")),
}


class UnservedProtobufRequest(Exception):
    """A protobuf request id this mock has no schema for; answered like an unknown text request."""


def decode_values(msg_id: int, payload: bytes) -> tuple[str, Values]:
    """(protobuf message name, decoded values) of one protobuf request."""
    entry = REQUESTS.get(msg_id)
    if entry is None:
        raise UnservedProtobufRequest(f"protobuf request id {msg_id} is not served by this mock")
    return entry[0], wire.decode(entry[0], payload)


def protobuf_request_fields(msg_id: int, payload: bytes) -> list[str]:
    """The text-layout fields (the mock's request model) of one protobuf request.

    Raises ProtoDecodeError for bytes that are not the message, UnservedProtobufRequest for an id
    without a schema here, ValueError for a valid message the mock cannot serve (e.g. order conditions).
    """
    name, values = decode_values(msg_id, payload)
    return REQUESTS[msg_id][1](values)
