"""The session event log the metrics are computed from: every wire message and the run's sys events."""
from __future__ import annotations

import ib_insync
import pytest

from mock_gateway.config import AccountConfig, GatewayConfig
from mock_gateway.eventlog import read_events
from mock_gateway.server import GatewayThread

from .conftest import out_messages, sys_events, wait_for, wait_thread


def _trade_once(gw, client_id=4):
    ib = ib_insync.IB()
    ib.connect(gw.host, gw.port, clientId=client_id, timeout=5)
    try:
        contract = ib_insync.Stock("AAPL", "SMART", "USD")
        ib.qualifyContracts(contract)
        ib.reqMktData(contract)
        trade = ib.placeOrder(contract, ib_insync.MarketOrder("BUY", 2))
        wait_for(ib, lambda: trade.isDone() and trade.fills[0].commissionReport.execId, what="fill")
        return trade
    finally:
        ib.disconnect()


def test_every_wire_message_is_logged_with_its_session_and_times(mock_gateway):
    trade = _trade_once(mock_gateway)
    wait_thread(lambda: sys_events(mock_gateway, "disconnect"), what="disconnect")
    events = mock_gateway.event_log.events
    wire = [e for e in events if e["dir"] in ("in", "out")]
    assert {e["conn"] for e in wire} == {1}
    assert all(e["client_id"] == 4 for e in wire if e["msg"] not in ("handshake", "handshakeReply", "startApi"))
    assert all(e["sim"] is not None and e["wall"] > 0 for e in wire)
    placed = next(e for e in wire if e["msg"] == "placeOrder")
    assert placed["attrs"]["order_id"] == trade.order.orderId and placed["attrs"]["action"] == "BUY"
    filled = [e for e in out_messages(mock_gateway, "orderStatus") if e["attrs"]["status"] == "Filled"]
    assert filled[0]["attrs"]["perm_id"] == trade.order.permId
    sent = {e["msg"] for e in wire if e["dir"] == "out"}
    assert {"managedAccounts", "nextValidId", "contractData", "tickPrice", "openOrder", "execDetails",
            "commissionReport", "positionEnd", "execDetailsEnd"} <= sent


def test_sys_events_tell_the_story_of_a_session(mock_gateway):
    _trade_once(mock_gateway)
    wait_thread(lambda: sys_events(mock_gateway, "disconnect"), what="disconnect")
    (start,) = sys_events(mock_gateway, "run_start")
    assert start["attrs"]["seed"] == 42 and start["attrs"]["accounts"] == ["DU1234567"]
    assert start["attrs"]["server_version_max"] == 223   # the current stable IB Gateway
    (connect,) = sys_events(mock_gateway, "connect")
    assert connect["attrs"]["peer"].startswith("127.0.0.1:")
    (handshake,) = sys_events(mock_gateway, "handshake")
    assert (handshake["attrs"]["client_min"], handshake["attrs"]["client_max"],
            handshake["attrs"]["server_version"]) == (157, 176, 176)
    (disconnect,) = sys_events(mock_gateway, "disconnect")
    assert disconnect["client_id"] == 4 and disconnect["attrs"]["reason"]


def test_account_marks_every_60_sim_seconds_per_account(mock_gateway_factory):
    gw = mock_gateway_factory(speed=600.0, accounts=[AccountConfig("DU1"), AccountConfig("DU2")])
    trade = _trade_once(gw)
    # a loaded machine may take longer than four rounds (0.4 s at speed 600) to trade: count rounds after it
    marks_before_fill = len(sys_events(gw, "account_mark"))
    wait_thread(lambda: len(sys_events(gw, "account_mark")) >= max(8, marks_before_fill + 4),
                what="four rounds of marks, one after the fill")
    marks = sys_events(gw, "account_mark")
    assert [m["sim"] for m in marks[:6:2]] == pytest.approx([0.0, 60.0, 120.0])
    assert {m["attrs"]["account"] for m in marks} == {"DU1", "DU2"}
    last = [m for m in marks if m["attrs"]["account"] == "DU1"][-1]["attrs"]
    assert last["positions"] == {"AAPL": 2.0}
    assert set(last) == {"account", "net_liquidation", "cash", "realized_pnl", "unrealized_pnl", "positions"}
    assert last["cash"] < 1_000_000 - 2 * trade.orderStatus.avgFillPrice + 1e-6


def test_market_data_can_be_left_out_of_the_log(mock_gateway_factory):
    gw = mock_gateway_factory(log_market_data=False)
    _trade_once(gw)
    assert out_messages(gw, "tickPrice") == [] and out_messages(gw, "execDetails")


def test_the_log_file_holds_the_whole_run_after_stop(tmp_path):
    path = tmp_path / "events.jsonl"
    with GatewayThread(GatewayConfig(port=0, event_log=path)) as gw:
        _trade_once(gw)
    events = read_events(path)
    assert events[0]["msg"] == "run_start" and events[-1]["msg"] == "run_end"
    assert [e["seq"] for e in events] == list(range(len(events)))
    assert any(e["msg"] == "execDetails" for e in events)


def _order_messages(gw, order_id: int) -> list[str]:
    """The order's outbound messages, named, with the status where the message carries one."""
    out = []
    for e in gw.call(lambda: list(gw.event_log.events)):
        if e["dir"] != "out" or e["attrs"].get("order_id", e["attrs"].get("req_id")) != order_id:
            continue
        status = e["attrs"].get("status", "")
        if e["msg"] == "openOrder":
            status = e["fields"][86]   # orderState.status of a plain order at 176 (ibapi orderdecoder.py)
        out.append(f"{e['msg']}:{status}" if status else e["msg"])
    return out


def test_order_messages_follow_the_tws_sequence(mock_gateway):
    ib = ib_insync.IB()
    ib.connect(mock_gateway.host, mock_gateway.port, clientId=1, timeout=5)
    try:
        contract = ib_insync.Stock("AAPL", "SMART", "USD")
        ib.qualifyContracts(contract)
        market = ib.placeOrder(contract, ib_insync.MarketOrder("BUY", 1))
        wait_for(ib, lambda: market.isDone() and market.fills[0].commissionReport.execId, what="fill")
        limit = ib.placeOrder(contract, ib_insync.LimitOrder("BUY", 1, 100.0))
        wait_for(ib, lambda: limit.orderStatus.status == "Submitted", what="resting")
        ib.cancelOrder(limit.order)
        wait_for(ib, lambda: limit.orderStatus.status == "Cancelled", what="cancel")
    finally:
        ib.disconnect()
    assert _order_messages(mock_gateway, market.order.orderId) == [
        "openOrder:PreSubmitted", "orderStatus:PreSubmitted", "execDetails", "orderStatus:Filled",
        "openOrder:Filled"]   # + commissionReport, keyed by execId
    assert _order_messages(mock_gateway, limit.order.orderId) == [
        "openOrder:PreSubmitted", "orderStatus:PreSubmitted", "openOrder:Submitted", "orderStatus:Submitted",
        "orderStatus:Cancelled", "error"]
