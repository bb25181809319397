"""Protobuf replies back into the reply model (text fields at layout 178), for the recording tap.

The tap decodes a real gateway's protobuf replies into the same event log the mock writes: the same
message names and the same fields, so ``describe_reply`` and every metric read them as they read a
text session. historicalData arrives as two protobuf messages (bars, then HistoricalDataEnd) and
becomes the one text historicalData the mock logs.
"""
from __future__ import annotations

from typing import Any

from .. import messages as m
from ..fields import fmt_float
from ..versions import MAX_TEXT
from . import wire
from .orders import wire_order
from .replies import _BUILDERS, _Simple, text_of

Values = dict[str, Any]

#: reply id -> protobuf message name, for every reply the mock speaks as protobuf (+ historicalDataEnd)
MESSAGE_OF: dict[int, str] = {int(k): b.message for k, b in _BUILDERS.items() if isinstance(b, _Simple)}
MESSAGE_OF.update({4: "ErrorMessage", 5: "OpenOrder", 7: "PortfolioValue", 10: "ContractData", 11: "ExecutionDetails",
                   17: "HistoricalData", 59: "CommissionAndFeesReport", 61: "Position", 71: "PositionMulti",
                   75: "SecDefOptParameter", 89: "HistogramData", 96: "HistoricalTicks",
                   97: "HistoricalTicksBidAsk", 98: "HistoricalTicksLast", 99: "TickByTickData", 77: "SoftDollarTiers", 78: "FamilyCodes", 79: "SymbolSamples",
                   12: "MarketDepth", 13: "MarketDepthL2", 80: "MarketDepthExchanges", 82: "SmartComponents", 85: "NewsProviders", 90: "HistoricalDataUpdate",
                   93: "MarketRule", 101: "CompletedOrder", 108: "HistoricalDataEnd"})

_t = text_of


def _contract11(c: Values, *, primary: bool = False) -> list[str]:
    return [_t(c.get("conId", 0)), _t(c.get("symbol")), _t(c.get("secType")),
            _t(c.get("lastTradeDateOrContractMonth")), _t(c.get("strike", 0.0)), _t(c.get("right")),
            _t(c.get("multiplier")), _t(c.get("primaryExch" if primary else "exchange")), _t(c.get("currency")),
            _t(c.get("localSymbol")), _t(c.get("tradingClass"))]


def _contract_data(v: Values) -> list[str]:
    c, d = v.get("contractDetails", {}), v.get("contract", {})
    ids = c.get("secIdList", {})
    f = ["10", _t(v.get("reqId")), _t(d.get("symbol")), _t(d.get("secType")), _t(d.get("lastTradeDateOrContractMonth")),
         _t(d.get("strike", 0.0)), _t(d.get("right")), _t(d.get("exchange")), _t(d.get("currency")),
         _t(d.get("localSymbol")), _t(c.get("marketName")), _t(d.get("tradingClass")), _t(d.get("conId", 0)),
         _t(c.get("minTick")), _t(d.get("multiplier")), _t(c.get("orderTypes")), _t(c.get("validExchanges")),
         _t(c.get("priceMagnifier", 0)), _t(c.get("underConId", 0)), _t(c.get("longName")), _t(d.get("primaryExch")),
         _t(c.get("contractMonth")), _t(c.get("industry")), _t(c.get("category")), _t(c.get("subcategory")),
         _t(c.get("timeZoneId")), _t(c.get("tradingHours")), _t(c.get("liquidHours")), _t(c.get("evRule")),
         _t(c.get("evMultiplier")), str(len(ids or {}))]
    for tag, value in (ids or {}).items():
        f += [tag, value]
    f += [_t(c.get("aggGroup", 0)), _t(c.get("underSymbol")), _t(c.get("underSecType")), _t(c.get("marketRuleIds")),
          _t(c.get("realExpirationDate")), _t(c.get("stockType")), _t(c.get("minSize")), _t(c.get("sizeIncrement")),
          _t(c.get("suggestedSizeIncrement"))]
    return f


