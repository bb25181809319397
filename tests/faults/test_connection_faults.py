from mock_gateway.faults.base import AcceptAction, FaultStack
from mock_gateway.faults.connection import HandshakeStall, LingerAfterClose
from mock_gateway.faults.replies import SuppressReply
from mock_gateway.faults.schedule import Schedule

from fault_fakes import FakeSession


def test_handshake_stall_stalls_only_the_first_connections():
    fault = HandshakeStall(connections=2)
    assert [fault.on_accept(0) for _ in range(3)] == [AcceptAction.STALL_HANDSHAKE] * 2 + [None]


def test_handshake_stall_no_start_answers_the_hello_but_not_startapi():
    assert HandshakeStall(mode="no_start").on_accept(0) == AcceptAction.STALL_START


def test_handshake_stall_inside_a_window_only():
    fault = HandshakeStall(schedule=Schedule(from_s=10, to_s=20))
    assert [fault.on_accept(t) for t in (5, 15, 25)] == [None, AcceptAction.STALL_HANDSHAKE, None]


def test_the_stack_names_the_fault_that_refused_a_socket():
    assert FaultStack([HandshakeStall(name="api_prompt")]).on_accept(0) == (AcceptAction.STALL_HANDSHAKE,
                                                                             "api_prompt")


def test_linger_keeps_the_client_id_for_its_length():
    assert FaultStack([LingerAfterClose(linger_s=8)]).linger_after_close(7, 0) == 8
    stack = FaultStack([LingerAfterClose(linger_s=3, name="short"), LingerAfterClose(linger_s=8, name="long")])
    assert stack.linger_fault(7, 0) == (8, "long")
    assert LingerAfterClose(linger_s=8, schedule=Schedule(from_s=100, to_s=200)).linger_after_close(7, 0) == 0


def test_suppress_reply_swallows_the_named_reply_the_first_times_only():
    fault = SuppressReply(replies=["positionEnd"], times=1)
    s = FakeSession()
    assert fault.suppress_reply(s, "openOrderEnd", 0) is False
    assert [fault.suppress_reply(s, "positionEnd", 0) for _ in range(2)] == [True, False]


def test_unknown_reply_names_are_refused():
    import pytest
    from pydantic import TypeAdapter, ValidationError

    from mock_gateway.faults.registry import FaultSpec
    with pytest.raises(ValidationError, match="unknown reply name.*positonEnd"):
        TypeAdapter(FaultSpec).validate_python({"type": "suppress_reply", "replies": ["positonEnd"]})
