"""Wire layouts against the client libraries' own code: what they write parses, what we write decodes."""
from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from mock_gateway.protocol import messages as m
from mock_gateway.protocol.orders import OrderParseError, parse_place_order
from mock_gateway.protocol.versions import negotiate

from .client_codecs import (
    async_decode,
    async_fields,
    ibapi_decode,
    ibapi_fields,
    insync_decode,
    insync_fields,
)

AAPL = SimpleNamespace(con_id=265598, symbol="AAPL", sec_type="STK", last_trade_date="", strike=0.0, right="",
                       multiplier="", exchange="SMART", primary_exchange="NASDAQ", currency="USD",
                       local_symbol="AAPL", trading_class="NMS")
DETAILS = SimpleNamespace(market_name="NMS", min_tick=0.01, long_name="APPLE INC", valid_exchanges="SMART,NASDAQ",
                          sec_ids=[("ISIN", "US0378331005")], stock_type="COMMON")
STATE = m.OrderStateFields(status="Submitted")


def _insync_orders():
    from ib_insync import ComboLeg, Contract, LimitOrder, MarketOrder, Order, StopOrder, TagValue
    from ib_insync.order import PriceCondition, TimeCondition

    stock = Contract(secType="STK", symbol="AAPL", exchange="SMART", currency="USD", conId=265598)
    bag = Contract(secType="BAG", symbol="SPY", exchange="SMART", currency="USD",
                   comboLegs=[ComboLeg(conId=1, ratio=1, action="BUY", exchange="SMART"),
                              ComboLeg(conId=2, ratio=2, action="SELL", exchange="SMART")])
    algo = LimitOrder("BUY", 100, 150.0, algoStrategy="Adaptive",
                      algoParams=[TagValue("adaptivePriority", "Normal")])
    conditional = LimitOrder("SELL", 5, 151.5, conditions=[
        PriceCondition(price=150.0, conId=265598, exch="SMART"), TimeCondition(time="20261124 15:00:00")],
        conditionsCancelOrder=True)
    scale = LimitOrder("BUY", 300, 150.0, scaleInitLevelSize=100, scaleSubsLevelSize=100,
                       scalePriceIncrement=0.05)
    hedge = Order(action="BUY", totalQuantity=10, orderType="LMT", lmtPrice=150.0, hedgeType="D",
                  hedgeParam="0.5", parentId=3)
    delta_neutral = Order(action="BUY", totalQuantity=1, orderType="VOL", volatility=0.3, volatilityType=2,
                          deltaNeutralOrderType="LMT", deltaNeutralAuxPrice=1.0, deltaNeutralConId=7)
    bag_order = LimitOrder("BUY", 1, 2.5, orderComboLegs=[], smartComboRoutingParams=[TagValue("NonGuaranteed", "1")])
    peg_bench = Order(action="BUY", totalQuantity=10, orderType="PEG BENCH", referenceContractId=8,
                      peggedChangeAmount=0.1, referenceChangeAmount=0.2, referenceExchangeId="SMART")
    return [
        ("market", stock, MarketOrder("BUY", 10)),
        ("limit", stock, LimitOrder("SELL", 7, 150.25, tif="GTC", orderRef="ref-1")),
        ("stop", stock, StopOrder("SELL", 3, 140.0)),
        ("what-if", stock, MarketOrder("BUY", 10, whatIf=True)),
        ("algo", stock, algo),
        ("conditions", stock, conditional),
        ("scale", stock, scale),
        ("hedge", stock, hedge),
        ("delta-neutral", stock, delta_neutral),
        ("bag", bag, bag_order),
        ("peg-bench", stock, peg_bench),
    ]


def _ibapi_orders():
    from ibapi.contract import Contract
    from ibapi.order import Order

    stock = Contract()
    stock.symbol, stock.secType, stock.exchange, stock.currency = "AAPL", "STK", "SMART", "USD"

    def order(action, qty, kind, lmt=None, aux=None):
        o = Order()
        o.action, o.totalQuantity, o.orderType = action, qty, kind
        o.eTradeOnly = o.firmQuoteOnly = False
        if lmt is not None:
            o.lmtPrice = lmt
        if aux is not None:
            o.auxPrice = aux
        return o
    return [("market", stock, order("BUY", 10, "MKT")), ("limit", stock, order("SELL", 7, "LMT", 150.25)),
            ("stop", stock, order("SELL", 3, "STP", aux=140.0))]


