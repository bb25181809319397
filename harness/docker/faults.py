"""Container faults through the Docker SDK, scheduled from a scenario's ``container_faults``.

Each action is one small class (:class:`ContainerAction`: ``begin`` and ``undo``) registered in
:data:`CONTAINER_ACTIONS`, the one list the scenario loader, the scheduler and the log merge read;
each execution is one ``sys``
``container_fault`` event (source "docker") with its wall time, so the metrics read what
happened from the same event log as everything else. A fault with ``duration_s`` is undone
after that long (kill -> start, pause -> unpause, disconnect -> reconnect, restart -> a stop
of that length before the start), and the undo is logged as its own event.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from mock_gateway.eventlog import EventLog

if TYPE_CHECKING:
    from docker.models.containers import Container
    from docker.models.networks import Network

EVENT = "container_fault"


class ContainerFaultError(ValueError):
    """A container fault in a scenario cannot be executed as written."""


class ContainerAction:
    """One container fault: what :meth:`begin` does to the stack and what :meth:`undo` puts back.

    ``undo_name`` is the action logged when a fault with ``duration_s`` is undone (None: the action
    takes no duration). ``ends_sessions``: it drops every connection without a goodbye, so the
    event-log merge adds the disconnects the dead gateway could not write.
    """

    name: ClassVar[str]
    undo_name: ClassVar[str | None] = None
    ends_sessions: ClassVar[bool] = False
    targets_handler: ClassVar[bool] = False

    def begin(self, c: ContainerFaults) -> dict[str, Any]:
        raise NotImplementedError

    def undo(self, c: ContainerFaults) -> dict[str, Any]:
        raise ContainerFaultError(f"container fault {self.name} cannot be undone")


class KillGateway(ContainerAction):
    name, undo_name, ends_sessions = "kill_gateway", "start_gateway", True

    def begin(self, c: ContainerFaults) -> dict[str, Any]:
        c.gateway.kill()  # SIGKILL: sessions end without a goodbye, like a crashed gateway
        return {"signal": "SIGKILL"}

    def undo(self, c: ContainerFaults) -> dict[str, Any]:
        c.gateway.start()
        return {}


class RestartGateway(ContainerAction):
    """Without a duration a ``docker restart``; with one, stopped for that long, then started."""

    name, undo_name = "restart_gateway", "start_gateway"

    def begin(self, c: ContainerFaults) -> dict[str, Any]:
        c.gateway.restart(timeout=c.stop_timeout_s)
        return {"stop_timeout_s": c.stop_timeout_s}

    def stop(self, c: ContainerFaults) -> dict[str, Any]:
        c.gateway.stop(timeout=c.stop_timeout_s)
        return {"stop_timeout_s": c.stop_timeout_s}

    def undo(self, c: ContainerFaults) -> dict[str, Any]:
        c.gateway.start()
        return {}


class PauseGateway(ContainerAction):
    name, undo_name = "pause_gateway", "unpause_gateway"

    def begin(self, c: ContainerFaults) -> dict[str, Any]:
        c.gateway.pause()  # frozen: TCP stays up, nothing answers
        return {}

    def undo(self, c: ContainerFaults) -> dict[str, Any]:
        c.gateway.unpause()
        return {}


class UnpauseGateway(ContainerAction):
    name = "unpause_gateway"

    def begin(self, c: ContainerFaults) -> dict[str, Any]:
        return PauseGateway().undo(c)


class DisconnectGateway(ContainerAction):
    name, undo_name = "disconnect_gateway", "reconnect_gateway"

    def begin(self, c: ContainerFaults) -> dict[str, Any]:
        c.gateway.reload()
        settings = c.gateway.attrs["NetworkSettings"]["Networks"].get(c.network.name) or {}
        c.aliases = [a for a in settings.get("Aliases") or [] if a != c.gateway.id[:12]]
        c.network.disconnect(c.gateway)
        return {"network": c.network.name, "aliases": c.aliases}

    def undo(self, c: ContainerFaults) -> dict[str, Any]:
        c.network.connect(c.gateway, aliases=c.aliases or None)
        return {"network": c.network.name, "aliases": c.aliases}


class ReconnectGateway(ContainerAction):
    name = "reconnect_gateway"

    def begin(self, c: ContainerFaults) -> dict[str, Any]:
        return DisconnectGateway().undo(c)


class RestartHandler(ContainerAction):
    name, targets_handler = "restart_handler", True

    def begin(self, c: ContainerFaults) -> dict[str, Any]:
        if c.handler is None:
            raise ContainerFaultError("restart_handler: this stack has no handler container")
        c.handler.restart(timeout=c.stop_timeout_s)
        return {"stop_timeout_s": c.stop_timeout_s}


#: Every container fault a scenario may schedule, by its ``action`` name.
CONTAINER_ACTIONS: dict[str, type[ContainerAction]] = {cls.name: cls for cls in (
    KillGateway, RestartGateway, PauseGateway, UnpauseGateway, DisconnectGateway, ReconnectGateway, RestartHandler)}
ACTIONS = tuple(CONTAINER_ACTIONS)
#: The action that undoes a fault given a ``duration_s``.
UNDO = {name: cls.undo_name for name, cls in CONTAINER_ACTIONS.items() if cls.undo_name}
#: Actions that end every session without the gateway writing a disconnect.
SESSION_ENDING = tuple(name for name, cls in CONTAINER_ACTIONS.items() if cls.ends_sessions)
_UNDO_OF = {undo: name for name, undo in UNDO.items() if name != "restart_gateway"}


@dataclass(frozen=True)
class ContainerFault:
    """One scheduled action: ``at_s`` scenario seconds after the gateway's sim 0."""

    action: str
    at_s: float
    duration_s: float | None = None

    def __post_init__(self) -> None:
        for problem in container_fault_problems(self.action, self.at_s, self.duration_s):
            raise ContainerFaultError(problem)

    @classmethod
    def coerce(cls, item: Any) -> ContainerFault:
        """From a scenario entry: a mapping, a pydantic model or an instance."""
        if isinstance(item, ContainerFault):
            return item
        data = item if isinstance(item, dict) else (item.model_dump() if hasattr(item, "model_dump") else vars(item))
        return cls(action=str(data["action"]), at_s=float(data["at_s"]),
                   duration_s=None if data.get("duration_s") is None else float(data["duration_s"]))


