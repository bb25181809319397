"""Protobuf wire layouts against the official client's own code (ibapi-latest 10.51.1, ibapi-stable 10.50.2).

One reply model, two encoders: every reply the mock builds is decoded by the official client from its
protobuf frame at every protobuf version the mock speaks, and from its text frame at 178; both must
give the client the same callbacks. Requests go the other way: what the official client writes as
protobuf decodes into the same request the text clients write.
"""
from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from mock_gateway.protocol import messages as m
from mock_gateway.protocol.orders import parse_place_order
from mock_gateway.protocol.proto import replies, requests, wire
from mock_gateway.protocol.versions import MAX_SUPPORTED, MAX_TEXT, MIN_PROTOBUF_SUPPORTED

from .client_codecs import async_fields
from .ibapi10 import agent_json
from .test_wire_layouts import AAPL, DETAILS, STATE

PROTOBUF_VERSIONS = list(range(MIN_PROTOBUF_SUPPORTED, MAX_SUPPORTED + 1))


def _orders():
    from ib_async import ComboLeg, Contract, LimitOrder, MarketOrder, Order, StopOrder, TagValue

    stock = Contract(secType="STK", symbol="AAPL", exchange="SMART", currency="USD", conId=265598)
    bag = Contract(secType="BAG", symbol="SPY", exchange="SMART", currency="USD",
                   comboLegs=[ComboLeg(conId=1, ratio=1, action="BUY", exchange="SMART"),
                              ComboLeg(conId=2, ratio=2, action="SELL", exchange="SMART")])
    return [
        (stock, MarketOrder("BUY", 10)),
        (stock, LimitOrder("SELL", 7, 150.25, tif="GTC", orderRef="ref-1", outsideRth=True)),
        (stock, StopOrder("SELL", 3, 140.0, account="DU1234567")),
        (stock, LimitOrder("BUY", 100, 150.0, algoStrategy="Adaptive",
                           algoParams=[TagValue("adaptivePriority", "Normal")])),
        (stock, Order(action="BUY", totalQuantity=10, orderType="LMT", lmtPrice=150.0, hedgeType="D",
                      hedgeParam="0.5", parentId=3)),
        (bag, LimitOrder("BUY", 1, 2.5, smartComboRoutingParams=[TagValue("NonGuaranteed", "1")])),
    ]


