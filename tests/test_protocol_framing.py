"""Framing and field codecs: the byte layout every client depends on."""
import struct

import pytest

from mock_gateway.protocol import FrameDecoder, ProtocolError, encode_frame, encode_handshake, fmt, parse_version_range
from mock_gateway.protocol.fields import UNSET_DOUBLE, parse_float, parse_int


def test_frame_is_length_prefixed_and_nul_terminated():
    assert encode_frame([49, 1, 1700000000]) == struct.pack(">I", 16) + b"49\x001\x001700000000\x00"


def test_decoder_handles_split_and_coalesced_frames():
    data = encode_handshake() + encode_frame(["71", "2", "7", ""]) + encode_frame(["49", "1"])
    dec = FrameDecoder(expect_handshake=True)
    out = []
    for i in range(len(data)):
        out += dec.feed(data[i : i + 1])
    assert out == [("hello", ["v157..176"]), ("msg", ["71", "2", "7", ""]), ("msg", ["49", "1"])]


@pytest.mark.parametrize("garbage", [b"GET / HTTP/1.1\r\n", b"API\x00\xff\xff\xff\xff", b"\x00\x00\x00\x00"])
def test_decoder_refuses_non_api_bytes(garbage):
    with pytest.raises(ProtocolError):
        FrameDecoder(expect_handshake=True).feed(garbage)


def test_decoder_refuses_oversized_frame():
    with pytest.raises(ProtocolError, match="exceeds"):
        FrameDecoder().feed(struct.pack(">I", 0x1000000) + b"x")


def test_version_range_parsing():
    assert parse_version_range("v157..176") == (157, 176, "")
    assert parse_version_range("v100..157 +PACEAPI") == (100, 157, "+PACEAPI")
    assert parse_version_range("v176") == (176, 176, "")
    with pytest.raises(ProtocolError):
        parse_version_range("x1..2")


@pytest.mark.parametrize("value,text", [(100.0, "100"), (150.25, "150.25"), (True, "1"), (None, ""),
                                        (UNSET_DOUBLE, "1.7976931348623157E308"), (0.1 + 0.2, "0.3")])
def test_fmt(value, text):
    assert fmt(value) == text


def test_unset_sentinels_parse_as_unset():
    assert parse_int("2147483647") is None and parse_int("") is None and parse_int("10.0") == 10
    assert parse_float("1.7976931348623157e+308") is None and parse_float("Infinite") == float("inf")
