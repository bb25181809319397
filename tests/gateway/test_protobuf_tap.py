"""The recording tap in front of a protobuf session: the official client at 223, recorded into the same
event log the gateway writes (same messages, same fields), and measured the same."""
from __future__ import annotations

import asyncio
import json
from collections import Counter

import pytest

from harness import metrics as M
from harness.tap import start_tap
from mock_gateway.config import GatewayConfig
from mock_gateway.eventlog import EventLog, read_events
from mock_gateway.server import GatewayThread

from .ibapi10 import run_agent

pytestmark = pytest.mark.timeout(180)
MARKET_DATA = {"tickPrice", "tickSize", "tickString", "tickGeneric", "tickReqParams", "marketDataType",
               "tickSnapshotEnd", "pnl", "pnlSingle", "updatePortfolio", "updateAccountValue", "updateAccountTime"}


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tap-protobuf")
    mock_log, tap_log = tmp / "mock.jsonl", tmp / "tap.jsonl"

    async def session(gw):
        with EventLog(tap_log, source="tap") as log:
            async with start_tap(gw.host, gw.port, log) as tap:
                out = await asyncio.to_thread(run_agent, "ibapi-latest", "flow", str(tap.port), "9")
                await asyncio.sleep(0.2)
        return out

    with GatewayThread(GatewayConfig(port=0, event_log=mock_log, log_market_data=False)) as gw:
        out = asyncio.run(session(gw))
    lines = [json.loads(line) for line in out.splitlines()]
    assert not [line for line in lines if "timeout" in line]
    return mock_log, tap_log


def _wire(path) -> Counter:
    return Counter((e["dir"], e["msg"], tuple(e["fields"])) for e in read_events(path)
                   if e["dir"] in ("in", "out") and e["msg"] not in MARKET_DATA)


def test_the_tap_decodes_a_protobuf_session_into_the_events_the_gateway_logged(recorded):
    mock_log, tap_log = recorded
    tap, mock = _wire(tap_log), _wire(mock_log)
    assert tap == mock, {"only in tap": tap - mock, "only in gateway": mock - tap}
    handshakes = [e for e in read_events(tap_log) if e["msg"] == "handshake" and e["dir"] == "sys"]
    assert [h["attrs"]["server_version"] for h in handshakes] == [223]
    protobuf = [e for e in read_events(tap_log) if e["attrs"].get("encoding") == "protobuf"]
    assert {e["msg"] for e in protobuf} >= {"placeOrder", "openOrder", "orderStatus", "execDetails",
                                            "commissionReport", "historicalData", "contractData", "error"}
    assert not [e for e in read_events(tap_log) if e["msg"] == "protocol_error"]


def test_the_tap_log_of_a_protobuf_session_measures_the_same_trades(recorded):
    mock_log, tap_log = recorded
    tap, mock = M.load_frame(tap_log), M.load_frame(mock_log)
    assert M.trade_count(tap) == M.trade_count(mock) >= 1
    assert M.fill_rate_pct(tap) == M.fill_rate_pct(mock)
