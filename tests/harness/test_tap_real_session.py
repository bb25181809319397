"""The tap in front of the real mock gateway: a real ib_insync session recorded and measured."""
from __future__ import annotations

import asyncio
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from ib_insync import IB, MarketOrder, Stock

from harness import metrics as M
from harness.artifacts import load_artifact, read_metrics_csv
from harness.tap import start_tap
from mock_gateway.config import GatewayConfig
from mock_gateway.eventlog import EventLog, read_events
from mock_gateway.server import GatewayThread

pytestmark = pytest.mark.timeout(60)
REPO = Path(__file__).resolve().parents[2]


async def _trade_through(host: str, port: int, orders: int) -> None:
    ib = IB()
    await ib.connectAsync(host, port, 11, timeout=10)
    [aapl] = await ib.qualifyContractsAsync(Stock("AAPL", "SMART", "USD"))
    trades = [ib.placeOrder(aapl, MarketOrder("BUY" if i % 2 == 0 else "SELL", 10)) for i in range(orders)]
    for _ in range(200):
        await asyncio.sleep(0.02)
        if all(t.isDone() for t in trades):
            break
    ib.disconnect()
    await asyncio.sleep(0.1)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tap")
    mock_log, tap_log = tmp / "mock.jsonl", tmp / "tap.jsonl"

    async def session(gw):
        with EventLog(tap_log, source="tap") as log:
            async with start_tap(gw.host, gw.port, log) as tap:
                await _trade_through(tap.host, tap.port, 4)

    with GatewayThread(GatewayConfig(port=0, event_log=mock_log, log_market_data=False)) as gw:
        asyncio.run(session(gw))
    return tmp, mock_log, tap_log


def test_the_tap_log_measures_the_same_trades_as_the_gateway_log(recorded):
    _, mock_log, tap_log = recorded
    tap, mock = M.load_frame(tap_log), M.load_frame(mock_log)
    assert M.latency_clock(tap) == "wall" and M.latency_clock(mock) == "sim"
    assert M.trade_count(tap) == M.trade_count(mock) == 4
    assert M.fill_rate_pct(tap) == 100.0 and M.pacing_violations(tap) == 0
    assert len(M.order_ack_latencies_ms(tap)) == 4 and (M.order_ack_latencies_ms(tap) >= 0).all()


def test_the_tap_decodes_every_wire_message_the_gateway_logged(recorded):
    _, mock_log, tap_log = recorded
    wire = lambda path: Counter((e["dir"], e["msg"]) for e in read_events(path) if e["dir"] != "sys")  # noqa: E731
    assert wire(tap_log) == wire(mock_log)
    assert all(e["source"] == "tap" and e["sim"] is None for e in read_events(tap_log))


def test_paper_stage_measures_a_tap_recording(recorded):
    tmp, _, tap_log = recorded
    out = tmp / "stage7"
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "paper", "--event-log", str(tap_log), "--out", str(out)],
                          cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = load_artifact(out / "PAPER_TRADING_LOG.json")
    assert doc["latency_clock"] == "wall" and len(doc["trades"]) == 4
    rows = {r["name"]: r for r in read_metrics_csv(out / "PAPER_TRADING_METRICS.csv")}
    assert rows["trade_count"]["value"] == "4" and rows["trade_count"]["pass"] == "false"  # < 50 trades
    assert rows["sharpe_backtest"]["value"] == ""  # no baseline scenario given: unknown, not invented


def test_tap_cli_refuses_a_live_upstream_port(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "tap", "--listen", "127.0.0.1:0", "--upstream",
                           "127.0.0.1:4001", "--event-log", str(tmp_path / "t.jsonl")],
                          cwd=REPO, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2 and "4001" in proc.stdout + proc.stderr
    assert not (tmp_path / "t.jsonl").exists()
