"""The runtime fault API: ``gw.faults.add(...)``, ``.remove(name)``, ``.clear()``, ``.list()``.

Toxiproxy's toxics on a running proxy, for the mock gateway: a test adds a named fault while its
client is connected, sees the behaviour, removes it and sees it stop. A fault is added in its
scenario-file form (``add("latency", distribution={"kind": "fixed", "ms": 200})`` or
``add({"type": "latency", ...})``) and validated by the scenario loader's schema and wording
(:mod:`.spec`), or given as a built :class:`~.base.Fault`. Its times count from the moment it is
added: without a schedule it acts from now until removed (a one-off such as ``disconnect`` acts
once, now); ``after_s`` / ``for_s`` delay and bound it; ``schedule=`` takes the YAML schedule, whose
fields may also be given flat (``add("disconnect", every_s=30)``, ``add("connectivity_loss",
at_s=5, duration_s=60)``), checked as in a scenario file.

The stack is the gateway's one :class:`~.base.FaultStack` (sessions, the order engine and the
world ask it), so a fault added here acts wherever a scheduled one would. Every change runs on
the gateway's event loop (the caller may be any thread) and is written to the event log
(``fault_added`` / ``fault_removed``), so the harness accounts for runtime faults as for
scheduled ones.
"""
from __future__ import annotations

import dataclasses
import difflib
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from .base import Fault, FaultStack, GatewayControl
from .common import NamedFault, ScheduledFault, _plain
from .connection import DailyRestart
from .registry import FAULT_TYPES
from .schedule import Schedule
from .spec import FaultSpecError, UnknownFaultType, fault_from_spec

SCENARIO, RUNTIME = "scenario", "runtime"
T = TypeVar("T")


class FaultApiError(Exception):
    """Base of the runtime fault API's own errors (bad specs raise :class:`.spec.FaultSpecError`)."""


class DuplicateFaultName(FaultApiError, ValueError):
    """A fault of that name is already active."""


class NoSuchFault(FaultApiError, LookupError):
    """No active fault has that name."""

    def __str__(self) -> str:   # LookupError would quote the message
        return str(self.args[0]) if self.args else ""


class GatewayNotRunning(FaultApiError, RuntimeError):
    """The gateway has stopped: there is nothing to add a fault to."""


@dataclass(frozen=True)
class ActiveFault:
    """One fault acting on the gateway: what :meth:`RuntimeFaults.list` shows."""

    name: str
    kind: str                       # the scenario-file type ("latency"), or the class name of a custom Fault
    params: dict[str, Any]          # as in the event log; a runtime fault's schedule in absolute sim seconds
    origin: str                     # "scenario" (there when the gateway started) or "runtime"
    added_at_s: float | None = None  # sim second it was added; None: from the start

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _kind(fault: Fault) -> str:
    return str(getattr(fault, "type", type(fault).__name__))


def _params(fault: Fault) -> dict[str, Any]:
    return fault.params() if isinstance(fault, NamedFault) else {}


def _non_negative(name: str, value: float | None, *, positive: bool = False) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or value < 0 or (positive and value == 0):
        raise FaultSpecError([(name, f"must be a {'positive' if positive else 'non-negative'} finite number of "
                                     f"sim seconds, not {value!r}")])
    return float(value)


#: A fault's name: what the event log's ``fault`` column lists (comma-separated, ``name:rule``).
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def _check_name(name: object, kind: str) -> None:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise FaultSpecError([("name", f"{name!r} is not a fault name: 1 to 64 letters, digits, '_', '.' or '-', "
                                       "starting with a letter or digit")], kind)


#: A schedule's fields, which ``add`` also takes flat (``add("disconnect", at_s=5)``).
SCHEDULE_FIELDS = frozenset(f.name for f in dataclasses.fields(Schedule) if f.init)


