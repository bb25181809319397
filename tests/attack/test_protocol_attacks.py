"""Hostile bytes on the TWS API socket, text and protobuf (server versions >= 201), against a gateway
in its own process: each attacking session gets a specific error or is closed with a reason in the
event log, another client is served meanwhile, the gateway's peak memory and its log stay bounded."""
from __future__ import annotations

import random
import threading
import time

import pytest

from mock_gateway.protocol.proto import wire
from mock_gateway.protocol.proto.schema import MESSAGES

from .conftest import WireClient, still_serves

#: What one attacking frame (at most 16 MiB) may add to the gateway's peak memory and its event log.
PEAK_GROWTH_MB = 120
LOG_GROWTH_BYTES = 1 << 20


def _t(number: int, wire_type: int) -> bytes:
    return wire._tag(number, wire_type)


def _len(number: int, body: bytes) -> bytes:
    return _t(number, 2) + wire._varint(len(body)) + body


def _contract_with(body: bytes) -> bytes:
    """A MarketDataRequest (1): reqId 5 and a contract whose bytes are ``body``."""
    return _t(1, 0) + b"\x05" + _len(2, body)


def _combo_legs(n: int) -> bytes:
    legs = MESSAGES["Contract"].by_name["comboLegs"].number
    return _contract_with((_t(legs, 2) + b"\x00") * n)


def _map_entries(n: int) -> bytes:
    options = MESSAGES["MarketDataRequest"].by_name["marketDataOptions"].number
    out = bytearray(_t(1, 0) + b"\x05")
    for i in range(n):
        key = str(i).encode()
        entry = _len(1, key)
        out += _t(options, 2) + bytes([len(entry)]) + entry
    return bytes(out)


def _packed(n: int) -> bytes:
    for message in MESSAGES.values():
        for f in message.by_name.values():
            if f.repeated and f.type in ("int32", "int64"):
                return _len(f.number, b"\x01" * n)
    pytest.skip("no packed repeated number in the request schema")


def _deep_unknown(depth: int) -> bytes:
    body = b""
    for _ in range(depth):
        body = _len(999, body)           # a field no schema has: skipped, never recursed into
    return _t(1, 0) + b"\x05" + body


HOSTILE_PROTOBUF = {
    "truncated varint": (1, _t(1, 0) + b"\xff\xff\xff"),
    "length prefix of 2**60": (1, _t(1, 0) + b"\x05" + _t(2, 2) + wire._varint(1 << 60) + b"xx"),
    "length prefix past the frame": (1, _contract_with(b"")[:-1] + b"\x7f"),
    "varint longer than 10 bytes": (1, _t(1, 0) + b"\xff" * 11 + b"\x01"),
    "wrong wire type for a message field": (1, _t(1, 0) + b"\x05" + _t(2, 0) + b"\x01"),
    "wrong wire type for a string": (81, _t(1, 0) + b"\x05" + _t(2, 5) + b"\x00\x00\x00\x00"),
    "invalid wire type 7": (1, _t(1, 0) + b"\x05" + _t(3, 7)),
    "field number 0": (1, b"\x00\x01"),
    "not UTF-8 in a string": (81, _t(1, 0) + b"\x05" + _len(2, b"\xff\xfe")),
    "5 million repeated sub-messages": (1, _combo_legs(5_000_000)),
    "1.5 million map entries": (1, _map_entries(1_500_000)),
    "14 million packed numbers in an unknown field": (1, None),
    "unknown fields nested 100,000 deep": (1, _deep_unknown(100_000)),
}


def _payload(name: str) -> tuple[int, bytes]:
    msg_id, payload = HOSTILE_PROTOBUF[name]
    if payload is None:
        payload = _packed(14_000_000)
    return msg_id, payload


def _answered_or_closed(client: WireClient) -> bool:
    """Send currentTime after the attack and read until its answer (the session lives on) or the close;
    True when the session was closed."""
    try:
        client.send_text("49", "1")
    except (BrokenPipeError, ConnectionResetError):
        return True
    client.read_until(lambda items: any(f[0] == "49" for k, f in items), timeout_s=15)
    return client.eof


