"""The protobuf layer on its own: wire codec, framing with binary ids, version negotiation, the scenario field."""
from __future__ import annotations

import random
import struct

import pytest

from mock_gateway.config import GatewayConfig
from mock_gateway.protocol.framing import (
    FrameDecoder, ProtocolError, encode_frame_binary_id, encode_proto_frame,
)
from mock_gateway.protocol.proto import replies, wire
from mock_gateway.protocol.proto.reply_fields import ReplyDecoder
from mock_gateway.protocol.proto.requests import REQUESTS, UnservedProtobufRequest, protobuf_request_fields
from mock_gateway.protocol.proto.wire import ProtoDecodeError
from mock_gateway.protocol.versions import negotiate, supported
from mock_gateway.server import Gateway

from .test_protobuf_layouts import _replies, _same_field


# ---------------------------------------------------------------------------------------------- negotiation
@pytest.mark.parametrize("client,server_max,expected", [
    ((100, 226), 223, 223),      # ibapi 10.50/10.51 against the current stable gateway
    ((100, 178), 223, 178),      # ib_async 2.1.0 gets its own maximum
    ((157, 176), 223, 176),      # ib_insync 0.9.86
    ((100, 157), 223, 157),      # ibapi 9.81
    ((100, 226), 213, 213),      # an older gateway emulated exactly
    ((100, 226), 178, 178),
    ((100, 193), 223, 193),      # @stoqey/ib 1.6 gets its own maximum (text layouts up to 193)
    ((100, 187), 223, 187),      # a client at the RFQ-field layouts (187..189)
    ((100, 200), 223, 193),      # a maximum in 194..212 (text layouts not encoded): the newest below
    ((201, 226), 178, None),     # a protobuf-only client (rust-ibapi 3.x) and a text-only gateway
    ((203, 210), 223, None),     # nothing the mock speaks within the client's range
])
def test_negotiation_is_the_highest_version_both_sides_speak(client, server_max, expected):
    assert negotiate(*client, server_max) == expected


def test_the_mock_emulates_text_versions_up_to_193_and_protobuf_from_213():
    assert [v for v in range(150, 230) if supported(v)] == [*range(157, 194), *range(213, 224)]


@pytest.mark.parametrize("version", [150, 194, 212])
def test_a_gateway_held_to_a_version_it_cannot_emulate_is_refused_with_the_ranges(version):
    with pytest.raises(ValueError, match=r"157\.\.193.*213\.\.223"):
        Gateway(GatewayConfig(port=0, max_server_version=version))


def test_a_scenario_can_hold_the_gateway_to_an_older_version():
    from harness.scenario import Scenario

    scenario = Scenario.model_validate({"name": "old-gw", "description": "d", "duration_s": 10,
                                        "max_server_version": 213})
    assert scenario.gateway_config().max_server_version == 213
    with pytest.raises(ValueError, match="213..223"):
        Scenario.model_validate({"name": "x", "description": "d", "duration_s": 10, "max_server_version": 200})
    assert Scenario.model_validate({"name": "x", "description": "d", "duration_s": 10}).gateway_config(
    ).max_server_version == 223


# ---------------------------------------------------------------------------------------------- framing
def test_from_201_frames_carry_a_binary_id_and_protobuf_ids_are_offset_by_200():
    dec = FrameDecoder()
    dec.binary_ids = True
    payload = wire.encode("StartApiRequest", {"clientId": 7, "optionalCapabilities": ""})
    data = encode_frame_binary_id(["49", "1"]) + encode_proto_frame(271, payload)
    assert dec.feed(data[:5]) == []
    assert dec.feed(data[5:]) == [("msg", ["49", "1"]), ("proto", ["71", payload.decode("latin-1")])]


def test_a_binary_frame_shorter_than_its_id_is_a_protocol_error():
    dec = FrameDecoder()
    dec.binary_ids = True
    with pytest.raises(ProtocolError, match="4-byte id"):
        dec.feed(struct.pack(">I", 2) + b"\x00\x01")


# ---------------------------------------------------------------------------------------------- wire codec
def test_every_scalar_kind_survives_a_round_trip():
    values = {"orderId": -5, "permId": 2**40, "lmtPrice": 150.25, "action": "BUY", "hidden": True,
              "algoParams": {"a": "1", "b": "2"}, "totalQuantity": "0.5", "conditions": [{"type": 1, "isMore": True}]}
    assert wire.decode("Order", wire.encode("Order", values)) == values
    assert wire.decode("SecDefOptParameter", wire.encode("SecDefOptParameter", {"strikes": [1.5, 2.0]})) == \
        {"strikes": [1.5, 2.0]}
    assert wire.decode("ContractData", wire.encode("ContractData", {"contractDetails": {"longName": "Société"}})) == \
        {"contractDetails": {"longName": "Société"}}