def _exec_details(v: Values) -> list[str]:
    e = v.get("execution", {})
    return ["11", _t(v.get("reqId")), _t(e.get("orderId", 0)), *_contract11(v.get("contract", {})), _t(e.get("execId")),
            _t(e.get("time")), _t(e.get("acctNumber")), _t(e.get("exchange")), _t(e.get("side")), _t(e.get("shares")),
            _t(e.get("price", 0.0)), _t(e.get("permId", 0)), _t(e.get("clientId", 0)),
            _t(int(bool(e.get("isLiquidation")))), _t(e.get("cumQty")), _t(e.get("avgPrice", 0.0)),
            _t(e.get("orderRef")), _t(e.get("evRule")), _t(e.get("evMultiplier")), _t(e.get("modelCode")),
            _t(e.get("lastLiquidity", 0)), _t(int(bool(e.get("isPriceRevisionPending"))))]


def _order_model(v: Values) -> Any:
    contract = dict(v.get("contract", {}))
    order = v.get("order", {})
    placed = wire_order(int(v.get("orderId", order.get("orderId", 0))), contract, order)
    placed.contract["strike"] = fmt_float(float(placed.contract["strike"] or 0))   # as the gateway writes it
    return placed


def _open_order(v: Values) -> list[str]:
    order = v.get("order", {})
    st = v.get("orderState", {})
    state = m.OrderStateFields(status=st.get("status", ""), commission=st.get("commissionAndFees"),
                               min_commission=st.get("minCommissionAndFees"),
                               max_commission=st.get("maxCommissionAndFees"),
                               commission_currency=st.get("commissionAndFeesCurrency", ""),
                               warning_text=st.get("warningText", ""))
    return list(m.open_order(MAX_TEXT, _order_model(v), contract=None, client_id=int(order.get("clientId", 0)),
                             perm_id=int(order.get("permId", 0)), state=state))


def _completed_order(v: Values) -> list[str]:
    order, st = v.get("order", {}), v.get("orderState", {})
    filled = order.get("filledQuantity", "0")
    return list(m.completed_order(MAX_TEXT, _order_model(v), contract=None, perm_id=int(order.get("permId", 0)),
                                  status=st.get("status", ""), filled_qty=float(filled or 0),
                                  completed_time=st.get("completedTime", ""),
                                  completed_status=st.get("completedStatus", ""),
                                  parent_perm_id=int(order.get("parentPermId", 0))))


def _mask_text(attrib: Values, names: tuple[str, str]) -> str:
    return str(int(bool(attrib.get(names[0]))) | (int(bool(attrib.get(names[1]))) << 1))


def _tick_by_tick(v: Values) -> list[str]:
    """TickByTickData back into the text tickByTick (99) fields of its tick type."""
    tick_type = int(v.get("tickType", 0))
    head = ["99", _t(v.get("reqId")), str(tick_type)]
    if tick_type in (1, 2):
        t = v.get("historicalTickLast", {})
        return head + [_t(t.get("time", 0)), _t(t.get("price", 0.0)), _t(t.get("size")),
                       _mask_text(t.get("tickAttribLast", {}), ("pastLimit", "unreported")), _t(t.get("exchange")),
                       _t(t.get("specialConditions"))]
    if tick_type == 3:
        t = v.get("historicalTickBidAsk", {})
        return head + [_t(t.get("time", 0)), _t(t.get("priceBid", 0.0)), _t(t.get("priceAsk", 0.0)),
                       _t(t.get("sizeBid")), _t(t.get("sizeAsk")),
                       _mask_text(t.get("tickAttribBidAsk", {}), ("bidPastLow", "askPastHigh"))]
    t = v.get("historicalTickMidPoint", {})
    return head + [_t(t.get("time", 0)), _t(t.get("price", 0.0))]


def _pairs(items: list[Values], names: tuple[str, ...]) -> list[str]:
    return [str(len(items)), *(_t(item.get(n)) for item in items for n in names)]


