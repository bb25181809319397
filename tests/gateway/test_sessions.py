"""Several clients on one gateway: client-id registry, shared orders, per-account books, version refusal."""
from __future__ import annotations

import asyncio

import ib_insync
import pytest

from mock_gateway.config import AccountConfig, GatewayConfig
from mock_gateway.server import start_gateway

from .conftest import sys_events, wait_for, wait_thread
from .raw_client import RawClient


def test_duplicate_client_id_gets_326_and_is_closed(mock_gateway):
    with RawClient(mock_gateway.host, mock_gateway.port) as first, \
            RawClient(mock_gateway.host, mock_gateway.port) as second:
        first.hello()
        first.start(9)
        first.read_until(lambda msgs: any(f[0] == "9" for f in msgs))
        second.hello()
        second.start(9)
        messages = second.read_until_closed()
    assert second.eof
    assert [f[3] for f in messages if f[0] == "4"] == ["326"]
    assert not any(f[0] in ("9", "15") for f in messages[1:])


def test_ib_insync_connect_fails_on_a_client_id_in_use(mock_gateway):
    holder = ib_insync.IB()
    holder.connect(mock_gateway.host, mock_gateway.port, clientId=4, timeout=5)
    intruder = ib_insync.IB()
    codes = []
    intruder.errorEvent += lambda req_id, code, *rest: codes.append(code)
    try:
        with pytest.raises((asyncio.TimeoutError, TimeoutError, ConnectionError)):
            intruder.connect(mock_gateway.host, mock_gateway.port, clientId=4, timeout=0.5)
        assert codes == [326] and holder.isConnected()
    finally:
        intruder.disconnect()
        holder.disconnect()


def test_a_client_id_is_free_again_after_its_session_closed(mock_gateway):
    for _ in range(2):
        ib = ib_insync.IB()
        ib.connect(mock_gateway.host, mock_gateway.port, clientId=6, timeout=5)
        ib.disconnect()
        wait_thread(lambda: not mock_gateway.sessions, what="the session to close")


def test_two_clients_see_each_others_orders_in_all_open_orders(mock_gateway):
    a, b = ib_insync.IB(), ib_insync.IB()
    a.connect(mock_gateway.host, mock_gateway.port, clientId=1, timeout=5)
    b.connect(mock_gateway.host, mock_gateway.port, clientId=2, timeout=5)
    try:
        contract = ib_insync.Stock("AAPL", "SMART", "USD")
        a.qualifyContracts(contract)
        mine = a.placeOrder(contract, ib_insync.LimitOrder("BUY", 1, 100.0))
        wait_for(a, lambda: mine.orderStatus.status == "Submitted", what="a's order")
        seen_by_b = b.reqAllOpenOrders()
        assert [(t.order.clientId, t.order.orderId, t.order.permId) for t in seen_by_b] == [
            (1, mine.order.orderId, mine.order.permId)]
        assert b.reqOpenOrders() == []          # b's own open orders: none
    finally:
        a.disconnect()
        b.disconnect()


def test_orders_are_booked_to_their_account(mock_gateway_factory):
    gw = mock_gateway_factory(accounts=[AccountConfig("DU111"), AccountConfig("DU222", cash=50_000.0)])
    ib = ib_insync.IB()
    ib.connect(gw.host, gw.port, clientId=1, timeout=5)
    try:
        assert ib.managedAccounts() == ["DU111", "DU222"]
        contract = ib_insync.Stock("MSFT", "SMART", "USD")
        ib.qualifyContracts(contract)
        trade = ib.placeOrder(contract, ib_insync.MarketOrder("BUY", 3, account="DU222"))
        wait_for(ib, trade.isDone, what="fill")
        positions = {(p.account, p.contract.symbol): p.position for p in ib.reqPositions()}
    finally:
        ib.disconnect()
    assert positions == {("DU222", "MSFT"): 3}


def test_a_client_whose_version_range_is_too_old_is_refused(mock_gateway):
    with RawClient(mock_gateway.host, mock_gateway.port) as client:
        client.send_raw(b"API\x00\x00\x00\x00\x09v100..150")
        messages = client.read_until_closed()
    assert messages == [] and client.eof
    refused = sys_events(mock_gateway, "refused")
    assert "client speaks 100..150" in refused[0]["attrs"]["reason"]


def test_gateway_writes_nothing_between_handshake_reply_and_start_api(mock_gateway):
    with RawClient(mock_gateway.host, mock_gateway.port) as client:
        reply = client.hello("v100..157")
        assert reply[0] == "157" and len(reply) == 2
        client.sock.settimeout(0.2)
        with pytest.raises((TimeoutError, OSError)):
            client.sock.recv(1)
        client.start(3)
        messages = client.read_until(lambda msgs: len(msgs) >= 6)
    assert [f[0] for f in messages[1:6]] == ["15", "9", "4", "4", "4"]
    assert [f[3] for f in messages[3:6]] == ["2104", "2106", "2158"]


def test_start_gateway_runs_in_the_callers_event_loop():
    async def session() -> float:
        async with start_gateway(GatewayConfig(port=0)) as gw:
            ib = ib_insync.IB()
            await ib.connectAsync(gw.host, gw.port, clientId=1, timeout=5)
            now = await ib.reqCurrentTimeAsync()
            ib.disconnect()
            return now.timestamp() - gw.config.start.timestamp()

    assert 0 <= asyncio.run(session()) < 60
