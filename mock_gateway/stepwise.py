"""Long work as a generator of small steps, run on the event loop in time-budgeted turns.

A step function ``yield``s wherever it may pause (SimPy's style: a process is a generator). The
runner drives it synchronously while this turn of the loop's :class:`~mock_gateway.cooperative.TimeSlice`
lasts, then hands the rest to the loop's next turns (``call_soon``), so another session's ready
request runs in between. Work that fits the budget is therefore answered at once, as before; work
that does not never holds the loop for much more than one budget, however many requests are under
way. Without a running loop (unit tests, tools) the steps simply run to the end.

How much to do between two ``yield``\\ s is a :class:`ChunkSizer`'s job: it learns from the chunks
already done how many units fit a target time, because a unit's cost varies with the request and
the machine (a fixed count was either too coarse for some requests or too slow for others).
"""
from __future__ import annotations

import asyncio
import collections
import logging
import time
from collections.abc import Callable, Generator
from typing import Any

from . import streamed
from .cooperative import SLICE_BUDGET_S, TimeSlice

log = logging.getLogger("mock_gateway.stepwise")

#: A step function: yields where it may pause, returns its result (``yield from`` passes it up).
Steps = Generator[None, None, Any]


class ChunkSizer:
    """How many units the next chunk of a loop takes so that it costs about ``target_s`` of CPU.

    Each chunk is resized by the ratio of the target to what the last one cost, by at most 2x either way
    (one chunk's cost varies with what it covers: a weekend costs nothing, the live part of a day more;
    a sharper rule swung the size back and forth). ``minimum`` bounds what a call's fixed cost may
    waste: below it, most of a chunk would be that fixed cost, paid again by every chunk.
    """

    def __init__(self, target_s: float, first: int, minimum: int = 1, maximum: int = 1 << 20) -> None:
        self.target_s = target_s
        self.minimum = minimum
        self.maximum = maximum
        self._next = max(minimum, min(first, maximum))

    def size(self) -> int:
        """Units for the next chunk."""
        return self._next

    def observe(self, units: int, elapsed_s: float) -> None:
        """A chunk of ``units`` took ``elapsed_s``: size the next one."""
        if units <= 0:
            return
        want = units * self.target_s / max(elapsed_s, 1e-7)
        self._next = int(max(self.minimum, min(self.maximum, units * 2, max(units / 2, want))))

    def timed(self, units: int, fn: Callable[[], Any]) -> Any:
        """``fn()``, timed (thread CPU time: another process's load does not count) as a chunk of ``units``."""
        c0 = time.thread_time()
        result = fn()
        self.observe(units, time.thread_time() - c0)
        return result


class StepRunner:
    """Drives step functions on the running event loop within one time budget per turn of the loop, shared by all
    of them: a step function starts at once while this turn's budget lasts, and whatever is left waits in a queue
    that one callback per turn advances round-robin, a step each, until the budget is spent. However many
    requests are under way (a client may send fifty at once), another session's request waits for at most one
    budget and one step."""

    def __init__(self, budget_s: float = SLICE_BUDGET_S) -> None:
        self.budget_s = budget_s
        self._queue: collections.deque[Steps] = collections.deque()
        self._handle: asyncio.Handle | None = None

    @property
    def active(self) -> int:
        """Step functions started and not finished."""
        return len(self._queue)

    def start(self, steps: Steps) -> bool:
        """Run ``steps`` now while this turn's budget lasts, the rest on later turns. True if it finished now.

        An exception escaping ``steps`` is logged, never raised here: the step function answers its own
        errors (the client must get an error reply, not a silence).
        """
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is None:
            _to_end(steps)
            return True
        budget = self._turn_budget(loop)
        while not budget.spent():
            if not _step(steps):
                return True
        self._queue.append(steps)
        self._schedule(loop)
        return False

    def cancel_all(self) -> None:
        """Stop every step function under way (the gateway is stopping)."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        while self._queue:
            self._queue.popleft().close()

    def _turn_budget(self, loop: asyncio.AbstractEventLoop) -> TimeSlice:
        """This turn of the loop's budget: the one mock_gateway.streamed's replies use too, so all long work of
        every desk shares one budget per turn (created by whichever comes first, dropped at the next turn)."""
        turns = streamed._TURNS
        budget = turns.get(loop)
        if budget is None:
            budget = turns[loop] = TimeSlice(self.budget_s)
            loop.call_soon(turns.pop, loop, None)     # runs at the start of the loop's next turn
        return budget

    def _schedule(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._handle is None:
            self._handle = loop.call_soon(self._advance, loop)

    def _advance(self, loop: asyncio.AbstractEventLoop) -> None:
        """One turn: a step of each queued step function in turn until the budget is spent (at least one step)."""
        self._handle = None
        budget = self._turn_budget(loop)
        queue = self._queue
        while queue:
            steps = queue.popleft()
            if _step(steps):
                queue.append(steps)
            if budget.spent():
                break
        if queue:
            self._schedule(loop)


def _step(steps: Steps) -> bool:
    """One step; False once the step function has finished (or failed: logged)."""
    try:
        next(steps)
        return True
    except StopIteration:
        return False
    except Exception:
        log.exception("stepwise work failed")
        return False


def _to_end(steps: Steps) -> None:
    while _step(steps):
        pass


__all__ = ["ChunkSizer", "StepRunner", "Steps"]