CLIENT_VERSIONS = [("ib_insync", insync_fields, insync_decode, v) for v in (157, 163, 166, 170, 176)] + \
                  [("ib_async", async_fields, async_decode, v) for v in (157, 176, 177, 178)]


@pytest.mark.parametrize("lib,encode,decode,sv", CLIENT_VERSIONS, ids=lambda x: str(x) if isinstance(x, (str, int)) else "")
@pytest.mark.parametrize("case", range(len(_insync_orders())), ids=[n for n, *_ in _insync_orders()])
def test_every_ib_order_parses_and_echoes_back_through_openOrder(lib, encode, decode, sv, case):
    import importlib

    mod = importlib.import_module(lib)
    name, contract, order = _insync_orders()[case]
    contract = mod.Contract(**{k: v for k, v in vars(contract).items() if k in mod.Contract.__dataclass_fields__})
    if contract.comboLegs:
        contract.comboLegs = [mod.ComboLeg(**vars(leg)) for leg in contract.comboLegs]
    order = mod.Order(**{k: v for k, v in vars(order).items() if k in mod.Order.__dataclass_fields__})
    fields = encode(sv, "placeOrder", 42, contract, order)
    wire = parse_place_order(fields, sv)
    assert (wire.order_id, wire.action, wire.order_type, wire.total_qty) == (42, order.action, order.orderType,
                                                                             order.totalQuantity)
    assert wire.what_if == order.whatIf
    assert len(wire.conditions) == len(order.conditions) and len(wire.algo_params) == len(order.algoParams or [])

    calls = decode(sv, m.open_order(sv, wire, contract=None, client_id=7, perm_id=1001, state=STATE))
    (cb, (order_id, got_contract, got_order, got_state)), = calls
    assert cb == "openOrder" and order_id == 42 and got_state.status == "Submitted"
    assert (got_order.clientId, got_order.permId, got_order.action, got_order.totalQuantity) == (
        7, 1001, order.action, order.totalQuantity)
    for attr in ("orderType", "lmtPrice", "auxPrice", "tif", "orderRef", "algoStrategy", "hedgeType", "hedgeParam",
                 "scaleInitLevelSize", "scalePriceIncrement", "deltaNeutralOrderType", "conditionsCancelOrder",
                 "referenceContractId", "parentId"):
        assert getattr(got_order, attr) == getattr(order, attr), attr
    assert len(got_order.conditions) == len(order.conditions)
    assert len(got_contract.comboLegs or []) == len(contract.comboLegs or [])

    calls = decode(sv, m.completed_order(sv, wire, contract=None, perm_id=1001, status="Filled", filled_qty=0,
                                         completed_time="20261124 14:30:00", completed_status="Filled"))
    (cb, (_, got_order, got_state)), = calls
    assert cb == "completedOrder" and got_state.status == "Filled" and got_order.orderType == order.orderType


@pytest.mark.parametrize("case", range(3), ids=["market", "limit", "stop"])
def test_ibapi_orders_parse_at_157_and_echo_through_its_decoder(case):
    name, contract, order = _ibapi_orders()[case]
    fields = ibapi_fields(157, "placeOrder", 5, contract, order)
    assert len(fields) == 110
    wire = parse_place_order(fields, 157)
    assert (wire.action, wire.order_type, wire.total_qty) == (order.action, order.orderType, order.totalQuantity)
    out = m.open_order(157, wire, contract=AAPL, client_id=3, perm_id=77, state=STATE)
    assert len(out) == 120
    (cb, (order_id, got_contract, got_order, got_state)), = ibapi_decode(157, out)
    assert (order_id, got_contract.conId, got_order.permId, got_order.clientId, got_order.lmtPrice) == (
        5, 265598, 77, 3, order.lmtPrice)
    (cb, (got_contract, got_order, got_state)), = ibapi_decode(157, m.completed_order(
        157, wire, contract=AAPL, perm_id=77, status="Cancelled", filled_qty=0, completed_time="",
        completed_status="Cancelled"))
    assert got_state.status == "Cancelled" and got_order.permId == 77