def container_fault_problems(action: str, at_s: float, duration_s: float | None) -> list[str]:
    """What is wrong with a container fault as written (empty: nothing); the scenario loader uses it too."""
    if action not in CONTAINER_ACTIONS:
        return [f"unknown container fault action {action!r}; expected one of {', '.join(ACTIONS)}"]
    out = []
    if at_s < 0:
        out.append(f"container fault {action}: at_s must be >= 0, got {at_s}")
    if duration_s is not None and duration_s <= 0:
        out.append(f"container fault {action}: duration_s must be > 0, got {duration_s}")
    elif duration_s is not None and action not in UNDO:
        out.append(f"container fault {action} takes no duration_s (only {', '.join(UNDO)} can be undone)")
    return out


@dataclass
class ContainerFaults:
    """The stack a fault acts on (gateway, its network, the handler) and the log its actions go to."""

    gateway: Container
    network: Network
    event_log: EventLog
    handler: Container | None = None
    stop_timeout_s: int = 5
    aliases: list[str] = field(default_factory=list)

    def _method(self, action: str) -> Callable[[], dict[str, Any]]:
        if action in CONTAINER_ACTIONS:
            return lambda: CONTAINER_ACTIONS[action]().begin(self)
        if action == "stop_gateway":
            return lambda: RestartGateway().stop(self)
        if action == "start_gateway":
            return lambda: KillGateway().undo(self)
        if action in _UNDO_OF:
            return lambda: CONTAINER_ACTIONS[_UNDO_OF[action]]().undo(self)
        raise ContainerFaultError(f"unknown container action {action!r}")

    def __getattr__(self, action: str) -> Callable[[], dict[str, Any]]:
        """``faults.kill_gateway()`` and friends: each action (and each undo) by name."""
        if action.startswith("_"):
            raise AttributeError(action)
        try:
            return self._method(action)
        except ContainerFaultError:
            raise AttributeError(action) from None

    def apply(self, action: str, **attrs: Any) -> dict[str, Any]:
        """Run one action now and log it; a failed action is logged with its error and re-raised."""
        method = self._method(action)
        target = self.handler if action.endswith("_handler") else self.gateway
        started = time.time()
        error: str | None = None
        details: dict[str, Any] = {}
        try:
            details = method()
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            self.event_log.sys(EVENT, source="docker", wall=started, fault=action, attrs={
                "action": action, "container": getattr(target, "name", None),
                "took_ms": round((time.time() - started) * 1000, 1), "ok": error is None,
                **({"error": error} if error else {}), **attrs, **details})
        return details


@dataclass
class ScheduledStep:
    at_wall_s: float           # seconds after the schedule starts
    action: str
    attrs: dict[str, Any]


def plan(faults: Iterable[ContainerFault], wall_per_scenario_s: float = 1.0) -> list[ScheduledStep]:
    """Actions in time order, undo steps included; times scaled from scenario to wall seconds."""
    steps: list[ScheduledStep] = []
    for fault in faults:
        attrs = {"at_s": fault.at_s, "duration_s": fault.duration_s}
        if fault.action == "restart_gateway" and fault.duration_s is not None:
            steps.append(ScheduledStep(fault.at_s * wall_per_scenario_s, "stop_gateway", {**attrs, "scheduled": "restart_gateway"}))
        else:
            steps.append(ScheduledStep(fault.at_s * wall_per_scenario_s, fault.action, attrs))
        if fault.duration_s is not None:
            end = (fault.at_s + fault.duration_s) * wall_per_scenario_s
            steps.append(ScheduledStep(end, UNDO[fault.action], {**attrs, "undoes": fault.action}))
    return sorted(steps, key=lambda s: s.at_wall_s)


class FaultScheduler(threading.Thread):
    """Runs planned steps on wall time in a daemon thread; :meth:`stop` skips what is left."""

    def __init__(self, faults: ContainerFaults, steps: list[ScheduledStep], started_at: float | None = None) -> None:
        """``started_at``: the ``time.monotonic()`` the steps count from (default: when the thread starts)."""
        super().__init__(name="prelive-container-faults", daemon=True)
        self.faults = faults
        self.steps = steps
        self.done: list[ScheduledStep] = []
        self.errors: list[tuple[ScheduledStep, str]] = []
        self._cancel = threading.Event()
        self.started_at = started_at if started_at is not None else time.monotonic()

    def run(self) -> None:
        for step in self.steps:
            if self._cancel.wait(max(0.0, self.started_at + step.at_wall_s - time.monotonic())):
                return
            try:
                self.faults.apply(step.action, **step.attrs)
                self.done.append(step)
            except Exception as exc:  # logged by apply; keep going so undo steps still run
                self.errors.append((step, f"{type(exc).__name__}: {exc}"))

    def stop(self, timeout_s: float = 30.0) -> None:
        self._cancel.set()
        if self.is_alive():
            self.join(timeout_s)

    @property
    def pending(self) -> list[ScheduledStep]:
        return [s for s in self.steps if s not in self.done and all(s is not e[0] for e in self.errors)]
