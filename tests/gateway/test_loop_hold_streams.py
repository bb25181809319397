"""ReplyStreams (mock_gateway/streamed.py): long replies in slices, the same batches however fast the machine."""
from __future__ import annotations

import asyncio
import math

from mock_gateway.errors import RequestError
from mock_gateway.protocol.kinds import ReplyKind
from mock_gateway.streamed import BATCH_MESSAGES, ReplyStreams


class _Channel:
    conn_id, client_id, server_version = 1, 1, 176

    def __init__(self) -> None:
        self.closed = False
        self.sends: list[tuple[ReplyKind, list[list[str]]]] = []
        self.errors: list[tuple] = []

    def send(self, kind, messages, *, fault=None) -> None:
        self.sends.append((kind, list(messages)))

    def error(self, req_id, code, text, *, fault=None, kind=ReplyKind.OTHER, advanced_json="") -> None:
        self.errors.append((req_id, code, text, kind))


def _reply(n: int, work_steps: int = 3):
    for i in range(n):
        for _ in range(work_steps):
            yield None                       # work with nothing to send yet
        yield ["10", str(i)]
    yield ["52", "end"]


def _run(streams: ReplyStreams, ch: _Channel, steps, others: list[str] | None = None) -> None:
    async def main():
        streams.send(ch, ReplyKind.CONTRACT_DATA, steps, key=7)
        while streams.in_progress(ch.conn_id, 7):
            if others is not None:
                others.append("ran")         # another session's work, between the reply's slices
            await asyncio.sleep(0)
    asyncio.run(main())


def test_the_batches_sent_do_not_depend_on_how_fast_the_work_runs():
    slow, fast = _Channel(), _Channel()
    _run(ReplyStreams(budget_s=0.0), slow, _reply(1000))        # yields to the loop after every step
    _run(ReplyStreams(budget_s=math.inf), fast, _reply(1000))   # never yields
    assert slow.sends == fast.sends                              # same sends, so the same injected latencies
    assert [len(msgs) for _, msgs in fast.sends][:-1] == [BATCH_MESSAGES] * (len(fast.sends) - 1)
    assert [msg for _, msgs in fast.sends for msg in msgs] == list(x for x in _reply(1000) if x is not None)


def test_other_work_runs_between_the_slices_of_a_long_reply():
    ch, others = _Channel(), []
    _run(ReplyStreams(budget_s=0.0), ch, _reply(200), others)
    assert len(others) > 100 and ch.sends[-1][1][-1] == ["52", "end"]


def test_without_a_running_loop_the_whole_reply_is_sent_at_once_in_order():
    ch = _Channel()
    ReplyStreams(budget_s=0.0).send(ch, ReplyKind.CONTRACT_DATA, _reply(40))
    assert [msg for _, msgs in ch.sends for msg in msgs] == list(x for x in _reply(40) if x is not None)


def test_a_request_error_raised_after_slicing_is_that_error_with_the_replys_kind():
    def failing():
        yield None
        yield None
        raise RequestError(7, 200, "No security definition has been found for the request")
    ch = _Channel()
    _run(ReplyStreams(budget_s=0.0), ch, failing())
    assert ch.errors == [(7, 200, "No security definition has been found for the request", ReplyKind.CONTRACT_DATA)]


def test_a_cancelled_reply_stops_its_work_and_sends_nothing_more():
    ch, made = _Channel(), []

    def counting():
        for i in range(10_000):
            made.append(i)
            yield ["10", str(i)]

    async def main():
        streams = ReplyStreams(budget_s=0.0)
        streams.send(ch, ReplyKind.CONTRACT_DATA, counting(), key=7)
        for _ in range(20):
            await asyncio.sleep(0)
        assert streams.cancel(ch.conn_id, 7)
        sent = sum(len(msgs) for _, msgs in ch.sends)
        for _ in range(20):
            await asyncio.sleep(0)
        return sent
    sent_at_cancel = asyncio.run(main())
    assert len(made) < 100 and sum(len(msgs) for _, msgs in ch.sends) == sent_at_cancel


def test_a_closed_client_stops_the_work():
    ch, made = _Channel(), []

    def counting():
        for i in range(10_000):
            made.append(i)
            if i == 30:
                ch.closed = True
            yield None
    _run(ReplyStreams(budget_s=0.0), ch, counting())
    assert len(made) < 40