_CUSTOM = {
    4: lambda v: ["4", "2", _t(v.get("id", -1)), _t(v.get("errorCode", 0)), _t(v.get("errorMsg")),
                  _t(v.get("advancedOrderRejectJson"))],
    5: _open_order,
    7: lambda v: ["7", "8", *_contract11(v.get("contract", {}), primary=True), _t(v.get("position")),
                  _t(v.get("marketPrice", 0.0)), _t(v.get("marketValue", 0.0)), _t(v.get("averageCost", 0.0)),
                  _t(v.get("unrealizedPNL", 0.0)), _t(v.get("realizedPNL", 0.0)), _t(v.get("accountName"))],
    10: _contract_data,
    11: _exec_details,
    59: lambda v: ["59", "1", _t(v.get("execId")), _t(v.get("commissionAndFees", 0.0)), _t(v.get("currency")),
                   _t(v.get("realizedPNL")), _t(v.get("bondYield")), _t(v.get("yieldRedemptionDate", "0"))],
    61: lambda v: ["61", "3", _t(v.get("account")), *_contract11(v.get("contract", {})), _t(v.get("position")),
                   _t(v.get("avgCost", 0.0))],
    71: lambda v: ["71", "1", _t(v.get("reqId")), _t(v.get("account")), *_contract11(v.get("contract", {})),
                   _t(v.get("position")), _t(v.get("avgCost", 0.0)), _t(v.get("modelCode"))],
    75: lambda v: ["75", _t(v.get("reqId")), _t(v.get("exchange")), _t(v.get("underlyingConId", 0)),
                   _t(v.get("tradingClass")), _t(v.get("multiplier")), str(len(v.get("expirations", []))),
                   *v.get("expirations", []), str(len(v.get("strikes", []))), *(_t(k) for k in v.get("strikes", []))],
    77: lambda v: ["77", _t(v.get("reqId")), *_pairs(v.get("softDollarTiers", []), ("name", "value", "displayName"))],
    78: lambda v: ["78", *_pairs(v.get("familyCodes", []), ("accountId", "familyCode"))],
    79: lambda v: ["79", _t(v.get("reqId")), str(len(v.get("contractDescriptions", []))), *(
        x for d in v.get("contractDescriptions", []) for x in (
            _t(d.get("contract", {}).get("conId", 0)), _t(d.get("contract", {}).get("symbol")),
            _t(d.get("contract", {}).get("secType")), _t(d.get("contract", {}).get("primaryExch")),
            _t(d.get("contract", {}).get("currency")), str(len(d.get("derivativeSecTypes", []))),
            *d.get("derivativeSecTypes", []), _t(d.get("contract", {}).get("description")),
            _t(d.get("contract", {}).get("issuerId"))))],
    80: lambda v: ["80", *_pairs(v.get("depthMarketDataDescriptions", []),
                                 ("exchange", "secType", "listingExch", "serviceDataType", "aggGroup"))],
    82: lambda v: ["82", _t(v.get("reqId")), *_pairs(v.get("smartComponents", []),
                                                     ("bitNumber", "exchange", "exchangeLetter"))],
    85: lambda v: ["85", *_pairs(v.get("newsProviders", []), ("providerCode", "providerName"))],
    90: lambda v: (lambda b: ["90", _t(v.get("reqId")), _t(b.get("barCount", 0)), _t(b.get("date")),
                              _t(b.get("open", 0.0)), _t(b.get("close", 0.0)), _t(b.get("high", 0.0)),
                              _t(b.get("low", 0.0)), _t(b.get("WAP")), _t(b.get("volume"))])(
        v.get("historicalDataBar", {})),
    89: lambda v: ["89", _t(v.get("reqId")), *_pairs(v.get("histogramDataEntries", []), ("price", "size"))],
    96: lambda v: ["96", _t(v.get("reqId")), str(len(v.get("historicalTicks", []))), *(
        x for t in v.get("historicalTicks", []) for x in (_t(t.get("time", 0)), "0", _t(t.get("price", 0.0)),
                                                          _t(t.get("size")))), _t(bool(v.get("isDone")))],
    97: lambda v: ["97", _t(v.get("reqId")), str(len(v.get("historicalTicksBidAsk", []))), *(
        x for t in v.get("historicalTicksBidAsk", []) for x in (
            _t(t.get("time", 0)), _mask_text(t.get("tickAttribBidAsk", {}), ("bidPastLow", "askPastHigh")),
            _t(t.get("priceBid", 0.0)), _t(t.get("priceAsk", 0.0)), _t(t.get("sizeBid")), _t(t.get("sizeAsk")))),
        _t(bool(v.get("isDone")))],
    98: lambda v: ["98", _t(v.get("reqId")), str(len(v.get("historicalTicksLast", []))), *(
        x for t in v.get("historicalTicksLast", []) for x in (
            _t(t.get("time", 0)), _mask_text(t.get("tickAttribLast", {}), ("pastLimit", "unreported")),
            _t(t.get("price", 0.0)), _t(t.get("size")), _t(t.get("exchange")), _t(t.get("specialConditions")))),
        _t(bool(v.get("isDone")))],
    93: lambda v: ["93", _t(v.get("marketRuleId", 0)), *_pairs(v.get("priceIncrements", []), ("lowEdge", "increment"))],
    99: lambda v: _tick_by_tick(v),
    12: lambda v: (lambda d: ["12", "1", _t(v.get("reqId")), _t(d.get("position", 0)), _t(d.get("operation", 0)),
                              _t(d.get("side", 0)), _t(d.get("price", 0.0)), _t(d.get("size"))])(
        v.get("marketDepthData", {})),
    13: lambda v: (lambda d: ["13", "1", _t(v.get("reqId")), _t(d.get("position", 0)), _t(d.get("marketMaker")),
                              _t(d.get("operation", 0)), _t(d.get("side", 0)), _t(d.get("price", 0.0)),
                              _t(d.get("size")), _t(bool(d.get("isSmartDepth")))])(v.get("marketDepthData", {})),
    101: _completed_order,
}


