"""Long work as a generator of small steps, run on the event loop in time-budgeted turns.

A step function ``yield``s wherever it may pause (SimPy's style: a process is a generator). The
runner drives it synchronously until its :class:`~mock_gateway.cooperative.TimeSlice` is spent, then
hands the rest to the loop's next turn (``call_soon``), so another session's ready request runs in
between. Work that fits one budget is therefore answered at once, as before; work that does not
never holds the loop for much more than one budget. Without a running loop (unit tests, tools)
the steps simply run to the end.

How much to do between two ``yield``\\ s is a :class:`ChunkSizer`'s job: it learns from the chunks
already done how many units fit a target time, because a unit's cost varies with the request and
the machine (a fixed count was either too coarse for some requests or too slow for others).
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Generator
from typing import Any

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
    """Drives step functions on the running event loop, one time budget per turn; holds the ones under way."""

    def __init__(self, budget_s: float = SLICE_BUDGET_S) -> None:
        self.budget_s = budget_s
        self._active: set[_Run] = set()

    @property
    def active(self) -> int:
        """Step functions started and not finished."""
        return len(self._active)

    def start(self, steps: Steps) -> bool:
        """Run ``steps`` now until its budget is spent, the rest on later loop turns. True if it finished now.

        An exception escaping ``steps`` is logged, never raised here: the step function answers its own
        errors (the client must get an error reply, not a silence).
        """
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        run = _Run(self, steps, loop)
        if loop is None:
            run.to_end()
            return True
        return run.turn()

    def cancel_all(self) -> None:
        """Stop every step function under way (the gateway is stopping)."""
        for run in list(self._active):
            run.cancel()


class _Run:
    __slots__ = ("runner", "steps", "loop", "handle")

    def __init__(self, runner: StepRunner, steps: Steps, loop: asyncio.AbstractEventLoop | None) -> None:
        self.runner = runner
        self.steps = steps
        self.loop = loop
        self.handle: asyncio.Handle | None = None

    def to_end(self) -> None:
        try:
            for _ in self.steps:
                pass
        except Exception:
            log.exception("stepwise work failed")

    def turn(self) -> bool:
        """One budget of steps; schedules the next turn if the work is not done. True once done."""
        self.handle = None
        budget = TimeSlice(self.runner.budget_s)
        steps = self.steps
        try:
            while True:
                next(steps)
                if budget.spent():
                    break
        except StopIteration:
            self.runner._active.discard(self)
            return True
        except Exception:
            log.exception("stepwise work failed")
            self.runner._active.discard(self)
            return True
        assert self.loop is not None
        self.runner._active.add(self)
        self.handle = self.loop.call_soon(self.turn)
        return False

    def cancel(self) -> None:
        if self.handle is not None:
            self.handle.cancel()
        self.steps.close()
        self.runner._active.discard(self)


__all__ = ["ChunkSizer", "StepRunner", "Steps"]
