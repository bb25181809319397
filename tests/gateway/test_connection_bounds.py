"""Bounded connections: IB's 32-client limit, and no socket may hold a slot or memory forever."""
from __future__ import annotations

import contextlib
import struct
import time

import ib_insync
import pytest

from mock_gateway.protocol import encode_frame, encode_handshake

from .conftest import sys_events, wait_thread
from .raw_client import RawClient


def _ready(gw, client_id: int) -> RawClient:
    client = RawClient(gw.host, gw.port)
    client.hello()
    client.start(client_id)
    client.read_until(lambda msgs: any(m[0] == "9" for m in msgs))   # nextValidId: past startApi
    return client


def _disconnect_reasons(gw) -> list[str]:
    return [e["attrs"]["reason"] for e in sys_events(gw, "disconnect")]


def test_the_33rd_client_is_closed_at_once_and_the_32_stay_served(mock_gateway_factory):
    gw = mock_gateway_factory()
    with contextlib.ExitStack() as stack:
        clients = [stack.enter_context(_ready(gw, i)) for i in range(1, 33)]
        with RawClient(gw.host, gw.port) as extra:
            extra.send_raw(encode_handshake())
            assert extra.read_until_closed(timeout_s=5) == [] and extra.eof   # no handshake reply, a FIN
        refused = [e["attrs"]["reason"] for e in sys_events(gw, "refused")]
        assert len(refused) == 1 and "32 API clients" in refused[0]
        clients[0].send(49, 1)
        assert clients[0].read_until(lambda msgs: any(m[0] == "49" for m in msgs))
        clients.pop().close()                                   # one leaves: a slot is free again
        wait_thread(lambda: len(sys_events(gw, "disconnect")) == 2, what="the 32nd client's disconnect")
        stack.enter_context(_ready(gw, 99))


def test_ib_insync_as_the_33rd_client_fails_to_connect_cleanly(mock_gateway_factory):
    gw = mock_gateway_factory(max_clients=1)
    with _ready(gw, 1):
        ib = ib_insync.IB()
        started = time.monotonic()
        with pytest.raises((ConnectionError, TimeoutError, OSError)):   # ib_insync waits out its timeout
            ib.connect(gw.host, gw.port, clientId=2, timeout=2)
        assert time.monotonic() - started < 4 and not ib.isConnected()


def test_a_socket_that_never_sends_its_hello_is_closed_after_the_handshake_timeout(mock_gateway_factory):
    gw = mock_gateway_factory(handshake_timeout_s=0.3)
    with RawClient(gw.host, gw.port) as silent:
        assert silent.read_until_closed(timeout_s=5) == [] and silent.eof
    assert any("no hello" in r for r in _disconnect_reasons(gw))


def test_a_client_that_never_sends_start_api_is_closed_after_the_handshake_timeout(mock_gateway_factory):
    gw = mock_gateway_factory(handshake_timeout_s=0.3)
    with RawClient(gw.host, gw.port) as half:
        half.hello()
        half.read_until_closed(timeout_s=5)
        assert half.eof
    assert any("no startApi" in r for r in _disconnect_reasons(gw))


def test_a_frame_left_half_sent_is_closed_after_the_frame_timeout_and_others_are_untouched(mock_gateway_factory):
    gw = mock_gateway_factory(frame_timeout_s=0.3)
    with _ready(gw, 1) as slow, _ready(gw, 2) as good:
        slow.send_raw(struct.pack(">I", 1_000_000) + b"49\0" * 3)    # promises 1 MB, sends 9 bytes
        slow.read_until_closed(timeout_s=5)
        assert slow.eof
        good.send(49, 1)
        assert good.read_until(lambda msgs: any(m[0] == "49" for m in msgs))
    assert any("half-sent" in r for r in _disconnect_reasons(gw))


def test_a_steady_client_whose_reads_end_mid_frame_is_not_timed_out(mock_gateway_factory):
    gw = mock_gateway_factory(frame_timeout_s=0.3)
    with _ready(gw, 1) as client:
        data = encode_frame([49, 1]) * 40
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:   # every write ends inside a frame, but frames keep completing
            for i in range(0, len(data), 7):
                client.send_raw(data[i:i + 7])
                time.sleep(0.002)
        client.send_raw(b"")
        assert not client.eof
        client.send(49, 1)
        client.read_until(lambda msgs: sum(m[0] == "49" for m in msgs) >= 10)
    assert not any("half-sent" in r for r in _disconnect_reasons(gw))
