"""Secrets stay out: credential-bearing API fields (verify / verifyAndAuth) are redacted in every
event log, and a run and a tap session write no planted secret into any file. (The drill and the
switchover are checked the same way in tests/drill against the real playbooks.)"""
from __future__ import annotations

import asyncio
import secrets
import sys
import textwrap
from pathlib import Path

import pytest
from ibapi.client import EClient
from ibapi.wrapper import EWrapper

from harness.runner import run_session
from harness.scenario import load_scenario
from harness.tap import start_tap
from mock_gateway.config import GatewayConfig
from mock_gateway.eventlog import EventLog, read_events
from mock_gateway.protocol.framing import encode_handshake
from mock_gateway.protocol.redact import REDACTED, redact_message
from mock_gateway.server import GatewayThread

pytestmark = pytest.mark.timeout(60)
KEY = f"isvkey-{secrets.token_hex(6)}"
DATA = f"apidata-{secrets.token_hex(6)}"
RESPONSE = f"xyzresp-{secrets.token_hex(6)}"
PLANTED = (KEY, DATA, RESPONSE)


class _Capture:
    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def sendMsg(self, msg: bytes) -> int:  # noqa: N802
        self.sent.append(msg)
        return len(msg)

    def isConnected(self) -> bool:  # noqa: N802
        return True


def auth_session_bytes(client_id: int = 8) -> bytes:
    """What the official ibapi client writes for an authenticated (ISV) session."""
    client = EClient(EWrapper())
    client.conn, client.connState, client.serverVersion_, client.clientId = _Capture(), EClient.CONNECTED, 157, client_id
    client.extraAuth = True
    client.startApi()
    client.verifyRequest("prelive-test", "1.0")
    client.verifyMessage(DATA)
    client.verifyAndAuthRequest("prelive-test", "1.0", KEY)
    client.verifyAndAuthMessage(DATA, RESPONSE)
    return encode_handshake("v100..157") + b"".join(client.conn.sent)


def assert_no_secret_under(folder: Path) -> None:
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert files
    for path in files:
        text = path.read_bytes().decode("utf-8", "replace")
        for secret in PLANTED:
            assert secret not in text, f"{secret} leaked into {path}"


@pytest.mark.parametrize("direction, fields, kept", [
    ("in", ["72", "1", "name", "1.0", KEY], ["72", "1", REDACTED, REDACTED, REDACTED]),
    ("in", ["73", "1", DATA, RESPONSE], ["73", "1", REDACTED, REDACTED]),
    ("out", ["69", "1", DATA, "challenge"], ["69", "1", REDACTED, REDACTED]),
    ("out", ["70", "1", "false", "bad key"], ["70", "1", "false", "bad key"]),   # a verdict, no secret
    ("in", ["3", "1", "AAPL"], ["3", "1", "AAPL"]),
])
def test_credential_fields_are_redacted_and_nothing_else(direction, fields, kept):
    assert redact_message(direction, fields, {"x": 1})[0] == kept


def test_a_tap_session_writes_no_credential_to_either_event_log(tmp_path):
    tap_log, gw_log = tmp_path / "tap.jsonl", tmp_path / "gateway.jsonl"

    async def session(port):
        r, w = await asyncio.open_connection("127.0.0.1", port)
        w.write(auth_session_bytes())
        await w.drain()
        await asyncio.sleep(1.0)
        w.close()

    async def scenario(gw):
        with EventLog(tap_log, source="tap") as log:
            async with start_tap(gw.host, gw.port, log) as tap:
                await session(tap.port)
                await asyncio.sleep(0.3)

    with GatewayThread(GatewayConfig(port=0, event_log=gw_log)) as gw:
        asyncio.run(scenario(gw))
    recorded = [e for e in read_events(tap_log) if e.get("msg_id") in (65, 66, 72, 73) and e["dir"] == "in"]
    assert len(recorded) == 4 and all(REDACTED in e["fields"] for e in recorded)  # logged, but redacted
    assert_no_secret_under(tmp_path)


def test_a_run_writes_no_planted_secret_anywhere(tmp_path, monkeypatch):
    monkeypatch.setenv("TWS_PASSWORD", KEY)   # in the harness's own environment too
    handler = tmp_path / "auth_handler.py"
    handler.write_text(textwrap.dedent(f"""\
        import os, socket, sys, time
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_no_secrets import auth_session_bytes
        s = socket.create_connection((os.environ["IB_HOST"], int(os.environ["IB_PORT"])))
        s.sendall(auth_session_bytes(int(os.environ["IB_CLIENT_ID"])))
        time.sleep(0.5)
        print("handler done", flush=True)
        """))
    scenario_file = tmp_path / "s.yaml"
    scenario_file.write_text("description: auth\nduration_s: 5\n")
    run_dir = tmp_path / "run"
    record = run_session(load_scenario(scenario_file), run_dir, [sys.executable, str(handler)])
    assert "handler done" in record.handler_log.read_text()
    assert any(e.get("msg_id") == 72 for e in read_events(record.event_log))
    assert_no_secret_under(run_dir)
