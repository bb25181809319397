"""When a fault acts, in sim seconds: once, periodically, inside a window, or at random.

A schedule is a sequence of occurrences ``[start, end)`` on the SimPy clock. Scheduled faults
(disconnect, restart, connectivity loss) act at each start and undo at each end; per-message
faults (latency, rejects) are active while ``now`` lies inside an occurrence. Random
occurrences come from the fault's own seeded stream, drawn in time order, so they do not
depend on how often or when the gateway asks.
"""
from __future__ import annotations

import bisect
import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Annotated

import numpy as np
from pydantic import AfterValidator, ConfigDict, Field

from ..sim.rng import stream

NonNegative = Annotated[float, Field(ge=0)]
Positive = Annotated[float, Field(gt=0)]
#: Shortest period and highest rate a schedule may ask for: each occurrence is a SimPy event, and a
#: period of a nanosecond would keep the gateway's loop busy for ever (at speed 10 000, 0.01 s is
#: already a million occurrences per wall second).
MIN_PERIOD_S = 0.01
MAX_RATE_PER_MIN = 6000.0


def _at_least_min_period(value: float) -> float:
    if value < MIN_PERIOD_S:
        raise ValueError(f"a period of {value:g} s is too short: at least {MIN_PERIOD_S:g} sim seconds "
                         "(each occurrence is an event the gateway's loop runs)")
    return value


Period = Annotated[float, Field(gt=0), AfterValidator(_at_least_min_period)]


@dataclass(kw_only=True)
class Schedule:
    """Exactly one of: ``at_s``; ``every_s`` (+ ``start_s``, ``until_s``); ``from_s`` and ``to_s``;
    ``rate_per_min`` (Poisson, + ``start_s``, ``until_s``). ``duration_s`` is how long each
    occurrence lasts (a window has its own length); ``count`` caps the occurrences."""

    __pydantic_config__ = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    at_s: NonNegative | None = None
    every_s: Period | None = None
    from_s: NonNegative | None = None
    to_s: NonNegative | None = None
    rate_per_min: Annotated[float, Field(gt=0, le=MAX_RATE_PER_MIN)] | None = None
    start_s: NonNegative = 0.0
    until_s: NonNegative | None = None
    duration_s: NonNegative = 0.0
    count: Annotated[int, Field(ge=1)] | None = None

    _starts: list[float] = field(init=False, default_factory=list, repr=False, compare=False)
    _source: Iterator[tuple[float, float]] | None = field(init=False, default=None, repr=False, compare=False)
    _max_end: list[float] = field(init=False, default_factory=list, repr=False, compare=False)

    def __post_init__(self) -> None:
        modes = [m for m, v in (("at_s", self.at_s), ("every_s", self.every_s),
                                ("rate_per_min", self.rate_per_min)) if v is not None]
        if self.from_s is not None or self.to_s is not None:
            modes.append("from_s/to_s")
        if len(modes) != 1:
            raise ValueError("a schedule needs exactly one of at_s, every_s, from_s/to_s or rate_per_min"
                             + (f" (got {', '.join(modes)})" if modes else ""))
        if modes == ["from_s/to_s"]:
            if self.from_s is None or self.to_s is None:
                raise ValueError("a window needs both from_s and to_s")
            if self.to_s <= self.from_s:
                raise ValueError(f"to_s ({self.to_s}) must be after from_s ({self.from_s})")
            if self.duration_s:
                raise ValueError("a window sets its own length; drop duration_s")
        periodic = self.every_s is not None or self.rate_per_min is not None
        if not periodic and (self.start_s or self.until_s is not None or self.count is not None):
            raise ValueError("start_s, until_s and count apply only to every_s or rate_per_min")
        if self.until_s is not None and self.until_s <= self.start_s:
            raise ValueError(f"until_s ({self.until_s}) must be after start_s ({self.start_s})")

    # -- occurrences
    @property
    def first_start_s(self) -> float:
        if self.at_s is not None:
            return self.at_s
        if self.from_s is not None:
            return self.from_s
        return self.start_s

    @property
    def last_start_s(self) -> float | None:
        """The latest time an occurrence can start (None: unbounded)."""
        if self.at_s is not None:
            return self.at_s
        if self.from_s is not None:
            return self.from_s
        return self.until_s

    def occurrences(self, seed: int = 0, name: str = "fault") -> Iterator[tuple[float, float]]:
        """``(start_s, end_s)`` of each occurrence, in order; may be infinite."""
        if self.at_s is not None:
            yield self.at_s, self.at_s + self.duration_s
            return
        if self.from_s is not None and self.to_s is not None:
            yield self.from_s, self.to_s
            return
        rng: np.random.Generator | None = None
        if self.rate_per_min is not None:
            rng = stream(seed, "faults", name, "schedule")
        t, n = self.start_s, 0
        while self.count is None or n < self.count:
            if rng is not None:
                t += float(rng.exponential(60.0 / self.rate_per_min))  # type: ignore[operator]
            if self.until_s is not None and t >= self.until_s:
                return
            yield t, t + self.duration_s
            n += 1
            if rng is None:
                t = self.start_s + n * self.every_s  # type: ignore[operator]  # no float drift

    def shifted(self, offset_s: float) -> Schedule:
        """The same schedule ``offset_s`` sim seconds later (a runtime fault's times count from when it was added)."""
        if offset_s == 0:
            return dataclasses.replace(self)
        periodic = self.every_s is not None or self.rate_per_min is not None
        moved = {k: getattr(self, k) + offset_s for k in ("at_s", "from_s", "to_s", "until_s")
                 if getattr(self, k) is not None}
        if periodic:
            moved["start_s"] = self.start_s + offset_s
        return dataclasses.replace(self, **moved)

    def bind(self, seed: int, name: str) -> Schedule:
        """Fix the random stream this schedule draws from (before :meth:`active` is asked)."""
        self._source = self.occurrences(seed, name)
        self._starts, self._max_end = [], []
        return self

    def active(self, now: float) -> bool:
        """True while ``now`` lies inside an occurrence."""
        if self._source is None:
            self.bind(0, "fault")
        while not self._starts or self._starts[-1] <= now:
            nxt = next(self._source, None)  # type: ignore[arg-type]
            if nxt is None:
                break
            self._starts.append(nxt[0])
            self._max_end.append(max(nxt[1], self._max_end[-1]) if self._max_end else nxt[1])
        i = bisect.bisect_right(self._starts, now)
        # occurrences may overlap (duration_s > every_s): the latest end among those started decides
        return i > 0 and self._max_end[i - 1] > now

    def __repr__(self) -> str:
        parts = [f"{k}={v}" for k, v in (("at_s", self.at_s), ("every_s", self.every_s), ("from_s", self.from_s),
                                         ("to_s", self.to_s), ("rate_per_min", self.rate_per_min))
                 if v is not None]
        if self.duration_s:
            parts.append(f"duration_s={self.duration_s}")
        return f"Schedule({', '.join(parts)})"

    def describe(self) -> dict[str, float | int]:
        """The set parameters, for the fault's event-log line."""
        out: dict[str, float | int] = {}
        for k in ("at_s", "every_s", "from_s", "to_s", "rate_per_min", "until_s", "count"):
            v = getattr(self, k)
            if v is not None:
                out[k] = v
        if self.start_s:
            out["start_s"] = self.start_s
        if self.duration_s:
            out["duration_s"] = self.duration_s
        return out

