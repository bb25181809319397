"""Numbers on the wire are read as the Java gateway reads them: short ASCII decimals, nothing else."""
from __future__ import annotations

import math

import pytest

from mock_gateway.protocol.fields import parse_float, parse_int
from mock_gateway.protocol.framing import FrameDecoder, ProtocolError, encode_frame


@pytest.mark.parametrize("text", ["²", "٣", "--1", "+-1", "1_000", " 1", "inf", "nan", "1e400", "9" * 5000, "0x10"])
def test_an_int_field_that_is_not_a_plain_number_is_a_value_error(text):
    with pytest.raises(ValueError):
        parse_int(text)


@pytest.mark.parametrize("text", ["1_0.5", "9" * 5000, "٣.5", "1.5.5", "0x1p3", " 1.5", "1e", "nan", "inf", "-inf",
                                  "infinity"])
def test_a_float_field_that_is_not_a_decimal_is_a_value_error(text):
    with pytest.raises(ValueError):
        parse_float(text)


def test_javas_own_non_finite_spellings_are_read():
    assert math.isnan(parse_float("NaN")) and parse_float("-Infinity") == -math.inf
    assert parse_float("Infinity") == math.inf == parse_float("Infinite")


def test_the_wire_spellings_still_read():
    assert parse_int("") is None and parse_int("2147483647") is None and parse_int("-1") == -1
    assert parse_int("1.0") == 1 and parse_float("187.25") == 187.25 and parse_float("") is None
    assert parse_float("1.7976931348623157E308") is None and parse_float("Infinite") == math.inf


@pytest.mark.parametrize("msg_id", ["²", "--1", "-5", "1_0", "٣"])
def test_a_frame_whose_id_is_not_ascii_digits_is_a_protocol_error(msg_id):
    with pytest.raises(ProtocolError):
        FrameDecoder().feed(encode_frame([msg_id, "1"]))
