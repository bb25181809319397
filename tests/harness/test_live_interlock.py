"""The live interlock on every path that can send an order or a cancel, against a mock gateway
logged in to a live account (``U1234567``) behind a paper port: pipelined writes, fake account
arguments, the override. The decision is always the gateway's managedAccounts, never an argument.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from ib_insync import IB, LimitOrder, Stock
from ibapi.client import EClient
from ibapi.contract import Contract
from ibapi.order import Order
from ibapi.wrapper import EWrapper

from harness.client.execution import ClientConfig, ExecutionClient
from harness.client.ledger import Intent
from harness.drill import ib_state, kill_switch_step
from harness.killswitch import run_kill_switch
from harness.probe import ProbeOptions, probe
from harness.safety import AccountNotManaged, LiveAccountRefused, check_managed_accounts, is_paper_account
from harness.tap import start_tap
from mock_gateway.config import AccountConfig, GatewayConfig
from mock_gateway.eventlog import EventLog, read_events
from mock_gateway.protocol.framing import FrameDecoder, encode_handshake
from mock_gateway.server import GatewayThread

pytestmark = pytest.mark.timeout(60)
REPO = Path(__file__).resolve().parents[2]
LIVE = "U1234567"
PAPER = "DU1234567"


def _gateway(tmp_path: Path, account: str, name: str = "gateway.jsonl") -> tuple[GatewayThread, Path]:
    log = tmp_path / name
    return GatewayThread(GatewayConfig(port=0, accounts=[AccountConfig(account)], event_log=log)), log


def _requests(log: Path, msg_id: int, client_id: int | None = None) -> list[dict]:
    """Requests with this id the gateway received (optionally from one client)."""
    return [e for e in read_events(log) if e["dir"] == "in" and e.get("msg_id") == msg_id
            and (client_id is None or e.get("client_id") == client_id)]


class _Capture:
    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def sendMsg(self, msg: bytes) -> int:  # noqa: N802 (ibapi's name)
        self.sent.append(msg)
        return len(msg)

    def isConnected(self) -> bool:  # noqa: N802
        return True


def ibapi_bytes(client_id: int = 7) -> bytes:
    """The official ibapi client's own bytes: hello, startApi, a resting placeOrder and reqGlobalCancel."""
    client = EClient(EWrapper())
    client.conn, client.connState, client.serverVersion_, client.clientId = _Capture(), EClient.CONNECTED, 157, client_id
    contract = Contract()
    contract.symbol, contract.secType, contract.exchange, contract.currency = "AAPL", "STK", "SMART", "USD"
    order = Order()
    order.action, order.totalQuantity, order.orderType, order.lmtPrice = "BUY", 10, "LMT", 1.0
    order.eTradeOnly = order.firmQuoteOnly = False  # what current gateways require (else error 10268)
    client.startApi()
    client.placeOrder(1, contract, order)
    client.reqGlobalCancel()
    return encode_handshake("v100..157") + b"".join(client.conn.sent)


async def _pipelined_session(port: int, payload: bytes, read_s: float = 2.0) -> list[list[str]]:
    """One write with everything; the frames the client got back until close or ``read_s``."""
    r, w = await asyncio.open_connection("127.0.0.1", port)
    w.write(payload)
    await w.drain()
    decoder, frames = FrameDecoder(), []
    loop = asyncio.get_running_loop()
    end = loop.time() + read_s
    while (left := end - loop.time()) > 0:
        try:
            data = await asyncio.wait_for(r.read(65536), left)
        except asyncio.TimeoutError:
            break
        if not data:
            break
        frames += [f for _, f in decoder.feed(data)]
    w.close()
    return frames


# ----------------------------------------------------------------------------------------- safety
@pytest.mark.parametrize("account, paper", [("DU1234567", True), ("du1234567", False), ("Du1", False),
                                            ("U1234567", False), ("DU", False), ("", False), (" DU1", False)])
def test_paper_accounts_are_DU_ids_case_sensitively(account, paper):
    assert is_paper_account(account) is paper


