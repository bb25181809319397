"""Compose stacks by project name, and a scenario run in the mock stack (container mode).

``run_scenario_in_containers`` is what ``prelive run --mode container`` calls: image built or
reused, a fresh Compose project per run (``prelive-<run id>``, label ``prelive.run=<run id>``),
the scenario's ``container_faults`` on schedule, the event log and container logs collected,
and the stack brought down whatever happens, Ctrl-C and SIGTERM included.

Times: a scenario's ``duration_s`` and its container faults' ``at_s`` / ``duration_s`` are sim
seconds like every other fault; on the wall clock they are divided by the scenario's ``speed``
and counted from the moment the gateway container started.
"""
from __future__ import annotations

import contextlib
import io
import json
import math
import os
import secrets
import shlex
import shutil
import signal
import subprocess
import tarfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from mock_gateway.eventlog import EventLog

from . import MANAGED_LABEL, RUN_LABEL
from .cleanup import clean, leftovers
from .collect import write_merged
from .engine import REPO_ROOT, compose_command, ensure_engine
from .faults import ContainerFault, ContainerFaults, FaultScheduler, plan
from .images import PRELIVE_IMAGE, build_image, require_image
from ..artifacts import atomic_write_json
from ..faketime import ClockReference, FaketimeUnavailable, measure_drift
from ..handler import StopResult
from ..scenario import Scenario, _set_dotted, load_scenario
from ..session import ClockReport, SessionPlan, SessionRecord, handler_extra_env, run_lifecycle

if TYPE_CHECKING:
    import docker
    from docker.models.containers import Container

COMPOSE_DIR = REPO_ROOT / "compose"
MOCK_STACK = COMPOSE_DIR / "mock-stack.yml"
PAPER_STACK = COMPOSE_DIR / "paper-stack.yml"
GATEWAY_SERVICE, HANDLER_SERVICE, NETWORK_KEY = "ib-gateway", "handler", "ib"
#: Where the gateway listens inside the stack in both stacks (the real image's socat paper relay).
STACK_API_PORT = 4004
DEFAULT_HANDLER_COMMAND = ["python", "-m", "harness.client"]
#: Where the gateway container sees the run's copy of the scenario.
SCENARIO_MOUNT = "/scenario"


class StackError(RuntimeError):
    """A Compose command failed; the message carries its stderr."""


class RunInterrupted(KeyboardInterrupt):
    """SIGTERM (or SIGINT) arrived during a container run; the stack was brought down."""


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)


@dataclass
class Stack:
    """One Compose project: files, variables, and the containers it runs (found by label)."""

    client: docker.DockerClient
    project: str
    run_id: str
    files: list[Path]
    env: dict[str, str] = field(default_factory=dict)

    def compose(self, *args: str, timeout_s: float | None = 300) -> subprocess.CompletedProcess[str]:
        argv = [*compose_command(), "-p", self.project, *[a for f in self.files for a in ("-f", str(f))], *args]
        env = {**os.environ, **self.env, "PRELIVE_RUN": self.run_id}
        proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=timeout_s, cwd=COMPOSE_DIR)
        if proc.returncode != 0:
            raise StackError(f"docker compose {' '.join(args)} failed (exit {proc.returncode}): "
                             f"{proc.stderr.strip()[-3000:]}")
        return proc

    def up(self, *services: str, wait: bool = True, no_deps: bool = False, timeout_s: float = 120) -> None:
        wait_args = ["--wait", "--wait-timeout", str(int(timeout_s))] if wait else []
        deps = ["--no-deps"] if no_deps else []
        self.compose("up", "-d", "--no-build", "--pull", "never", *wait_args, *deps, *services,
                     timeout_s=timeout_s + 30)

    def down(self, timeout_s: int = 2) -> None:
        self.compose("down", "-v", "--remove-orphans", "-t", str(timeout_s), timeout_s=120)

    def container(self, service: str) -> Container:
        found = self.client.containers.list(all=True, filters={"label": [
            f"com.docker.compose.project={self.project}", f"com.docker.compose.service={service}"]})
        if not found:
            raise StackError(f"service {service} of stack {self.project} has no container")
        return found[0]

    def network(self, key: str = NETWORK_KEY) -> Any:
        found = self.client.networks.list(filters={"label": [
            f"com.docker.compose.project={self.project}", f"com.docker.compose.network={key}"]})
        if not found:
            raise StackError(f"network {key} of stack {self.project} not found")
        return found[0]

    def published_port(self, service: str = GATEWAY_SERVICE, port: int = STACK_API_PORT) -> tuple[str, int]:
        c = self.container(service)
        c.reload()
        binding = (c.attrs["NetworkSettings"]["Ports"] or {}).get(f"{port}/tcp") or []
        if not binding:
            raise StackError(f"{service}: container port {port} is not published")
        return binding[0]["HostIp"] or "127.0.0.1", int(binding[0]["HostPort"])