#: Bounds on what the decoder holds while bars await their HistoricalDataEnd (a peer that never
#: sends it must not grow the tap's memory without limit).
MAX_PENDING_REQUESTS = 256
MAX_PENDING_BARS = 200_000


class ReplyDecoder:
    """Per-connection: protobuf replies in, reply-model text fields out (historicalData reassembled)."""

    def __init__(self) -> None:
        self._bars: dict[int, list[Values]] = {}

    def feed(self, reply_id: int, payload: bytes) -> list[list[str]]:
        """Text fields of the replies this message completes (none while bars await their end).

        Raises ProtoDecodeError for bytes that are not the message; returns ``[[str(id)]]`` for a
        reply id this decoder has no schema for, so the event still names it.
        """
        name = MESSAGE_OF.get(reply_id)
        if name is None:
            return [[str(reply_id)]]
        values = wire.decode(name, payload)
        if reply_id == 17:
            req_id = int(values.get("reqId", -1))
            if req_id not in self._bars and len(self._bars) >= MAX_PENDING_REQUESTS:
                self._bars.pop(next(iter(self._bars)))   # bars never ended: the oldest request is given up
            bars = self._bars.setdefault(req_id, [])
            bars.extend(values.get("historicalDataBars", [])[:MAX_PENDING_BARS - len(bars)])
            return []
        if reply_id == 108:
            req_id = int(values.get("reqId", -1))
            bars = self._bars.pop(req_id, [])
            fields = ["17", str(req_id), _t(values.get("startDateStr")), _t(values.get("endDateStr")), str(len(bars))]
            for b in bars:
                fields += [_t(b.get("date")), _t(b.get("open", 0.0)), _t(b.get("high", 0.0)), _t(b.get("low", 0.0)),
                           _t(b.get("close", 0.0)), _t(b.get("volume")), _t(b.get("WAP")), _t(b.get("barCount", 0))]
            return [fields]
        custom = _CUSTOM.get(reply_id)
        if custom is not None:
            return [custom(values)]
        return [_BUILDERS[str(reply_id)].text(values)]
