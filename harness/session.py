"""One handler session, whatever runs it: a backend protocol and the one lifecycle loop.

A backend starts the gateway and the handler (in this process and a child process, or in a
Compose stack), says how much simulated time has passed, polls and stops the handler and owns
the session's event log. :func:`run_lifecycle` drives any backend the same way and is the only
place the harness's lifecycle events are written: ``handler_start``, ``handler_stop`` (with
``exited_early``) and ``handler_exit`` (the real exit code, how it ended, how long the stop took).
Expectations read those events, so both modes are judged by the same rules.
"""
from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from .artifacts import utc_now_iso
from .faketime import ClockReference, FaketimeUnavailable, SharedClock, Witness, find_library, is_static_executable, \
    measure_drift
from .handler import HandlerError, HandlerProcess, StopResult, handler_env
from .safety import check_managed_accounts

if TYPE_CHECKING:
    from mock_gateway.server import Gateway, GatewayThread

    from .scenario import Scenario

#: Share of real time the handler wanted a CPU (computing or waiting for one) above which the
#: summary warns: each of its computations lasts ``speed`` times longer in simulated time.
CPU_LOAD_WARN = 0.5
#: How often (wall seconds) the loop samples the handler's CPU time and the clock drift.
SAMPLE_EVERY_S = 1.0
#: The handler's CPU is judged from this many wall seconds after its start (imports and connecting
#: are a one-off cost, not what it needs per simulated second); shorter runs are not judged.
STEADY_AFTER_S = 2.0


@dataclass
class SessionPlan:
    """What one session runs: the scenario (faults already removed for a baseline), its length, the clock."""

    scenario: Scenario
    run_dir: Path
    argv: list[str]
    baseline: bool = False
    speed: float = 1.0
    sim_length_s: float = 60.0
    real_clock: bool = False   # True: the handler runs on the real clock (today's behaviour)


@dataclass
class ClockReport:
    """How the handler's clock related to the scenario's, and how much CPU it used."""

    mode: str                          # "faketime" | "real"
    speed: float
    start: str | None = None           # ISO time of sim 0, the handler's wall clock at the gateway's start
    drift_samples_s: list[float] = field(default_factory=list)   # handler monotonic minus scenario clock, sim s
    wall_drift_samples_s: list[float] = field(default_factory=list)   # the same for its wall clock (time.time)
    cpu_s: float | None = None         # handler process tree, user + system, after its first STEADY_AFTER_S
    runqueue_wait_s: float | None = None   # runnable but waiting for a CPU (a busy machine), same window
    wall_s: float | None = None        # the window's wall seconds
    sim_s: float | None = None         # the window's sim seconds
    total_cpu_s: float | None = None   # the whole run, start-up included
    note: str | None = None
    loop_lag: dict[str, Any] | None = None   # the gateway's event-loop delays (mock_gateway.sim.clock.LagStats)

    @property
    def cpu_s_per_sim_s(self) -> float | None:
        return None if self.cpu_s is None or not self.sim_s else self.cpu_s / self.sim_s

    @property
    def cpu_load(self) -> float | None:
        """Share of real time the handler spent computing (its lag in sim time is this times ``speed``)."""
        return None if self.cpu_s is None or not self.wall_s else self.cpu_s / self.wall_s

    @property
    def busy_share(self) -> float | None:
        """Share of real time the handler wanted a CPU: computing, or runnable and waiting for one."""
        if self.cpu_s is None or not self.wall_s:
            return None
        return (self.cpu_s + (self.runqueue_wait_s or 0.0)) / self.wall_s

    @property
    def warning(self) -> str | None:
        if self.note and "statically linked" in self.note:
            return self.note
        busy = self.busy_share
        if busy is None or busy < CPU_LOAD_WARN or self.mode != "faketime" and self.speed <= 1:
            return None
        own = self.cpu_load or 0.0
        if own < CPU_LOAD_WARN:   # it wanted little, but waited for a CPU: the machine is the bottleneck
            return (f"the handler was busy {min(busy, 1.0):.0%} of real time at speed {self.speed:g}, "
                    f"{own:.0%} computing and the rest waiting for a CPU the machine was giving to others "
                    f"({self.cpu_s_per_sim_s * 1000:.2f} ms CPU per simulated second): each wait lasts "
                    f"{self.speed:g}x longer in simulated time; run on a quieter machine, fewer --jobs or a lower --speed")
        return (f"the handler was busy {min(busy, 1.0):.0%} of real time at speed {self.speed:g} "
                f"({self.cpu_s_per_sim_s * 1000:.2f} ms CPU per simulated second): each of its computations "
                f"lasts {self.speed:g}x longer in simulated time; lower --speed so it keeps up")

    def to_json(self) -> dict[str, Any]:
        drift = [abs(d) for d in self.drift_samples_s]
        return {"mode": self.mode, "speed": self.speed, "start": self.start,
                "drift_max_abs_s": round(max(drift), 6) if drift else None,
                "drift_last_s": round(self.drift_samples_s[-1], 6) if drift else None,
                "drift_samples": len(drift),
                "wall_drift_max_abs_s": round(max(abs(d) for d in self.wall_drift_samples_s), 6)
                if self.wall_drift_samples_s else None,
                "handler_cpu_s": None if self.total_cpu_s is None else round(self.total_cpu_s, 3),
                "handler_cpu_ms_per_sim_s": None if self.cpu_s_per_sim_s is None
                else round(self.cpu_s_per_sim_s * 1000, 4),
                "handler_cpu_load": None if self.cpu_load is None else round(self.cpu_load, 4),
                "handler_busy_share": None if self.busy_share is None else round(self.busy_share, 4),
                "warning": self.warning, "note": self.note, "loop_lag": self.loop_lag}