def test_plain_order_field_counts_match_the_recorded_wire():
    from ib_insync import MarketOrder, Stock

    for sv, place, open_, completed in ((157, 110, 120, 92), (176, 115, 128, 97)):
        fields = insync_fields(sv, "placeOrder", 5, Stock("AAPL", "SMART", "USD"), MarketOrder("BUY", 10))
        assert len(fields) == place
        wire = parse_place_order(fields, sv)
        assert len(m.open_order(sv, wire, contract=AAPL, client_id=1, perm_id=2, state=STATE)) == open_
        assert len(m.completed_order(sv, wire, contract=AAPL, perm_id=2, status="Filled", filled_qty=10,
                                     completed_time="", completed_status="")) == completed


def test_peg_mid_tail_at_170_and_ibkrats_min_trade_qty():
    from ib_insync import Contract, Order

    c = Contract(secType="STK", symbol="AAPL", exchange="IBKRATS", currency="USD")
    o = Order(action="BUY", totalQuantity=10, orderType="PEG MID", midOffsetAtWhole=0.01, midOffsetAtHalf=0.005,
              minTradeQty=5)
    wire = parse_place_order(insync_fields(176, "placeOrder", 9, c, o), 176)
    assert wire.get("midOffsetAtHalf") == "0.005" and wire.get("minTradeQty") == "5"
    (_, (_, _, got, _)), = insync_decode(176, m.open_order(176, wire, contract=None, client_id=1, perm_id=2,
                                                           state=STATE))
    assert got.midOffsetAtWhole == 0.01 and got.minTradeQty == 5


def test_truncated_or_padded_place_order_is_a_parse_error_not_a_crash():
    from ib_insync import MarketOrder, Stock

    fields = insync_fields(176, "placeOrder", 5, Stock("AAPL", "SMART", "USD"), MarketOrder("BUY", 10))
    with pytest.raises(OrderParseError, match="ended before"):
        parse_place_order(fields[:60], 176)
    with pytest.raises(OrderParseError, match="trailing"):
        parse_place_order(fields + ["x"], 176)
    with pytest.raises(OrderParseError, match="trailing"):
        parse_place_order(fields, 157)   # a 176 layout read at 157


@pytest.mark.parametrize("sv,decode", [(157, ibapi_decode), (157, insync_decode), (176, insync_decode),
                                        (178, async_decode)])
def test_contract_data_decodes_with_every_client(sv, decode):
    (cb, (req_id, cd)), = decode(sv, m.contract_data(sv, 3, AAPL, DETAILS))
    assert cb == "contractDetails" and req_id == 3
    assert (cd.contract.conId, cd.contract.symbol, cd.contract.primaryExchange, cd.longName) == (
        265598, "AAPL", "NASDAQ", "APPLE INC")
    assert cd.secIdList[0].value == "US0378331005"


@pytest.mark.parametrize("sv,decode,count", [(157, ibapi_decode, 31), (157, insync_decode, 31),
                                              (176, insync_decode, 31), (178, async_decode, 32)])
def test_exec_details_field_count_and_decoding(sv, decode, count):
    ex = m.ExecutionFields(order_id=5, exec_id="0001.01", time="20261124 14:30:01 UTC", account="DU1",
                           exchange="ISLAND", side="BOT", shares=10, price=150.03, perm_id=1000, client_id=7,
                           cum_qty=10, avg_price=150.03)
    fields = m.exec_details(sv, -1, AAPL, ex)
    assert len(fields) == count
    (cb, (req_id, contract, execution)), = decode(sv, fields)
    assert (req_id, execution.execId, execution.shares, execution.price, execution.permId) == (
        -1, "0001.01", 10, 150.03, 1000)


