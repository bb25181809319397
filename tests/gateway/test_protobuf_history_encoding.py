"""A large historicalData answer in protobuf: the fast encoder writes exactly the generic encoder's bytes."""
from __future__ import annotations

from types import SimpleNamespace

from mock_gateway.protocol import messages as m
from mock_gateway.protocol.proto import replies, wire
from mock_gateway.protocol.versions import MAX_SUPPORTED


def generic(fields):
    return [(replies.PROTOBUF_MSG_ID + rid, wire.encode(name, values))
            for rid, name, values in replies.build(fields, now_ms=0)]


def test_bars_of_every_kind_encode_to_the_generic_bytes():
    bars = [("20261124 14:29:55", SimpleNamespace(open=1.5, high=2.0, low=1.0, close=1.75, volume=1200, wap=1.6,
                                                  count=12)),
            ("1700000000", SimpleNamespace(open=0.0, high=1e-7, low=-1.0, close=float("inf"), volume=-1, wap=-1,
                                           count=-1)),
            ("20261124", SimpleNamespace(open=230.01, high=231.5, low=229.0, close=230.0, volume=12345.5,
                                         wap=230.2, count=0))]
    fields = m.historical_data(MAX_SUPPORTED, 6, "20261124 14:00:00", "20261124 14:30:00", bars * 50)
    assert replies.to_protobuf(fields, now_ms=0) == generic(fields)


def test_an_answer_without_bars_and_with_empty_fields_encodes_to_the_generic_bytes():
    fields = m.historical_data(MAX_SUPPORTED, 7, "", "", [])
    assert replies.to_protobuf(fields, now_ms=0) == generic(fields)