@dataclass
class SessionRecord:
    """One gateway + handler session, as run."""

    event_log: Path
    handler_log: Path
    argv: list[str]
    started_at: str
    ended_at: str
    wall_s: float
    stop: StopResult | None
    exited_early: bool
    clock: ClockReport | None = None
    handler_port: int | None = None     # where the handler was told to connect
    exited_at_sim_s: float | None = None


class SessionBackend(Protocol):
    """Runs a gateway and a handler for :func:`run_lifecycle`."""

    event_log: Path      # the session's event log (final once close() returned)
    handler_log: Path

    def start(self) -> dict[str, Any]:
        """Gateway up, handler started; returns attributes for the ``handler_start`` event."""

    def sim_elapsed_s(self) -> float:
        """Simulated seconds since the gateway's sim 0."""

    def poll(self) -> int | None:
        """The handler's exit code if it has ended, else None."""

    def sample(self) -> None:
        """Called about every SAMPLE_EVERY_S while the handler runs (CPU time, clock drift)."""

    def stop(self, grace_period_s: float) -> StopResult:
        """SIGTERM, SIGKILL after the grace period; the real result."""

    def log(self, msg: str, attrs: dict[str, Any]) -> None:
        """One harness event in the session's event log."""

    def close(self) -> ClockReport | None:
        """Gateway down and everything collected; the event log is final afterwards."""


def run_lifecycle(backend: SessionBackend, plan: SessionPlan, progress: Callable[[float], None] | None = None,
                  cancel: threading.Event | None = None) -> SessionRecord:
    """Start, run for ``plan.sim_length_s`` simulated seconds (or until the handler exits), stop, close.

    ``cancel`` ends the run early (the handler is still stopped and everything closed), e.g. when a
    session running alongside was interrupted."""
    started_at, t0 = utc_now_iso(), time.monotonic()
    stop: StopResult | None = None
    exited_early = False
    exited_at: float | None = None
    clock: ClockReport | None = None
    grace = plan.scenario.handler.grace_period_s
    accounts = plan.scenario.accounts   # handlers run against paper logins only, in every backend
    check_managed_accounts([a.id for a in accounts], accounts[0].id, what="a handler run")
    try:
        attrs = backend.start()
        backend.log("handler_start", {**attrs, "argv": plan.argv, "baseline": plan.baseline,
                                      "duration_s": plan.sim_length_s})
        try:
            next_sample = time.monotonic()
            while (elapsed := backend.sim_elapsed_s()) < plan.sim_length_s:
                if cancel is not None and cancel.is_set():
                    break
                if backend.poll() is not None:
                    exited_early, exited_at = True, elapsed
                    break
                if time.monotonic() >= next_sample:
                    backend.sample()
                    next_sample = time.monotonic() + SAMPLE_EVERY_S
                if progress:
                    progress(elapsed / plan.sim_length_s)
                time.sleep(min(0.1, max(0.0, (plan.sim_length_s - elapsed) / plan.speed)))
        finally:
            backend.sample()
            backend.log("handler_stop", {"exited_early": exited_early})
            stop = backend.stop(grace)
            backend.log("handler_exit", {"exit_code": stop.exit_code, "how": stop.how,
                                         "stop_s": round(stop.stop_s, 3)})
    finally:
        clock = backend.close()
    port = getattr(backend, "handler_port", None)
    return SessionRecord(backend.event_log, backend.handler_log, plan.argv, started_at, utc_now_iso(),
                         time.monotonic() - t0, stop, exited_early, clock, port, exited_at)