@dataclass
class ContainerRunResult:
    """What the harness turns into metrics and artifacts; also written to ``container_run.json``."""

    run_id: str
    project: str
    scenario: str
    out_dir: Path
    event_log: Path                  # the stitched session log the metrics read
    gateway_event_log: Path | None   # raw, as the gateway container(s) wrote it
    docker_event_log: Path           # container_fault events (source docker), handler_start/stop/exit (harness)
    logs_dir: Path                   # <service>.log per container
    data_dir: Path                   # everything the stack wrote to its /data volume
    image: str
    handler_image: str
    image_id: str = ""
    handler_image_id: str = ""
    handler_exit_code: int | None = None
    handler_exited_early: bool = False
    gateway_host_port: int | None = None
    faults_executed: list[dict[str, Any]] = field(default_factory=list)
    faults_failed: list[dict[str, Any]] = field(default_factory=list)
    faults_skipped: list[dict[str, Any]] = field(default_factory=list)
    synthetic_disconnects: int = 0
    gateway_lifetimes: int = 0
    leftovers: list[str] = field(default_factory=list)
    interrupted: bool = False
    error: str | None = None
    started_at: str = ""
    ended_at: str = ""
    timings_s: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {k: str(v) if isinstance(v, Path) else v for k, v in asdict(self).items()}