def _replies(sv: int) -> list[list[str]]:
    bar = SimpleNamespace(open=1.5, high=2.0, low=1.0, close=1.75, volume=1200, wap=1.6, count=12)
    ex = m.ExecutionFields(order_id=5, exec_id="0001.01", time="20261124 14:30:01 UTC", account="DU1",
                           exchange="ISLAND", side="BOT", shares=10, price=150.03, perm_id=1000, client_id=7,
                           cum_qty=10, avg_price=150.03, order_ref="r1", last_liquidity=2)
    out = [
        m.managed_accounts(["DU1", "DU2"]), m.next_valid_id(1),
        m.error(sv, 3, 200, "No security definition has been found for the request"),
        m.error(sv, 5, 201, "Order rejected - reason:", '{"x": 1}'),
        m.current_time(1_700_000_000), m.current_time_in_millis(1_700_000_000_123),
        m.contract_data(sv, 3, AAPL, DETAILS), m.contract_data_end(3),
        m.tick_price(sv, 4, 1, 150.25, 100), m.tick_price(sv, 4, 4, 150.3, 0, 2), m.tick_size(sv, 4, 8, 12345),
        m.tick_string(4, 45, "1700000000"), m.tick_generic(4, 49, 0.0),
        m.tick_option_computation(sv, 4, 13, 0.25, 0.52, 10.5, 0.0, 0.02, 0.11, -0.05, 150.0),
        m.tick_option_computation(sv, 4, 10, -1.0, -2.0, -1.0, -1.0, -2.0, -2.0, -2.0, 150.0),
        m.tick_req_params(4, 0.01, "9c0001", 3), m.market_data_type(4, 3), m.tick_snapshot_end(4),
        m.historical_data(sv, 6, "20261124 14:00:00", "20261124 14:30:00",
                          [("20261124 14:29:55", bar), ("20261124 14:30:00", bar)]),
        m.historical_data_update(sv, 6, "20261124 14:30:00", bar), m.realtime_bar(sv, 7, 1_700_000_000, bar),
        m.order_status(sv, 5, "Filled", 10, 0, 150.03, 1000, 0, 150.03, 7),
        m.order_status(sv, 6, "Submitted", 0, 5, 0.0, 1001, 0, 0.0, 7, "", 0.0),
        m.open_order_end(), m.exec_details(sv, -1, AAPL, ex), m.exec_details_end(2),
        m.commission_report("0001.01", 1.0, "USD", None), m.commission_report("0001.02", 1.25, "USD", 12.5),
        m.position(sv, "DU1", AAPL, 10, 150.03), m.position_end(),
        m.update_portfolio(sv, AAPL, 10, 151, 1510, 150.03, 9.7, 0, "DU1"),
        m.update_account_value("NetLiquidation", "100000.00", "USD", "DU1"), m.update_account_time("14:30"),
        m.account_download_end("DU1"), m.account_summary(9, "DU1", "BuyingPower", "400000", "USD"),
        m.account_summary_end(9), m.account_update_multi(1, "DU1", "", "NetLiquidation", "1", "USD"),
        m.account_update_multi_end(1), m.pnl(2, 1.5, -2.5, 3.0), m.pnl_single(sv, 3, 10, 1.5, 1.0, 0.5, 1510.0),
        m.position_multi(sv, 4, "DU1", AAPL, 10, 150.0), m.position_multi_end(4),
        m.head_timestamp(5, "20061124-14:30:00"), m.histogram_data(5, [(150.0, 1200), (150.5, 300)]),
        m.historical_ticks(sv, 6, [(1_700_000_000, 150.25, 100), (1_700_000_001, 150.3, 0)], True),
        m.historical_ticks_bid_ask(sv, 6, [(1_700_000_000, 150.2, 150.3, 100, 200)], False),
        m.historical_ticks_last(sv, 6, [(1_700_000_000, 150.25, 100, "ISLAND")], True),
        m.tick_by_tick_last(sv, 7, 1, 1_700_000_000, 150.25, 100, 0, "NASDAQ", ""),
        m.tick_by_tick_last(sv, 7, 2, 1_700_000_001, 150.3, 200, 3, "ISLAND", "T"),
        m.tick_by_tick_bid_ask(sv, 7, 1_700_000_002, 150.2, 150.3, 100, 200, 0),
        m.tick_by_tick_bid_ask(sv, 7, 1_700_000_003, 150.2, 150.3, 100, 200, 3),
        m.tick_by_tick_mid_point(7, 1_700_000_004, 150.25),
        m.symbol_samples(sv, 6, [m.ContractDescriptionFields(265598, "AAPL", "STK", "NASDAQ", "USD", ["OPT", "WAR"],
                                                             "APPLE INC", "e1")]),
        m.security_definition_option_parameter(7, "SMART", 265598, "AAPL", "100", ["20261204"], [225.0, 230.0]),
        m.security_definition_option_parameter_end(7), m.market_rule(26, [(0.0, 0.01), (1.0, 0.05)]),
        m.family_codes([("DU1", "F1")]), m.mkt_depth_exchanges([("ISLAND", "STK", "NASDAQ", "Deep2", 1)]),
        m.smart_components(8, [(0, "NYSE", "N")]), m.news_providers([("BRFG", "Briefing")]),
        m.soft_dollar_tiers(9, [("t", "v", "T")]), m.completed_orders_end(), m.user_info(9, ""), m.user_info(10, "wb1"),
        m.historical_news_end(11, False), m.historical_news_end(12, True),
        m.historical_news(13, "2026-06-23 20:00:00.0", "BRFG", "BRFG$sim-444857009-20260623", "[prelive simulated] x"),
        m.news_article(14, 0, "text"),
    ]
    for k, (contract, order) in enumerate(_orders()):
        placed = parse_place_order(async_fields(MAX_TEXT, "placeOrder", 40 + k, contract, order), MAX_TEXT)
        out.append(m.open_order(sv, placed, contract=None, client_id=7, perm_id=1000 + k, state=STATE))
        out.append(m.completed_order(sv, placed, contract=None, perm_id=1000 + k, status="Filled",
                                     filled_qty=float(order.totalQuantity), completed_time="20261124 14:30:00 UTC",
                                     completed_status="Filled"))
    return out


