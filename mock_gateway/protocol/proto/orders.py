"""Orders between protobuf and the mock's order model (:class:`~mock_gateway.protocol.orders.WireOrder`).

Inbound, a protobuf ``PlaceOrderRequest`` becomes the same WireOrder (values by the client
library's attribute name) that a text placeOrder gives, and then the text placeOrder at the
newest text layout, so one parser and one set of handlers serve both encodings. Outbound, the
order model that ``messages.open_order``/``completed_order`` attach to their text fields becomes
the protobuf ``OpenOrder``/``CompletedOrder``.
"""
from __future__ import annotations

from typing import Any

from ..fields import fmt_float
from ..orders import (
    _ADJUSTED, _AFTER_FA, _CLEARING, _DELTA_NEUTRAL, _FA, _HEAD, _MISC, _PEG_BENCH, _SCALE_EXTRA,
    _SCALE_TABLE_HEDGE, _TAIL, _TRAIL_SCALE, CONTRACT_FIELDS, WireOrder,
)
from ..versions import FA_PROFILE_DESUPPORT, MAX_TEXT, PEGBEST_PEGMID_OFFSETS
from ..messages import _order_contract
from .schema import MESSAGES
from .values import _contract11

_ORDER = MESSAGES["Order"].by_name
#: Text attribute names whose protobuf field has another name.
_TEXT_NAME = {"primaryExch": "primaryExchange"}


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):   # as the Python text clients write a double (str), inf as 'Infinite'
        return "Infinite" if value == float("inf") else str(value)
    return str(value)


def wire_order(order_id: int, contract: dict[str, Any], order: dict[str, Any]) -> WireOrder:
    """The order model of a protobuf placeOrder (``contract``/``order`` as :func:`wire.decode` gives them)."""
    c = {name: "" for name in CONTRACT_FIELDS}
    c.update({"secIdType": "", "secId": "", "strike": "0.0"})   # an absent strike: 0.0, as text clients write it
    for name, value in contract.items():
        if isinstance(value, (dict, list)):
            continue
        c[_TEXT_NAME.get(name, name)] = _text(value)
    values: dict[str, str] = {}
    for name, value in order.items():
        if isinstance(value, (dict, list)):
            continue
        values[name] = _text(value)
    values["transmit"] = "1" if order.get("transmit") else "0"   # protobuf leaves a false bool out
    tier = order.get("softDollarTier") or {}
    if tier:
        values["softDollarTierName"] = tier.get("name", "")
        values["softDollarTierValue"] = tier.get("value", "")
    wo = WireOrder(order_id, MAX_TEXT, c, values)
    for leg in contract.get("comboLegs", []):
        wo.combo_legs.append([_text(leg.get("conId", 0)), _text(leg.get("ratio", 0)), leg.get("action", ""),
                              leg.get("exchange", ""), _text(leg.get("openClose", 0)),
                              _text(leg.get("shortSalesSlot", 0)), leg.get("designatedLocation", ""),
                              _text(leg.get("exemptCode", -1))])
        if "perLegPrice" in leg:
            wo.order_combo_leg_prices.append(_text(leg["perLegPrice"]))
    wo.smart_combo_routing_params = list(order.get("smartComboRoutingParams", {}).items())
    wo.algo_params = list(order.get("algoParams", {}).items())
    dnc = contract.get("deltaNeutralContract")
    if dnc:
        wo.delta_neutral_contract = (_text(dnc.get("conId", 0)), _text(dnc.get("delta", 0.0)),
                                     _text(dnc.get("price", 0.0)))
    if order.get("conditions"):
        raise ValueError("order conditions over protobuf are not served by this mock yet; "
                         "place the order without conditions")
    return wo


def place_order_text(order: WireOrder) -> list[str]:
    """The text placeOrder fields of ``order`` at the newest text layout (the inverse of parse_place_order)."""
    c, v = order.contract, order.values
    g = v.get
    f = ["3", str(order.order_id), *(c.get(name, "") for name in CONTRACT_FIELDS), c.get("secIdType", ""),
         c.get("secId", "")]
    f += [g(name, "") for name in _HEAD]
    if c.get("secType") == "BAG":
        f.append(str(len(order.combo_legs)))
        for leg in order.combo_legs:
            f += leg
        f.append(str(len(order.order_combo_leg_prices)))
        f += order.order_combo_leg_prices
        f.append(str(len(order.smart_combo_routing_params)))
        for tag, value in order.smart_combo_routing_params:
            f += [tag, value]
    f.append("")   # sharesAllocation
    f += [g(name, "") for name in _FA]
    if MAX_TEXT < FA_PROFILE_DESUPPORT:
        f.append(g("faProfile", ""))
    f += [g(name, "") for name in _AFTER_FA]
    if g("deltaNeutralOrderType"):
        f += [g(name, "") for name in _DELTA_NEUTRAL]
    f += [g(name, "") for name in _TRAIL_SCALE]
    try:
        increment = float(g("scalePriceIncrement") or 0)
    except ValueError:
        increment = 0.0
    if 0 < increment < 1.7976931348623157e308:
        f += [g(name, "") for name in _SCALE_EXTRA]
    f += [g(name, "") for name in _SCALE_TABLE_HEDGE]
    if g("hedgeType"):
        f.append(g("hedgeParam", ""))
    f += [g(name, "") for name in _CLEARING]
    if order.delta_neutral_contract:
        f += ["1", *order.delta_neutral_contract]
    else:
        f.append("0")
    f.append(g("algoStrategy", ""))
    if g("algoStrategy"):
        f.append(str(len(order.algo_params)))
        for tag, value in order.algo_params:
            f += [tag, value]
    f += [g(name, "") for name in _MISC]
    kind = g("orderType", "").upper()
    if kind in ("PEG BENCH", "PEGBENCH"):
        f += [g(name, "") for name in _PEG_BENCH]
    f.append("0")   # conditions: refused above until served
    f += [g(name, "") for name in _ADJUSTED]
    f += [g(name, "") for since, name in _TAIL if MAX_TEXT >= since]
    if MAX_TEXT >= PEGBEST_PEGMID_OFFSETS:
        if c.get("exchange") == "IBKRATS":
            f.append(g("minTradeQty", ""))
        if kind in ("PEG BEST", "PEGBEST"):
            offset = g("competeAgainstBestOffset", "")
            f += [g("minCompeteSize", ""), "Infinite" if offset in ("inf", "Infinity") else offset]
            if offset in ("inf", "Infinity", "Infinite"):
                f += [g("midOffsetAtWhole", ""), g("midOffsetAtHalf", "")]
        elif kind in ("PEG MID", "PEGMID"):
            f += [g("midOffsetAtWhole", ""), g("midOffsetAtHalf", "")]
    return f