class ContainerBackend:
    """A session in a fresh Compose project: the gateway container, then the handler container.

    Implements :class:`harness.session.SessionBackend`; :func:`harness.session.run_lifecycle`
    writes the lifecycle events into ``docker-events.jsonl``, which is merged with the gateway's
    own log into the session's ``events.jsonl`` when the stack comes down.
    """

    def __init__(self, scenario: Scenario, out_dir: str | os.PathLike[str], handler: str | None = None, *,
                 handler_command: str | Sequence[str] | None = None, image: str | None = None, build: bool = True,
                 run_id: str | None = None, up_timeout_s: float = 120, install_engine: bool = False,
                 speed: float | None = None, duration_s: float | None = None, real_clock: bool = True,
                 overrides: dict[str, str] | None = None) -> None:
        self.t_start = time.monotonic()
        self.timings: dict[str, float] = {}
        scenario_obj, self.scenario_path = _load(scenario)
        overrides = {k: v for k, v in (("speed", speed), ("duration_s", duration_s)) if v is not None}
        self.scenario: Scenario = scenario_obj.model_copy(update=overrides) if overrides else scenario_obj
        self.out = Path(out_dir).resolve()
        self.out.mkdir(parents=True, exist_ok=True)
        self.run_id = run_id or new_run_id()
        self.handler_image_name, self.handler_command = handler, handler_command
        self.image_name, self.build, self.up_timeout_s, self.install_engine = image, build, up_timeout_s, install_engine
        self.real_clock = real_clock
        self.overrides = dict(overrides or {})
        self.speed = float(self.scenario.speed)
        self.argv = _handler_argv(self.scenario, handler_command)
        self.event_log = self.out / "events.jsonl"
        self.handler_log = self.out / "logs" / "handler.log"
        self.handler_port: int | None = STACK_API_PORT
        self.stack: Stack | None = None
        self.result: ContainerRunResult | None = None
        self.docker_log: EventLog | None = None
        self.scheduler: FaultScheduler | None = None
        self.fault_layer: ContainerFaults | None = None
        self.handler_c: Container | None = None
        self.pending_signals: list[int] = []
        self._last_poll = (0.0, None)
        self._exited_before_stop = False
        # the handler's clock, sampled by a witness in its container (harness.docker.witness)
        self._client: Any = None
        self._clock_ref: ClockReference | None = None
        self._witness: Any = None
        self._drift: list[float] = []
        self._wall_drift: list[float] = []
        self._clock_note: str | None = None

    # -- SessionBackend
    def start(self) -> dict[str, Any]:
        scenario = self.scenario
        client = self._client = ensure_engine(install=self.install_engine)
        image = self.image_name or PRELIVE_IMAGE
        if self.build:
            built = build_image(client, image)
            self.timings["image_s"] = round(built.seconds, 3)
        else:
            require_image(client, image)
        handler_image = self.handler_image_name or image
        if handler_image != image:
            require_image(client, handler_image)
        # Run by image id: a tag another build moves mid-run would make Compose recreate the containers.
        image_id, handler_image_id = client.images.get(image).id, client.images.get(handler_image).id
        steps = plan([ContainerFault.coerce(f) for f in scenario.container_faults], wall_per_scenario_s=1.0 / self.speed)
        override = _override_file(self.out, self.run_id, scenario, self.scenario_path, handler_image_id, self.argv,
                                  faked_clock=not self.real_clock, overrides=self.overrides)
        stack = self.stack = Stack(client, f"prelive-{self.run_id}", self.run_id, [MOCK_STACK, override], env={
            "PRELIVE_IMAGE": image_id, "PRELIVE_HANDLER_IMAGE": handler_image_id,
            "PRELIVE_GATEWAY_PUBLISH": "127.0.0.1:",     # a free host port per run: runs may overlap
            "PRELIVE_IB_HOST": "ib-gateway", "PRELIVE_SCENARIO": "", "PRELIVE_CLOCK_T0_WALL": ""})
        docker_log_path = self.out / "docker-events.jsonl"
        docker_log_path.unlink(missing_ok=True)
        self.result = ContainerRunResult(
            run_id=self.run_id, project=stack.project, scenario=scenario.name, out_dir=self.out,
            event_log=self.event_log, gateway_event_log=None, docker_event_log=docker_log_path,
            logs_dir=self.out / "logs", data_dir=self.out / "data", image=image, handler_image=handler_image,
            image_id=image_id, handler_image_id=handler_image_id, started_at=_now_iso())
        self.docker_log = EventLog(docker_log_path, source="docker")
        try:
            t = time.monotonic()
            stack.up(GATEWAY_SERVICE, timeout_s=self.up_timeout_s)
            gateway = stack.container(GATEWAY_SERVICE)
            t0_wall = _run_start_wall(gateway)     # sim 0 on the wall clock the containers share
            stack.env["PRELIVE_CLOCK_T0_WALL"] = f"{t0_wall:.6f}"
            if not self.real_clock:
                self._clock_ref = ClockReference.from_wall(scenario.start_at.timestamp(), self.speed, t0_wall)
            stack.up(HANDLER_SERVICE, wait=False, no_deps=True, timeout_s=self.up_timeout_s)   # leave the gateway be
            self.timings["up_s"] = round(time.monotonic() - t, 3)
            self.result.gateway_host_port = stack.published_port()[1]
            self.handler_c = stack.container(HANDLER_SERVICE)
            self.fault_layer = ContainerFaults(gateway=gateway, network=stack.network(), event_log=self.docker_log,
                                               handler=self.handler_c)
            # scenario time 0 is the gateway's run_start (sim time 0), not when `up` returned
            elapsed = max(0.0, time.time() - t0_wall)
            self.scheduler = FaultScheduler(self.fault_layer, steps, started_at=time.monotonic() - elapsed)
            self.scheduler.start()
        except StackError as exc:
            raise StackError(f"{exc}{_log_tails(stack)}") from exc
        clock = {"real": True} if self.real_clock else {"faketime": "in the handler container",
                                                        "t0_wall": round(t0_wall, 6)}
        return {"container": self.handler_c.name, "image": handler_image, "port": STACK_API_PORT, "clock": clock}

    def sim_elapsed_s(self) -> float:
        assert self.scheduler is not None
        return (time.monotonic() - self.scheduler.started_at) * self.speed

    def poll(self) -> int | None:
        """The handler container's exit code once it stopped (asked at most every half second)."""
        last_at, last = self._last_poll
        if self.handler_c is None or time.monotonic() - last_at < 0.5:
            return last
        code = None
        with contextlib.suppress(Exception):
            self.handler_c.reload()
            if self.handler_c.status not in ("running", "created", "restarting", "paused"):
                code = int(self.handler_c.attrs["State"]["ExitCode"])
        self._last_poll = (time.monotonic(), code)
        return code

    def sample(self) -> None:
        """The handler's clock against the scenario's (``clock_drift`` events, as in process mode)."""
        if self._clock_ref is None or self.handler_c is None or self._clock_note is not None:
            return
        from .witness import ContainerWitness
        try:
            if self._witness is None:
                self._witness = ContainerWitness(self._client, self.handler_c)
            wall_drift, drift = measure_drift(self._witness, self._clock_ref)
        except (FaketimeUnavailable, OSError, ValueError) as exc:
            self._clock_note = f"container mode: drift not measured: {exc}"
            self._close_witness()
            return
        except Exception as exc:   # docker API errors: the run goes on without drift samples
            self._clock_note = f"container mode: drift not measured: {type(exc).__name__}: {exc}"
            self._close_witness()
            return
        self._drift.append(drift)
        self._wall_drift.append(wall_drift)
        self.log("clock_drift", {"drift_s": round(drift, 6), "wall_drift_s": round(wall_drift, 6),
                                 "target_sim_s": round(self.sim_elapsed_s(), 6), "witness": "container"})

    def _close_witness(self) -> None:
        if self._witness is not None:
            with contextlib.suppress(Exception):
                self._witness.close()
            self._witness = None

    def stop(self, grace_period_s: float) -> StopResult:
        if self.handler_c is None:
            return StopResult(None, "exited", 0.0)
        started = time.monotonic()
        self.handler_c.reload()
        if self.handler_c.status != "running":
            self._exited_before_stop = True
            return StopResult(int(self.handler_c.attrs["State"]["ExitCode"]), "exited", 0.0)
        self.handler_c.stop(timeout=int(math.ceil(grace_period_s)))
        self.handler_c.reload()
        took = time.monotonic() - started
        code = int(self.handler_c.attrs["State"]["ExitCode"])
        how = "killed" if code == 137 and took >= grace_period_s else "terminated"
        if self.result is not None:
            self.result.handler_exit_code = code
        return StopResult(code, how, took)

    def log(self, msg: str, attrs: dict[str, Any]) -> None:
        if self.docker_log is not None:
            self.docker_log.sys(msg, source="harness", attrs=attrs)

    def close(self) -> ClockReport | None:
        """Faults off, gateway stopped cleanly, everything collected and merged, the stack down."""
        if self.stack is None or self.result is None:
            return None
        self._close_witness()
        with _signals_ignored() as pending:
            try:
                _teardown(self.stack, self.scheduler, self.fault_layer, self.result, self.docker_log, self.speed,
                          self.timings)
            finally:
                self.result.handler_exited_early = self._exited_before_stop
                if self.result.handler_exit_code is None and self.handler_c is not None:
                    with contextlib.suppress(Exception):
                        self.result.handler_exit_code = int(self.handler_c.attrs["State"]["ExitCode"])
                self.result.ended_at = _now_iso()
                self.timings["total_s"] = round(time.monotonic() - self.t_start, 3)
                self.result.timings_s = self.timings
                atomic_write_json(self.out / "container_run.json", self.result.to_json())
        self.pending_signals = pending
        note = None
        if not self.real_clock:
            note = self._clock_note or ("container mode: the handler's clock counts from the gateway's run_start "
                                        "event; drift sampled by a witness in its container")
        return ClockReport("real" if self.real_clock else "faketime", self.speed,
                           start=self.scenario.start_at.isoformat(), drift_samples_s=list(self._drift),
                           wall_drift_samples_s=list(self._wall_drift), note=note)


