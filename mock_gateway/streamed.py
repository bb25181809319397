"""Replies whose work may be long (a whole option chain, every execution of the day): computed and sent
in time-budgeted slices, so one request never holds the event loop that every session shares (issue 11).

A request's work is written as a generator of reply messages (``None`` for a step of work with nothing to
send yet: a contract of a chain being made). :class:`ReplyStreams` runs it synchronously while the loop's
current turn has budget left (a small reply leaves at once, exactly as before), then as a task. Every long
reply in progress, of every desk, shares ONE :class:`~mock_gateway.cooperative.TimeSlice` per turn of the
loop: a turn does one budget of such work, then the loop polls the sockets again, however many replies are
in progress (100 market data lines starting at once included). Messages leave in batches of a fixed count,
never of a time: the session draws an injected latency per send, so the number of sends must not depend on
the machine's speed, or a seeded run would not repeat. Bytes and order are those of the whole reply sent at
once; memory holds one batch, not the reply. A cancel, the client leaving or the gateway stopping ends the
work at its next step.
"""
from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Callable, Generator, Iterable, Iterator
from typing import TypeVar

from .cooperative import SLICE_BUDGET_S, TimeSlice
from .errors import RequestError
from .protocol.kinds import ReplyKind
from .replies import Fields, ReplyChannel

log = logging.getLogger("mock_gateway.streamed")

#: Messages per send once a reply is streamed (a count, so a seeded run sends the same batches).
BATCH_MESSAGES = 16

#: The budget of the loop turn in progress, per loop (weakly held: a finished loop leaves nothing behind).
_TURNS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, TimeSlice] = weakref.WeakKeyDictionary()

T = TypeVar("T")

#: What a request's work yields: a reply message, or None for a step of work with nothing to send yet.
Step = Fields | None


def run_steps(steps: Generator[None, None, T]) -> T:
    """Run a stepwise computation to its end at once and return its result (the synchronous callers' way)."""
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value


class ReplyStreams:
    """The long replies in progress on one desk: one task each, held strongly, keyed (connection, reqId) so a
    cancel or the client leaving stops the work."""

    def __init__(self, budget_s: float = SLICE_BUDGET_S, batch: int = BATCH_MESSAGES) -> None:
        self.budget_s, self.batch = budget_s, batch
        self._tasks: dict[tuple[int, object], asyncio.Task[None]] = {}

    def _turn_spent(self, loop: asyncio.AbstractEventLoop) -> bool:
        """True once the long replies run in this turn of the loop have used one budget between them: a burst
        of requests read at once (100 reqMktData in one segment), and every reply in progress, share it,
        whichever desk serves them, so a turn does one budget of such work and then polls the sockets. The
        first caller of a turn always gets a step."""
        turn = _TURNS.get(loop)
        if turn is None:
            _TURNS[loop] = TimeSlice(self.budget_s)
            loop.call_soon(_TURNS.pop, loop, None)   # runs at the start of the next turn, before the replies
            return False
        return turn.spent()

    async def _next_turn(self, loop: asyncio.AbstractEventLoop) -> None:
        """Yield to the loop until a turn of it has budget left for this reply."""
        await asyncio.sleep(0)
        while self._turn_spent(loop):
            await asyncio.sleep(0)

    def in_progress(self, conn_id: int, key: object) -> bool:
        return (conn_id, key) in self._tasks

    def send(self, s: ReplyChannel, kind: ReplyKind, steps: Iterable[Step], key: object = None,
             on_failure: Callable[[], None] | None = None) -> None:
        """Send every message ``steps`` yields, in order, in batches of :data:`BATCH_MESSAGES`.

        Runs synchronously until this loop turn's time budget is spent (a RequestError raised then reaches the
        caller, as a handler's would), the rest as a task. A RequestError raised later becomes that
        error reply; any other failure is logged and ``on_failure`` answers the client (no silent wait).
        """
        it = iter(steps)
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        pending: list[Fields] = []
        if loop is None or not self._turn_spent(loop):
            for msg in it:
                if msg is not None:
                    pending.append(msg)
                    if len(pending) >= self.batch:
                        s.send(kind, pending)
                        pending = []
                if loop is not None and self._turn_spent(loop):
                    break
            else:
                if pending:
                    s.send(kind, pending)
                return
        assert loop is not None
        task_key = (s.conn_id, key if key is not None else object())
        task = loop.create_task(self._rest(s, kind, it, pending, on_failure))
        self._tasks[task_key] = task
        task.add_done_callback(lambda done: self._forget(task_key, done))

    async def _rest(self, s: ReplyChannel, kind: ReplyKind, it: Iterator[Step], pending: list[Fields],
                    on_failure: Callable[[], None] | None) -> None:
        loop = asyncio.get_running_loop()
        try:
            await self._next_turn(loop)
            for msg in it:
                if msg is not None:
                    pending.append(msg)
                    if len(pending) >= self.batch:
                        s.send(kind, pending)
                        pending = []
                if self._turn_spent(loop):
                    await self._next_turn(loop)
                    if s.closed:
                        return      # the client left: its reply is nobody's
            if pending:
                s.send(kind, pending)
        except RequestError as exc:
            s.error(exc.req_id, exc.code, exc.text, kind=kind)
        except asyncio.CancelledError:
            raise
        except Exception:          # a bug must not leave the client waiting forever: log it, answer
            log.exception("conn %d: a streamed reply failed", s.conn_id)
            if on_failure is not None:
                on_failure()
        finally:
            close = getattr(it, "close", None)
            if close is not None:
                close()

    def _forget(self, task_key: tuple[int, object], task: asyncio.Task[None]) -> None:
        if self._tasks.get(task_key) is task:
            del self._tasks[task_key]

    def cancel(self, conn_id: int, key: object) -> bool:
        """Stop the reply in progress for (connection, key); True if there was one."""
        task = self._tasks.pop((conn_id, key), None)
        if task is None:
            return False
        task.cancel()
        return True

    def session_closed(self, conn_id: int) -> None:
        for task_key in [k for k in self._tasks if k[0] == conn_id]:
            self.cancel(*task_key)

    def stop_all(self) -> None:
        """Cancel every reply in progress (the gateway is stopping)."""
        for task in list(self._tasks.values()):
            task.cancel()
        self._tasks.clear()


__all__ = ["BATCH_MESSAGES", "ReplyStreams", "Step", "run_steps"]