@pytest.mark.parametrize("sv,decode", [(157, ibapi_decode), (176, insync_decode), (178, async_decode)])
def test_small_messages_decode_with_every_client(sv, decode):
    bar = SimpleNamespace(open=1.5, high=2.0, low=1.0, close=1.75, volume=1200, wap=1.6, count=12)
    msgs = [
        m.error(sv, 3, 200, "No security definition has been found for the request"),
        m.tick_price(sv, 4, 1, 150.25, 100), m.tick_size(sv, 4, 8, 12345), m.tick_req_params(4, 0.01, "9c0001", 3),
        m.market_data_type(4, 1), m.tick_snapshot_end(4), m.current_time(1_700_000_000),
        m.order_status(sv, 5, "Filled", 10, 0, 150.03, 1000, 0, 150.03, 7),
        m.commission_report("0001.01", 1.0, "USD", None), m.position(sv, "DU1", AAPL, 10, 150.03),
        m.update_portfolio(sv, AAPL, 10, 151, 1510, 150.03, 9.7, 0, "DU1"),
        m.update_account_value("NetLiquidation", "100000.00", "USD", "DU1"), m.update_account_time("14:30"),
        m.account_download_end("DU1"), m.account_summary(9, "DU1", "BuyingPower", "400000", "USD"),
        m.account_summary_end(9), m.account_update_multi(1, "DU1", "", "NetLiquidation", "1", "USD"),
        m.account_update_multi_end(1), m.pnl(2, 1.5, -2.5, 3.0), m.exec_details_end(2), m.contract_data_end(3),
        m.historical_data(sv, 6, "20261124 14:00:00", "20261124 14:30:00", [("20261124 14:29:55", bar)]),
        m.historical_data_update(sv, 6, "20261124 14:30:00", bar), m.realtime_bar(sv, 7, 1_700_000_000, bar),
        m.managed_accounts(["DU1", "DU2"]), m.next_valid_id(1), m.open_order_end(), m.completed_orders_end(),
        m.position_end(), m.pnl_single(sv, 3, 10, 1.5, 1.0, 0.5, 1510.0),
        m.position_multi(sv, 4, "DU1", AAPL, 10, 150.0), m.position_multi_end(4), m.head_timestamp(5, "20061124-14:30:00"),
        m.symbol_samples(sv, 6, [m.ContractDescriptionFields(265598, "AAPL", "STK", "NASDAQ", "USD", ["OPT"],
                                                             "APPLE INC")]),
        m.security_definition_option_parameter(7, "SMART", 265598, "AAPL", "100", ["20261204"], [225.0, 230.0]),
        m.security_definition_option_parameter_end(7), m.market_rule(26, [(0.0, 0.01)]),
        m.family_codes([("DU1", "")]), m.mkt_depth_exchanges([("ISLAND", "STK", "NASDAQ", "Deep2", 1)]),
        m.smart_components(8, [(0, "NYSE", "N")]), m.news_providers([]), m.soft_dollar_tiers(9, []),
    ]
    for fields in msgs:
        assert decode(sv, fields), fields


def test_error_has_advanced_json_only_from_166():
    assert len(m.error(157, -1, 2104, "ok")) == 5 and len(m.error(166, -1, 2104, "ok")) == 6


@pytest.mark.parametrize("offer,server_max,expected", [
    ((157, 176), 176, 176), ((157, 178), 176, 176), ((157, 178), 178, 178), ((100, 157), 176, 157),
    ((177, 178), 176, None), ((100, 150), 176, None), ((157, 200), 190, 190), ((157, 200), 200, 193)])
def test_version_negotiation(offer, server_max, expected):
    assert negotiate(*offer, server_max) == expected


def test_unset_and_infinite_values_survive_the_echo():
    from ib_insync import Order, Stock

    o = Order(action="BUY", totalQuantity=1, orderType="PEG BEST", competeAgainstBestOffset=math.inf,
              midOffsetAtWhole=0.02, midOffsetAtHalf=0.01, minCompeteSize=100)
    wire = parse_place_order(insync_fields(176, "placeOrder", 2, Stock("AAPL", "SMART", "USD"), o), 176)
    assert wire.get("competeAgainstBestOffset") == "Infinite" and wire.get("midOffsetAtHalf") == "0.01"
    (_, (_, _, got, _)), = insync_decode(176, m.open_order(176, wire, contract=None, client_id=1, perm_id=2,
                                                           state=STATE))
    assert got.lmtPrice > 1e300 and got.midOffsetAtWhole == 0.02