def _session_plan(backend: ContainerBackend, scenario: Scenario) -> SessionPlan:
    return SessionPlan(backend.scenario, backend.out, backend.argv, speed=backend.speed,
                       sim_length_s=float(backend.scenario.duration_s), real_clock=backend.real_clock)


def _drive(backend: ContainerBackend, progress: Any = None) -> SessionRecord:
    """The one lifecycle loop with SIGTERM turned into RunInterrupted; the stack always comes down."""
    try:
        with _signals_raise():
            record = run_lifecycle(backend, _session_plan(backend, backend.scenario), progress)
    except KeyboardInterrupt as exc:
        if backend.result is not None:
            backend.result.interrupted = True
            backend.result.error = str(exc) if isinstance(exc, RunInterrupted) else "interrupted"
            atomic_write_json(backend.out / "container_run.json", backend.result.to_json())
        raise RunInterrupted(f"container run {backend.run_id} interrupted; stack prelive-{backend.run_id} "
                             "brought down") from exc
    except BaseException as exc:
        if backend.result is not None and backend.result.error is None:
            backend.result.error = f"{type(exc).__name__}: {exc}"
            atomic_write_json(backend.out / "container_run.json", backend.result.to_json())
        raise
    if backend.pending_signals:   # asked to stop while the (finished) run was being cleaned up
        raise RunInterrupted(f"received {signal.Signals(backend.pending_signals[0]).name} during clean-up of run "
                             f"{backend.run_id}; stack prelive-{backend.run_id} brought down")
    return record


