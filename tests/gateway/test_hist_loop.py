"""A large historical request shares the gateway: another client's request is answered while its bars are computed,
the client gets every bar, and the bytes on the wire are the event log's fields encoded (nothing lost or changed
by encoding ahead in steps)."""
from __future__ import annotations

import asyncio
import socket
import struct
import time

import pytest

from mock_gateway.protocol import encode_handshake
from mock_gateway.protocol.framing import encode_frame, encode_frame_binary_id, encode_proto_frame
from mock_gateway.protocol.proto import replies as proto_replies
from mock_gateway.session import frame

from .raw_client import RawClient

_LEN = struct.Struct(">I")


def events(gw, direction: str, name: str) -> list[dict]:
    return [e for e in gw.call(lambda: list(gw.event_log.events)) if e["dir"] == direction and e["msg"] == name]


def test_another_clients_request_is_answered_while_a_large_history_is_computed(mock_gateway_factory):
    """ib_insync asks for ~4,000 one-minute bars (~50 ms of work); a second client's reqCurrentTime, sent after it,
    is answered before those bars go out."""
    import ib_insync as lib
    gw = mock_gateway_factory()
    ib = lib.IB()
    ib.connect(gw.host, gw.port, clientId=1, timeout=10)
    try:
        with RawClient(gw.host, gw.port, timeout_s=20) as other:
            other.hello()
            other.start(2)
            other.read_until(lambda msgs: any(f[0] == "9" for f in msgs))
            task = asyncio.ensure_future(ib.reqHistoricalDataAsync(
                lib.Stock("AAPL", "SMART", "USD"), "", "6 D", "1 min", "TRADES", False, 2, timeout=60))
            ib.sleep(0)                       # the request leaves now
            for _ in range(20):               # the other client's round trips meanwhile
                other.send(49, 1)
                other.read_until(lambda msgs: msgs[-1][0] == "49")
            bars = ib.run(task)
        [asked] = events(gw, "in", "reqHistoricalData")
        [answer] = events(gw, "out", "historicalData")
        pings = [e["seq"] for e in events(gw, "out", "currentTime") if e["client_id"] == 2]
        assert any(asked["seq"] < seq < answer["seq"] for seq in pings), \
            "every reqCurrentTime waited for the historical request"
        assert len(bars) == answer["attrs"]["bar_count"] > 3000
    finally:
        ib.disconnect()


def _read_frames(sock: socket.socket, until, timeout_s: float = 20.0) -> list[bytes]:
    """Whole frames (length prefix included) as they arrive, until ``until(frames)``."""
    buf, frames = b"", []
    deadline = time.monotonic() + timeout_s
    while not until(frames):
        assert time.monotonic() < deadline, "no reply in time"
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        data = sock.recv(1 << 20)
        assert data, "the gateway closed the connection"
        buf += data
        while len(buf) >= 4 and len(buf) >= 4 + _LEN.unpack_from(buf)[0]:
            n = 4 + _LEN.unpack_from(buf)[0]
            frames.append(buf[:n])
            buf = buf[n:]
    return frames


@pytest.mark.parametrize("versions, server_version", [("v100..176", 176), ("v100..193", 193), ("v100..213", 213),
                                                     ("v100..222", 222)])
def test_a_large_reply_on_the_wire_is_its_logged_fields_encoded(mock_gateway_factory, versions, server_version):
    """Text, or protobuf (from 213): the frames the client reads are exactly what encoding the event log's
    fields gives, so the log holds every bar the client got and encoding ahead changed no byte."""
    gw = mock_gateway_factory(max_server_version=server_version)
    binary = server_version >= 201
    enc = encode_frame_binary_id if binary else encode_frame
    with socket.create_connection((gw.host, gw.port)) as sock:
        sock.sendall(encode_handshake(versions))
        _read_frames(sock, lambda fs: len(fs) >= 1)
        sock.sendall(enc([71, 2, 3, ""]))
        request = [20, 77, 0, "AAPL", "STK", "", 0, "", "", "SMART", "", "USD", "", "", 0, "", "1 day", "20 Y", 0,
                   "TRADES", 1, 0, ""]
        sock.sendall(enc(request))
        [answer] = _await(lambda: events(gw, "out", "historicalData"))
        fields = answer["fields"]
        if server_version >= 213:
            expected = b"".join(encode_proto_frame(i, p) for i, p in proto_replies.to_protobuf(fields))
        else:
            expected = encode_frame_binary_id(fields) if binary else frame(fields)
        received = b""
        for data in _read_frames(sock, lambda fs: expected in b"".join(fs)):
            received += data
    assert expected in received
    assert answer["attrs"]["bar_count"] > 4500
    assert answer["attrs"].get("encoding", "text") == ("protobuf" if server_version >= 213 else "text")


def _await(fetch, timeout_s: float = 20.0):
    deadline = time.monotonic() + timeout_s
    while not (found := fetch()):
        assert time.monotonic() < deadline, "not logged in time"
        time.sleep(0.05)
    return found
