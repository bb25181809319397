"""The recording tap against a tiny asyncio fake upstream: transparent, decoded, never crashing."""
from __future__ import annotations

import asyncio
import contextlib

import pytest

from harness.safety import LiveAccountRefused
from harness.tap import Tap, parse_hostport, start_tap
from mock_gateway.eventlog import EventLog
from mock_gateway.protocol.framing import FrameDecoder, encode_frame, encode_handshake

pytestmark = pytest.mark.timeout(20)


class FakeUpstream:
    """Answers the hello with [176, time], startApi with managedAccounts + nextValidId, then echoes a
    fixed orderStatus for every placeOrder. Records every byte it received."""

    def __init__(self, account: str = "DU111", close_after_start: bool = False) -> None:
        self.account = account
        self.close_after_start = close_after_start
        self.received = bytearray()
        self.server: asyncio.base_events.Server | None = None

    async def __aenter__(self) -> FakeUpstream:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.server.close()
        await self.server.wait_closed()

    async def _serve(self, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        decoder = FrameDecoder(expect_handshake=True)
        try:
            while data := await r.read(4096):
                self.received += data
                for kind, fields in decoder.feed(data):
                    if kind == "hello":
                        w.write(encode_frame(["176", "20261124 09:30:00 EST"]))
                    elif fields[0] == "71":
                        w.write(encode_frame(["15", "1", self.account]) + encode_frame(["9", "1", "1"]))
                        if self.close_after_start:
                            await w.drain()
                            w.close()
                            return
                    elif fields[0] == "3":
                        w.write(encode_frame(["3", fields[1], "Submitted", "0", "10", "0", "77", "0", "0", "7",
                                              "", "0"]))
                await w.drain()
        except Exception:
            pass
        finally:
            with contextlib.suppress(Exception):
                w.close()


async def _client(port: int):
    return await asyncio.open_connection("127.0.0.1", port)


def _place_order_fields(order_id: int) -> list[str]:
    fields = ["3", str(order_id), "0", "AAPL", "STK", "", "0", "", "", "SMART", "", "USD", "", "", "", "",
              "BUY", "10", "MKT", "", "", "DAY", "", "DU111", "", "0", "intent-1"]
    return fields


async def _read_frames(reader: asyncio.StreamReader, n: int) -> tuple[list[list[str]], bytes]:
    decoder, frames, raw = FrameDecoder(), [], bytearray()
    while len(frames) < n:
        data = await asyncio.wait_for(reader.read(4096), 5)
        if not data:
            break
        raw += data
        frames += [f for _, f in decoder.feed(data)]
    return frames, bytes(raw)


async def _wait_for(predicate, timeout: float = 5.0) -> None:
    async def loop():
        while not predicate():
            await asyncio.sleep(0.01)
    await asyncio.wait_for(loop(), timeout)


def test_tap_forwards_bytes_unchanged_and_logs_both_directions_decoded():
    async def scenario():
        log = EventLog(None, source="tap")
        async with FakeUpstream() as up, start_tap("127.0.0.1", up.port, log) as tap:
            r, w = await _client(tap.port)
            hello = encode_handshake("v157..176") + encode_frame(["71", "2", "7", ""])
            w.write(hello)
            frames, raw = await _read_frames(r, 3)
            order = encode_frame(_place_order_fields(5))
            w.write(order)
            more, _ = await _read_frames(r, 1)
            frames += more
            sent = hello + order
            await _wait_for(lambda: bytes(up.received) == sent)
            w.close()
            await _wait_for(lambda: any(e["msg"] == "disconnect" for e in log.events))
        return log.events, frames, raw

    events, frames, raw = asyncio.run(scenario())
    assert frames[0] == ["176", "20261124 09:30:00 EST"] and frames[3][:3] == ["3", "5", "Submitted"]
    wire = [(e["dir"], e["msg"]) for e in events if e["dir"] != "sys"]
    # the hello and startApi went out in one write, so both are read before the reply
    assert wire == [("in", "handshake"), ("in", "startApi"), ("out", "handshakeReply"), ("out", "managedAccounts"),
                    ("out", "nextValidId"), ("in", "placeOrder"), ("out", "orderStatus")]
    place = next(e for e in events if e["msg"] == "placeOrder")
    assert place["attrs"]["order_id"] == 5 and place["attrs"]["order_ref"] == "intent-1"
    assert place["client_id"] == 7 and place["source"] == "tap" and place["sim"] is None
    handshake = next(e for e in events if e["msg"] == "handshake" and e["dir"] == "sys")
    assert handshake["attrs"]["server_version"] == 176 and handshake["attrs"]["client_max"] == 176
    disconnect = next(e for e in events if e["msg"] == "disconnect")
    assert disconnect["attrs"]["by"] == "client"


def test_malformed_client_stream_is_held_logged_refused_and_the_tap_keeps_serving():
    async def scenario():
        log = EventLog(None, source="tap")
        async with FakeUpstream() as up, start_tap("127.0.0.1", up.port, log, accounts_timeout_s=0.5) as tap:
            r, w = await _client(tap.port)
            w.write(b"GET / HTTP/1.1\r\n\r\n")
            # not the TWS API: nothing proves a paper login, so nothing is forwarded; the tap gives up
            assert await asyncio.wait_for(r.read(), 5) == b""
            assert bytes(up.received) == b""
            r2, w2 = await _client(tap.port)  # a later session is unaffected
            w2.write(encode_handshake())
            frames, _ = await _read_frames(r2, 1)
            w2.close()
        return log.events, frames

    events, frames = asyncio.run(scenario())
    errors = [e for e in events if e["msg"] == "protocol_error"]
    assert len(errors) == 1 and errors[0]["attrs"]["direction"] == "in"
    assert "not a TWS API client" in errors[0]["attrs"]["error"]
    assert frames == [["176", "20261124 09:30:00 EST"]]


def test_upstream_hangup_is_logged_as_a_gateway_side_disconnect_and_closes_the_client():
    async def scenario():
        log = EventLog(None, source="tap")
        async with FakeUpstream(close_after_start=True) as up, start_tap("127.0.0.1", up.port, log) as tap:
            r, w = await _client(tap.port)
            w.write(encode_handshake() + encode_frame(["71", "2", "3", ""]))
            frames, _ = await _read_frames(r, 10)
            w.close()
            await _wait_for(lambda: any(e["msg"] == "disconnect" for e in log.events))
        return log.events, frames

    events, frames = asyncio.run(scenario())
    assert [f[0] for f in frames] == ["176", "15", "9"]
    disconnect = next(e for e in events if e["msg"] == "disconnect")
    assert disconnect["attrs"] == {"reason": "upstream closed", "by": "gateway"}
    assert disconnect["client_id"] == 3


def test_tap_refuses_a_live_upstream_port_without_the_override():
    with pytest.raises(LiveAccountRefused, match="4001"):
        Tap("127.0.0.1", 4001, EventLog(None))
    Tap("127.0.0.1", 4001, EventLog(None), allow_live=True)  # the override is honoured


def test_tap_cuts_a_session_whose_gateway_reports_a_live_account():
    async def scenario():
        log = EventLog(None, source="tap")
        async with FakeUpstream(account="U9999") as up, start_tap("127.0.0.1", up.port, log) as tap:
            r, w = await _client(tap.port)
            w.write(encode_handshake() + encode_frame(["71", "2", "3", ""]))
            await _read_frames(r, 10)
            w.write(encode_frame(_place_order_fields(9)))
            with contextlib.suppress(ConnectionError):
                await w.drain()
            await _wait_for(lambda: any(e["msg"] == "disconnect" for e in log.events))
            await asyncio.sleep(0.1)
        return log.events, bytes(up.received)

    events, upstream_bytes = asyncio.run(scenario())
    assert any(e["msg"] == "refused" and "U9999" in e["attrs"]["reason"] for e in events)
    assert b"intent-1" not in upstream_bytes  # the order never reached the live account


def test_unreachable_upstream_closes_the_client_and_is_logged():
    async def scenario():
        probe = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        dead_port = probe.sockets[0].getsockname()[1]
        probe.close()
        await probe.wait_closed()
        log = EventLog(None, source="tap")
        async with start_tap("127.0.0.1", dead_port, log) as tap:
            r, w = await _client(tap.port)
            assert await asyncio.wait_for(r.read(), 5) == b""
        return log.events

    events = asyncio.run(scenario())
    assert any(e["msg"] == "disconnect" and "unreachable" in e["attrs"]["reason"] for e in events)


@pytest.mark.parametrize("text,expected", [("127.0.0.1:4003", ("127.0.0.1", 4003)), ("4002", ("127.0.0.1", 4002)),
                                           ("localhost:0", ("localhost", 0))])
def test_parse_hostport_accepts_host_port_and_bare_port(text, expected):
    assert parse_hostport(text) == expected


@pytest.mark.parametrize("text", ["127.0.0.1:abc", "127.0.0.1:70000"])
def test_parse_hostport_rejects_nonsense_with_a_clear_message(text):
    with pytest.raises(ValueError, match="port"):
        parse_hostport(text)