def run_session_in_containers(scenario: Scenario, out_dir: str | os.PathLike[str], *,
                              handler_command: str | Sequence[str] | None = None, real_clock: bool = False,
                              progress: Any = None, **kwargs: Any) -> SessionRecord:
    """One session in a fresh mock stack (what ``prelive run --mode container`` runs)."""
    backend = ContainerBackend(scenario, out_dir, handler_command=handler_command, real_clock=real_clock, **kwargs)
    record = _drive(backend, progress)
    if backend.result is not None and backend.result.error:
        raise StackError(f"container run {backend.run_id}: {backend.result.error}")
    return record


def run_scenario_in_containers(scenario: Scenario | str | os.PathLike[str], out_dir: str | os.PathLike[str],
                               handler: str | None = None, *, handler_command: str | Sequence[str] | None = None,
                               image: str | None = None, build: bool = True, run_id: str | None = None,
                               up_timeout_s: float = 120, install_engine: bool = False, speed: float | None = None,
                               duration_s: float | None = None, real_clock: bool = True) -> ContainerRunResult:
    """Run one scenario in a fresh mock stack; the stack is always brought down.

    ``scenario``: a path to a scenario file or a loaded Scenario (harness.scenario).
    ``handler``: the handler image (default: the prelive image running ``python -m harness.client``);
    ``handler_command`` overrides the command (else the scenario's ``handler.command``);
    ``speed`` / ``duration_s`` override the scenario's (the gateway container gets them written in);
    ``real_clock=False`` puts the handler on the scenario's clock (the image must carry libfaketime).
    Raises StackError / DockerUnavailable / ImageBuildError on failure, RunInterrupted on SIGTERM or
    Ctrl-C, after the clean-up.
    """
    backend = ContainerBackend(scenario, out_dir, handler, handler_command=handler_command, image=image, build=build,
                               run_id=run_id, up_timeout_s=up_timeout_s, install_engine=install_engine, speed=speed,
                               duration_s=duration_s, real_clock=real_clock)
    _drive(backend)
    assert backend.result is not None
    return backend.result