@pytest.mark.parametrize("name", list(HOSTILE_PROTOBUF))
def test_a_hostile_protobuf_request_ends_that_session_with_a_reason_and_nothing_else(gateway_process, name):
    gw = gateway_process
    msg_id, payload = _payload(name)
    bystander = WireClient(gw.port, protobuf=True, client_id=1)
    attacker = WireClient(gw.port, protobuf=True, client_id=2)
    peak_before, log_before = gw.peak_rss_mb(), gw.event_log.stat().st_size
    started = time.monotonic()
    attacker.send_proto(msg_id, payload)
    closed = _answered_or_closed(attacker)
    answered = [e for e in gw.events() if e["dir"] == "out" and e["msg"] == "error" and e["conn"] == 2
                and not 2100 <= (e["attrs"].get("code") or 0) < 2200]     # not a notice every session gets
    assert closed or answered, f"{name}: neither an error nor a close"
    assert time.monotonic() - started < 10
    assert still_serves(gw.port) and gw.alive()
    bystander.send_text("49", "1")
    assert bystander.read_until(lambda items: any(f[0] == "49" for k, f in items), timeout_s=5)
    reasons = gw.disconnect_reasons()
    assert not [r for r in reasons if "internal error" in r], reasons
    if closed:
        assert any(r.startswith("protocol error") for r in reasons), reasons
    growth = gw.peak_rss_mb() - peak_before
    assert growth < PEAK_GROWTH_MB, f"{name}: the gateway's peak memory grew by {growth:.0f} MB"
    assert gw.event_log.stat().st_size - log_before < LOG_GROWTH_BYTES


@pytest.mark.parametrize("fields, what", [
    ([""] * 8_000_000, "8 million empty fields"),
    (["\x01" * 4_000_000] * 4, "four 4 MB fields of control characters"),
    (["AAPL" * 1_000_000, "STK", "SMART"], "a 4 MB symbol"),
])
@pytest.mark.parametrize("protobuf", [False, True], ids=["text", "binary-id"])
def test_a_huge_text_request_costs_the_gateway_and_its_log_a_bounded_amount(gateway_process, fields, what, protobuf):
    gw = gateway_process
    attacker = WireClient(gw.port, protobuf=protobuf, client_id=2)
    peak_before, log_before = gw.peak_rss_mb(), gw.event_log.stat().st_size
    attacker.send_text("1", "11", "5", *fields)
    _answered_or_closed(attacker)
    assert still_serves(gw.port) and gw.alive()
    growth = gw.peak_rss_mb() - peak_before
    assert growth < PEAK_GROWTH_MB, f"{what}: the gateway's peak memory grew by {growth:.0f} MB"
    log_growth = gw.event_log.stat().st_size - log_before
    assert log_growth < LOG_GROWTH_BYTES, f"{what}: the event log grew by {log_growth / 1e6:.1f} MB"
    cut = [e for e in gw.events() if e["dir"] == "in" and "log_cut" in e["attrs"]]
    reasons = gw.disconnect_reasons()
    assert cut or any(r.startswith("protocol error") for r in reasons), reasons


def test_a_client_streaming_huge_frames_cannot_fill_the_disk_with_the_event_log(gateway_process):
    gw = gateway_process
    attacker = WireClient(gw.port, protobuf=False, client_id=2)
    log_before = gw.event_log.stat().st_size
    for _ in range(20):                                    # 320 MB sent
        attacker.send_text("81", "5", "\x01" * 16_000_000)
    attacker.send_text("49", "1")
    attacker.read_until(lambda items: any(f[0] == "49" for k, f in items), timeout_s=60)
    grown = gw.event_log.stat().st_size - log_before
    assert grown < 20 * LOG_GROWTH_BYTES, f"the event log grew by {grown / 1e6:.0f} MB for 320 MB sent"
    assert still_serves(gw.port)


