"""A SimPy environment stepped from asyncio: sim time = wall time elapsed x speed.

SimPy owns time. An inbound request is handled at the current sim time (``catch_up``), its
reply is produced by a SimPy process, and injected latency is a ``yield env.timeout(...)``.
The asyncio task :meth:`SimClock.run` sleeps until the wall time of the next scheduled
SimPy event, or until :meth:`wake` says new events were scheduled.
"""
from __future__ import annotations

import asyncio
import math
import time
from datetime import datetime, timedelta, timezone

import simpy

#: Default start of simulated time: a US regular-session open, in UTC.
DEFAULT_START = datetime(2026, 11, 24, 14, 30, tzinfo=timezone.utc)


class SimClock:
    """Couples a :class:`simpy.Environment` to the wall clock at ``speed`` sim-seconds per wall-second."""

    def __init__(self, speed: float = 1.0, start: datetime = DEFAULT_START) -> None:
        if speed <= 0:
            raise ValueError(f"clock speed must be > 0, got {speed}")
        self.env = simpy.Environment()
        self.speed = float(speed)
        self.start = start
        self._t0 = time.monotonic()
        self._t0_wall = time.time()
        self._wake: asyncio.Event | None = None
        self._stopped = False

    # -- time conversions
    @property
    def t0_monotonic_s(self) -> float:
        """``time.monotonic()`` at sim second 0: the reference a handler on faked time shares (harness.faketime)."""
        return self._t0

    @property
    def t0_wall_s(self) -> float:
        """``time.time()`` at sim second 0, for processes that only share the wall clock (other containers)."""
        return self._t0_wall

    def target(self) -> float:
        """Sim time that corresponds to now on the wall clock."""
        return (time.monotonic() - self._t0) * self.speed

    @property
    def now(self) -> float:
        return self.env.now

    def datetime_at(self, sim_seconds: float) -> datetime:
        return self.start + timedelta(seconds=sim_seconds)

    def now_datetime(self) -> datetime:
        return self.datetime_at(self.env.now)

    def epoch_now(self) -> float:
        return self.now_datetime().timestamp()

    # -- stepping
    def catch_up(self) -> None:
        """Advance the environment to the wall clock, running every event due by then."""
        env = self.env
        target = self.target()
        if target > env.now:
            env.run(until=target)
        self.run_due()

    def run_due(self) -> None:
        """Run events scheduled at or before the current sim time (e.g. a process just started)."""
        env = self.env
        while env.peek() <= env.now:
            env.step()

    def wake(self) -> None:
        """Tell :meth:`run` that events were scheduled from outside SimPy."""
        if self._wake is not None:
            self._wake.set()

    async def run(self) -> None:
        """Drive the environment until :meth:`stop`; runs as one asyncio task per gateway."""
        self._wake = asyncio.Event()
        # sim time runs from when the clock starts running, not from when it was made: building the
        # world (the exchange calendars) must not eat into a scenario's first seconds
        self._t0 = time.monotonic() - self.env.now / self.speed
        while not self._stopped:
            self.catch_up()
            nxt = self.env.peek()
            delay = None if math.isinf(nxt) else max(0.0, (nxt - self.target()) / self.speed)
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=delay)
            except (asyncio.TimeoutError, TimeoutError):
                pass

    def stop(self) -> None:
        self._stopped = True
        self.wake()