# ---------------------------------------------------------------------------------------- teardown
def _teardown(stack: Stack, scheduler: FaultScheduler | None, fault_layer: ContainerFaults | None,
              result: ContainerRunResult, docker_log: EventLog | None, speed: float,
              timings: dict[str, float]) -> None:
    """Stop the faults, stop the gateway cleanly, collect, merge, bring the stack down (the handler is stopped)."""
    t = time.monotonic()
    if scheduler is not None:
        scheduler.stop()
        result.faults_executed = [_step_dict(s) for s in scheduler.done]
        result.faults_failed = [{**_step_dict(s), "error": err} for s, err in scheduler.errors]
        result.faults_skipped = [_step_dict(s) for s in scheduler.pending]
    with contextlib.suppress(Exception):
        if fault_layer is not None:
            _restore(fault_layer)
    containers: dict[str, Container] = {}
    for service in (HANDLER_SERVICE, GATEWAY_SERVICE):
        with contextlib.suppress(Exception):
            containers[service] = stack.container(service)
    for container in containers.values():
        with contextlib.suppress(Exception):
            container.stop(timeout=5)                 # SIGTERM: the gateway writes its run_end
    end_wall = time.time()
    if docker_log is not None:
        docker_log.close()
    try:
        _collect(containers, result)
        raw = result.data_dir / "events.jsonl"
        result.gateway_event_log = raw if raw.is_file() else None
        summary = write_merged(result.gateway_event_log, result.docker_event_log, result.event_log, speed=speed,
                               end_wall=end_wall)
        result.synthetic_disconnects = summary.synthetic_disconnects
        result.gateway_lifetimes = summary.lifetimes
    except Exception as exc:  # keep going: the stack must come down
        result.error = (result.error + "; " if result.error else "") + f"collect failed: {type(exc).__name__}: {exc}"
    timings["collect_s"] = round(time.monotonic() - t, 3)
    t = time.monotonic()
    try:
        stack.down()
    except Exception as exc:
        result.error = (result.error + "; " if result.error else "") + f"compose down failed: {exc}"
    removed = clean(stack.client, stack.run_id)  # anything compose did not know about (e.g. a failed up)
    remaining = leftovers(stack.client, stack.run_id)
    result.leftovers = remaining.containers + remaining.networks + remaining.volumes + removed.errors
    timings["down_s"] = round(time.monotonic() - t, 3)


def _log_tails(stack: Stack, lines: int = 15) -> str:
    """The last lines of each container of the stack, to say why a service did not come up."""
    text = ""
    for service in (GATEWAY_SERVICE, HANDLER_SERVICE):
        with contextlib.suppress(Exception):
            c = stack.container(service)
            c.reload()
            tail = c.logs(tail=lines).decode(errors="replace").rstrip()
            text += f"\n--- {service} ({c.status}, exit {c.attrs['State']['ExitCode']}), last lines:\n{tail}"
    return text


def _restore(faults: ContainerFaults) -> None:
    """Leave the gateway running and attached so it can shut down cleanly and be collected from."""
    gw = faults.gateway
    gw.reload()
    if gw.status == "paused":
        faults.apply("unpause_gateway", teardown=True)
    networks = gw.attrs["NetworkSettings"]["Networks"] or {}
    if faults.network.name not in networks and gw.status == "running":
        faults.apply("reconnect_gateway", teardown=True)


def _collect(containers: dict[str, Container], result: ContainerRunResult) -> None:
    """Container logs, and the /data volume (event log, artifacts) out of the stack."""
    result.logs_dir.mkdir(parents=True, exist_ok=True)
    for service, c in containers.items():
        with contextlib.suppress(Exception):
            (result.logs_dir / f"{service}.log").write_bytes(c.logs(stdout=True, stderr=True, timestamps=True))
    source = containers.get(GATEWAY_SERVICE) or containers.get(HANDLER_SERVICE)
    if source is None:
        return
    stream, _stat = source.get_archive("/data/.")
    buf = io.BytesIO(b"".join(stream))
    result.data_dir.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=buf) as tar:
        tar.extractall(result.data_dir, filter="data")