# ---------------------------------------------------------------------------- in-process backend
def handler_extra_env(scenario: Scenario) -> dict[str, str]:
    extra = {"PRELIVE_SEED": str(scenario.seed), "PRELIVE_SCENARIO": scenario.name}
    if scenario.market.symbols:
        # for handlers that trade one symbol (the reference handler does): one the market has
        extra["PRELIVE_SYMBOL"] = scenario.market.symbols[0]
        extra["PRELIVE_SYMBOLS"] = ",".join(scenario.market.symbols)
    extra.update(scenario.handler.env)
    return extra


def process_tree_cpu_s(pgid: int) -> tuple[float, float] | None:
    """(CPU seconds, seconds spent runnable but waiting for a CPU) of a process group's live processes.

    CPU is user + system with reaped children's; the wait (``/proc/<pid>/schedstat``) counts too
    when judging whether the handler keeps up: on a busy machine a handler that wants the CPU all
    the time may get only part of it, and it is behind either way.
    """
    tick = os.sysconf("SC_CLK_TCK")
    total, found, waited_ns = 0, False, 0
    try:
        entries = os.listdir("/proc")
    except OSError:
        return None
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                raw = fh.read()
        except OSError:
            continue
        fields = raw[raw.rfind(b")") + 2:].split()
        if int(fields[2]) != pgid:       # field 5 of stat: process group
            continue
        found = True
        total += sum(int(v) for v in fields[11:15])   # utime stime cutime cstime
        try:
            with open(f"/proc/{entry}/schedstat", "rb") as fh:
                waited_ns += int(fh.read().split()[1])
        except (OSError, IndexError, ValueError):
            pass
    return (total / tick, waited_ns / 1e9) if found else None


