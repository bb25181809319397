"""Market depth in the protobuf protocol (213..223) with the official client ibapi-latest 10.51.

From server version 206 (PROTOBUF_MARKET_DATA) the official client sends reqMktDepth and cancelMktDepth as
MarketDepthRequest / CancelMarketDepth and decodes MarketDepth / MarketDepthL2 (ibapi 10.51 decoder.py
processMarketDepthMsgProtoBuf, processMarketDepthL2MsgProtoBuf): the mock reads the one and writes the others.
"""
from __future__ import annotations

import json

import pytest

from mock_gateway.protocol import messages as m
from mock_gateway.protocol.proto import replies, requests
from mock_gateway.protocol.versions import MAX_SUPPORTED, MAX_TEXT

from .ibapi10 import agent_json


@pytest.fixture(scope="module")
def official_requests():
    return agent_json("ibapi-latest", "encode", str(MAX_SUPPORTED))


@pytest.fixture(scope="module")
def official_text_requests():
    return agent_json("ibapi-latest", "encode", str(MAX_TEXT))


def _protobuf_fields(hex_frame: str) -> list[str]:
    body = bytes.fromhex(hex_frame)
    wire_id = int.from_bytes(body[:4], "big")
    assert wire_id > 200, f"the official client sent id {wire_id} as text at {MAX_SUPPORTED}"
    return requests.protobuf_request_fields(wire_id - 200, body[4:])


@pytest.mark.parametrize("call", ["reqMktDepth", "cancelMktDepth"])
def test_the_official_clients_protobuf_depth_requests_read_as_its_text_ones(official_requests,
                                                                           official_text_requests, call):
    (frame,) = official_requests[call]
    (text_frame,) = official_text_requests[call]
    text_fields = bytes.fromhex(text_frame).decode().split("\0")[:-1]
    got = _protobuf_fields(frame)
    assert len(got) == len(text_fields)
    same = [g == t or {g, t} <= {"", "0", "0.0"} for g, t in zip(got, text_fields)]
    assert all(same), list(zip(got, text_fields))


def test_the_official_client_decodes_depth_rows_sent_as_protobuf():
    sv = MAX_SUPPORTED
    msgs = [m.update_mkt_depth(sv, 4, 0, 0, 1, 229.97, 300), m.update_mkt_depth(sv, 4, 2, 2, 0, 230.02, 0),
            m.update_mkt_depth_l2(sv, 5, 0, "ARCA", 0, 0, 229.98, 200, True),
            m.update_mkt_depth_l2(sv, 5, 3, "NSDQ", 1, 1, 229.94, 1500, False)]
    frames = [[wire_id, payload.hex()] for f in msgs for wire_id, payload in replies.to_protobuf(f)]
    assert [w for w, _ in frames] == [212, 212, 213, 213]
    decoded = agent_json("ibapi-latest", "decode", str(sv), stdin=json.dumps(frames))
    calls = [[c for c in calls if c["call"] in ("updateMktDepth", "updateMktDepthL2")] for calls in decoded]
    assert [c[0]["args"] for c in calls] == [
        [4, 0, 0, 1, 229.97, "300"], [4, 2, 2, 0, 230.02, "0"],
        [5, 0, "ARCA", 0, 0, 229.98, "200", True], [5, 3, "NSDQ", 1, 1, 229.94, "1500", False]]


def test_the_recording_tap_reads_protobuf_depth_rows_back_into_the_text_fields():
    from mock_gateway.protocol.proto.reply_fields import ReplyDecoder

    decoder = ReplyDecoder()
    for fields in (m.update_mkt_depth(MAX_SUPPORTED, 4, 0, 2, 1, 229.97, 300),
                   m.update_mkt_depth_l2(MAX_SUPPORTED, 5, 3, "NSDQ", 1, 1, 229.94, 1500, True)):
        [(wire_id, payload)] = replies.to_protobuf(fields)
        assert decoder.feed(wire_id - 200, payload) == [fields]


def test_the_official_client_in_protobuf_mode_streams_depth_and_cancels_it(mock_gateway):
    calls = agent_json("ibapi-latest", "depth", str(mock_gateway.port), "31")
    assert [c["args"][0] for c in calls if c["call"] == "_serverVersion"] == [MAX_SUPPORTED]
    l2 = [c["args"] for c in calls if c["call"] == "updateMktDepthL2"]
    l1 = [c["args"] for c in calls if c["call"] == "updateMktDepth"]
    assert l2 and {a[0] for a in l2} == {1} and all(a[7] is True and a[2] for a in l2)
    assert l1 and {a[0] for a in l1} == {2}
    assert [(a[1], a[3], a[4]) for a in l2[:10]] == [(i, 0, side) for i in range(5) for side in (0, 1)]
    errors = [(c["args"][0], c["args"][2]) for c in calls if c["call"] == "error"]
    assert (1, 2152) in errors and (3, 10092) in errors and not [e for e in errors if e[0] == 2]
    assert [c["args"][0] for c in calls if c["call"] == "_after_cancel"] == [0]