# ---------------------------------------------------------------------------------------- pieces
def _load(scenario: Scenario | str | os.PathLike[str]) -> tuple[Scenario, Path]:
    """(scenario, its file): a path or shipped name is loaded with harness.scenario; a Scenario must know its file."""
    if isinstance(scenario, (str, os.PathLike)):
        scenario = load_scenario(scenario)
    if scenario.source is not None and Path(scenario.source).is_file():
        return scenario, Path(scenario.source).resolve()
    raise StackError("container mode needs the scenario's file (the gateway container loads it): "
                     "pass its path, or a Scenario from harness.scenario.load_scenario (it records .source)")


def _handler_argv(scenario: Scenario, handler_command: str | Sequence[str] | None) -> list[str]:
    command = handler_command if handler_command is not None else scenario.handler.command
    if command:
        return shlex.split(command) if isinstance(command, str) else [str(c) for c in command]
    if scenario.handler.entry_point:
        return ["python", "-m", "harness.handler", scenario.handler.entry_point]
    return list(DEFAULT_HANDLER_COMMAND)


def faked_clock_command(argv: list[str]) -> list[str]:
    """The handler command wrapped so it runs on the scenario's clock inside its container."""
    return ["python", "-m", "harness.faketime", "exec", "--", *argv]


def _override_file(out: Path, run_id: str, scenario: Scenario, scenario_path: Path, handler_image: str,
                   argv: list[str], faked_clock: bool = False, overrides: dict[str, str] | None = None) -> Path:
    """The per-run Compose file laid over mock-stack.yml: scenario, handler, labels."""
    env = {"IB_HOST": "ib-gateway", "IB_PORT": str(STACK_API_PORT), "IB_CLIENT_ID": str(scenario.handler.client_id),
           "IB_ACCOUNT": scenario.accounts[0].id, "PRELIVE_KILL_FILE": "/data/KILL", "PRELIVE_RUN": run_id}
    env.update(handler_extra_env(scenario))
    if faked_clock:
        # sim 0's wall time is known once the gateway is up: Compose fills it in at the handler's `up`
        env.update({"PRELIVE_CLOCK_START_EPOCH": f"{scenario.start_at.timestamp():.6f}",
                    "PRELIVE_CLOCK_SPEED": f"{scenario.speed:g}", "PRELIVE_CLOCK_T0_WALL": "${PRELIVE_CLOCK_T0_WALL}"})
    labels = {MANAGED_LABEL: "true", RUN_LABEL: run_id}
    staged = _stage_scenario(out, scenario_path, scenario, overrides)
    doc = {"services": {
        GATEWAY_SERVICE: {
            "command": ["prelive", "gateway", "--host", "0.0.0.0", "--port", str(STACK_API_PORT),
                        "--scenario", f"{SCENARIO_MOUNT}/{scenario_path.name}", "--event-log", "/data/events.jsonl"],
            "volumes": [f"{staged}:{SCENARIO_MOUNT}:ro"],
            "labels": labels,
        },
        HANDLER_SERVICE: {"image": handler_image, "command": faked_clock_command(argv) if faked_clock else argv,
                          "environment": env, "labels": labels},
    }}
    path = out / "compose.run.yml"
    path.write_text("# generated by prelive for run " + run_id + "\n" + yaml.safe_dump(doc, sort_keys=False))
    return path


def _paths_in(node: Any) -> list[Path]:
    """Every Path value in a dumped model (the files a validated scenario reads)."""
    if isinstance(node, dict):
        return [p for v in node.values() for p in _paths_in(v)]
    if isinstance(node, (list, tuple)):
        return [p for v in node for p in _paths_in(v)]
    return [node] if isinstance(node, Path) else []


