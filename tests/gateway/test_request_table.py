"""The inbound table: one row per request id, decoded once, the handlers and the table agree."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from mock_gateway.handlers import HANDLERS, handler_of, not_served, unknown_message
from mock_gateway.protocol.kinds import ReplyKind
from mock_gateway.protocol.requests import (
    NOT_SERVED,
    REPLY_KIND_OF_REQUEST,
    REQUEST_NAMES,
    REQUEST_SPECS,
    decode_request,
)

SERVED_BY_THE_SESSION = {71}   # startApi: the handshake, not a handler


def test_every_served_request_has_a_handler_and_every_handler_a_served_row():
    served = {i for i, spec in REQUEST_SPECS.items() if spec.served}
    assert served - SERVED_BY_THE_SESSION == set(HANDLERS)


def test_names_reply_kinds_and_not_served_answers_come_from_the_one_table():
    assert REQUEST_NAMES[20] == "reqHistoricalData" and REPLY_KIND_OF_REQUEST[20] is ReplyKind.HISTORICAL_DATA
    assert NOT_SERVED[100] == (1, 10276, "News feed is not allowed")       # reqWshMetaData
    assert handler_of(decode_request(["100", "42"])) is not_served
    assert handler_of(decode_request(["777", "1"])) is unknown_message


def test_the_request_id_is_read_where_the_row_says():
    assert decode_request(["20", "17", "0", "AAPL"]).req_id == 17          # reqHistoricalData: field 1
    assert decode_request(["1", "11", "23", "0", "AAPL"]).req_id == 23     # reqMktData: field 2
    placed = decode_request(["3", "31", "0", "AAPL"])
    assert placed.req_id == 31 and placed.attrs["order_id"] == 31 and placed.reply_kind is ReplyKind.ORDER_ACK


def test_an_unreadable_id_is_minus_one_and_the_message_keeps_its_name():
    for text in ("²", "--1", "inf", "9" * 5000, "", "1e400"):
        request = decode_request(["1", "11", text, "0", "AAPL"])
        assert request.req_id == -1 and request.name == "reqMktData"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(max_size=12), max_size=30))
def test_decoding_never_raises(fields):
    request = decode_request(fields)
    assert isinstance(request.req_id, int) and isinstance(request.name, str)