class InProcessBackend:
    """The mock gateway in a thread of this process, the handler a child process (its own group)."""

    def __init__(self, plan: SessionPlan) -> None:
        self.plan = plan
        plan.run_dir.mkdir(parents=True, exist_ok=True)
        self.event_log = plan.run_dir / "events.jsonl"
        self.handler_log = plan.run_dir / "handler.log"
        self.kill_file = plan.run_dir / "KILL"
        for stale in (self.event_log, self.handler_log, self.kill_file):
            stale.unlink(missing_ok=True)
        self.handler_port: int | None = None
        self._thread: GatewayThread | None = None
        self._gw: Gateway | None = None
        self._handler: HandlerProcess | None = None
        self._shared: SharedClock | None = None
        self._witness: Witness | None = None
        self._ref: ClockReference | None = None
        self._t_start = 0.0
        self._cpu_s: float | None = None
        self._wait_s: float | None = None
        self._cpu_at = 0.0
        self._steady_from: tuple[float, float, float] | None = None   # (monotonic, cpu_s, wait_s)
        self.clock = ClockReport("real" if plan.real_clock else "faketime", plan.speed)

    def start(self) -> dict[str, Any]:
        from mock_gateway.faults.base import FaultStack
        from mock_gateway.server import GatewayThread

        scenario, plan = self.plan.scenario, self.plan
        library = None
        if not plan.real_clock:
            library = find_library()   # FaketimeUnavailable before anything starts
        config = scenario.gateway_config(port=0, event_log=self.event_log, speed=plan.speed)
        if plan.baseline:
            config.faults = FaultStack([])
        self._thread = GatewayThread(config)
        gw = self._gw = self._thread.start()
        self.handler_port = gw.port
        self._t_start = time.monotonic()
        env = handler_env(gw.host, gw.port, scenario.handler.client_id, scenario.accounts[0].id, self.kill_file,
                          handler_extra_env(scenario))
        attrs: dict[str, Any] = {"port": gw.port}
        if library is not None:
            self._ref = ClockReference(config.start.timestamp(), plan.speed, gw.clock.t0_monotonic_s)
            self._shared = SharedClock(self._ref)
            env.update(self._shared.env(library))
            self.clock.start = config.start.isoformat()
            attrs["clock"] = {"faketime": env["FAKETIME"], "library": str(library)}
            executable = shutil.which(plan.argv[0]) if plan.argv else None
            if executable and is_static_executable(executable):
                self.clock.note = (f"{plan.argv[0]} is statically linked: libfaketime cannot reach it, so it runs on "
                                   "the real clock while the market runs at the scenario's speed; use --real-clock "
                                   "or a dynamically linked build")
                attrs["clock"]["static_executable"] = True
        else:
            attrs["clock"] = {"real": True}
        self._handler = HandlerProcess(plan.argv, env, self.handler_log, scenario.handler.grace_period_s).start()
        attrs["pid"] = self._handler.pid
        if self._shared is not None:
            try:
                self._witness = Witness(env)
            except OSError as exc:
                self.clock.note = f"no drift witness: {exc}"
        return attrs

    def sim_elapsed_s(self) -> float:
        assert self._gw is not None
        return self._gw.clock.target()

    def poll(self) -> int | None:
        assert self._handler is not None
        return self._handler.poll()

    def sample(self) -> None:
        if self._handler is None or self._handler.pid is None:
            return
        usage = process_tree_cpu_s(self._handler.pid)
        if usage is not None:
            now = time.monotonic()
            self._cpu_s, self._wait_s, self._cpu_at = usage[0], usage[1], now
            if self._steady_from is None and now - self._t_start >= STEADY_AFTER_S:
                self._steady_from = (now, usage[0], usage[1])
        if self._witness is not None and self._ref is not None and self._gw is not None:
            try:
                drift, drift_mono = min((measure_drift(self._witness, self._ref) for _ in range(3)),
                                        key=lambda d: abs(d[1]))
            except (FaketimeUnavailable, OSError, ValueError) as exc:
                self.clock.note = f"drift not measured: {exc}"
                self._witness.close()
                self._witness = None
                return
            self.clock.drift_samples_s.append(drift_mono)
            self.clock.wall_drift_samples_s.append(drift)
            self.log("clock_drift", {"drift_s": round(drift_mono, 6), "wall_drift_s": round(drift, 6),
                                     "gateway_sim_s": round(self._gw.env.now, 6),
                                     "target_sim_s": round(self._gw.clock.target(), 6)})

    def stop(self, grace_period_s: float) -> StopResult:
        assert self._handler is not None
        self._handler.grace_period_s = grace_period_s
        return self._handler.stop()

    def log(self, msg: str, attrs: dict[str, Any]) -> None:
        assert self._gw is not None
        self._gw.event_log.sys(msg, sim=self._gw.env.now, source="harness", attrs=attrs)

    def close(self) -> ClockReport:
        if self._witness is not None:
            self._witness.close()
        self.clock.total_cpu_s = self._cpu_s
        if self._steady_from is not None and self._cpu_s is not None and self._cpu_at > self._steady_from[0]:
            at, cpu, wait = self._steady_from
            self.clock.wall_s = self._cpu_at - at
            self.clock.sim_s = self.clock.wall_s * self.plan.speed
            self.clock.cpu_s = self._cpu_s - cpu
            self.clock.runqueue_wait_s = (self._wait_s or 0.0) - wait
        if self._thread is not None:
            self._thread.stop()
        if self._gw is not None:
            self.clock.loop_lag = self._gw.loop_lag.stats.to_json(self._gw.clock.speed)
        if self._shared is not None:
            self._shared.close()
        return self.clock


def start_error(exc: Exception) -> str:
    """A setup problem as the user should read it."""
    if isinstance(exc, (HandlerError, FaketimeUnavailable)):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"