# ---------------------------------------------------------------------------------------------- fuzz
def _valid_requests() -> list[tuple[int, bytes]]:
    """One valid protobuf request of each kind added lately (what ibapi 10.x writes for them)."""
    aapl = {"conId": 265598, "symbol": "AAPL", "secType": "STK", "exchange": "SMART", "currency": "USD"}
    rows = [
        (97, "TickByTickRequest", {"reqId": 1, "contract": aapl, "tickType": "AllLast", "numberOfTicks": 0}),
        (96, "HistoricalTicksRequest", {"reqId": 2, "contract": aapl, "startDateTime": "20240102 10:00:00 UTC",
                                        "numberOfTicks": 10, "whatToShow": "TRADES", "useRTH": True}),
        (22, "ScannerSubscriptionRequest", {"reqId": 3, "scannerSubscription": {
            "numberOfRows": 10, "instrument": "STK", "locationCode": "STK.US.MAJOR", "scanCode": "TOP_PERC_GAIN",
            "scannerSubscriptionFilterOptions": {"priceAbove": "5", "volumeAbove": "1000"}}}),
        (24, "ScannerParametersRequest", {}),
        (91, "MarketRuleRequest", {"marketRuleId": 26}),
        (104, "UserInfoRequest", {"reqId": 4}),
        (85, "NewsProvidersRequest", {}),
        (86, "HistoricalNewsRequest", {"reqId": 5, "conId": 265598, "providerCodes": "BZ", "totalResults": 10}),
        (88, "HistogramDataRequest", {"reqId": 6, "contract": aapl, "useRTH": True, "timePeriod": "1 day"}),
        (87, "HeadTimestampRequest", {"reqId": 7, "contract": aapl, "whatToShow": "TRADES", "useRTH": True,
                                      "formatDate": 1}),
        (78, "SecDefOptParamsRequest", {"reqId": 8, "underlyingSymbol": "AAPL", "underlyingSecType": "STK",
                                        "underlyingConId": 265598}),
        (81, "MatchingSymbolsRequest", {"reqId": 9, "pattern": "AA"}),
        (74, "PositionsMultiRequest", {"reqId": 10, "account": "DU1234567"}),
        (76, "AccountUpdatesMultiRequest", {"reqId": 11, "account": "DU1234567", "ledgerAndNLV": True}),
    ]
    out = []
    for msg_id, message, values in rows:
        schema = MESSAGES[message]
        values = {k: v for k, v in values.items() if k in schema.by_name}
        out.append((msg_id, wire.encode(message, values)))
    return out


def _mutate(rng: random.Random, data: bytes) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.choice(["flip", "flip", "cut", "insert", "dup", "varint"])
        at = rng.randint(0, max(0, len(b) - 1))
        if op == "flip" and b:
            b[at] ^= 1 << rng.randint(0, 7)
        elif op == "cut":
            del b[at:]
        elif op == "insert":
            b[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif op == "dup":
            b[at:at] = bytes(b[at:at + rng.randint(1, 16)]) * rng.randint(2, 500)
        else:
            b[at:at] = rng.choice([b"\xff" * 9 + b"\x7f", b"\x12\xff\xff\xff\xff\x0f", b"\x0a\x80\x80\x80\x80\x10"])
    return bytes(b)


def test_mutated_protobuf_requests_get_an_answer_or_a_reasoned_close_and_never_an_internal_error(gateway_process):
    gw = gateway_process
    rng = random.Random(12)
    valid = _valid_requests()
    client = WireClient(gw.port, protobuf=True, client_id=3)
    sent = 0
    for i in range(300):
        msg_id, payload = rng.choice(valid)
        if client.eof:
            client.close()
            client = WireClient(gw.port, protobuf=True, client_id=3)
        try:
            client.send_proto(msg_id, _mutate(rng, payload))
            client.send_text("49", "1")      # a marker: the session still reads after the mutated request
        except (BrokenPipeError, ConnectionResetError):
            client.eof = True
            continue
        sent += 1
        client.read_until(lambda items: client.eof or any(f[0] == "49" for k, f in items[-50:]), timeout_s=10)
        client.items.clear()
    assert sent >= 250 and still_serves(gw.port) and gw.alive()
    reasons = gw.disconnect_reasons()
    assert not [r for r in reasons if "internal error" in r], reasons
    assert all(r.startswith(("protocol error", "client closed", "connection lost")) for r in reasons), reasons
    errors = [e for e in gw.events() if e["msg"] == "error" and e["dir"] == "out"]
    assert not [e for e in errors if "internal error" in " ".join(e["fields"])]
