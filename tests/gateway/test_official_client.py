"""The current official Python API (ibapi-stable 10.50.2, ibapi-latest 10.51.1) through a whole trading
session: at the version a current stable IB Gateway negotiates with it (223, protobuf), at protobuf
thresholds below it, and on the text protocol when the gateway is held to a text version (178..193)."""
from __future__ import annotations

import json
import socket
import struct
import time

import pytest

from mock_gateway.protocol.versions import MAX_SUPPORTED, STABLE_GATEWAY_MAX

from .conftest import sys_events, wait_thread
from .ibapi10 import OFFICIAL_CLIENTS, run_agent


def _run_flow(gw, dist: str, client_id: int = 7) -> tuple[int, list[dict]]:
    lines = [json.loads(line) for line in run_agent(dist, "flow", str(gw.port), str(client_id)).splitlines()]
    timeouts = [line["timeout"] for line in lines if "timeout" in line]
    assert not timeouts, f"{dist} waited in vain for: {timeouts}"
    (version,) = [line["serverVersion"] for line in lines if "serverVersion" in line]
    return version, [line for line in lines if "call" in line]


def _calls(calls: list[dict], name: str) -> list[list]:
    return [c["args"] for c in calls if c["call"] == name]


def _wire(gw) -> list[dict]:
    return [e for e in gw.call(lambda: list(gw.event_log.events)) if e["dir"] in ("in", "out")]


def _assert_trading_session(calls: list[dict], version: int) -> None:
    (seconds,) = [a[0] for a in _calls(calls, "currentTime")]
    if version >= 197:   # CURRENT_TIME_IN_MILLIS; below it the client refuses the request itself
        (millis,) = [a[0] for a in _calls(calls, "currentTimeInMillis")]
        assert 0 <= millis - seconds * 1000 < 5000
    (details,) = [a for a in _calls(calls, "contractDetails") if a[0] == 11]
    assert details[1]["contract"]["symbol"] == "AAPL" and details[1]["contract"]["conId"] == 265598
    assert details[1]["minTick"] == 0.01
    assert any(a[0] == 12 and a[2] == 200 for a in _calls(calls, "error")), "no error 200 for an unknown contract"
    # the gateway's farm notices in order (the client's own 503 for a request below its version may come first)
    assert [a[2] for a in _calls(calls, "error") if a[0] == -1 and 2100 <= a[2] < 2200][:3] == [2104, 2106, 2158]
    assert any(a[0] == 13 and a[1] in (1, 2, 4, 66, 67, 68) and a[2] > 0 for a in _calls(calls, "tickPrice"))
    bars = [a for a in _calls(calls, "historicalData") if a[0] == 14]
    assert len(bars) >= 7 and all(b[1]["high"] >= b[1]["low"] > 0 for b in bars)
    assert [a[0] for a in _calls(calls, "historicalDataEnd")] == [14]

    (next_id,) = [a[0] for a in _calls(calls, "nextValidId")][:1]
    market_status = [a for a in _calls(calls, "orderStatus") if a[0] == next_id]
    assert market_status[-1][1] == "Filled" and market_status[-1][2] == "10" and market_status[-1][4] > 0
    fills = [a for a in _calls(calls, "execDetails") if a[2]["orderId"] == next_id and a[0] == -1]
    assert sum(float(f[2]["shares"]) for f in fills) == 10 and fills[0][1]["symbol"] == "AAPL"
    replayed = [a for a in _calls(calls, "execDetails") if a[0] == 17]
    assert [f[2]["execId"] for f in replayed] == [f[2]["execId"] for f in fills]
    reports = _calls(calls, "commissionAndFeesReport")
    assert {r[0]["execId"] for r in reports} >= {f[2]["execId"] for f in fills}
    assert all(r[0]["commissionAndFees"] > 0 and r[0]["currency"] == "USD" for r in reports)

    limit_orders = [a for a in _calls(calls, "openOrder") if a[0] == next_id + 1]
    assert [o[2]["lmtPrice"] for o in limit_orders][:1] == [100.0]
    assert 101.5 in [o[2]["lmtPrice"] for o in limit_orders], "the modification never showed in openOrder"
    assert limit_orders[0][2]["orderType"] == "LMT" and limit_orders[0][2]["totalQuantity"] == "5"
    limit_status = [a[1] for a in _calls(calls, "orderStatus") if a[0] == next_id + 1]
    assert limit_status[0] in ("PreSubmitted", "Submitted") and limit_status[-1] == "Cancelled"

    positions = _calls(calls, "position")
    assert any(p[1]["symbol"] == "AAPL" and p[2] == "10" for p in positions)
    assert _calls(calls, "positionEnd")
    summary = {a[2]: a for a in _calls(calls, "accountSummary") if a[0] == 15}
    assert set(summary) == {"NetLiquidation", "BuyingPower"} and summary["NetLiquidation"][4] == "USD"
    assert _calls(calls, "pnl")[0][0] == 16
    assert [a[0] for a in _calls(calls, "execDetailsEnd")] == [17]
    assert [a[1] for a in _calls(calls, "completedOrder")], "no completed order after the fill and the cancel"


