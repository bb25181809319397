"""Long work in time-budgeted slices, so one session's heavy request never holds the event loop.

Every session shares one event loop: a request that computes for 20 ms delays every other client's
reply by 20 ms. Work that may be long checks a :class:`TimeSlice` between small steps and yields to the
loop once its budget is spent, so a ping from another connection waits for at most one budget.
Counting steps instead of time would not do: a step's cost varies with the machine and the request.
"""
from __future__ import annotations

import asyncio
import time
import weakref

#: How long a heavy request may hold the loop before it lets other sessions' work run.
SLICE_BUDGET_S = 0.0005


class TimeSlice:
    """A stopwatch over one stretch of work: spent once it has run for its budget."""

    def __init__(self, budget_s: float = SLICE_BUDGET_S) -> None:
        self.budget_s = budget_s
        self._started = time.perf_counter()

    def spent(self) -> bool:
        """True once this stretch has run for its budget."""
        return time.perf_counter() - self._started >= self.budget_s


#: Each running loop's budget for the current turn, shared by all long work (dropped at the next turn).
_TURNS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, TimeSlice] = weakref.WeakKeyDictionary()


def turn_slice(loop: asyncio.AbstractEventLoop, budget_s: float = SLICE_BUDGET_S) -> TimeSlice:
    """This turn of the loop's one budget for long work: every desk's replies in progress and every stepped
    request share it, so a turn does one budget of such work in all and then polls the sockets (many
    requests each with a budget of their own would make one turn many budgets long). Made by the first
    caller of a turn, which therefore always gets a step; dropped at the start of the next turn."""
    budget = _TURNS.get(loop)
    if budget is None:
        budget = _TURNS[loop] = TimeSlice(budget_s)
        loop.call_soon(_TURNS.pop, loop, None)
    return budget


def turn_spent(loop: asyncio.AbstractEventLoop, budget_s: float = SLICE_BUDGET_S) -> bool:
    """True once this turn's shared budget is used up; False for the turn's first caller whatever the budget,
    so work always advances by at least one step a turn."""
    if loop not in _TURNS:
        turn_slice(loop, budget_s)
        return False
    return _TURNS[loop].spent()
