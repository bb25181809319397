"""placeOrder (msg 3) parser: walks the optional groups to reach whatIf and the version tail.

Indices are fixed only up to ``hidden``; after that the layout depends on the contract
(BAG legs), the order (delta-neutral, scale, hedge, algo, PEG BENCH, conditions) and the
negotiated version. The walk follows ib_insync/client.py:410-620 (identical in ibapi 9.81 at
157 and in ib_async 2.1.0 up to 178, which drops faProfile). Every value is kept as the
string that came in, by the client library's attribute name, so openOrder/completedOrder
can echo the order exactly.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .fields import UNSET_DOUBLE, parse_bool, parse_float, parse_int
from .versions import (
    ADVANCED_ORDER_REJECT,
    AUTO_CANCEL_PARENT,
    CME_TAGGING_FIELDS,
    CUSTOMER_ACCOUNT,
    DURATION_PLACE,
    FA_PROFILE_DESUPPORT,
    INCLUDE_OVERNIGHT,
    MANUAL_ORDER_TIME,
    MAX_TEXT,
    MAX_TEXT_SERVED,
    PEGBEST_PEGMID_OFFSETS,
    POST_TO_ATS,
    PROFESSIONAL_CUSTOMER,
    RFQ_FIELDS,
    UNDO_RFQ_FIELDS,
)

CONTRACT_FIELDS = ("conId", "symbol", "secType", "lastTradeDateOrContractMonth", "strike", "right",
                   "multiplier", "exchange", "primaryExchange", "currency", "localSymbol", "tradingClass")

#: Fields after the condition type, per condition type (ib_insync/order.py, ibapi/order_condition.py).
CONDITION_FIELD_COUNTS = {1: 6, 3: 3, 4: 3, 5: 4, 6: 5, 7: 5}

_HEAD = ("action", "totalQuantity", "orderType", "lmtPrice", "auxPrice", "tif", "ocaGroup", "account",
         "openClose", "origin", "orderRef", "transmit", "parentId", "blockOrder", "sweepToFill",
         "displaySize", "triggerMethod", "outsideRth", "hidden")
_FA = ("discretionaryAmt", "goodAfterTime", "goodTillDate", "faGroup", "faMethod", "faPercentage")
_AFTER_FA = ("modelCode", "shortSaleSlot", "designatedLocation", "exemptCode", "ocaType", "rule80A",
             "settlingFirm", "allOrNone", "minQty", "percentOffset", "eTradeOnly", "firmQuoteOnly",
             "nbboPriceCap", "auctionStrategy", "startingPrice", "stockRefPrice", "delta",
             "stockRangeLower", "stockRangeUpper", "overridePercentageConstraints", "volatility",
             "volatilityType", "deltaNeutralOrderType", "deltaNeutralAuxPrice")
_DELTA_NEUTRAL = ("deltaNeutralConId", "deltaNeutralSettlingFirm", "deltaNeutralClearingAccount",
                  "deltaNeutralClearingIntent", "deltaNeutralOpenClose", "deltaNeutralShortSale",
                  "deltaNeutralShortSaleSlot", "deltaNeutralDesignatedLocation")
_TRAIL_SCALE = ("continuousUpdate", "referencePriceType", "trailStopPrice", "trailingPercent",
                "scaleInitLevelSize", "scaleSubsLevelSize", "scalePriceIncrement")
_SCALE_EXTRA = ("scalePriceAdjustValue", "scalePriceAdjustInterval", "scaleProfitOffset", "scaleAutoReset",
                "scaleInitPosition", "scaleInitFillQty", "scaleRandomPercent")
_SCALE_TABLE_HEDGE = ("scaleTable", "activeStartTime", "activeStopTime", "hedgeType")
_CLEARING = ("optOutSmartRouting", "clearingAccount", "clearingIntent", "notHeld")
_MISC = ("algoId", "whatIf", "orderMiscOptions", "solicited", "randomizeSize", "randomizePrice")
_PEG_BENCH = ("referenceContractId", "isPeggedChangeAmountDecrease", "peggedChangeAmount",
              "referenceChangeAmount", "referenceExchangeId")
_ADJUSTED = ("adjustedOrderType", "triggerPrice", "lmtPriceOffset", "adjustedStopPrice",
             "adjustedStopLimitPrice", "adjustedTrailingAmount", "adjustableTrailingUnit", "extOperator",
             "softDollarTierName", "softDollarTierValue", "cashQty", "mifid2DecisionMaker",
             "mifid2DecisionAlgo", "mifid2ExecutionTrader", "mifid2ExecutionAlgo",
             "dontUseAutoPriceForHedge", "isOmsContainer", "discretionaryUpToLimitPrice", "usePriceMgmtAlgo")
#: (first version, attribute) of the fields appended to the tail.
_TAIL = ((DURATION_PLACE, "duration"), (POST_TO_ATS, "postToAts"), (AUTO_CANCEL_PARENT, "autoCancelParent"),
         (ADVANCED_ORDER_REJECT, "advancedErrorOverride"), (MANUAL_ORDER_TIME, "manualOrderTime"))


class OrderParseError(ValueError):
    """A placeOrder message that does not follow the layout of its negotiated version."""


@dataclass
class WireOrder:
    """One placeOrder as received: scalar values by attribute name plus the repeated groups."""

    order_id: int
    server_version: int
    contract: dict[str, str]
    values: dict[str, str]
    combo_legs: list[list[str]] = field(default_factory=list)           # 8 fields each
    order_combo_leg_prices: list[str] = field(default_factory=list)
    smart_combo_routing_params: list[tuple[str, str]] = field(default_factory=list)
    delta_neutral_contract: tuple[str, str, str] | None = None          # conId, delta, price
    algo_params: list[tuple[str, str]] = field(default_factory=list)
    conditions: list[list[str]] = field(default_factory=list)          # condType first

    def get(self, name: str) -> str:
        return self.values.get(name, "")

    # -- the typed view the world and the faults read (faults.base.OrderView)
    @property
    def symbol(self) -> str:
        return self.contract["symbol"]

    @property
    def sec_type(self) -> str:
        return self.contract["secType"]

    @property
    def con_id(self) -> int:
        return parse_int(self.contract["conId"], 0) or 0

    @property
    def action(self) -> str:
        return self.get("action").upper()

    @property
    def total_qty(self) -> float:
        return parse_float(self.get("totalQuantity"), 0.0) or 0.0

    @property
    def order_type(self) -> str:
        return self.get("orderType").upper()

    @property
    def lmt_price(self) -> float | None:
        return parse_float(self.get("lmtPrice"))

    @property
    def aux_price(self) -> float | None:
        return parse_float(self.get("auxPrice"))

    @property
    def tif(self) -> str:
        return self.get("tif")

    @property
    def account(self) -> str:
        return self.get("account")

    @property
    def order_ref(self) -> str:
        return self.get("orderRef")

    @property
    def parent_id(self) -> int:
        return parse_int(self.get("parentId"), 0) or 0

    @property
    def transmit(self) -> bool:
        return parse_bool(self.get("transmit") or "1")

    @property
    def what_if(self) -> bool:
        return parse_bool(self.get("whatIf"))

    @property
    def outside_rth(self) -> bool:
        return parse_bool(self.get("outsideRth"))


class _Cursor:
    def __init__(self, fields: list[str], start: int) -> None:
        self.fields = fields
        self.i = start

    def take(self, what: str) -> str:
        if self.i >= len(self.fields):
            raise OrderParseError(f"placeOrder ended before {what} (field {self.i}); "
                                  f"{len(self.fields)} fields received")
        value = self.fields[self.i]
        self.i += 1
        return value

    def take_into(self, names: tuple[str, ...], into: dict[str, str]) -> None:
        for name in names:
            into[name] = self.take(name)

    def count(self, what: str, limit: int = 1000) -> int:
        text = self.take(what)
        try:
            n = int(text or 0)
        except ValueError:
            raise OrderParseError(f"placeOrder {what} must be a number, got {text!r}") from None
        if not 0 <= n <= limit:
            raise OrderParseError(f"placeOrder {what} out of range: {n}")
        return n


def parse_place_order(fields: list[str], server_version: int) -> WireOrder:
    """Parse a placeOrder message (fields start with the message id ``3``)."""
    if len(fields) < 16 or fields[0] != "3":
        raise OrderParseError(f"not a placeOrder message ({len(fields)} fields)")
    try:
        order_id = int(fields[1])
    except ValueError:
        raise OrderParseError(f"placeOrder orderId must be an integer, got {fields[1]!r}") from None
    cur = _Cursor(fields, 2)
    contract: dict[str, str] = {}
    cur.take_into(CONTRACT_FIELDS, contract)
    contract["secIdType"] = cur.take("secIdType")
    contract["secId"] = cur.take("secId")
    values: dict[str, str] = {}
    order = WireOrder(order_id, server_version, contract, values)
    cur.take_into(_HEAD, values)

    if contract["secType"] == "BAG":
        for _ in range(cur.count("comboLegs count")):
            order.combo_legs.append([cur.take("comboLeg") for _ in range(8)])
        for _ in range(cur.count("orderComboLegs count")):
            order.order_combo_leg_prices.append(cur.take("orderComboLeg price"))
        for _ in range(cur.count("smartComboRoutingParams count")):
            order.smart_combo_routing_params.append((cur.take("tag"), cur.take("value")))

    cur.take("sharesAllocation")
    cur.take_into(_FA, values)
    if server_version < FA_PROFILE_DESUPPORT:
        values["faProfile"] = cur.take("faProfile")
    cur.take_into(_AFTER_FA, values)
    if values["deltaNeutralOrderType"]:
        cur.take_into(_DELTA_NEUTRAL, values)
    cur.take_into(_TRAIL_SCALE, values)
    increment = parse_float(values["scalePriceIncrement"], UNSET_DOUBLE) or 0.0
    if 0 < increment < UNSET_DOUBLE:
        cur.take_into(_SCALE_EXTRA, values)
    cur.take_into(_SCALE_TABLE_HEDGE, values)
    if values["hedgeType"]:
        values["hedgeParam"] = cur.take("hedgeParam")
    cur.take_into(_CLEARING, values)
    if parse_bool(cur.take("deltaNeutralContract present")):
        order.delta_neutral_contract = (cur.take("dnc conId"), cur.take("dnc delta"), cur.take("dnc price"))
    values["algoStrategy"] = cur.take("algoStrategy")
    if values["algoStrategy"]:
        for _ in range(cur.count("algoParams count")):
            order.algo_params.append((cur.take("tag"), cur.take("value")))
    cur.take_into(_MISC, values)
    if values["orderType"].upper() in ("PEG BENCH", "PEGBENCH"):
        cur.take_into(_PEG_BENCH, values)
    n_conditions = cur.count("conditions count", limit=100)
    for _ in range(n_conditions):
        cond_type_text = cur.take("condition type")
        n = CONDITION_FIELD_COUNTS.get(parse_int(cond_type_text, -1) or -1)
        if n is None:
            raise OrderParseError(f"placeOrder has an unknown order condition type {cond_type_text!r}")
        order.conditions.append([cond_type_text] + [cur.take("condition field") for _ in range(n)])
    if n_conditions:
        values["conditionsIgnoreRth"] = cur.take("conditionsIgnoreRth")
        values["conditionsCancelOrder"] = cur.take("conditionsCancelOrder")
    cur.take_into(_ADJUSTED, values)
    for since, name in _TAIL:
        if server_version >= since:
            values[name] = cur.take(name)
    if server_version >= PEGBEST_PEGMID_OFFSETS:
        if contract["exchange"] == "IBKRATS":
            values["minTradeQty"] = cur.take("minTradeQty")
        kind = values["orderType"].upper()
        if kind in ("PEG BEST", "PEGBEST"):
            values["minCompeteSize"] = cur.take("minCompeteSize")
            values["competeAgainstBestOffset"] = cur.take("competeAgainstBestOffset")
            if values["competeAgainstBestOffset"] == "Infinite":
                values["midOffsetAtWhole"] = cur.take("midOffsetAtWhole")
                values["midOffsetAtHalf"] = cur.take("midOffsetAtHalf")
        elif kind in ("PEG MID", "PEGMID"):
            values["midOffsetAtWhole"] = cur.take("midOffsetAtWhole")
            values["midOffsetAtHalf"] = cur.take("midOffsetAtHalf")
    # the text layouts 183..193; from 213 placeOrder is protobuf, read through the text model of MAX_TEXT
    text_sv = server_version if server_version <= MAX_TEXT_SERVED else MAX_TEXT
    if text_sv >= CUSTOMER_ACCOUNT:
        values["customerAccount"] = cur.take("customerAccount")
    if text_sv >= PROFESSIONAL_CUSTOMER:
        values["professionalCustomer"] = cur.take("professionalCustomer")
    if RFQ_FIELDS <= text_sv < UNDO_RFQ_FIELDS:
        cur.take("rfq field")            # two RFQ fields clients send empty / unset (ibapi client.py)
        cur.take("rfq field")
    if text_sv >= INCLUDE_OVERNIGHT:
        values["includeOvernight"] = cur.take("includeOvernight")
    if text_sv >= CME_TAGGING_FIELDS:
        values["manualOrderIndicator"] = cur.take("manualOrderIndicator")
    if cur.i != len(fields):
        raise OrderParseError(f"placeOrder at version {server_version} has {len(fields) - cur.i} unexpected "
                              f"trailing field(s) after field {cur.i}: the layout does not match this version")
    return order


def minimal_wire_order(order_id: int, contract: dict[str, str], server_version: int = 176, **values: object) -> WireOrder:
    """A WireOrder for an order that did not come from a placeOrder (e.g. placed on the engine directly).

    ``values`` by attribute name (action, totalQuantity, orderType, lmtPrice, auxPrice, tif, account,
    orderRef); None becomes unset. Every other field takes its default when encoded.
    """
    from .fields import fmt

    full = {name: "" for name in CONTRACT_FIELDS}
    full.update({"secIdType": "", "secId": ""})
    full.update(contract)
    return WireOrder(order_id, server_version, full, {k: fmt(v) for k, v in values.items()})
