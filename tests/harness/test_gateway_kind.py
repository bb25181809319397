"""Simulated evidence says so: the mock announces itself on the wire, and probe, tap and paper record it."""
from __future__ import annotations

import asyncio
import logging

import pytest

from harness.gateway_kind import gateway_of_log
from harness.metrics.frame import events_frame, load_frame
from harness.probe import ProbeOptions, probe
from harness.tap import start_tap
from mock_gateway.config import GatewayConfig
from mock_gateway.eventlog import EventLog
from mock_gateway.identity import MOCK_NOTICE_CODE
from mock_gateway.server import GatewayThread

pytestmark = pytest.mark.timeout(60)


@pytest.mark.parametrize("library", ["ib_insync", "ib_async"])
def test_clients_take_the_mock_notice_as_a_warning_and_connect_normally(library, caplog):
    module = pytest.importorskip(library)
    seen: list[tuple[int, int]] = []

    async def session(port: int) -> list[str]:
        ib = module.IB()
        ib.errorEvent += lambda req_id, code, *_: seen.append((req_id, code))
        await ib.connectAsync("127.0.0.1", port, clientId=5, timeout=10)
        await asyncio.sleep(0.2)
        accounts = ib.managedAccounts()
        ib.disconnect()
        return accounts

    with caplog.at_level(logging.INFO), GatewayThread(GatewayConfig(port=0)) as gw:
        accounts = asyncio.run(session(gw.port))
    assert accounts == ["DU1234567"]
    assert (-1, MOCK_NOTICE_CODE) in seen
    notices = [r for r in caplog.records if str(MOCK_NOTICE_CODE) in r.getMessage()]
    assert notices and all(r.levelno < logging.WARNING and "Warning" in r.getMessage() for r in notices)


def test_the_probe_records_a_mock_gateway_without_being_told():
    with GatewayThread(GatewayConfig(port=0)) as gw:
        doc = asyncio.run(probe(ProbeOptions(host=gw.host, port=gw.port)))   # no gateway_kind given
    assert doc["gateway"]["kind"] == "mock"
    assert str(MOCK_NOTICE_CODE) in doc["gateway"]["detected_by"]


def test_the_tap_in_front_of_the_mock_records_the_gateway_kind(tmp_path):
    from ib_async import IB

    path = tmp_path / "tap.jsonl"

    async def session(port: int) -> None:
        with EventLog(path, source="tap") as log:
            async with start_tap("127.0.0.1", port, log) as tap:
                ib = IB()
                await ib.connectAsync(tap.host, tap.port, clientId=3, timeout=10)
                await asyncio.sleep(0.2)
                ib.disconnect()
                await asyncio.sleep(0.1)

    with GatewayThread(GatewayConfig(port=0)) as gw:
        asyncio.run(session(gw.port))
    df = load_frame(path)
    kinds = df[(df["dir"] == "sys") & (df["msg"] == "gateway_kind")]
    assert [a["kind"] for a in kinds["attrs"]] == ["mock"]
    assert gateway_of_log(df)["kind"] == "mock"


def test_a_recording_without_the_notice_is_from_a_real_gateway():
    events = [{"seq": 0, "wall": 1.0, "sim": None, "source": "tap", "conn": 1, "client_id": 1, "dir": "out",
               "msg": "error", "msg_id": 4, "attrs": {"req_id": -1, "code": 2104,
                                                        "text": "Market data farm connection is OK:usfarm"},
               "fault": None}]
    assert gateway_of_log(events_frame(events))["kind"] == "real"


def test_a_real_gateway_cannot_be_mistaken_for_the_mock_by_the_code_alone():
    events = [{"seq": 0, "wall": 1.0, "sim": None, "source": "tap", "conn": 1, "client_id": 1, "dir": "out",
               "msg": "error", "msg_id": 4, "attrs": {"req_id": -1, "code": MOCK_NOTICE_CODE, "text": "some IB text"},
               "fault": None}]
    assert gateway_of_log(events_frame(events))["kind"] == "real"