def test_a_login_that_reports_no_account_is_not_taken_for_paper():
    with pytest.raises(LiveAccountRefused, match="no managed accounts"):
        check_managed_accounts("", None)


def test_a_named_account_the_login_does_not_manage_is_refused_even_with_the_override():
    with pytest.raises(AccountNotManaged, match="DU999"):
        check_managed_accounts("DU1234567", "DU999", allow_live=True)


def test_the_override_lets_a_live_login_through_and_is_logged(caplog):
    with caplog.at_level(logging.WARNING, logger="harness.safety"):
        assert check_managed_accounts(LIVE, None, allow_live=True) == [LIVE]
    assert "LIVE OVERRIDE" in caplog.text and LIVE in caplog.text


# ---------------------------------------------------------------------------------------- the tap
def test_tap_never_forwards_a_pipelined_order_to_a_live_login(tmp_path):
    thread, gw_log = _gateway(tmp_path, LIVE)
    tap_log = tmp_path / "tap.jsonl"

    async def scenario():
        with EventLog(tap_log, source="tap") as log:
            async with start_tap(gw.host, gw.port, log) as tap:
                return await _pipelined_session(tap.port, ibapi_bytes())

    with thread as gw:
        frames = asyncio.run(scenario())
    assert _requests(gw_log, 3) == [] and _requests(gw_log, 58) == []   # no placeOrder, no global cancel
    assert not any(f[0] in ("5", "3", "11") for f in frames)           # no openOrder/orderStatus/execDetails
    refused = [e for e in read_events(tap_log) if e["msg"] == "refused"]
    assert refused and LIVE in refused[0]["attrs"]["reason"]


def test_tap_forwards_the_same_pipelined_order_once_a_paper_login_is_checked(tmp_path):
    thread, gw_log = _gateway(tmp_path, PAPER)

    async def scenario():
        async with start_tap(gw.host, gw.port, EventLog(None, source="tap")) as tap:
            return await _pipelined_session(tap.port, ibapi_bytes())

    with thread as gw:
        frames = asyncio.run(scenario())
    assert len(_requests(gw_log, 3)) == 1 and len(_requests(gw_log, 58)) == 1
    # the order went through before the global cancel, in the order the client wrote them
    assert ["3", "1", "Cancelled"] in [f[:3] for f in frames]


def test_tap_override_lets_a_live_login_through_and_logs_it(tmp_path):
    thread, gw_log = _gateway(tmp_path, LIVE)
    tap_log = tmp_path / "tap.jsonl"

    async def scenario():
        with EventLog(tap_log, source="tap") as log:
            async with start_tap(gw.host, gw.port, log, allow_live=True) as tap:
                return await _pipelined_session(tap.port, ibapi_bytes())

    with thread as gw:
        asyncio.run(scenario())
    assert len(_requests(gw_log, 3)) == 1
    assert any(e["msg"] == "live_override" for e in read_events(tap_log))