def test_fields_a_newer_schema_added_are_skipped():
    newer = wire.encode("PnL", {"reqId": 3}) + bytes([0x98, 0x06, 1])   # field 99, varint 1
    assert wire.decode("PnL", newer) == {"reqId": 3}


def test_random_bytes_never_raise_anything_but_a_decode_error():
    rng = random.Random(7)
    names = ["PlaceOrderRequest", "ContractDataRequest", "MarketDataRequest", "HistoricalDataRequest", "OpenOrder"]
    for _ in range(3000):
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))
        try:
            wire.decode(rng.choice(names), data)
        except ProtoDecodeError:
            pass


def test_a_request_id_without_a_schema_is_unserved_not_a_crash():
    with pytest.raises(UnservedProtobufRequest):
        protobuf_request_fields(108, b"")   # reqConfig
    assert 3 in REQUESTS and 71 in REQUESTS


def test_order_conditions_over_protobuf_are_refused_with_a_reason():
    payload = wire.encode("PlaceOrderRequest", {"orderId": 1, "contract": {"symbol": "AAPL"},
                                                "order": {"action": "BUY", "conditions": [{"type": 1}]}})
    with pytest.raises(ValueError, match="conditions"):
        protobuf_request_fields(3, payload)


# ---------------------------------------------------------------------------------------------- both encoders
def test_every_protobuf_reply_decodes_back_into_the_text_model_it_came_from():
    decoder = ReplyDecoder()
    for fields in _replies(223):
        out = []
        for wire_id, payload in replies.to_protobuf(fields, now_ms=1):
            out += decoder.feed(wire_id - 200, payload)
        (got,) = out
        assert len(got) == len(fields), fields[:3]
        assert all(_same_field(a, b) for a, b in zip(got, fields)), [(i, a, b) for i, (a, b) in
                                                                      enumerate(zip(got, fields)) if a != b]


def test_the_tick_fast_path_writes_the_bytes_of_the_generic_encoder():
    from mock_gateway.protocol import messages as m

    for fields in [m.tick_price(223, 4, 1, 150.25, 100), m.tick_price(223, 4, 4, 150.3, 0, 2),
                   m.tick_price(223, 4, 9, -1.5, 0), m.tick_size(223, 4, 8, 12345), m.tick_size(223, -1, 8, 0)]:
        (reply_id, name, values), = replies.build(fields)
        assert replies.to_protobuf(fields) == [(200 + reply_id, wire.encode(name, values))]


def test_attached_orders_over_protobuf_are_refused_with_a_reason_and_an_empty_block_is_not():
    order = {"action": "BUY", "totalQuantity": "1", "orderType": "MKT", "transmit": True}
    with_children = wire.encode("PlaceOrderRequest", {"orderId": 1, "contract": {"symbol": "AAPL"}, "order": order,
                                                      "attachedOrders": {"slOrderId": 2, "slOrderType": "STP"}})
    with pytest.raises(ValueError, match="attached orders"):
        protobuf_request_fields(3, with_children)
    empty = wire.encode("PlaceOrderRequest", {"orderId": 1, "contract": {"symbol": "AAPL"}, "order": order,
                                              "attachedOrders": {}})
    assert protobuf_request_fields(3, empty)[:2] == ["3", "1"]


def test_bars_without_their_end_do_not_grow_the_tap_decoder_without_bound():
    from mock_gateway.protocol.proto import reply_fields

    decoder = ReplyDecoder()
    bar = {"date": "d", "open": 1.0, "high": 1.0, "low": 1.0, "close": 1.0, "volume": "1", "WAP": "1", "barCount": 1}
    for req_id in range(reply_fields.MAX_PENDING_REQUESTS + 50):
        assert decoder.feed(17, wire.encode("HistoricalData", {"reqId": req_id, "historicalDataBars": [bar]})) == []
    assert len(decoder._bars) == reply_fields.MAX_PENDING_REQUESTS
    (fields,) = decoder.feed(108, wire.encode("HistoricalDataEnd", {"reqId": 299, "startDateStr": "a",
                                                                     "endDateStr": "b"}))
    assert fields[:5] == ["17", "299", "a", "b", "1"]
