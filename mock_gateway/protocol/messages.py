"""Outbound message encoders: one function per server -> client message, version-aware.

Each returns the message's fields as strings (message id first), ready for framing and for
the event log. Layouts and every version branch follow the clients'
decoders (ib_insync/decoder.py, ib_async/decoder.py, ibapi/decoder.py + orderdecoder.py);
branches test feature thresholds from :mod:`.versions`. Rules that keep every client
decoding: counts and ints are integral text, bools ``0``/``1``, sizes integral below 163
(ibapi 9.81 reads them with ``int()``), exact field counts where a client tuple-unpacks.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from .fields import UNSET_DOUBLE_TEXT, fmt, fmt_float
from .orders import WireOrder
from .versions import (
    ADVANCED_ORDER_REJECT,
    AUTO_CANCEL_PARENT,
    BOND_ACCRUED_INTEREST,
    BOND_ISSUERID,
    CME_TAGGING_FIELDS_IN_OPEN_ORDER,
    CUSTOMER_ACCOUNT,
    DURATION,
    FA_PROFILE_DESUPPORT,
    FRACTIONAL_SIZE_SUPPORT,
    FUND_DATA_FIELDS,
    INCLUDE_OVERNIGHT,
    INELIGIBILITY_REASONS,
    LAST_LIQUIDITY,
    LAST_TRADE_DATE,
    MARKET_CAP_PRICE,
    MAX_TEXT_SERVED,
    PEGBEST_PEGMID_OFFSETS,
    PENDING_PRICE_REVISION,
    POST_TO_ATS,
    PROFESSIONAL_CUSTOMER,
    SIZE_RULES,
    SYNT_REALTIME_BARS,
)

Fields = list[str]


class ContractLike(Protocol):
    """What the encoders read of a contract (the world's ContractSpec has these and more)."""

    con_id: int
    symbol: str
    sec_type: str
    last_trade_date: str
    strike: float
    right: str
    multiplier: str
    exchange: str
    primary_exchange: str
    currency: str
    local_symbol: str
    trading_class: str


class ModelFields(list):
    """Text fields that also carry the typed model they were built from, for the protobuf encoder
    (openOrder/completedOrder: the order as placed, which the text layout flattens)."""

    def __init__(self, fields: Iterable[str], model: dict[str, Any]) -> None:
        super().__init__(fields)
        self.model = model


def _attr(obj: Any, name: str, default: Any = "") -> Any:
    value = getattr(obj, name, default)
    return default if value is None else value


def fmt_size(server_version: int, size: float) -> str:
    """A size/quantity field: integral text before decimal sizes (163), ibapi 9.81 parses it with int()."""
    if server_version < FRACTIONAL_SIZE_SUPPORT:
        return str(int(round(size)))
    return fmt_float(float(size))


def _int_text(text: str) -> str:
    """An int field echoed from a client: '' stays unset, '10.0' becomes '10' (ibapi/ib_insync use int())."""
    if not text or "." not in text:
        return text
    try:
        return str(int(float(text)))
    except ValueError:
        return text


def _strike(contract: ContractLike) -> str:
    return fmt_float(float(_attr(contract, "strike", 0.0) or 0.0))


# ---------------------------------------------------------------- session start
def handshake_reply(server_version: int, connection_time: str) -> Fields:
    """Exactly two fields: the clients take the first 2-field message as the reply."""
    return [str(server_version), connection_time]


def managed_accounts(accounts: Iterable[str]) -> Fields:
    return ["15", "1", ",".join(accounts)]


def next_valid_id(order_id: int) -> Fields:
    return ["9", "1", str(order_id)]


def error(server_version: int, req_id: int, code: int, text: str, advanced_order_reject_json: str = "") -> Fields:
    """6 fields from 166 (ib_* unpack the JSON), exactly 5 below (ibapi 9.81 checks the count)."""
    fields = ["4", "2", str(req_id), str(code), text]
    if server_version >= ADVANCED_ORDER_REJECT:
        fields.append(advanced_order_reject_json)
    return fields


def current_time(epoch_s: int) -> Fields:
    return ["49", "1", str(int(epoch_s))]


def current_time_in_millis(epoch_ms: int) -> Fields:
    """currentTimeInMillis (109, from 197): no version field (ibapi 10.51 decoder.processCurrentTimeInMillisMsg)."""
    return ["109", str(int(epoch_ms))]


# ---------------------------------------------------------------- contracts
def _ascii_escape(text: str) -> str:
    """Non-ASCII as \\uXXXX, as TWS sends longName (both clients unicode-unescape it)."""
    return text if text.isascii() else text.encode("ascii", "backslashreplace").decode("ascii")


def contract_data(server_version: int, req_id: int, contract: ContractLike, details: Any) -> Fields:
    """contractData (10). ``details`` has the contract-details attributes of the world's ContractSpec
    (market_name, min_tick, order_types, valid_exchanges, long_name, sec_ids, ...); missing ones are defaults."""
    d = details
    fields = ["10"]
    if server_version < SIZE_RULES:
        fields.append("8")
    fields += [str(req_id), contract.symbol, contract.sec_type, _attr(contract, "last_trade_date")]
    if _text_layout(server_version, LAST_TRADE_DATE):
        fields.append(_last_trade_date(contract))
    fields += [
        _strike(contract),
        _attr(contract, "right"), contract.exchange, contract.currency, _attr(contract, "local_symbol"),
        _attr(d, "market_name"), _attr(contract, "trading_class"), str(contract.con_id),
        fmt_float(float(_attr(d, "min_tick", 0.01))),
    ]
    if server_version < SIZE_RULES:
        fields.append(str(int(_attr(d, "md_size_multiplier", 1))))
    sec_ids = list(_attr(d, "sec_ids", ()) or ())
    fields += [
        _attr(contract, "multiplier"), _attr(d, "order_types"), _attr(d, "valid_exchanges"),
        str(int(_attr(d, "price_magnifier", 1))), str(int(_attr(d, "under_con_id", 0))),
        _ascii_escape(_attr(d, "long_name")), _attr(contract, "primary_exchange"), _attr(d, "contract_month"),
        _attr(d, "industry"), _attr(d, "category"), _attr(d, "subcategory"), _attr(d, "time_zone_id"),
        _attr(d, "trading_hours"), _attr(d, "liquid_hours"), _attr(d, "ev_rule"), fmt(_attr(d, "ev_multiplier")),
        str(len(sec_ids)),
    ]
    for tag, value in sec_ids:
        fields += [tag, value]
    fields += [
        str(int(_attr(d, "agg_group", 1))), _attr(d, "under_symbol"), _attr(d, "under_sec_type"),
        _attr(d, "market_rule_ids"), _attr(d, "real_expiration_date"), _attr(d, "stock_type"),
    ]
    if server_version == FRACTIONAL_SIZE_SUPPORT:
        fields.append(fmt_float(float(_attr(d, "suggested_size_increment", 1.0))))
    elif server_version >= SIZE_RULES:
        fields += [fmt_float(float(_attr(d, "min_size", 1.0))), fmt_float(float(_attr(d, "size_increment", 1.0))),
                   fmt_float(float(_attr(d, "suggested_size_increment", 1.0)))]
    if _text_layout(server_version, FUND_DATA_FIELDS) and contract.sec_type == "FUND":
        # name, family, type, front/back load, interval, fee, closed x3, notify amount, minimum initial and
        # subsequent purchase, blue-sky states and territories, distribution policy, asset type
        fields += ["", "", "", "", "", "", "", "0", "0", "0", "", "", "", "", "", "", ""]
    if _text_layout(server_version, INELIGIBILITY_REASONS):
        fields.append("0")     # no ineligibility reasons: every listed contract is tradable here
    return fields


def _text_layout(server_version: int, since: int) -> bool:
    """Whether a field added at ``since`` (179..193) is on the wire: only in a text session. From 213
    these messages travel as protobuf, converted from the text model of MAX_TEXT (178) field by field."""
    return since <= server_version <= MAX_TEXT_SERVED


def _last_trade_date(contract: ContractLike) -> str:
    """The separate lastTradeDate field (from 182): the last trading day of a dated contract, else empty."""
    if contract.sec_type not in ("FUT", "OPT", "FOP", "WAR", "CONTFUT"):
        return ""
    return _attr(contract, "last_trade_date").split(" ")[0]


def contract_data_end(req_id: int) -> Fields:
    return ["52", "1", str(req_id)]


# ---------------------------------------------------------------- market data
def tick_price(server_version: int, req_id: int, tick_type: int, price: float, size: float,
               attr_mask: int = 0) -> Fields:
    """Exactly 7 fields (ib_* tuple-unpack); ibapi synthesises the matching tickSize from ``size``."""
    return ["1", "6", str(req_id), str(tick_type), fmt_float(price), fmt_size(server_version, size), str(attr_mask)]


def tick_size(server_version: int, req_id: int, tick_type: int, size: float) -> Fields:
    return ["2", "6", str(req_id), str(tick_type), fmt_size(server_version, size)]


def tick_string(req_id: int, tick_type: int, value: str) -> Fields:
    return ["46", "6", str(req_id), str(tick_type), value]


def tick_generic(req_id: int, tick_type: int, value: float) -> Fields:
    return ["45", "6", str(req_id), str(tick_type), fmt_float(value)]


def tick_option_computation(server_version: int, req_id: int, tick_type: int, implied_vol: float, delta: float,
                            opt_price: float, pv_dividend: float, gamma: float, vega: float, theta: float,
                            und_price: float, tick_attrib: int = 0) -> Fields:
    """tickOptionComputation (21) at the price-based-volatility layout (156+): no version field, tickAttrib
    after the tick type, then the 8 model values (ib_insync decoder.tickOptionComputation; ibapi decoder)."""
    return ["21", str(req_id), str(tick_type), str(tick_attrib)] + [
        fmt_float(v) for v in (implied_vol, delta, opt_price, pv_dividend, gamma, vega, theta, und_price)]


def tick_req_params(req_id: int, min_tick: float, bbo_exchange: str, snapshot_permissions: int) -> Fields:
    return ["81", str(req_id), fmt_float(min_tick), bbo_exchange, str(snapshot_permissions)]


def market_data_type(req_id: int, data_type: int) -> Fields:
    return ["58", "1", str(req_id), str(data_type)]


def tick_snapshot_end(req_id: int) -> Fields:
    return ["57", "1", str(req_id)]


# ---------------------------------------------------------------- bars
def historical_data(server_version: int, req_id: int, start: str, end: str,
                    bars: Sequence[tuple[str, Any]]) -> Fields:
    """historicalData (17): bars and the end marker in one message. ``bars`` = (date text, bar)."""
    fields = ["17"]
    if server_version < SYNT_REALTIME_BARS:
        fields.append("3")
    fields += [str(req_id), start, end, str(len(bars))]
    for date, b in bars:
        fields += [date, fmt_float(b.open), fmt_float(b.high), fmt_float(b.low), fmt_float(b.close),
                   fmt_size(server_version, b.volume), fmt_float(b.wap)]
        if server_version < SYNT_REALTIME_BARS:
            fields.append("false")
        fields.append(str(int(b.count)))
    return fields


def historical_data_update(server_version: int, req_id: int, date: str, bar: Any) -> Fields:
    """historicalDataUpdate (90); note the order open, close, high, low."""
    return ["90", str(req_id), str(int(bar.count)), date, fmt_float(bar.open), fmt_float(bar.close),
            fmt_float(bar.high), fmt_float(bar.low), fmt_float(bar.wap), fmt_size(server_version, bar.volume)]


def realtime_bar(server_version: int, req_id: int, epoch_s: int, bar: Any) -> Fields:
    return ["50", "3", str(req_id), str(int(epoch_s)), fmt_float(bar.open), fmt_float(bar.high),
            fmt_float(bar.low), fmt_float(bar.close), fmt_size(server_version, bar.volume), fmt_float(bar.wap),
            str(int(bar.count))]


# ---------------------------------------------------------------- orders
@dataclass
class OrderStateFields:
    """The OrderState block of openOrder (whatIf previews fill the margin and commission fields)."""

    status: str = ""
    init_margin_before: str = ""
    maint_margin_before: str = ""
    equity_with_loan_before: str = ""
    init_margin_change: str = ""
    maint_margin_change: str = ""
    equity_with_loan_change: str = ""
    init_margin_after: str = ""
    maint_margin_after: str = ""
    equity_with_loan_after: str = ""
    commission: float | None = None
    min_commission: float | None = None
    max_commission: float | None = None
    commission_currency: str = ""
    warning_text: str = ""


def _unset_double(x: float | None) -> str:
    return UNSET_DOUBLE_TEXT if x is None else fmt_float(x)


def _order_contract(contract: ContractLike | None, order: WireOrder) -> Fields:
    """The 11 contract fields of openOrder/completedOrder: the resolved contract, the order's exchange."""
    c = order.contract
    if contract is None:
        return [_int_text(c["conId"]) or "0", c["symbol"], c["secType"], c["lastTradeDateOrContractMonth"],
                c["strike"] or "0", c["right"], c["multiplier"], c["exchange"], c["currency"], c["localSymbol"],
                c["tradingClass"]]
    return [str(contract.con_id), contract.symbol, contract.sec_type, _attr(contract, "last_trade_date"),
            _strike(contract), _attr(contract, "right"), _attr(contract, "multiplier"),
            c["exchange"] or contract.exchange, contract.currency, _attr(contract, "local_symbol"),
            _attr(contract, "trading_class")]


def _combo_and_scale(order: WireOrder, v: Mapping[str, str]) -> Fields:
    """comboLegs, orderComboLegs, smartComboRoutingParams, scale, hedge: shared by openOrder and completedOrder."""
    out = [str(len(order.combo_legs))]
    for leg in order.combo_legs:
        out += [_int_text(leg[0]), _int_text(leg[1]), leg[2], leg[3], _int_text(leg[4]) or "0",
                _int_text(leg[5]) or "0", leg[6], _int_text(leg[7]) or "-1"]
    out.append(str(len(order.order_combo_leg_prices)))
    out += order.order_combo_leg_prices
    out.append(str(len(order.smart_combo_routing_params)))
    for tag, value in order.smart_combo_routing_params:
        out += [tag, value]
    out += [_int_text(v.get("scaleInitLevelSize", "")), _int_text(v.get("scaleSubsLevelSize", "")),
            v.get("scalePriceIncrement", "")]
    if "scalePriceAdjustValue" in v:
        out += [v["scalePriceAdjustValue"], _int_text(v["scalePriceAdjustInterval"]), v["scaleProfitOffset"],
                v["scaleAutoReset"], _int_text(v["scaleInitPosition"]), _int_text(v["scaleInitFillQty"]),
                v["scaleRandomPercent"]]
    out.append(v.get("hedgeType", ""))
    if v.get("hedgeType"):
        out.append(v.get("hedgeParam", ""))
    return out


def _dnc_and_algo(order: WireOrder, v: Mapping[str, str]) -> Fields:
    out = ["1", *order.delta_neutral_contract] if order.delta_neutral_contract else ["0"]
    out.append(v.get("algoStrategy", ""))
    if v.get("algoStrategy"):
        out.append(str(len(order.algo_params)))
        for tag, value in order.algo_params:
            out += [tag, value]
    return out


def _peg_bench_and_conditions(order: WireOrder, v: Mapping[str, str]) -> Fields:
    out: Fields = []
    if order.order_type in ("PEG BENCH", "PEGBENCH"):
        out += [_int_text(v.get("referenceContractId", "")), v.get("isPeggedChangeAmountDecrease", "0"),
                v.get("peggedChangeAmount", ""), v.get("referenceChangeAmount", ""), v.get("referenceExchangeId", "")]
    out.append(str(len(order.conditions)))
    for cond in order.conditions:
        out += cond
    if order.conditions:
        out += [v.get("conditionsIgnoreRth", "0"), v.get("conditionsCancelOrder", "0")]
    return out


def _peg_offsets(v: Mapping[str, str]) -> Fields:
    # clients write inf as 'Infinite' but read with float(), which takes Java's 'Infinity' (what TWS sends)
    offset = v.get("competeAgainstBestOffset", "")
    return [_int_text(v.get("minTradeQty", "")), _int_text(v.get("minCompeteSize", "")),
            "Infinity" if offset == "Infinite" else offset, v.get("midOffsetAtWhole", ""),
            v.get("midOffsetAtHalf", "")]


def _flag(text: str) -> str:
    """A boolean order field as TWS writes it: 1 or 0 (clients send 1/0 or true/false)."""
    return "1" if text.strip().lower() in ("1", "true") else "0"


def _customer_fields(sv: int, v: Mapping[str, str]) -> Fields:
    """customerAccount (from 183) and professionalCustomer (from 184), echoed from the placeOrder."""
    out = []
    if _text_layout(sv, CUSTOMER_ACCOUNT):
        out.append(v.get("customerAccount", ""))
    if _text_layout(sv, PROFESSIONAL_CUSTOMER):
        out.append(_flag(v.get("professionalCustomer", "")))
    return out


def open_order(server_version: int, order: WireOrder, *, contract: ContractLike | None, client_id: int, perm_id: int,
               state: OrderStateFields, total_qty: float | None = None) -> Fields:
    """openOrder (5), layout of ibapi/decoder.py processOpenOrder + orderdecoder.py: 128 fields at 176 for a plain order, 120 at 157."""
    sv = server_version
    v = order.values
    g = v.get
    qty = fmt_size(sv, order.total_qty if total_qty is None else total_qty)
    f = ["5", str(order.order_id), *_order_contract(contract, order),
         g("action", ""), qty, g("orderType", ""), g("lmtPrice", ""), g("auxPrice", ""), g("tif", ""),
         g("ocaGroup", ""), g("account", ""), g("openClose", ""), _int_text(g("origin", "0")) or "0",
         g("orderRef", ""), str(client_id), str(perm_id), g("outsideRth", "0") or "0", g("hidden", "0") or "0",
         g("discretionaryAmt", "0") or "0", g("goodAfterTime", ""), "",
         g("faGroup", ""), g("faMethod", ""), g("faPercentage", "")]
    if sv < FA_PROFILE_DESUPPORT:
        f.append(g("faProfile", ""))
    f += [g("modelCode", ""), g("goodTillDate", ""), g("rule80A", ""), g("percentOffset", ""),
          g("settlingFirm", ""), _int_text(g("shortSaleSlot", "0")) or "0", g("designatedLocation", ""),
          _int_text(g("exemptCode", "-1")) or "-1", _int_text(g("auctionStrategy", "0")) or "0",
          g("startingPrice", ""), g("stockRefPrice", ""), g("delta", ""), g("stockRangeLower", ""),
          g("stockRangeUpper", ""), _int_text(g("displaySize", "")), g("blockOrder", "0") or "0",
          g("sweepToFill", "0") or "0", g("allOrNone", "0") or "0", _int_text(g("minQty", "")),
          _int_text(g("ocaType", "0")) or "0", g("eTradeOnly", "0") or "0", g("firmQuoteOnly", "0") or "0",
          g("nbboPriceCap", ""), _int_text(g("parentId", "0")) or "0", _int_text(g("triggerMethod", "0")) or "0",
          g("volatility", ""), _int_text(g("volatilityType", "")), g("deltaNeutralOrderType", ""),
          g("deltaNeutralAuxPrice", "")]
    if g("deltaNeutralOrderType"):
        f += [_int_text(g("deltaNeutralConId", "0")) or "0", g("deltaNeutralSettlingFirm", ""),
              g("deltaNeutralClearingAccount", ""), g("deltaNeutralClearingIntent", ""),
              g("deltaNeutralOpenClose", ""), g("deltaNeutralShortSale", "0") or "0",
              _int_text(g("deltaNeutralShortSaleSlot", "0")) or "0", g("deltaNeutralDesignatedLocation", "")]
    f += [g("continuousUpdate", "0") or "0", _int_text(g("referencePriceType", "")), g("trailStopPrice", ""),
          g("trailingPercent", ""), "", "", ""]   # basisPoints, basisPointsType, comboLegsDescrip
    f += _combo_and_scale(order, v)
    f += [g("optOutSmartRouting", "0") or "0", g("clearingAccount", ""), g("clearingIntent", ""),
          g("notHeld", "0") or "0"]
    f += _dnc_and_algo(order, v)
    f += [g("solicited", "0") or "0", g("whatIf", "0") or "0", state.status,
          state.init_margin_before, state.maint_margin_before, state.equity_with_loan_before,
          state.init_margin_change, state.maint_margin_change, state.equity_with_loan_change,
          state.init_margin_after, state.maint_margin_after, state.equity_with_loan_after,
          _unset_double(state.commission), _unset_double(state.min_commission), _unset_double(state.max_commission),
          state.commission_currency, state.warning_text,
          g("randomizeSize", "0") or "0", g("randomizePrice", "0") or "0"]
    f += _peg_bench_and_conditions(order, v)
    f += [g("adjustedOrderType", ""), g("triggerPrice", ""), g("trailStopPrice", ""), g("lmtPriceOffset", ""),
          g("adjustedStopPrice", ""), g("adjustedStopLimitPrice", ""), g("adjustedTrailingAmount", ""),
          _int_text(g("adjustableTrailingUnit", "0")) or "0", g("softDollarTierName", ""),
          g("softDollarTierValue", ""), "", g("cashQty", ""), g("dontUseAutoPriceForHedge", "0") or "0",
          g("isOmsContainer", "0") or "0", g("discretionaryUpToLimitPrice", "0") or "0",
          g("usePriceMgmtAlgo", "")]
    if sv >= DURATION:
        f.append(_int_text(g("duration", "")))
    if sv >= POST_TO_ATS:
        f.append(_int_text(g("postToAts", "")))
    if sv >= AUTO_CANCEL_PARENT:
        f.append(g("autoCancelParent", "0") or "0")
    if sv >= PEGBEST_PEGMID_OFFSETS:
        f += _peg_offsets(v)
    f += _customer_fields(sv, v)
    if _text_layout(sv, BOND_ACCRUED_INTEREST):
        f.append(g("bondAccruedInterest", ""))
    if _text_layout(sv, INCLUDE_OVERNIGHT):
        f.append(_flag(g("includeOvernight", "")))
    if _text_layout(sv, CME_TAGGING_FIELDS_IN_OPEN_ORDER):
        f += [g("extOperator", ""), _int_text(g("manualOrderIndicator", ""))]
    return ModelFields(f, {"order": order, "contract": contract, "client_id": client_id, "perm_id": perm_id,
                           "state": state, "total_qty": total_qty})


def order_status(server_version: int, order_id: int, status: str, filled: float, remaining: float,
                 avg_fill_price: float, perm_id: int, parent_id: int, last_fill_price: float, client_id: int,
                 why_held: str = "", mkt_cap_price: float = 0.0) -> Fields:
    sv = server_version
    fields = ["3"]
    if sv < MARKET_CAP_PRICE:
        fields.append("6")
    fields += [str(order_id), status, fmt_size(sv, filled), fmt_size(sv, remaining), fmt_float(avg_fill_price),
               str(perm_id), str(parent_id), fmt_float(last_fill_price), str(client_id), why_held]
    if sv >= MARKET_CAP_PRICE:
        fields.append(fmt_float(mkt_cap_price))
    return fields


def open_order_end() -> Fields:
    return ["53", "1"]


def completed_order(server_version: int, order: WireOrder, *, contract: ContractLike | None, perm_id: int, status: str,
                    filled_qty: float, completed_time: str, completed_status: str, parent_perm_id: int = 0) -> Fields:
    """completedOrder (101), layout of ibapi/decoder.py processCompletedOrderMsg + orderdecoder.py: 97 fields at 176 for a plain order, 92 at 157."""
    sv = server_version
    v = order.values
    g = v.get
    f = ["101", *_order_contract(contract, order),
         g("action", ""), fmt_size(sv, order.total_qty), g("orderType", ""), g("lmtPrice", ""), g("auxPrice", ""),
         g("tif", ""), g("ocaGroup", ""), g("account", ""), g("openClose", ""),
         _int_text(g("origin", "0")) or "0", g("orderRef", ""), str(perm_id), g("outsideRth", "0") or "0",
         g("hidden", "0") or "0", g("discretionaryAmt", "0") or "0", g("goodAfterTime", ""),
         g("faGroup", ""), g("faMethod", ""), g("faPercentage", "")]
    if sv < FA_PROFILE_DESUPPORT:
        f.append(g("faProfile", ""))
    f += [g("modelCode", ""), g("goodTillDate", ""), g("rule80A", ""), g("percentOffset", ""),
          g("settlingFirm", ""), _int_text(g("shortSaleSlot", "0")) or "0", g("designatedLocation", ""),
          _int_text(g("exemptCode", "-1")) or "-1", g("startingPrice", ""), g("stockRefPrice", ""), g("delta", ""),
          g("stockRangeLower", ""), g("stockRangeUpper", ""), _int_text(g("displaySize", "")),
          g("sweepToFill", "0") or "0", g("allOrNone", "0") or "0", _int_text(g("minQty", "")),
          _int_text(g("ocaType", "0")) or "0", _int_text(g("triggerMethod", "0")) or "0",
          g("volatility", ""), _int_text(g("volatilityType", "")), g("deltaNeutralOrderType", ""),
          g("deltaNeutralAuxPrice", "")]
    if g("deltaNeutralOrderType"):
        f += [_int_text(g("deltaNeutralConId", "0")) or "0", g("deltaNeutralShortSale", "0") or "0",
              _int_text(g("deltaNeutralShortSaleSlot", "0")) or "0", g("deltaNeutralDesignatedLocation", "")]
    f += [g("continuousUpdate", "0") or "0", _int_text(g("referencePriceType", "")), g("trailStopPrice", ""),
          g("trailingPercent", ""), ""]   # comboLegsDescrip
    f += _combo_and_scale(order, v)
    f += [g("clearingAccount", ""), g("clearingIntent", ""), g("notHeld", "0") or "0"]
    f += _dnc_and_algo(order, v)
    f += [g("solicited", "0") or "0", status, g("randomizeSize", "0") or "0", g("randomizePrice", "0") or "0"]
    f += _peg_bench_and_conditions(order, v)
    f += [g("trailStopPrice", ""), g("lmtPriceOffset", ""), g("cashQty", ""),
          g("dontUseAutoPriceForHedge", "0") or "0", g("isOmsContainer", "0") or "0",
          "", fmt_size(sv, filled_qty), "0", g("autoCancelParent", "0") or "0", "", "0", "0",
          str(parent_perm_id), completed_time, completed_status]
    if sv >= PEGBEST_PEGMID_OFFSETS:
        f += _peg_offsets(v)
    f += _customer_fields(sv, v)
    return ModelFields(f, {"order": order, "contract": contract, "perm_id": perm_id, "status": status,
                           "filled_qty": filled_qty, "completed_time": completed_time,
                           "completed_status": completed_status, "parent_perm_id": parent_perm_id})


def completed_orders_end() -> Fields:
    return ["102"]


@dataclass
class ExecutionFields:
    """One execution as execDetails carries it."""

    order_id: int
    exec_id: str
    time: str                 # "YYYYMMDD HH:MM:SS TZ"
    account: str
    exchange: str
    side: str                 # BOT / SLD
    shares: float
    price: float
    perm_id: int
    client_id: int
    cum_qty: float
    avg_price: float
    order_ref: str = ""
    liquidation: int = 0
    ev_rule: str = ""
    ev_multiplier: str = ""
    model_code: str = ""
    last_liquidity: int = 1
    pending_price_revision: bool = False


def exec_details(server_version: int, req_id: int, contract: ContractLike, ex: ExecutionFields) -> Fields:
    """execDetails (11): exactly 31 fields at 157..177 (ib_insync unpacks 31), 32 at 178."""
    sv = server_version
    fields = ["11"]
    if sv < LAST_LIQUIDITY:
        fields.append("10")
    fields += [str(req_id), str(ex.order_id), str(contract.con_id), contract.symbol, contract.sec_type,
               _attr(contract, "last_trade_date"), _strike(contract), _attr(contract, "right"),
               _attr(contract, "multiplier"), contract.exchange, contract.currency, _attr(contract, "local_symbol"),
               _attr(contract, "trading_class"), ex.exec_id, ex.time, ex.account, ex.exchange, ex.side,
               fmt_size(sv, ex.shares), fmt_float(ex.price), str(ex.perm_id), str(ex.client_id),
               str(ex.liquidation), fmt_size(sv, ex.cum_qty), fmt_float(ex.avg_price), ex.order_ref,
               ex.ev_rule, ex.ev_multiplier, ex.model_code]
    if sv >= LAST_LIQUIDITY:
        fields.append(str(ex.last_liquidity))
    if sv >= PENDING_PRICE_REVISION:
        fields.append("1" if ex.pending_price_revision else "0")
    return fields


def exec_details_end(req_id: int) -> Fields:
    return ["55", "1", str(req_id)]


def commission_report(exec_id: str, commission: float, currency: str, realized_pnl: float | None,
                      yield_: float | None = None, yield_redemption_date: int = 0) -> Fields:
    """Exactly 8 fields; unset realized PnL is IB's max double (as TWS sends it on an opening fill)."""
    return ["59", "1", exec_id, fmt_float(commission), currency, _unset_double(realized_pnl),
            _unset_double(yield_), str(int(yield_redemption_date))]


# ---------------------------------------------------------------- account
def position(server_version: int, account: str, contract: ContractLike, qty: float, avg_cost: float) -> Fields:
    """position (61): exactly 16 fields."""
    return ["61", "3", account, str(contract.con_id), contract.symbol, contract.sec_type,
            _attr(contract, "last_trade_date"), _strike(contract), _attr(contract, "right"),
            _attr(contract, "multiplier"), contract.exchange, contract.currency, _attr(contract, "local_symbol"),
            _attr(contract, "trading_class"), fmt_size(server_version, qty), fmt_float(avg_cost)]


def position_end() -> Fields:
    return ["62", "1"]


def update_account_value(key: str, value: str, currency: str, account: str) -> Fields:
    return ["6", "2", key, value, currency, account]


def update_portfolio(server_version: int, contract: ContractLike, qty: float, market_price: float, market_value: float,
                     avg_cost: float, unrealized_pnl: float, realized_pnl: float, account: str) -> Fields:
    """updatePortfolio (7): exactly 20 fields, version 8 (ibapi needs it)."""
    return ["7", "8", str(contract.con_id), contract.symbol, contract.sec_type, _attr(contract, "last_trade_date"),
            _strike(contract), _attr(contract, "right"), _attr(contract, "multiplier"),
            _attr(contract, "primary_exchange"), contract.currency, _attr(contract, "local_symbol"),
            _attr(contract, "trading_class"), fmt_size(server_version, qty), fmt_float(market_price),
            fmt_float(market_value), fmt_float(avg_cost), fmt_float(unrealized_pnl), fmt_float(realized_pnl), account]


def update_account_time(hh_mm: str) -> Fields:
    return ["8", "1", hh_mm]


def account_download_end(account: str) -> Fields:
    return ["54", "1", account]


def account_summary(req_id: int, account: str, tag: str, value: str, currency: str) -> Fields:
    return ["63", "1", str(req_id), account, tag, value, currency]


def account_summary_end(req_id: int) -> Fields:
    return ["64", "1", str(req_id)]


def account_update_multi(req_id: int, account: str, model_code: str, key: str, value: str, currency: str) -> Fields:
    return ["73", "1", str(req_id), account, model_code, key, value, currency]


def account_update_multi_end(req_id: int) -> Fields:
    return ["74", "1", str(req_id)]


def pnl(req_id: int, daily_pnl: float, unrealized_pnl: float, realized_pnl: float) -> Fields:
    return ["94", str(req_id), fmt_float(daily_pnl), fmt_float(unrealized_pnl), fmt_float(realized_pnl)]


def pnl_single(server_version: int, req_id: int, position: float, daily_pnl: float, unrealized_pnl: float,
               realized_pnl: float, value: float) -> Fields:
    """pnlSingle (95): the position is read with int() by ibapi 9.81."""
    return ["95", str(req_id), fmt_size(server_version, position), fmt_float(daily_pnl), fmt_float(unrealized_pnl),
            fmt_float(realized_pnl), fmt_float(value)]


def position_multi(server_version: int, req_id: int, account: str, contract: ContractLike, qty: float, avg_cost: float,
                   model_code: str = "") -> Fields:
    """positionMulti (71): exactly 18 fields (ib_* tuple-unpack)."""
    return ["71", "1", str(req_id), account, str(contract.con_id), contract.symbol, contract.sec_type,
            _attr(contract, "last_trade_date"), _strike(contract), _attr(contract, "right"),
            _attr(contract, "multiplier"), contract.exchange, contract.currency, _attr(contract, "local_symbol"),
            _attr(contract, "trading_class"), fmt_float(float(qty)), fmt_float(avg_cost), model_code]


def position_multi_end(req_id: int) -> Fields:
    return ["72", "1", str(req_id)]


def histogram_data(req_id: int, points: Sequence[tuple[float, float]]) -> Fields:
    """histogramData (89): (price, size) points (ibapi decoder processHistogramDataMsg)."""
    fields = ["89", str(req_id), str(len(points))]
    for price, size in points:
        fields += [fmt_float(price), str(int(size))]
    return fields


def historical_ticks(server_version: int, req_id: int, ticks: Sequence[tuple[int, float, float]], done: bool) -> Fields:
    """historicalTicks (96), MIDPOINT: (epoch, price, size) with an unused 0 after the time (ibapi)."""
    fields = ["96", str(req_id), str(len(ticks))]
    for t, price, size in ticks:
        fields += [str(int(t)), "0", fmt_float(price), fmt_size(server_version, size)]
    return fields + ["1" if done else "0"]


def historical_ticks_bid_ask(server_version: int, req_id: int,
                             ticks: Sequence[tuple[int, float, float, float, float]], done: bool) -> Fields:
    """historicalTicksBidAsk (97): (epoch, bid, ask, bid size, ask size), attribute mask 0."""
    fields = ["97", str(req_id), str(len(ticks))]
    for t, bid, ask, bid_size, ask_size in ticks:
        fields += [str(int(t)), "0", fmt_float(bid), fmt_float(ask), fmt_size(server_version, bid_size),
                   fmt_size(server_version, ask_size)]
    return fields + ["1" if done else "0"]


def historical_ticks_last(server_version: int, req_id: int, ticks: Sequence[tuple[int, float, float, str]],
                          done: bool) -> Fields:
    """historicalTicksLast (98): (epoch, price, size, exchange), attribute mask 0, no special conditions."""
    fields = ["98", str(req_id), str(len(ticks))]
    for t, price, size, exchange in ticks:
        fields += [str(int(t)), "0", fmt_float(price), fmt_size(server_version, size), exchange, ""]
    return fields + ["1" if done else "0"]


def tick_by_tick_last(server_version: int, req_id: int, tick_type: int, epoch_s: int, price: float, size: float,
                      mask: int, exchange: str, special_conditions: str) -> Fields:
    """tickByTick (99), Last (1) or AllLast (2): time, price, size, tickAttribLast mask (1 pastLimit, 2 unreported),
    exchange, specialConditions; no version field (ibapi decoder processTickByTickMsg)."""
    return ["99", str(req_id), str(tick_type), str(int(epoch_s)), fmt_float(price), fmt_size(server_version, size),
            str(mask), exchange, special_conditions]


def tick_by_tick_bid_ask(server_version: int, req_id: int, epoch_s: int, bid: float, ask: float, bid_size: float,
                         ask_size: float, mask: int) -> Fields:
    """tickByTick (99), BidAsk (3): time, bid, ask, bid size, ask size, tickAttribBidAsk mask (1 bidPastLow,
    2 askPastHigh)."""
    return ["99", str(req_id), "3", str(int(epoch_s)), fmt_float(bid), fmt_float(ask),
            fmt_size(server_version, bid_size), fmt_size(server_version, ask_size), str(mask)]


def tick_by_tick_mid_point(req_id: int, epoch_s: int, mid_point: float) -> Fields:
    """tickByTick (99), MidPoint (4): time, mid point."""
    return ["99", str(req_id), "4", str(int(epoch_s)), fmt_float(mid_point)]


def head_timestamp(req_id: int, timestamp: str) -> Fields:
    return ["88", str(req_id), timestamp]


@dataclass
class ContractDescriptionFields:
    con_id: int
    symbol: str
    sec_type: str
    primary_exchange: str
    currency: str
    derivative_sec_types: Sequence[str] = ()
    description: str = ""
    issuer_id: str = ""


def symbol_samples(server_version: int, req_id: int, descriptions: Sequence[ContractDescriptionFields]) -> Fields:
    """symbolSamples (79); from 176 each description ends with description and issuerId."""
    fields = ["79", str(req_id), str(len(descriptions))]
    for d in descriptions:
        fields += [str(d.con_id), d.symbol, d.sec_type, d.primary_exchange, d.currency,
                   str(len(d.derivative_sec_types)), *d.derivative_sec_types]
        if server_version >= BOND_ISSUERID:
            fields += [_ascii_escape(d.description), d.issuer_id]
    return fields


def security_definition_option_parameter(req_id: int, exchange: str, underlying_con_id: int, trading_class: str,
                                         multiplier: str, expirations: Sequence[str],
                                         strikes: Sequence[float]) -> Fields:
    return ["75", str(req_id), exchange, str(underlying_con_id), trading_class, multiplier,
            str(len(expirations)), *expirations, str(len(strikes)), *(fmt_float(k) for k in strikes)]


def security_definition_option_parameter_end(req_id: int) -> Fields:
    return ["76", str(req_id)]


def historical_news_end(req_id: int, has_more: bool) -> Fields:
    """historicalNewsEnd (87): reqId, hasMore (ibapi decoder.processHistoricalNewsEnd)."""
    return ["87", str(int(req_id)), "1" if has_more else "0"]


def historical_news(req_id: int, time: str, provider: str, article_id: str, headline: str) -> Fields:
    """historicalNews (86): reqId, time, providerCode, articleId, headline (ibapi decoder.processHistoricalNews)."""
    return ["86", str(int(req_id)), time, provider, article_id, headline]


def news_article(req_id: int, article_type: int, text: str) -> Fields:
    """newsArticle (83): reqId, articleType (0 plain text, 1 PDF in base 64), articleText (ibapi processNewsArticle)."""
    return ["83", str(int(req_id)), str(int(article_type)), text]


def user_info(req_id: int, white_branding_id: str) -> Fields:
    """userInfo (107, from 167): reqId and the white-branding id, no version field (ibapi 10.51 processUserInfo)."""
    return ["107", str(int(req_id)), white_branding_id]


def scanner_parameters(xml: str) -> Fields:
    """scannerParameters (19): version 1, the XML document."""
    return ["19", "1", xml]


def scanner_data(req_id: int, rows: Sequence[tuple[int, Any, str, str, str, str]]) -> Fields:
    """scannerData (20), version 3: per row rank, the contract (conId, symbol, secType, lastTradeDate, strike,
    right, exchange, currency, localSymbol), marketName, tradingClass, distance, benchmark, projection, legs.

    A row is (rank, spec, distance, benchmark, projection, legs); the client calls scannerDataEnd after it."""
    fields = ["20", "3", str(req_id), str(len(rows))]
    for rank, spec, distance, benchmark, projection, legs in rows:
        fields += [str(rank), str(spec.con_id), spec.symbol, spec.sec_type, spec.last_trade_date,
                   fmt_float(spec.strike) if spec.strike else "0", spec.right, "SMART", spec.currency,
                   spec.local_symbol, spec.market_name, spec.trading_class, distance, benchmark, projection, legs]
    return fields


def market_rule(market_rule_id: int, increments: Sequence[tuple[float, float]]) -> Fields:
    """marketRule (93): (lowEdge, increment) pairs."""
    fields = ["93", str(market_rule_id), str(len(increments))]
    for low_edge, increment in increments:
        fields += [fmt_float(low_edge), fmt_float(increment)]
    return fields


def family_codes(codes: Sequence[tuple[str, str]]) -> Fields:
    """familyCodes (78): (accountID, familyCodeStr) pairs."""
    return ["78", str(len(codes)), *(x for pair in codes for x in pair)]


def mkt_depth_exchanges(descriptions: Sequence[tuple[str, str, str, str, int]]) -> Fields:
    """mktDepthExchanges (80): (exchange, secType, listingExch, serviceDataType, aggGroup) each."""
    fields = ["80", str(len(descriptions))]
    for exchange, sec_type, listing, service, agg_group in descriptions:
        fields += [exchange, sec_type, listing, service, str(agg_group)]
    return fields


def update_mkt_depth(server_version: int, req_id: int, position: int, operation: int, side: int, price: float,
                     size: float) -> Fields:
    """updateMktDepth (12), exchange depth without a market maker: exactly 8 fields (ib_* tuple-unpack them).
    operation 0 insert / 1 update / 2 delete, side 0 ask / 1 bid (TWS API docs, EWrapper.updateMktDepth)."""
    return ["12", "1", str(req_id), str(position), str(operation), str(side), fmt_float(price),
            fmt_size(server_version, size)]


def update_mkt_depth_l2(server_version: int, req_id: int, position: int, market_maker: str, operation: int,
                        side: int, price: float, size: float, is_smart_depth: bool) -> Fields:
    """updateMktDepthL2 (13): a row with its market maker (or, for SMART depth, its exchange); isSmartDepth
    follows from server version 146 (MIN_SERVER_VER_SMART_DEPTH, below every version this mock speaks)."""
    return ["13", "1", str(req_id), str(position), market_maker, str(operation), str(side), fmt_float(price),
            fmt_size(server_version, size), "1" if is_smart_depth else "0"]


def smart_components(req_id: int, components: Sequence[tuple[int, str, str]]) -> Fields:
    """smartComponents (82): (bitNumber, exchange, exchangeLetter) each."""
    fields = ["82", str(req_id), str(len(components))]
    for bit, exchange, letter in components:
        fields += [str(bit), exchange, letter]
    return fields


def news_providers(providers: Sequence[tuple[str, str]]) -> Fields:
    return ["85", str(len(providers)), *(x for pair in providers for x in pair)]


def soft_dollar_tiers(req_id: int, tiers: Sequence[tuple[str, str, str]]) -> Fields:
    return ["77", str(req_id), str(len(tiers)), *(x for tier in tiers for x in tier)]