# ---------------------------------------------------------------------------------------------- outbound
def _typed(ftype: str, text: str) -> Any:
    if text == "":
        return None
    try:
        if ftype in ("int32", "int64"):
            n = int(float(text))
            return None if n == 2**31 - 1 else n
        if ftype == "double":
            if text in ("Infinite", "Infinity"):
                return float("inf")
            x = float(text)
            return None if x >= 1.7976931348623157e308 else x
        if ftype == "bool":
            return text not in ("0", "false", "False")
    except ValueError:
        return None
    return text


def _order_values(order: WireOrder) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, text in order.values.items():
        f = _ORDER.get(name)
        if f is None or f.type not in ("int32", "int64", "double", "bool", "string"):
            continue
        value = _typed(f.type, text)
        if value is not None:
            out[name] = value
    if order.algo_params:
        out["algoParams"] = dict(order.algo_params)
    if order.smart_combo_routing_params:
        out["smartComboRoutingParams"] = dict(order.smart_combo_routing_params)
    out["orderId"] = order.order_id
    return out


def _contract(model: dict[str, Any]) -> dict[str, Any]:
    order: WireOrder = model["order"]
    contract = _contract11(_order_contract(model.get("contract"), order), 0)
    primary = order.contract.get("primaryExchange", "")
    if primary:
        contract["primaryExch"] = primary
    legs = []
    for k, leg in enumerate(order.combo_legs):
        values = {"conId": _typed("int32", leg[0]), "ratio": _typed("int32", leg[1]), "action": leg[2] or None,
                  "exchange": leg[3] or None, "openClose": _typed("int32", leg[4]),
                  "shortSalesSlot": _typed("int32", leg[5]), "designatedLocation": leg[6] or None,
                  "exemptCode": _typed("int32", leg[7])}
        if k < len(order.order_combo_leg_prices):
            values["perLegPrice"] = _typed("double", order.order_combo_leg_prices[k])
        legs.append({name: v for name, v in values.items() if v is not None})
    if legs:
        contract["comboLegs"] = legs
    if order.delta_neutral_contract:
        con_id, delta, price = order.delta_neutral_contract
        contract["deltaNeutralContract"] = {k: v for k, v in (("conId", _typed("int32", con_id)),
                                                               ("delta", _typed("double", delta)),
                                                               ("price", _typed("double", price))) if v is not None}
    return contract


def _state(state: Any) -> dict[str, Any]:
    def d(text: Any) -> float | None:
        return None if text in ("", None) else _typed("double", str(text))
    out = {"status": state.status or None, "initMarginBefore": d(state.init_margin_before),
           "maintMarginBefore": d(state.maint_margin_before), "equityWithLoanBefore": d(state.equity_with_loan_before),
           "initMarginChange": d(state.init_margin_change), "maintMarginChange": d(state.maint_margin_change),
           "equityWithLoanChange": d(state.equity_with_loan_change), "initMarginAfter": d(state.init_margin_after),
           "maintMarginAfter": d(state.maint_margin_after), "equityWithLoanAfter": d(state.equity_with_loan_after),
           "commissionAndFees": state.commission, "minCommissionAndFees": state.min_commission,
           "maxCommissionAndFees": state.max_commission,
           "commissionAndFeesCurrency": state.commission_currency or None, "warningText": state.warning_text or None}
    return {k: v for k, v in out.items() if v is not None}


def open_order_values(model: dict[str, Any]) -> dict[str, Any]:
    """The protobuf OpenOrder of the model ``messages.open_order`` attached to its text fields."""
    order: WireOrder = model["order"]
    values = _order_values(order)
    qty = model.get("total_qty")
    values["totalQuantity"] = fmt_float(order.total_qty if qty is None else qty)
    values["clientId"] = model["client_id"]
    values["permId"] = model["perm_id"]
    return {"orderId": order.order_id, "contract": _contract(model), "order": values,
            "orderState": _state(model["state"])}


def completed_order_values(model: dict[str, Any]) -> dict[str, Any]:
    """The protobuf CompletedOrder of the model ``messages.completed_order`` attached to its text fields."""
    order: WireOrder = model["order"]
    values = _order_values(order)
    values.pop("orderId", None)
    values["totalQuantity"] = fmt_float(order.total_qty)
    values["permId"] = model["perm_id"]
    values["filledQuantity"] = fmt_float(model["filled_qty"])
    if model.get("parent_perm_id"):
        values["parentPermId"] = model["parent_perm_id"]
    state = {"status": model["status"], "completedTime": model["completed_time"],
             "completedStatus": model["completed_status"]}
    return {"contract": _contract(model), "order": values, "orderState": {k: v for k, v in state.items() if v}}