def _stage_scenario(out: Path, scenario_path: Path, scenario: Scenario, overrides: dict[str, str] | None = None) -> Path:
    """A world-readable copy of the scenario and every file it names, for the gateway's non-root user.

    The original folder may be private (0700) to the container's user, and a scenario names other
    files (replay bars, latency samples) relative to itself or by absolute path. Any string value
    that names an existing file is copied: inside the scenario's folder to the same relative place,
    outside it under ``_files/`` with the value rewritten, so each path means the same file inside
    the container. Overrides applied to the loaded scenario (speed, duration_s, seed) are written in.
    """
    staged = out / "scenario"
    shutil.rmtree(staged, ignore_errors=True)
    staged.mkdir(parents=True)
    home = scenario_path.parent.resolve()
    raw = yaml.safe_load(scenario_path.read_text()) or {}
    changed = False
    # outside its folder, only the files the validated scenario itself reads (it has checked them
    # against its folder and the data dirs): a hostile string such as /etc/shadow is never copied
    named = {p.resolve() for p in _paths_in(scenario.model_dump())}

    def place(value: str) -> str:
        nonlocal changed
        given = Path(value)
        candidate = given if given.is_absolute() else home / given
        try:
            if len(value) > 1024 or "\n" in value or not candidate.is_file():
                return value
        except OSError:
            return value
        resolved = candidate.resolve()
        if not given.is_absolute() and resolved.is_relative_to(home):
            _copy_readable(resolved, staged / resolved.relative_to(home))
            return value
        if resolved not in named:
            return value
        target = staged / "_files" / f"{len(list((staged / '_files').glob('*'))) if (staged / '_files').exists() else 0}-{resolved.name}"
        _copy_readable(resolved, target)
        changed = True
        return f"{SCENARIO_MOUNT}/{target.relative_to(staged)}"

    def visit(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: visit(v) for k, v in node.items()}
        if isinstance(node, list):
            return [visit(v) for v in node]
        return place(node) if isinstance(node, str) else node

    raw = visit(raw)
    for key, text in (overrides or {}).items():     # --set / --symbols, as the harness applied them
        _set_dotted(raw, key, text)
        changed = True
    fields = type(scenario).model_fields
    for key in ("speed", "duration_s", "seed"):   # overrides the caller applied to the loaded scenario
        value = {"speed": scenario.speed, "duration_s": scenario.duration_s, "seed": scenario.seed}[key]
        in_file = raw.get(key, getattr(fields.get(key), "default", None))
        if value is not None and in_file != value:
            raw[key], changed = value, True
    if changed:
        (staged / scenario_path.name).write_text(yaml.safe_dump(raw, sort_keys=False))
    else:
        shutil.copyfile(scenario_path, staged / scenario_path.name)   # keeps comments and line numbers
    (staged / scenario_path.name).chmod(0o644)
    for folder in [staged, *[p for p in staged.rglob("*") if p.is_dir()]]:
        folder.chmod(0o755)
    return staged


def _copy_readable(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    target.chmod(0o644)


def _run_start_wall(gateway: Container) -> float:
    """Wall time of the gateway's ``run_start`` (the first line of its event log); else the container start."""
    with contextlib.suppress(Exception):
        out = gateway.exec_run(["head", "-n", "1", "/data/events.jsonl"]).output
        event = json.loads(out)
        if event.get("msg") == "run_start":
            return float(event["wall"])
    return _started_wall(gateway)


def _started_wall(container: Container) -> float:
    container.reload()
    text = container.attrs["State"]["StartedAt"]          # RFC 3339 with nanoseconds
    head, _, frac = text.rstrip("Z").partition(".")
    base = datetime.strptime(head, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc).timestamp()
    return base + (float("0." + frac.rstrip("Z")[:9]) if frac else 0.0)


def _sleep_until(deadline_monotonic: float) -> None:
    while True:
        left = deadline_monotonic - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(left, 0.5))


def _step_dict(step: Any) -> dict[str, Any]:
    return {"action": step.action, "at_wall_s": round(step.at_wall_s, 3), **step.attrs}


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


@contextlib.contextmanager
def _signals_raise() -> Iterator[None]:
    """SIGTERM raises RunInterrupted in the main thread (SIGINT already raises KeyboardInterrupt)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_term(signum: int, _frame: Any) -> None:
        raise RunInterrupted(f"received signal {signal.Signals(signum).name}")

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _signals_ignored() -> Iterator[list[int]]:
    """Clean-up must finish: Ctrl-C or SIGTERM during it is recorded (yielded list) and acted on after."""
    pending: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield pending
        return
    previous = {s: signal.signal(s, lambda signum, _f: pending.append(signum)) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield pending
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