def _text_frames(msgs: list[list[str]]) -> list[list]:
    return [[int(f[0]), ("\0".join(f[1:]) + "\0").encode().hex()] for f in msgs]


def _proto_frames(msgs: list[list[str]]) -> list[list[list]]:
    out = []
    for f in msgs:
        encoded = replies.to_protobuf(f, now_ms=1_795_530_600_000)
        assert encoded is not None, f"no protobuf form for reply {f[0]}"
        out.append([[wire_id, payload.hex()] for wire_id, payload in encoded])
    return out


def _normalise(calls: list[dict]) -> list[dict]:
    """Drop what the two encodings legitimately differ in: errorTime exists only from 194, and the official
    client hands smartComponents over as a dict {bit: [exchange, letter]} from protobuf but as a list of
    SmartComponent from text (its own decoder's difference, not the wire's)."""
    out = []
    for c in calls:
        if c["call"] == "error":
            c = {"call": "error", "args": [c["args"][0], c["args"][2], c["args"][3], c["args"][4]]}
        if c["call"] == "smartComponents" and isinstance(c["args"][1], dict):
            c = {"call": c["call"], "args": [c["args"][0], [
                {"bitNumber": int(bit), "exchange": ex, "exchangeLetter": letter}
                for bit, (ex, letter) in c["args"][1].items()]]}
        if c["call"] == "completedOrder":   # the text completedOrder has no parentId; the protobuf Order has
            c = json.loads(json.dumps(c))
            c["args"][1].pop("parentId", None)
        out.append(_unset_alike(c))
    return out


def _unset_alike(value):
    """An empty text field reads as 0 in the official client, an absent protobuf field as its UNSET
    default: both mean "not set", so compare them as one."""
    if isinstance(value, dict):
        items = {k: _unset_alike(v) for k, v in value.items()}
        return {k: v for k, v in items.items() if v is not None} or None
    if isinstance(value, list):
        items = [_unset_alike(v) for v in value]
        return items if any(v is not None for v in items) else None
    if isinstance(value, bool):
        return value or None
    if isinstance(value, (int, float)) and value in (0, 1.7976931348623157e308, 2147483647):
        return None
    return None if value == "" else value


@pytest.fixture(scope="module")
def text_callbacks():
    msgs = _replies(MAX_TEXT)
    return msgs, agent_json("ibapi-latest", "decode", str(MAX_TEXT), stdin=json.dumps(_text_frames(msgs)))


@pytest.mark.parametrize("dist,sv", [("ibapi-latest", v) for v in PROTOBUF_VERSIONS] + [("ibapi-stable", MAX_SUPPORTED)])
def test_every_reply_gives_the_official_client_the_same_callbacks_on_protobuf_as_on_text(text_callbacks, dist, sv):
    text_msgs, text_calls = text_callbacks
    msgs = _replies(sv)
    assert [f[0] for f in msgs] == [f[0] for f in text_msgs]
    groups = _proto_frames(msgs)
    flat = [frame for group in groups for frame in group]
    decoded = agent_json(dist, "decode", str(sv), stdin=json.dumps(flat))
    i = 0
    for fields, group, text in zip(msgs, groups, text_calls):
        proto_calls = [c for calls in decoded[i:i + len(group)] for c in calls]
        i += len(group)
        assert proto_calls, f"reply {fields[0]} gave no callback over protobuf"
        assert _normalise(proto_calls) == _normalise(text), f"reply {fields[:3]}"


def test_errors_carry_the_gateway_time_over_protobuf():
    (msg,) = replies.to_protobuf(m.error(MAX_SUPPORTED, 3, 200, "No security definition"), now_ms=1_795_530_600_123)
    assert msg[0] == 204
    assert wire.decode("ErrorMessage", msg[1]) == {"id": 3, "errorTime": 1_795_530_600_123, "errorCode": 200,
                                                   "errorMsg": "No security definition"}