def _nest_schedule(kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    """Schedule fields given flat moved into ``schedule`` (a field of the fault's own, such as
    daily_restart's ``duration_s``, stays the fault's)."""
    own = {f.name for f in dataclasses.fields(FAULT_TYPES[kind]) if f.init}
    flat = {k: v for k, v in spec.items() if k in SCHEDULE_FIELDS and k not in own}
    if not flat:
        return spec
    if spec.get("schedule") is not None:
        raise FaultSpecError([(", ".join(sorted(flat)), "give the schedule's fields either flat or in schedule=, "
                                                        "not both")], kind)
    return {**{k: v for k, v in spec.items() if k not in flat}, "schedule": flat}


def _validation_schedule(kind: str, spec: Mapping[str, Any]) -> dict[str, Any] | None:
    """A stand-in schedule so a fault that needs one validates without it (the real one is set when added)."""
    cls = FAULT_TYPES[kind]
    if spec.get("schedule") is not None or not getattr(cls, "needs_schedule", False):
        return None
    return {"at_s": 0.0, "duration_s": 1.0}


class RuntimeFaults(FaultStack):
    """The gateway's fault stack, changeable while it runs. Read any time; changed on the gateway's loop."""

    def __init__(self, faults: Iterable[Fault] = (), *, seed: int = 0, start: datetime | None = None) -> None:
        super().__init__(faults)
        self._seed = seed
        self._start = start
        self._ctl: GatewayControl | None = None
        self._origin: dict[int, tuple[str, float | None]] = {id(f): (SCENARIO, None) for f in self.faults}

    # ------------------------------------------------------------------ lifecycle
    def install(self, ctl: GatewayControl) -> None:
        self._ctl = ctl
        super().install(ctl)

    def _on_loop(self, fn: Callable[[], T], *, change: bool = True) -> T:
        """Run ``fn`` where the gateway's state lives: its loop (from any thread), or here before it starts
        and, to read, after it stopped."""
        ctl = self._ctl
        if ctl is None:
            return fn()
        if not getattr(ctl, "running", True):
            if not change:
                return fn()
            raise GatewayNotRunning("the mock gateway has stopped; start one (mock_gateway_factory) to change "
                                    "its faults")
        call = getattr(ctl, "call", None)
        if call is None:
            return fn()
        try:
            return call(fn)  # type: ignore[no-any-return]
        except RuntimeError as exc:   # the loop closed between the check and the call
            if isinstance(exc, FaultApiError) or getattr(ctl, "running", True):
                raise
            raise GatewayNotRunning("the mock gateway stopped while the fault change was on its way") from exc

    def _now(self) -> float:
        return float(self._ctl.env.now) if self._ctl is not None else 0.0

    def _record(self, msg: str, fault: Fault, **attrs: Any) -> None:
        sys_event = getattr(self._ctl, "sys_event", None)
        if sys_event is None:
            return
        origin, _ = self._origin.get(id(fault), (SCENARIO, None))
        # no ``fault`` column: adding a fault is not the fault acting (the harness counts those marks)
        sys_event(msg, attrs={"name": fault.name, "type": _kind(fault), "origin": origin, **attrs})

    # ------------------------------------------------------------------ the API
    def add(self, fault: str | Mapping[str, Any] | Fault, name: str | None = None, *,
            schedule: Mapping[str, Any] | Schedule | None = None, after_s: float | None = None, for_s: float | None = None,
            replace: bool = False, by: str | None = None, context: Mapping[str, Any] | None = None,
            **params: Any) -> ActiveFault:
        """Add a fault acting from now; returns it as :meth:`list` shows it.

        ``fault``: a type from the registry (``"latency"``, ``"disconnect"``...) with its parameters as
        keywords, a mapping in the scenario-file form (``{"type": ..., ...}``), or a built Fault.
        ``name``: unique among active faults (default: the type). ``schedule``: the YAML schedule,
        its times counted from now; its fields may be given flat (``at_s=5, duration_s=10``). Without one the fault acts from ``after_s`` (default now) for
        ``for_s`` sim seconds (default: until removed); a one-off (``disconnect``) acts once.
        ``replace``: remove an active fault of the same name first (e.g. a default pacing rule).
        ``by``: who asked (the HTTP control API passes the caller's address), written on the event.
        ``context``: the scenario loader's validation context (``base_dir``, ``data_dirs``): files a spec
        names are then resolved as an untrusted scenario's are (the HTTP API passes one; None: trusted).

        Raises :class:`~.spec.UnknownFaultType`, :class:`~.spec.FaultSpecError` (bad parameters, as the
        scenario loader words them), :class:`DuplicateFaultName`, :class:`GatewayNotRunning`."""
        after = _non_negative("after_s", after_s)
        length = _non_negative("for_s", for_s, positive=True)
        built = self._build(fault, name, schedule, params, context)
        _check_name(built.name, _kind(built))
        if (after is not None or length is not None) and not isinstance(built, NamedFault):
            raise FaultSpecError([("after_s/for_s", "a custom Fault has no schedule to set; time it in its hooks")],
                                 _kind(built))
        if (after is not None or length is not None) and (schedule is not None or isinstance(built, DailyRestart)
                                                          or getattr(built, "schedule", None) is not None):
            raise FaultSpecError([("after_s/for_s", "give either a schedule or after_s/for_s, not both"
                                   + (" (daily_restart is scheduled by time and timezone)"
                                      if isinstance(built, DailyRestart) else ""))], _kind(built))
        timing = (after, length, schedule is not None or getattr(built, "schedule", None) is not None)
        return self._on_loop(lambda: self._add_now(built, timing, replace, by))

    def remove(self, name: str, *, by: str | None = None) -> ActiveFault:
        """Stop the fault at once: its hooks no longer asked, its processes stopped, and an occurrence
        under way ended as at its scheduled end (a restart's port re-opens, an outage sends 1102)."""
        return self._on_loop(lambda: self._remove_now(name, by))

    def clear(self, *, by: str | None = None) -> list[ActiveFault]:
        """Remove every fault, runtime and scheduled (the default pacing rules too); returns them."""
        def clear_now() -> list[ActiveFault]:
            removed = []
            while self.faults:
                removed.append(self._remove_now(self.faults[-1].name, by))
            return removed
        return self._on_loop(clear_now)

    def list(self) -> list[ActiveFault]:
        """The active faults, in the order the gateway asks them."""
        return self._on_loop(lambda: [self._describe(f) for f in self.faults], change=False)

    def get(self, name: str) -> ActiveFault:
        for active in self.list():
            if active.name == name:
                return active
        raise self._no_such(name)

    def __iter__(self) -> Iterator[ActiveFault]:
        return iter(self.list())

    def __len__(self) -> int:
        return len(self.faults)

    def __bool__(self) -> bool:   # an empty stack is still the gateway's stack
        return True

    def __contains__(self, name: object) -> bool:
        return any(f.name == name for f in list(self.faults))

    def __repr__(self) -> str:
        return f"RuntimeFaults({', '.join(f'{f.name}:{_kind(f)}' for f in list(self.faults))})"

    # ------------------------------------------------------------------ on the loop
    def _build(self, fault: str | Mapping[str, Any] | Fault, name: str | None,
               schedule: Mapping[str, Any] | Schedule | None,
               params: dict[str, Any], context: Mapping[str, Any] | None = None) -> Fault:
        if isinstance(fault, Fault):
            if params or schedule is not None:
                raise FaultSpecError([(None, "a built fault carries its own parameters; pass a type name or a "
                                             "mapping to give them as keywords")], _kind(fault))
            if name is not None:
                if not isinstance(fault, NamedFault):
                    raise FaultSpecError([("name", "only a NamedFault can be renamed here; set its name attribute")])
                fault = dataclasses.replace(fault, name=name)
            return fault
        if isinstance(fault, str):
            spec: dict[str, Any] = {"type": fault, **params}
        elif isinstance(fault, Mapping):
            spec = {**fault, **params}
        else:
            raise FaultSpecError([(None, f"a fault is a type name, a mapping or a Fault, not {type(fault).__name__}")])
        if name is not None:
            spec["name"] = name
        if schedule is not None:
            spec["schedule"] = schedule
        kind = spec.get("type")
        if not isinstance(kind, str) or kind not in FAULT_TYPES:
            if kind is None:
                fault_from_spec(spec)   # raises the loader's "missing type" error
            raise UnknownFaultType(kind)
        spec = _nest_schedule(kind, spec)
        stand_in = _validation_schedule(kind, spec)
        built = fault_from_spec({**spec, "schedule": stand_in} if stand_in else spec, context)
        if stand_in is not None:
            built.schedule = None   # the real one is set when it is added, from the sim time then
        return built

    def _timed(self, fault: Fault, now: float, after: float | None, length: float | None, scheduled: bool) -> Fault:
        """``fault`` with its times moved to count from ``now``, bound to the gateway's seed and start."""
        if not isinstance(fault, NamedFault):
            return fault
        if isinstance(fault, DailyRestart):
            sched = None
        elif scheduled:
            assert fault.schedule is not None
            sched = fault.schedule.shifted(now)
        else:
            sched = _runtime_schedule(fault, now, after or 0.0, length)
        seed = fault.seed if fault.seed is not None else self._seed
        timed = dataclasses.replace(fault, schedule=sched, seed=seed)
        return timed.bound(seed, self._start) if self._start is not None else timed

    def _add_now(self, fault: Fault, timing: tuple[float | None, float | None, bool], replace: bool,
                 by: str | None = None) -> ActiveFault:
        if any(f.name == fault.name for f in self.faults):
            if not replace:
                raise DuplicateFaultName(
                    f"a fault named {fault.name!r} is already active ({self._describe_name(fault.name)}); "
                    f"give this one another name=, remove({fault.name!r}) first, or pass replace=True")
            self._remove_now(fault.name, by)
        now = self._now()
        if isinstance(fault, DailyRestart) and self._start is None:
            raise FaultSpecError([(None, "daily_restart needs the gateway's start time")], "daily_restart")
        fault = self._timed(fault, now, *timing)
        self.faults.append(fault)
        self._origin[id(fault)] = (RUNTIME, now)
        self._record("fault_added", fault, params=_plain(_params(fault)), **({"by": by} if by else {}))
        if self._ctl is not None:
            fault.install(self._ctl)
        return self._describe(fault)

    def _remove_now(self, name: str, by: str | None = None) -> ActiveFault:
        matching = [f for f in self.faults if f.name == name]
        if not matching:
            raise self._no_such(name)
        described = self._describe(matching[0])
        self.faults[:] = [f for f in self.faults if f.name != name]
        for fault in matching:
            if self._ctl is not None:
                fault.uninstall(self._ctl)
            self._record("fault_removed", fault, **({"by": by} if by else {}))
            self._origin.pop(id(fault), None)
        return described

    def _no_such(self, name: str) -> NoSuchFault:
        names = [f.name for f in list(self.faults)]
        close = difflib.get_close_matches(str(name), names, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        active = ", ".join(repr(n) for n in names) or "none"
        return NoSuchFault(f"no active fault named {name!r}{hint}; active faults: {active}")

    def _describe(self, fault: Fault) -> ActiveFault:
        origin, added = self._origin.get(id(fault), (SCENARIO, None))
        return ActiveFault(fault.name, _kind(fault), _plain(_params(fault)), origin, added)

    def _describe_name(self, name: str) -> str:
        fault = next(f for f in self.faults if f.name == name)
        origin, added = self._origin.get(id(fault), (SCENARIO, None))
        when = f"added at {added:g} s" if added is not None else "there from the start"
        return f"{_kind(fault)}, {origin}, {when}"


def _runtime_schedule(fault: NamedFault, now_s: float, after_s: float, length_s: float | None) -> Schedule | None:
    """When a fault added without a schedule acts: ``after_s`` from now, for ``length_s`` (None: until removed)."""
    start = now_s + after_s
    if isinstance(fault, ScheduledFault):
        # a one-off strikes once; a window (restart, outage, farm down) lasts until its end or its removal
        return Schedule(at_s=start, duration_s=0.0 if fault.one_shot else (length_s or math.inf))
    if after_s == 0 and length_s is None:
        return None   # always on, as a scenario fault without a schedule
    return Schedule(from_s=start, to_s=math.inf if length_s is None else start + length_s)


__all__ = ["ActiveFault", "DuplicateFaultName", "FaultApiError", "GatewayNotRunning", "NoSuchFault", "RUNTIME",
           "RuntimeFaults", "SCENARIO"]
