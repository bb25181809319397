"""The operator kill switch and the reference client's kill file, against the mock gateway."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time

import pytest
from ib_insync import IB, LimitOrder, Stock

from harness.artifacts import load_artifact
from harness.handler import handler_env
from harness.killswitch import kill_switch, run_kill_switch
from harness.safety import LiveAccountRefused
from mock_gateway.config import GatewayConfig
from mock_gateway.eventlog import read_events
from mock_gateway.server import GatewayThread

pytestmark = pytest.mark.timeout(60)


def _rest_orders(host: str, port: int, client_id: int, n: int) -> None:
    async def go():
        ib = IB()
        await ib.connectAsync(host, port, client_id, timeout=10)
        [aapl] = await ib.qualifyContractsAsync(Stock("AAPL", "SMART", "USD"))
        for i in range(n):
            ib.placeOrder(aapl, LimitOrder("BUY", 10, 1.0 + i))  # far below the market: they rest
        for _ in range(100):
            await asyncio.sleep(0.05)
            if len([t for t in ib.openTrades() if t.orderStatus.status == "Submitted"]) == n:
                break
        ib.disconnect()
    asyncio.run(go())


def test_kill_switch_cancels_every_clients_orders_and_verifies_none_remain(tmp_path):
    out, kill_file = tmp_path / "KILL_SWITCH.json", tmp_path / "handler.kill"
    with GatewayThread(GatewayConfig(port=0)) as gw:
        _rest_orders(gw.host, gw.port, 5, 3)
        _rest_orders(gw.host, gw.port, 6, 2)
        result = kill_switch(gw.host, gw.port, out, kill_file=kill_file, timeout_s=10)
    assert result.verified and result.open_orders_before == 5 and result.open_orders_after == 0
    assert result.cancelled == 5
    doc = load_artifact(out)
    assert doc["verified"] is True and doc["target"]["account"] == "DU1234567"
    assert kill_file.exists()


def test_kill_switch_can_flatten_positions(tmp_path):
    async def buy(host, port):
        from ib_insync import MarketOrder
        ib = IB()
        await ib.connectAsync(host, port, 5, timeout=10)
        [aapl] = await ib.qualifyContractsAsync(Stock("AAPL", "SMART", "USD"))
        trade = ib.placeOrder(aapl, MarketOrder("BUY", 30))
        for _ in range(100):
            await asyncio.sleep(0.05)
            if trade.isDone():
                break
        ib.disconnect()

    with GatewayThread(GatewayConfig(port=0)) as gw:
        asyncio.run(buy(gw.host, gw.port))
        result = kill_switch(gw.host, gw.port, tmp_path / "K.json", flatten=True, timeout_s=10)
    assert result.verified and result.flattened
    assert result.positions_before == {"AAPL": 30.0} and result.positions_after == {}


def test_kill_switch_refuses_a_live_port_before_connecting(tmp_path):
    with pytest.raises(LiveAccountRefused):
        asyncio.run(run_kill_switch("127.0.0.1", 7496))


def test_an_unreachable_gateway_gives_an_unverified_kill_switch_record(tmp_path):
    with GatewayThread(GatewayConfig(port=0)) as gw:
        port = gw.port
    result = kill_switch("127.0.0.1", port, tmp_path / "K.json", timeout_s=2)
    assert not result.verified and result.error
    assert load_artifact(tmp_path / "K.json")["verified"] is False


def _placed_orders(log) -> int:
    return sum(1 for e in read_events(log) if e["msg"] == "placeOrder")


def _start_reference_handler(gw, tmp_path, kill_file):
    env = handler_env(gw.host, gw.port, 1, "DU1234567", kill_file, {"PRELIVE_BAR_SECONDS": "5",
                                                                 "PRELIVE_LOOKBACK": "3", "PRELIVE_ENTRY_Z": "0.5"})
    out = open(tmp_path / "handler.log", "wb")
    return subprocess.Popen([sys.executable, "-m", "harness.client"], env=env, stdout=out, stderr=subprocess.STDOUT)


def _wait(predicate, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.05)


@pytest.mark.parametrize("trigger", ["kill_file", "SIGUSR1"])
def test_reference_handler_stops_new_orders_when_the_kill_switch_engages(tmp_path, trigger):
    log, kill_file = tmp_path / "events.jsonl", tmp_path / "KILL"
    with GatewayThread(GatewayConfig(port=0, speed=60, event_log=log)) as gw:
        proc = _start_reference_handler(gw, tmp_path, kill_file)
        try:
            _wait(lambda: _placed_orders(log) >= 2)
            if trigger == "kill_file":
                kill_file.write_text("stop\n")
            else:
                proc.send_signal(signal.SIGUSR1)
            _wait(lambda: "kill switch engaged" in (tmp_path / "handler.log").read_text())
            placed = _placed_orders(log)
            time.sleep(2.0)  # 120 sim seconds: 24 more 5 s bars the strategy would have traded on
            assert _placed_orders(log) == placed
        finally:
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(15)
    assert code == 0  # SIGTERM: clean exit