def test_historical_bars_end_in_a_separate_protobuf_message():
    bar = SimpleNamespace(open=1.5, high=2.0, low=1.0, close=1.75, volume=1200, wap=1.6, count=12)
    frames = replies.to_protobuf(m.historical_data(MAX_SUPPORTED, 6, "a", "b", [("d", bar)]))
    assert [wire_id for wire_id, _ in frames] == [217, 308]


# ---------------------------------------------------------------------------------------------- requests
#: official client call -> (ib_async call and args writing the same request at 178)
def _text_equivalents():
    from ib_async import Contract, ExecutionFilter, LimitOrder, Order, TagValue

    aapl = Contract(symbol="AAPL", secType="STK", exchange="SMART", currency="USD", primaryExchange="NASDAQ",
                    conId=265598)
    sell = LimitOrder("SELL", 7, 150.25, tif="GTC", orderRef="ref-1", account="DU1234567", outsideRth=True)
    algo = LimitOrder("BUY", 100, 150.0, algoStrategy="Adaptive", algoParams=[TagValue("adaptivePriority", "Normal")])
    from ib_async import ScannerSubscription
    scan = ScannerSubscription(numberOfRows=20, instrument="STK", locationCode="STK.US.MAJOR",
                               scanCode="TOP_PERC_GAIN", abovePrice=5.0, aboveVolume=100000)
    return {
        "reqIds": ("reqIds", 1), "reqCurrentTime": ("reqCurrentTime",),
        "reqContractDetails": ("reqContractDetails", 5, aapl),
        "reqMktData": ("reqMktData", 6, aapl, "233,236", False, False, []),
        "cancelMktData": ("cancelMktData", 6), "reqMarketDataType": ("reqMarketDataType", 3),
        "reqHistoricalData": ("reqHistoricalData", 7, aapl, "20261124 16:00:00 UTC", "2 D", "1 hour", "TRADES", 1, 1,
                              False, []),
        "reqHistoricalDataKeepUp": ("reqHistoricalData", 8, aapl, "", "1 D", "5 mins", "MIDPOINT", 0, 2, True, []),
        "cancelHistoricalData": ("cancelHistoricalData", 8),
        "reqRealTimeBars": ("reqRealTimeBars", 9, aapl, 5, "TRADES", True, []),
        "reqHeadTimeStamp": ("reqHeadTimeStamp", 10, aapl, "TRADES", 1, 1),
        "reqHistogramData": ("reqHistogramData", 23, aapl, True, "3 days"),
        "cancelHistogramData": ("cancelHistogramData", 23),
        "reqHistoricalTicks": ("reqHistoricalTicks", 24, aapl, "20261124 14:00:00 UTC", "", 100, "BID_ASK", 1, True,
                               []),
        "placeOrder": ("placeOrder", 11, aapl, sell), "placeAlgoOrder": ("placeOrder", 12, aapl, algo),
        "cancelOrder": ("cancelOrder", 11, ""), "reqGlobalCancel": ("reqGlobalCancel",),
        "reqOpenOrders": ("reqOpenOrders",), "reqAllOpenOrders": ("reqAllOpenOrders",),
        "reqAutoOpenOrders": ("reqAutoOpenOrders", True), "reqCompletedOrders": ("reqCompletedOrders", True),
        "reqExecutions": ("reqExecutions", 13, ExecutionFilter()), "reqPositions": ("reqPositions",),
        "cancelPositions": ("cancelPositions",),
        "reqAccountSummary": ("reqAccountSummary", 14, "All", "NetLiquidation,BuyingPower"),
        "cancelAccountSummary": ("cancelAccountSummary", 14),
        "reqAccountUpdates": ("reqAccountUpdates", True, "DU1234567"), "reqManagedAccts": ("reqManagedAccts",),
        "reqPnL": ("reqPnL", 15, "DU1234567", ""), "cancelPnL": ("cancelPnL", 15),
        "reqPnLSingle": ("reqPnLSingle", 16, "DU1234567", "", 265598), "cancelPnLSingle": ("cancelPnLSingle", 16),
        "reqPositionsMulti": ("reqPositionsMulti", 17, "DU1234567", ""),
        "reqAccountUpdatesMulti": ("reqAccountUpdatesMulti", 18, "DU1234567", "", True),
        "reqMatchingSymbols": ("reqMatchingSymbols", 19, "AAP"),
        "reqSecDefOptParams": ("reqSecDefOptParams", 20, "AAPL", "", "STK", 265598),
        "reqMarketRule": ("reqMarketRule", 26), "reqFamilyCodes": ("reqFamilyCodes",),
        "reqScannerParameters": ("reqScannerParameters",),
        "reqScannerSubscription": ("reqScannerSubscription", 27, scan, [], [TagValue("priceBelow", "40")]),
        "cancelScannerSubscription": ("cancelScannerSubscription", 27),
        "reqMktDepthExchanges": ("reqMktDepthExchanges",), "reqSmartComponents": ("reqSmartComponents", 21, "a6"),
        "reqNewsProviders": ("reqNewsProviders",), "reqSoftDollarTiers": ("reqSoftDollarTiers", 22),
        "reqUserInfo": ("reqUserInfo", 25),
        "reqHistoricalNews": ("reqHistoricalNews", 26, 265598, "BRFG+DJNL", "", "", 10, []),
        "reqNewsArticle": ("reqNewsArticle", 28, "BRFG", "BRFG$sim-444857009-20260623", []),
    }