@pytest.mark.parametrize("dist", sorted(OFFICIAL_CLIENTS))
def test_official_client_negotiates_the_stable_gateway_version_and_trades_over_protobuf(mock_gateway, dist):
    version, calls = _run_flow(mock_gateway, dist)
    assert version == STABLE_GATEWAY_MAX == 223
    _assert_trading_session(calls, version)
    (handshake,) = sys_events(mock_gateway, "handshake")
    assert (handshake["attrs"]["client_max"], handshake["attrs"]["server_version"]) == (226, 223)
    wire = _wire(mock_gateway)
    inbound = [e for e in wire if e["dir"] == "in" and e["msg"] != "handshake"]
    assert inbound and all(e["attrs"].get("encoding") == "protobuf" for e in inbound), \
        [e["msg"] for e in inbound if e["attrs"].get("encoding") != "protobuf"]
    assert {"startApi", "placeOrder", "cancelOrder", "reqContractDetails", "reqMktData", "reqHistoricalData",
            "reqPositions", "reqAccountSummary", "reqPnL"} <= {e["msg"] for e in inbound}
    outbound = [e for e in wire if e["dir"] == "out" and e["msg"] != "handshakeReply"]
    assert outbound and all(e["attrs"].get("encoding") == "protobuf" for e in outbound), \
        {e["msg"] for e in outbound if e["attrs"].get("encoding") != "protobuf"}


@pytest.mark.parametrize("version", [213, 215, 218, 221])
def test_ibapi_latest_trades_over_protobuf_at_older_gateway_versions(mock_gateway_factory, version):
    gw = mock_gateway_factory(max_server_version=version)
    negotiated, calls = _run_flow(gw, "ibapi-latest")
    assert negotiated == version
    _assert_trading_session(calls, version)
    (handshake,) = sys_events(gw, "handshake")
    assert handshake["attrs"]["server_version"] == version
    assert all(e["attrs"].get("encoding") == "protobuf" for e in _wire(gw) if e["msg"] == "placeOrder")


@pytest.mark.parametrize("version", [178, 182, 187, 189, 193])
def test_ibapi_latest_trades_on_the_text_protocol_when_the_gateway_is_held_to_a_text_version(mock_gateway_factory,
                                                                                            version):
    # 182 lastTradeDate, 183-185 customer fields, 186 ineligibility reasons, 187-189 RFQ fields,
    # 189 includeOvernight, 192 cancelOrder without its version field, 193 CME tagging in openOrder
    gw = mock_gateway_factory(max_server_version=version)
    negotiated, calls = _run_flow(gw, "ibapi-latest")
    assert negotiated == version
    _assert_trading_session(calls, version)
    assert not [e for e in _wire(gw) if e["attrs"].get("encoding") == "protobuf"]


def test_the_default_gateway_is_the_current_stable_release():
    assert MAX_SUPPORTED == STABLE_GATEWAY_MAX == 223


# ---------------------------------------------------------------------------------------------- hostile bytes
def _hello(sock: socket.socket, version_range: bytes = b"v100..226") -> int:
    sock.sendall(b"API\0" + struct.pack(">I", len(version_range)) + version_range)
    (length,) = struct.unpack(">I", sock.recv(4))
    body = b""
    while len(body) < length:
        body += sock.recv(length - len(body))
    return int(body.split(b"\0")[0])


def _proto_frame(msg_id: int, payload: bytes) -> bytes:
    body = struct.pack(">I", 200 + msg_id) + payload
    return struct.pack(">I", len(body)) + body


def _start_api(client_id: int) -> bytes:
    return _proto_frame(71, b"\x08" + bytes([client_id]))


@pytest.mark.parametrize("garbage", [b"\xff\xff\xff", b"\x0a\x7f", b"\x08", b"\x07\x00\x00"],
                         ids=["bad-varint", "length-past-end", "truncated-varint", "bad-wire-type"])