def test_tap_refuses_a_session_whose_gateway_never_reports_its_accounts(tmp_path):
    received = bytearray()

    async def silent(r, w):  # answers the hello, then says nothing
        while data := await r.read(65536):
            if not received:
                w.write(b"\x00\x00\x00\x0a157\x00202611\x00")
            received.extend(data)

    async def scenario():
        server = await asyncio.start_server(silent, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            async with start_tap("127.0.0.1", port, EventLog(None, source="tap"), accounts_timeout_s=0.5) as tap:
                await _pipelined_session(tap.port, ibapi_bytes(), read_s=3)
        finally:
            server.close()

    asyncio.run(scenario())
    assert b"\x0083\x00" not in bytes(received) and b"58\x001\x00" not in bytes(received)


# --------------------------------------------------------------------------------- the kill switch
def _rest_orders(host: str, port: int, client_id: int, n: int) -> None:
    async def go():
        ib = IB()
        await ib.connectAsync(host, port, client_id, timeout=10)
        [aapl] = await ib.qualifyContractsAsync(Stock("AAPL", "SMART", "USD"))
        for i in range(n):
            ib.placeOrder(aapl, LimitOrder("BUY", 10, 1.0 + i))
        for _ in range(100):
            await asyncio.sleep(0.05)
            if len([t for t in ib.openTrades() if t.orderStatus.status == "Submitted"]) == n:
                break
        ib.disconnect()
    asyncio.run(go())


@pytest.mark.parametrize("account", ["DU999", "du1234567", "DUMMY", None])
def test_kill_switch_refuses_a_live_login_whatever_account_it_is_told(tmp_path, account):
    thread, gw_log = _gateway(tmp_path, LIVE)
    with thread as gw:
        _rest_orders(gw.host, gw.port, 5, 1)   # another client's resting order on the live account
        with pytest.raises(LiveAccountRefused):
            asyncio.run(run_kill_switch(gw.host, gw.port, client_id=999, account=account, timeout_s=5))
        state = ib_state.read_state(gw.host, gw.port, 991, 5, open_orders=True)
    assert _requests(gw_log, 58) == [] and _requests(gw_log, 16, client_id=999) == []
    assert len(state.open_orders) == 1  # the other client's order is still working


def test_kill_switch_step_exits_2_against_a_live_login_and_writes_no_record(tmp_path, capsys):
    thread, gw_log = _gateway(tmp_path, LIVE)
    out = tmp_path / "KILL_SWITCH.json"
    with thread as gw:
        code = kill_switch_step.main(["--host", gw.host, "--port", str(gw.port), "--account", "DU999",
                                      "--flatten", "--out", str(out), "--timeout", "5"])
    assert code == 2 and "U1234567" in capsys.readouterr().err
    assert not out.exists() and _requests(gw_log, 58) == []


def test_kill_switch_refuses_an_account_the_paper_login_does_not_manage(tmp_path):
    thread, gw_log = _gateway(tmp_path, PAPER)
    with thread as gw:
        _rest_orders(gw.host, gw.port, 5, 1)
        with pytest.raises(AccountNotManaged, match="DUMMY"):
            asyncio.run(run_kill_switch(gw.host, gw.port, account="DUMMY", timeout_s=5))
    assert _requests(gw_log, 58) == []


def test_kill_switch_override_reaches_a_live_login_and_is_logged(tmp_path, caplog):
    thread, gw_log = _gateway(tmp_path, LIVE)
    with thread as gw, caplog.at_level(logging.WARNING, logger="harness.safety"):
        _rest_orders(gw.host, gw.port, 5, 2)
        result = asyncio.run(run_kill_switch(gw.host, gw.port, timeout_s=5, allow_live=True))
    assert result.verified and result.open_orders_before == 2 and len(_requests(gw_log, 58)) >= 1
    assert "LIVE OVERRIDE" in caplog.text


# ------------------------------------------------------------------------------------- the probe
def test_probe_refuses_a_live_login_named_as_a_paper_account(tmp_path):
    thread, gw_log = _gateway(tmp_path, LIVE)
    with thread as gw, pytest.raises(LiveAccountRefused):
        asyncio.run(probe(ProbeOptions(host=gw.host, port=gw.port, account="DU999")))
    assert _requests(gw_log, 3) == []


# --------------------------------------------------------------- the reference handler's client
def test_execution_client_sends_no_pending_order_to_a_live_login(tmp_path):
    thread, gw_log = _gateway(tmp_path, LIVE)

    async def scenario():
        client = ExecutionClient(ClientConfig(host=gw.host, port=gw.port, client_id=3, account=PAPER,
                                              heartbeat_interval_s=0), ["AAPL"])
        await client.submit(Intent(ref="r1", symbol="AAPL", action="BUY", qty=10,
                                   created_at=asyncio.get_running_loop().time()))  # pending before connecting
        with pytest.raises(LiveAccountRefused, match=LIVE):
            await asyncio.wait_for(client.run(), 20)
        client.stop()

    with thread as gw:
        asyncio.run(scenario())
    assert _requests(gw_log, 3) == []


def test_reference_handler_exits_3_against_a_live_login_without_an_order(tmp_path):
    thread, gw_log = _gateway(tmp_path, LIVE)
    env = {**os.environ, "IB_HOST": "127.0.0.1", "IB_CLIENT_ID": "4", "IB_ACCOUNT": PAPER,
           "PRELIVE_HEARTBEAT_INTERVAL_S": "0"}
    env.pop("PRELIVE_ALLOW_LIVE", None)
    with thread as gw:
        env["IB_PORT"] = str(gw.port)
        proc = subprocess.run([sys.executable, "-m", "harness.client"], env=env, cwd=REPO, capture_output=True,
                              text=True, timeout=50)
    assert proc.returncode == 3 and LIVE in proc.stdout + proc.stderr
    assert _requests(gw_log, 3) == []


# --------------------------------------------------------------------- the playbooks' state tool
@pytest.mark.parametrize("account, managed, code", [(None, LIVE, 3), ("DU999", PAPER, 3), (PAPER, PAPER, 0),
                                                    ("DU999", LIVE, 3)])
def test_ib_state_require_paper_checks_the_login_and_the_named_account(tmp_path, capsys, account, managed, code):
    thread, _ = _gateway(tmp_path, managed)
    with thread as gw:
        argv = ["--host", gw.host, "--port", str(gw.port), "--require-paper"] + (["--account", account] if account else [])
        assert ib_state.main(argv) == code
    assert json.loads(capsys.readouterr().out.splitlines()[0])["accounts"] == [managed]


# ---------------------------------------------------------------------------------------- the CLI
@pytest.mark.parametrize("account", ["DU999", "du1234567", "DUMMY"])
def test_prelive_kill_switch_refuses_a_live_login_and_cancels_nothing(tmp_path, account):
    """The attack run's repro: `prelive kill-switch --account DU999 --flatten` against a U1234567 login."""
    from typer.testing import CliRunner

    from harness.cli import app

    thread, gw_log = _gateway(tmp_path, LIVE)
    out = tmp_path / "KILL_SWITCH.json"
    with thread as gw:
        _rest_orders(gw.host, gw.port, 5, 1)
        result = CliRunner().invoke(app, ["kill-switch", "--host", gw.host, "--port", str(gw.port), "--account",
                                          account, "--flatten", "--out", str(out), "--timeout", "5"])
        state = ib_state.read_state(gw.host, gw.port, 991, 5, open_orders=True)
    assert result.exit_code == 2 and "refused" in result.output
    assert len(state.open_orders) == 1 and _requests(gw_log, 58) == [] and not out.exists()


# ------------------------------------------------------------- protobuf framing (server version 201+)
def _protobuf_frame(msg_id: int, message: str, values: dict) -> bytes:
    import struct

    from mock_gateway.protocol.proto import wire

    body = struct.pack(">I", msg_id + 200) + wire.encode(message, values)
    return struct.pack(">I", len(body)) + body


@pytest.mark.parametrize("account, forwarded", [(LIVE, False), (PAPER, True)])
def test_tap_gates_protobuf_sessions_the_same_way(tmp_path, account, forwarded):
    """At 213+ startApi (271) and managedAccounts (215) are protobuf with binary ids: the gate still
    recognises both, and a global cancel written right after startApi waits for the check."""
    thread, gw_log = _gateway(tmp_path, account)

    async def session(port):
        r, w = await asyncio.open_connection("127.0.0.1", port)
        w.write(encode_handshake("v213..223"))
        await w.drain()
        await asyncio.wait_for(r.read(100), 5)   # the server hello: the client now knows the framing
        w.write(_protobuf_frame(71, "StartApiRequest", {"clientId": 7}) + _protobuf_frame(58, "GlobalCancelRequest", {}))
        await w.drain()
        await asyncio.sleep(1.0)
        w.close()

    async def scenario(gw):
        async with start_tap(gw.host, gw.port, EventLog(None, source="tap")) as tap:
            await session(tap.port)

    with thread as gw:
        asyncio.run(scenario(gw))
    assert len(_requests(gw_log, 71)) == 1                       # startApi went through either way
    assert (len(_requests(gw_log, 58)) == 1) is forwarded
