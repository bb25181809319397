"""What every concrete fault shares: a name, a seed, an optional schedule, a fresh copy per run.

Concrete faults are keyword-only dataclasses, so the scenario loader validates their
parameters straight from YAML (pydantic reads the field types) and a Python user builds
them with the same names. Runtime state lives in ``init=False`` fields, reset by
:meth:`NamedFault.bound`, so one scenario can build many gateways.
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Generator
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from pathlib import PurePath
from typing import Any, ClassVar

import numpy as np
import simpy
from pydantic import ConfigDict

from ..sim.rng import stream
from .base import Fault, GatewayControl
from .schedule import Schedule


@dataclass(kw_only=True)
class NamedFault(Fault):
    """A fault with a name for the event log, a seed for its randomness and an optional schedule.

    Without a schedule a per-message fault is active for the whole run."""

    __pydantic_config__ = ConfigDict(extra="forbid", arbitrary_types_allowed=True)
    #: a scheduled fault needs a schedule; a per-message fault is active only inside occurrences
    #: that last, so its schedule needs a length
    needs_schedule: ClassVar[bool] = False
    needs_duration: ClassVar[bool] = True

    name: str = ""                      # shown in the event log; default: the fault's type
    seed: int | None = None             # default: the scenario seed
    schedule: Schedule | None = None

    _processes: list[simpy.Process] = field(init=False, default_factory=list, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.name:
            self.name = self.type  # type: ignore[attr-defined]
        if self.schedule is None and self.needs_schedule:
            raise ValueError(f"a {self.type} fault needs a schedule")  # type: ignore[attr-defined]
        if self.schedule is not None:
            if self.needs_duration and self.schedule.from_s is None and not self.schedule.duration_s:
                raise ValueError(f"a {self.type} fault lasts a while: give the schedule "  # type: ignore[attr-defined]
                                 "duration_s, or from_s/to_s")
            self.schedule = dataclasses.replace(self.schedule).bind(self.seed_value, self.name)

    @property
    def seed_value(self) -> int:
        return 0 if self.seed is None else self.seed

    def rng(self, *sub: str | int) -> np.random.Generator:
        """This fault's own seeded stream (other faults and the market draw from theirs)."""
        return stream(self.seed_value, "faults", self.name, *sub)

    def active(self, now: float) -> bool:
        return self.schedule is None or self.schedule.active(now)

    def spawn(self, ctl: GatewayControl, steps: Generator[simpy.Event, Any, None]) -> simpy.Process:
        """Start a SimPy process this fault owns: :meth:`uninstall` stops it."""
        process = ctl.env.process(_until_interrupted(steps))
        process.callbacks.append(_defuse_interrupt)   # interrupted before its first step: not a crash
        self._processes = [p for p in self._processes if p.is_alive] + [process]
        return process

    def uninstall(self, ctl: GatewayControl) -> None:
        """Stop this fault's processes (at once: each is interrupted where it waits)."""
        processes, self._processes = self._processes, []
        for process in processes:
            if process.is_alive and process is not ctl.env.active_process:
                process.interrupt("fault removed")

    def bound(self, seed: int, start: datetime) -> NamedFault:
        """A fresh copy for one run: scenario seed unless the fault has its own, clean state."""
        return dataclasses.replace(self, seed=self.seed if self.seed is not None else seed)

    def params(self) -> dict[str, Any]:
        """The fault's parameters, for its ``fault`` event-log line."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            if not f.init or f.name in ("name", "seed"):
                continue
            v = getattr(self, f.name)
            out[f.name] = _plain(v)
        return out


def _until_interrupted(steps: Generator[simpy.Event, Any, None]) -> Generator[simpy.Event, Any, None]:
    try:
        yield from steps
    except simpy.Interrupt:
        return


def _defuse_interrupt(event: simpy.Event) -> None:
    if not event.ok and isinstance(event.value, simpy.Interrupt):
        event.defused = True


def _plain(value: Any) -> Any:
    """JSON-friendly copy of a parameter value (enums by value, paths as text, no end as null)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Schedule):
        return value.describe()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, PurePath):
        return str(value)
    return value


@dataclass(kw_only=True)
class ScheduledFault(NamedFault):
    """A fault that acts at the start of each occurrence and, if it lasts, undoes it at the end."""

    needs_schedule: ClassVar[bool] = True
    needs_duration: ClassVar[bool] = False

    _occurring: bool = field(init=False, default=False, repr=False, compare=False)

    def install(self, ctl: GatewayControl) -> None:
        self.spawn(ctl, self._run(ctl))

    def _run(self, ctl: GatewayControl) -> Generator[simpy.Event, Any, None]:
        env = ctl.env
        for start, end in self.occurrences():
            if start < env.now and end <= env.now:
                continue   # over before the fault was installed (one added while the gateway runs)
            if start > env.now:
                yield env.timeout(start - env.now)
            ctl.log_fault(self.name, phase="begin", **self.params())
            self.begin(ctl, end - start)
            if end > start:
                self._occurring = True
                # an open-ended occurrence (end = inf) lasts until the fault is removed
                yield env.timeout(end - env.now) if math.isfinite(end) else env.event()
                self._occurring = False
                ctl.log_fault(self.name, phase="end")
                self.end(ctl)

    def uninstall(self, ctl: GatewayControl) -> None:
        """Stop the schedule; an occurrence under way ends now, as it would have at its end."""
        super().uninstall(ctl)
        if self._occurring:
            self._occurring = False
            ctl.log_fault(self.name, phase="end", removed=True)
            self.end(ctl)

    @property
    def one_shot(self) -> bool:
        """True when the fault has nothing to undo (its :meth:`end` is the neutral one): a drop, not a window."""
        return type(self).end is ScheduledFault.end

    def occurrences(self):  # type: ignore[no-untyped-def]
        assert self.schedule is not None
        return self.schedule.occurrences(self.seed_value, self.name)

    def begin(self, ctl: GatewayControl, duration_s: float) -> None:
        """The fault strikes."""

    def end(self, ctl: GatewayControl) -> None:
        """The occurrence is over: restore what :meth:`begin` broke."""