def test_garbage_inside_a_protobuf_frame_ends_that_session_only(mock_gateway, garbage, caplog):
    other = socket.create_connection((mock_gateway.host, mock_gateway.port), timeout=5)
    assert _hello(other) == 223
    other.sendall(_start_api(31))
    with socket.create_connection((mock_gateway.host, mock_gateway.port), timeout=5) as sock:
        assert _hello(sock) == 223
        sock.sendall(_start_api(32))
        time.sleep(0.2)
        sock.sendall(_proto_frame(9, garbage))   # reqContractDetails whose payload is not a ContractDataRequest
        wait_thread(lambda: any("protobuf request 9" in e["attrs"]["reason"]
                                for e in sys_events(mock_gateway, "disconnect")), what="the session to end")
        sock.settimeout(5)
        rest = b""
        while chunk := sock.recv(65536):
            rest += chunk
    assert any("protobuf request 9" in r.getMessage() and "closing this session" in r.getMessage()
               for r in caplog.records)
    other.sendall(_proto_frame(49, b""))   # reqCurrentTime on the other session still answered
    other.settimeout(5)
    data = b""
    deadline = time.monotonic() + 5
    while struct.pack(">I", 249) not in data and time.monotonic() < deadline:
        data += other.recv(65536)
    other.close()
    assert struct.pack(">I", 249) in data


def test_a_protobuf_order_with_a_feature_the_mock_does_not_serve_is_answered_for_that_order(mock_gateway):
    from mock_gateway.protocol.proto import wire

    with socket.create_connection((mock_gateway.host, mock_gateway.port), timeout=5) as sock:
        assert _hello(sock) == 223
        sock.sendall(_start_api(33))
        order = {"action": "BUY", "totalQuantity": "1", "orderType": "MKT", "transmit": True,
                 "conditions": [{"type": 1, "conId": 265598, "price": 100.0}]}
        sock.sendall(_proto_frame(3, wire.encode("PlaceOrderRequest", {
            "orderId": 77, "contract": {"symbol": "AAPL", "secType": "STK", "exchange": "SMART", "currency": "USD"},
            "order": order})))
        errors = []
        data, deadline = b"", time.monotonic() + 5
        while not errors and time.monotonic() < deadline:
            data += sock.recv(65536)
            while len(data) >= 4 and len(data) >= 4 + struct.unpack(">I", data[:4])[0]:
                size = struct.unpack(">I", data[:4])[0]
                body, data = data[4:4 + size], data[4 + size:]
                if struct.unpack(">I", body[:4])[0] == 204:
                    msg = wire.decode("ErrorMessage", body[4:])
                    if msg.get("id") == 77:
                        errors.append(msg)
    assert errors and errors[0]["errorCode"] == 321 and "conditions" in errors[0]["errorMsg"]
    assert not [e for e in mock_gateway.call(lambda: list(mock_gateway.event_log.events))
                if e["dir"] == "in" and e["msg"] == "placeOrder"]


def test_random_protobuf_payloads_for_every_request_id_never_take_the_gateway_down(mock_gateway, caplog):
    import random

    from mock_gateway.protocol.proto.requests import REQUESTS

    rng = random.Random(16)
    for msg_id in sorted(REQUESTS):
        if msg_id in (3, 58):   # no orders or global cancels on this account from a fuzzer
            continue
        with socket.create_connection((mock_gateway.host, mock_gateway.port), timeout=5) as sock:
            _hello(sock)
            sock.sendall(_start_api(40))
            for _ in range(5):
                payload = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 40)))
                try:
                    sock.sendall(_proto_frame(msg_id, payload))
                except OSError:
                    break   # the session was ended for garbage: that is the expected answer
    ended = len([m for m in sorted(REQUESTS) if m not in (3, 58)])
    wait_thread(lambda: len(sys_events(mock_gateway, "disconnect")) >= ended, what="every fuzz session to end")
    with socket.create_connection((mock_gateway.host, mock_gateway.port), timeout=5) as sock:
        assert _hello(sock) == 223   # still serving
    failures = [e for e in mock_gateway.call(lambda: list(mock_gateway.event_log.events))
                if e["dir"] == "out" and e["msg"] == "error" and e["attrs"].get("code") == 321
                and "internal error" in str(e["attrs"].get("text"))]
    assert not failures, failures
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL") and r.name.startswith("mock_gateway")]
