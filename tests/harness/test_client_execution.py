"""The reference execution client on the wire: pacing, and no duplicate orders across a reconnect."""
from __future__ import annotations

import asyncio
import time

import pytest

from harness.client.execution import ClientConfig, ExecutionClient
from harness.client.ledger import Intent, IntentState
from mock_gateway.config import GatewayConfig
from mock_gateway.eventlog import read_events
from mock_gateway.faults.defaults import build_fault_stack
from mock_gateway.faults.distributions import Fixed
from mock_gateway.faults.latency import Latency
from mock_gateway.faults.pacing import MessageRate
from mock_gateway.server import GatewayThread

pytestmark = pytest.mark.timeout(60)


def _gateway(tmp_path, faults, **kw) -> GatewayThread:
    config = GatewayConfig(port=0, event_log=tmp_path / "events.jsonl", log_market_data=False, **kw)
    config.faults = build_fault_stack(config, faults, default_pacing=False)
    return GatewayThread(config)


async def _until(predicate, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


def _placed(log) -> list[dict]:
    return [e for e in read_events(log) if e["msg"] == "placeOrder"]


def test_paced_requests_stay_under_the_gateways_50_per_second(tmp_path):
    gw_thread = _gateway(tmp_path, [MessageRate(max_per_s=50, disconnect_after=0)])

    async def go(gw):
        client = ExecutionClient(ClientConfig(host=gw.host, port=gw.port, client_id=3))
        client.ib.client.MaxRequests = 0  # only our token bucket stands between the burst and the limit
        runner = asyncio.ensure_future(client.run())
        await asyncio.wait_for(client.connected.wait(), 10)
        for _ in range(120):
            await client.bucket.acquire()
            client.ib.client.reqCurrentTime()
        await asyncio.sleep(0.3)
        client.stop()
        await runner

    with gw_thread as gw:
        asyncio.run(go(gw))
    events = read_events(tmp_path / "events.jsonl")
    assert sum(e["msg"] == "reqCurrentTime" for e in events) == 120
    assert not [e for e in events if e["msg"] == "error" and e["attrs"].get("code") == 100]


def test_an_order_the_gateway_received_before_a_drop_is_not_sent_again(tmp_path):
    # acks and fills held back 3 s: the socket drops while the order is in flight
    gw_thread = _gateway(tmp_path, [Latency(distribution=Fixed(ms=3000), kinds=["order_ack", "order_fill"])])

    async def go(gw_thread, gw):
        client = ExecutionClient(ClientConfig(host=gw.host, port=gw.port, client_id=4), ["AAPL"])
        runner = asyncio.ensure_future(client.run())
        await asyncio.wait_for(client.connected.wait(), 10)
        await client.submit(Intent("intent-A", "AAPL", "BUY", 100, time.monotonic()))
        await _until(lambda: len(_placed(tmp_path / "events.jsonl")) == 1)
        gw.call(gw.drop_all_sessions, "fault:test")
        await _until(lambda: client.counters["connects"] >= 2 and client.connected.is_set())
        await asyncio.sleep(4.0)  # the held-back fill arrives
        client.sync_fills()
        state, position = client.ledger.intents["intent-A"].state, client.ledger.position("AAPL")
        client.stop()
        await runner
        return state, position

    with gw_thread as gw:
        state, position = asyncio.run(go(gw_thread, gw))
    assert [e["attrs"]["order_ref"] for e in _placed(tmp_path / "events.jsonl")] == ["intent-A"]
    assert state == IntentState.FILLED and position == 100


def test_an_order_lost_before_reaching_the_gateway_is_sent_once_after_the_reconnect(tmp_path):
    gw_thread = _gateway(tmp_path, [])

    async def go(gw_thread, gw):
        client = ExecutionClient(ClientConfig(host=gw.host, port=gw.port, client_id=5), ["AAPL"])
        runner = asyncio.ensure_future(client.run())
        await asyncio.wait_for(client.connected.wait(), 10)
        lost = Intent("intent-B", "AAPL", "SELL", 50, time.monotonic())
        client.ledger.add(lost)
        client.ledger.mark_sent("intent-B", 9999)  # "sent", but the bytes never left: the socket died
        gw.call(gw.drop_all_sessions, "fault:test")
        await _until(lambda: client.ledger.intents["intent-B"].state == IntentState.FILLED)
        client.stop()
        await runner
        return client.ledger.position("AAPL"), client.counters["resent"]

    with gw_thread as gw:
        position, resent = asyncio.run(go(gw_thread, gw))
    assert [e["attrs"]["order_ref"] for e in _placed(tmp_path / "events.jsonl")] == ["intent-B"]
    assert position == -50 and resent == 1


def test_a_second_submit_of_the_same_intent_sends_nothing(tmp_path):
    gw_thread = _gateway(tmp_path, [])

    async def go(gw):
        client = ExecutionClient(ClientConfig(host=gw.host, port=gw.port, client_id=6), ["AAPL"])
        runner = asyncio.ensure_future(client.run())
        await asyncio.wait_for(client.connected.wait(), 10)
        first = await client.submit(Intent("intent-C", "AAPL", "BUY", 10, time.monotonic()))
        again = await client.submit(Intent("intent-C", "AAPL", "BUY", 10, time.monotonic()))
        await asyncio.sleep(0.3)
        client.stop()
        await runner
        return first, again

    with gw_thread as gw:
        assert asyncio.run(go(gw)) == (True, False)
    assert len(_placed(tmp_path / "events.jsonl")) == 1