def _same_field(a: str, b: str) -> bool:
    """Equal as the mock reads them (fields.parse_int/parse_float): an unset strike is '' or '0.0', an unset
    value '' or IB's sentinel (max double, max int), a number any spelling of it."""
    unset = {"", "1.7976931348623157e+308", "1.7976931348623157E308", "2147483647"}
    if a == b or {a, b} <= {"", "0", "0.0"} or {a, b} <= unset:
        return True
    try:
        return float(a) == float(b)
    except ValueError:
        return False


def _assert_same_request(got: list[str], expected: list[str]) -> None:
    assert len(got) == len(expected), (got, expected)
    diffs = [(i, g, e) for i, (g, e) in enumerate(zip(got, expected)) if not _same_field(g, e)]
    assert not diffs, f"fields (index, from protobuf, from text) differ: {diffs}"


def _decode_official(hex_frame: str) -> list[str]:
    body = bytes.fromhex(hex_frame)
    wire_id = int.from_bytes(body[:4], "big")
    assert wire_id > 200, f"the official client sent id {wire_id} as text at {MAX_SUPPORTED}"
    return requests.protobuf_request_fields(wire_id - 200, body[4:])


@pytest.fixture(scope="module")
def official_requests():
    return agent_json("ibapi-latest", "encode", str(MAX_SUPPORTED))


@pytest.fixture(scope="module")
def official_text_requests():
    return agent_json("ibapi-latest", "encode", str(MAX_TEXT))


@pytest.mark.parametrize("call", sorted(_text_equivalents()))
def test_every_protobuf_request_decodes_into_what_the_same_client_writes_as_text(official_requests,
                                                                                  official_text_requests, call):
    (frame,) = official_requests[call]
    (text_frame,) = official_text_requests[call]
    text_fields = bytes.fromhex(text_frame).decode().split("\0")[:-1]
    _assert_same_request(_decode_official(frame), text_fields)


@pytest.mark.parametrize("call", sorted(c for c in _text_equivalents() if not c.startswith("place")))
def test_every_protobuf_request_decodes_into_the_request_ib_async_writes(official_requests, call):
    (frame,) = official_requests[call]
    name, *args = _text_equivalents()[call]
    _assert_same_request(_decode_official(frame), async_fields(MAX_TEXT, name, *args))


def test_protobuf_current_time_in_millis_is_the_request_the_gateway_serves(official_requests):
    (frame,) = official_requests["reqCurrentTimeInMillis"]
    assert _decode_official(frame) == ["105"]


def test_protobuf_start_api_carries_the_client_id(official_requests):
    (frame,) = official_requests["startApi"]
    assert _decode_official(frame)[:3] == ["71", "2", "3"]
