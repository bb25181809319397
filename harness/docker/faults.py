"""Container faults through the Docker SDK, scheduled from a scenario's ``container_faults``.

Each action is one method on :class:`ContainerFaults`; each execution is one ``sys``
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
from typing import TYPE_CHECKING, Any

from mock_gateway.eventlog import EventLog

if TYPE_CHECKING:
    from docker.models.containers import Container
    from docker.models.networks import Network

ACTIONS = (
    "kill_gateway", "restart_gateway", "pause_gateway", "unpause_gateway",
    "disconnect_gateway", "reconnect_gateway", "restart_handler",
)
#: The action that undoes a fault given a ``duration_s``.
UNDO = {"kill_gateway": "start_gateway", "pause_gateway": "unpause_gateway",
        "disconnect_gateway": "reconnect_gateway", "restart_gateway": "start_gateway"}
EVENT = "container_fault"


class ContainerFaultError(ValueError):
    """A container fault in a scenario cannot be executed as written."""


@dataclass(frozen=True)
class ContainerFault:
    """One scheduled action: ``at_s`` scenario seconds after the stack is up."""

    action: str
    at_s: float
    duration_s: float | None = None

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ContainerFaultError(f"unknown container fault action {self.action!r}; expected one of {', '.join(ACTIONS)}")
        if self.at_s < 0:
            raise ContainerFaultError(f"container fault {self.action}: at_s must be >= 0, got {self.at_s}")
        if self.duration_s is not None and self.duration_s <= 0:
            raise ContainerFaultError(f"container fault {self.action}: duration_s must be > 0, got {self.duration_s}")
        if self.duration_s is not None and self.action not in UNDO:
            raise ContainerFaultError(f"container fault {self.action} takes no duration_s")

    @classmethod
    def coerce(cls, item: Any) -> ContainerFault:
        """From a scenario entry: a mapping, a pydantic model or an instance."""
        if isinstance(item, ContainerFault):
            return item
        data = item if isinstance(item, dict) else (item.model_dump() if hasattr(item, "model_dump") else vars(item))
        return cls(action=str(data["action"]), at_s=float(data["at_s"]),
                   duration_s=None if data.get("duration_s") is None else float(data["duration_s"]))


@dataclass
class ContainerFaults:
    """The fault actions against one stack's gateway and handler containers."""

    gateway: Container
    network: Network
    event_log: EventLog
    handler: Container | None = None
    stop_timeout_s: int = 5
    _aliases: list[str] = field(default_factory=list)

    def kill_gateway(self) -> dict[str, Any]:
        self.gateway.kill()  # SIGKILL: sessions end without a goodbye, like a crashed gateway
        return {"signal": "SIGKILL"}

    def start_gateway(self) -> dict[str, Any]:
        self.gateway.start()
        return {}

    def restart_gateway(self) -> dict[str, Any]:
        self.gateway.restart(timeout=self.stop_timeout_s)
        return {"stop_timeout_s": self.stop_timeout_s}

    def stop_gateway(self) -> dict[str, Any]:
        self.gateway.stop(timeout=self.stop_timeout_s)
        return {"stop_timeout_s": self.stop_timeout_s}

    def pause_gateway(self) -> dict[str, Any]:
        self.gateway.pause()  # frozen: TCP stays up, nothing answers
        return {}

    def unpause_gateway(self) -> dict[str, Any]:
        self.gateway.unpause()
        return {}

    def disconnect_gateway(self) -> dict[str, Any]:
        self.gateway.reload()
        settings = self.gateway.attrs["NetworkSettings"]["Networks"].get(self.network.name) or {}
        self._aliases = [a for a in settings.get("Aliases") or [] if a != self.gateway.id[:12]]
        self.network.disconnect(self.gateway)
        return {"network": self.network.name, "aliases": self._aliases}

    def reconnect_gateway(self) -> dict[str, Any]:
        self.network.connect(self.gateway, aliases=self._aliases or None)
        return {"network": self.network.name, "aliases": self._aliases}

    def restart_handler(self) -> dict[str, Any]:
        if self.handler is None:
            raise ContainerFaultError("restart_handler: this stack has no handler container")
        self.handler.restart(timeout=self.stop_timeout_s)
        return {"stop_timeout_s": self.stop_timeout_s}

    def apply(self, action: str, **attrs: Any) -> dict[str, Any]:
        """Run one action now and log it; a failed action is logged with its error and re-raised."""
        method: Callable[[], dict[str, Any]] = getattr(self, action)
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
