"""A SimPy environment stepped from asyncio: sim time = wall time elapsed x speed.

SimPy owns time. An inbound request is handled at the current sim time (``catch_up``), its
reply is produced by a SimPy process, and injected latency is a ``yield env.timeout(...)``.
The asyncio task :meth:`SimClock.run` sleeps until the wall time of the next scheduled
SimPy event, or until :meth:`wake` says new events were scheduled.

The clock never pauses when the machine delays the loop: the handler's libfaketime clock runs at a
fixed rate from the same start, so a paused SimClock would fall behind it for good. The delay is
measured instead (:class:`LoopLagMonitor`, ``loop_lag`` events) and judged by the harness.
"""
from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

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


# ---------------------------------------------------------------------------- loop lag
#: How often (real seconds) the lag monitor asks the event loop to wake it.
LAG_PERIOD_S = 0.05
#: A late wake-up is logged when it is at least this late in real seconds *and* in simulated seconds:
#: shorter delays are noise at any speed, and at speed 1 a few ms of real delay mean nothing.
LAG_REPORT_REAL_S = 0.005
LAG_REPORT_SIM_S = 0.25


@dataclass
class LagEpisode:
    """Consecutive late wake-ups of the gateway's event loop."""

    from_sim_s: float            # sim time when the first late wake-up came
    max_lag_real_s: float        # the longest single delay, real seconds
    late_wakeups: int = 1

    def lag_sim_s(self, speed: float) -> float:
        return self.max_lag_real_s * speed


@dataclass
class LagStats:
    """What the monitor saw over the whole run (for RESULT.json and benchmarks)."""

    wakeups: int = 0
    late_wakeups: int = 0        # at least LAG_REPORT_* late
    max_lag_real_s: float = 0.0
    total_lag_real_s: float = 0.0   # how much real time the loop's wake-ups were late, summed

    def to_json(self, speed: float) -> dict[str, Any]:
        return {"wakeups": self.wakeups, "late_wakeups": self.late_wakeups,
                "max_lag_ms": round(self.max_lag_real_s * 1000, 3),
                "max_lag_sim_s": round(self.max_lag_real_s * speed, 6),
                "total_lag_ms": round(self.total_lag_real_s * 1000, 3)}


class LoopLagMonitor:
    """Measures how late the gateway's event loop wakes up, in real and in simulated seconds.

    At speed S a 20 ms scheduling delay of this machine is 20*S ms of simulated time in which the
    gateway neither reads nor answers, while the handler's clock (libfaketime, fixed rate from the
    shared start) runs on. The SimClock does not pause for it: pausing would put the gateway behind
    the handler's clock by every stall for the rest of the run. Instead each episode of late
    wake-ups is reported (``on_episode``: the harness logs ``loop_lag`` events) so a handler failure
    that coincides with one is judged as the machine's, not the handler's (harness.expectations).
    """

    def __init__(self, clock: SimClock, on_episode: Callable[[LagEpisode], None] | None = None,
                 period_s: float = LAG_PERIOD_S, report_real_s: float = LAG_REPORT_REAL_S,
                 report_sim_s: float = LAG_REPORT_SIM_S) -> None:
        self.clock = clock
        self.on_episode = on_episode
        self.period_s = period_s
        self.report_real_s = report_real_s
        self.report_sim_s = report_sim_s
        self.stats = LagStats()
        self._episode: LagEpisode | None = None
        self._stopped = False

    def observe(self, lag_real_s: float) -> None:
        """One wake-up that came ``lag_real_s`` late (pure bookkeeping; :meth:`run` measures)."""
        lag_real_s = max(0.0, lag_real_s)
        st = self.stats
        st.wakeups += 1
        st.total_lag_real_s += lag_real_s
        st.max_lag_real_s = max(st.max_lag_real_s, lag_real_s)
        if lag_real_s >= self.report_real_s and lag_real_s * self.clock.speed >= self.report_sim_s:
            st.late_wakeups += 1
            if self._episode is None:
                # the stall began lag_real_s ago: that is when the gateway stopped answering
                self._episode = LagEpisode(max(0.0, self.clock.target() - lag_real_s * self.clock.speed), lag_real_s, 0)
            self._episode.max_lag_real_s = max(self._episode.max_lag_real_s, lag_real_s)
            self._episode.late_wakeups += 1
        else:
            self.flush()

    def flush(self) -> None:
        """Report the episode under way, if any."""
        episode, self._episode = self._episode, None
        if episode is not None and self.on_episode is not None:
            self.on_episode(episode)

    async def run(self) -> None:
        """Wake every ``period_s`` real seconds and measure how late each wake-up came, until :meth:`stop`."""
        while not self._stopped:
            due = time.monotonic() + self.period_s
            await asyncio.sleep(self.period_s)
            self.observe(time.monotonic() - due)
        self.flush()

    def stop(self) -> None:
        self._stopped = True
