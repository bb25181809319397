"""Run scenarios against a handler: gateway, handler process, clock, metrics, expectations, artifacts.

One scenario run (``run_scenario``): one session through a backend (``harness.session``: the
mock gateway in-process, or the container stack), the handler on the scenario's clock
(``harness.faketime``) unless ``real_clock``, for ``duration_s`` simulated seconds; then the
session event log is measured and judged (``harness.expectations``: PASS, FAIL with its first
cause, NOT EXERCISED naming the faults that never acted, ERROR for a setup problem). When asked (or when an
expectation needs it) a baseline run follows: the same handler and seed with every fault off,
zero latency, fills at the quoted price; it gives Sharpe(backtest) and the latency delta.

Each run writes to ``<out>/<scenario name>/``: ``events.jsonl`` (append-only), ``handler.log``,
``baseline/`` and, last and atomically, ``METRICS.csv`` and ``RESULT.json``. A killed harness
leaves those two complete or absent.
"""
from __future__ import annotations

import contextlib
import os
import re
import threading
import shlex
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from . import metrics as M
from .artifacts import SCENARIO_RESULT_SCHEMA, atomic_write_json, atomic_write_metrics_csv, sha256_file
from .expectations import ERROR, EXIT_CODES, FAIL, NOT_EXERCISED, PASS, Expectation, FaultActivity, HandlerEnd, \
    check_metric, fault_activity, first_cause, log_tail, machine_lag_cause, not_exercised_reasons, verdict
from .expectations import check_survive as _check_survive
from .expectations import evaluate_expectations as _evaluate
from .faketime import FaketimeUnavailable
from .handler import HandlerError, handler_argv, parse_handler_option
from .metrics.report import PaperTargets, compute_metrics, metric_rows
from .scenario import Scenario
from .session import InProcessBackend, SessionPlan, SessionRecord, handler_extra_env, run_lifecycle

__all__ = ["RunError", "RunOptions", "RunOutcome", "SessionRecord", "Expectation", "check_metric", "check_survive",
           "evaluate_expectations", "run_scenario", "run_session", "run_many", "handler_extra_env"]

Progress = Callable[[str, float, str], None]   # (scenario name, fraction done 0..1, phase)

#: Expectations that need the baseline run.
_BASELINE_METRICS = {"sharpe_backtest", "latency_delta_pct"}


class RunError(Exception):
    """A run could not be set up (bad options, a missing area); nothing was started."""


class SetupError(RunError):
    """The environment could not run the session (Docker, images, ports); nothing was judged."""


@dataclass
class RunOptions:
    out_dir: Path = Path("prelive-runs")
    handler: str | None = None            # command line or package.module:function; None: the scenario's
    mode: str = "inprocess"               # inprocess | container
    speed: float | None = None            # override the scenario's clock speed
    duration_s: float | None = None       # override the scenario's length (sim seconds)
    baseline: bool | None = None          # None: only when an expectation needs it
    gates_config: Path | None = None      # thresholds for the CSV's pass column
    image: str | None = None              # container mode: the prelive image
    real_clock: bool = False              # True: the handler on the real clock (no libfaketime)
    overrides: dict[str, str] = field(default_factory=dict)   # --set key=value (and --symbols), re-applied in workers


@dataclass
class RunOutcome:
    scenario: str
    passed: bool
    run_dir: Path
    metrics: dict[str, Any] = field(default_factory=dict)
    expectations: list[Expectation] = field(default_factory=list)
    session: SessionRecord | None = None
    baseline: SessionRecord | None = None
    error: str | None = None
    wall_s: float = 0.0
    verdict: str = ERROR
    faults: list[FaultActivity] = field(default_factory=list)
    cause: str | None = None                  # FAIL: what went wrong first
    not_exercised: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[Expectation]:
        return [e for e in self.expectations if not e.passed]

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.verdict]


# ---------------------------------------------------------------------------- one session
def _handler_command(scenario: Scenario, override: str | None) -> list[str]:
    if override:
        command, entry_point = parse_handler_option(override)
        return handler_argv(command, entry_point)
    spec = scenario.handler
    return handler_argv(spec.command, spec.entry_point)


def run_session(scenario: Scenario, run_dir: Path, argv: list[str], *, baseline: bool = False,
                speed: float | None = None, duration_s: float | None = None,
                progress: Callable[[float], None] | None = None, real_clock: bool = False,
                cancel: threading.Event | None = None) -> SessionRecord:
    """Gateway in-process + handler process for the scenario's length; returns when both are stopped."""
    if baseline:
        # the backtest: same seed and handler, no faults, no pacing rules, zero latency, quoted fills
        # (nor the fault-control API: the baseline runs alongside and would ask for the same port)
        scenario = scenario.model_copy(update={"faults": [], "container_faults": [], "default_pacing": False,
                                               "control_api": None})
    plan = SessionPlan(scenario, Path(run_dir), argv, baseline=baseline, speed=float(speed or scenario.speed),
                       sim_length_s=float(duration_s or scenario.duration_s), real_clock=real_clock)
    return run_lifecycle(InProcessBackend(plan), plan, progress, cancel)


def handler_end(session: SessionRecord | None) -> HandlerEnd | None:
    if session is None:
        return None
    return HandlerEnd(session.exited_early, session.stop.exit_code if session.stop else None, session.exited_at_sim_s,
                      session.handler_port, log_tail(session.handler_log))


def check_survive(item: int | str, df: pd.DataFrame, client_id: int, session: SessionRecord | None) -> Expectation:
    """:func:`harness.expectations.check_survive` for a session record (kept for callers of the runner)."""
    return _check_survive(item, df, client_id, handler_end(session))


def evaluate_expectations(scenario: Scenario, df: pd.DataFrame, metrics: dict[str, Any],
                          session: SessionRecord | None) -> list[Expectation]:
    return _evaluate(scenario, df, metrics, handler_end(session))


# ---------------------------------------------------------------------------- one scenario
def needs_baseline(scenario: Scenario, options: RunOptions) -> bool:
    if options.baseline is not None:
        return options.baseline
    return any(name in _BASELINE_METRICS for name in scenario.expect.metrics)


def run_scenario(scenario: Scenario, options: RunOptions, progress: Progress | None = None) -> RunOutcome:
    """Run one scenario (and its baseline when needed), evaluate ``expect``, write RESULT.json + METRICS.csv."""
    run_dir = Path(options.out_dir) / scenario.name
    run_dir.mkdir(parents=True, exist_ok=True)
    for name in ("RESULT.json", "METRICS.csv"):
        (run_dir / name).unlink(missing_ok=True)  # a stale result must never describe this run's log
    t0 = time.monotonic()
    with_baseline = needs_baseline(scenario, options)
    report = progress or (lambda *_: None)
    outcome = RunOutcome(scenario.name, False, run_dir)
    try:
        targets = PaperTargets.from_gates_config(options.gates_config)
        if options.mode not in ("inprocess", "container"):
            raise RunError(f"unknown mode {options.mode!r}; use inprocess or container")
        baseline_df = None
        # the baseline (fault-free backtest) runs alongside the session: its own gateway, port and handler
        pending_baseline, cancel = None, threading.Event()
        if with_baseline:
            argv = _handler_command(scenario, options.handler)
            pool = ThreadPoolExecutor(1, thread_name_prefix="prelive-baseline")
            pending_baseline = pool.submit(run_session, scenario, run_dir / "baseline", argv, baseline=True,
                                           speed=options.speed, duration_s=options.duration_s,
                                           real_clock=options.real_clock, cancel=cancel)
            pool.shutdown(wait=False)
        try:
            if options.mode == "container":
                session = _run_in_containers(scenario, run_dir, options)
            else:
                argv = _handler_command(scenario, options.handler)
                session = run_session(scenario, run_dir, argv, speed=options.speed, duration_s=options.duration_s,
                                      progress=lambda f: report(scenario.name, f, "run"),
                                      real_clock=options.real_clock)
        except BaseException:
            cancel.set()
            raise
        finally:
            if pending_baseline is not None:
                if cancel.is_set():
                    with contextlib.suppress(Exception):
                        pending_baseline.result()
                else:
                    report(scenario.name, 1.0, "baseline")
                    outcome.baseline = pending_baseline.result()
        outcome.session = session
        if outcome.baseline is not None:
            baseline_df = M.load_frame(outcome.baseline.event_log)
        report(scenario.name, 1.0, "measure")
        df = M.load_frame(session.event_log)
        end = handler_end(session)
        outcome.metrics = compute_metrics(df, baseline_df, latency_floor_ms=targets.p95_latency_ms.value)
        outcome.expectations = _evaluate(scenario, df, outcome.metrics, end)
        outcome.faults = fault_activity(scenario, df, end, options.duration_s)
        outcome.verdict = verdict(outcome.expectations, outcome.faults)
        outcome.passed = outcome.verdict == PASS
        if outcome.verdict == FAIL:
            outcome.cause = first_cause(scenario, df, end, outcome.expectations)
            on_scenario_clock = session.clock is not None and session.clock.mode == "faketime"
            lagged = machine_lag_cause(scenario, df, end, outcome.expectations) if on_scenario_clock else None
            if lagged is not None:   # the machine stalled the gateway just before: not the handler's failure
                outcome.verdict = ERROR
                outcome.cause = lagged + (f" (what failed: {outcome.cause})" if outcome.cause else "")
        elif outcome.verdict == NOT_EXERCISED:
            outcome.not_exercised = not_exercised_reasons(outcome.expectations, outcome.faults)
        outcome.warnings = [w for w in (s.clock.warning for s in (session, outcome.baseline)
                                        if s is not None and s.clock is not None) if w]
        outcome.wall_s = time.monotonic() - t0
        atomic_write_metrics_csv(run_dir / "METRICS.csv", metric_rows(outcome.metrics, targets))
        atomic_write_json(run_dir / "RESULT.json", result_json(scenario, outcome, options))
    except (RunError, HandlerError, FaketimeUnavailable, SetupError) as exc:
        outcome.error = str(exc)
    except OSError as exc:   # e.g. the gateway's port is taken
        outcome.error = f"setup error: {exc.strerror or exc}" + (f" ({exc.filename})" if exc.filename else "")
    except Exception as exc:  # one broken run must not take the others down
        outcome.error = f"{type(exc).__name__}: {exc}"
    if outcome.error:
        outcome.verdict, outcome.passed = ERROR, False
    outcome.wall_s = time.monotonic() - t0
    return outcome


def _run_in_containers(scenario: Scenario, run_dir: Path, options: RunOptions) -> SessionRecord:
    try:
        from harness.docker.stack import run_session_in_containers
    except ImportError as exc:
        raise RunError(f"container mode needs harness.docker.stack ({exc}); run with --mode inprocess") from None
    command = shlex.split(options.handler) if options.handler else None
    try:
        return run_session_in_containers(scenario, run_dir, handler_command=command, speed=options.speed,
                                         duration_s=options.duration_s, real_clock=options.real_clock,
                                         **({"image": options.image} if options.image else {}))
    except RuntimeError as exc:   # StackError, DockerUnavailable, ImageBuildError
        raise SetupError(f"container run failed: {exc}") from None


def result_json(scenario: Scenario, outcome: RunOutcome, options: RunOptions) -> dict[str, Any]:
    s = outcome.session
    assert s is not None
    return {
        "schema": SCENARIO_RESULT_SCHEMA, "scenario": scenario.name,
        "source": str(scenario.source) if scenario.source else None, "seed": scenario.seed,
        "speed": options.speed or scenario.speed, "duration_s": options.duration_s or scenario.duration_s,
        "mode": options.mode, "passed": outcome.passed, "verdict": outcome.verdict,
        "exit_code": outcome.exit_code, "cause": outcome.cause, "not_exercised": outcome.not_exercised,
        "warnings": outcome.warnings, "overrides": dict(options.overrides),
        "started_at": s.started_at, "ended_at": s.ended_at,
        "wall_s": round(outcome.wall_s, 3), "latency_clock": outcome.metrics.get("latency_clock"),
        "event_log": str(s.event_log), "event_log_sha256": sha256_file(s.event_log),
        "handler": _session_json(s), "clock": s.clock.to_json() if s.clock else None,
        "faults": [a.to_json() for a in outcome.faults],
        "baseline": ({**_session_json(outcome.baseline), "event_log": str(outcome.baseline.event_log),
                      "event_log_sha256": sha256_file(outcome.baseline.event_log)} if outcome.baseline else None),
        "metrics": outcome.metrics, "expectations": [e.to_json() for e in outcome.expectations],
    }


def _session_json(s: SessionRecord) -> dict[str, Any]:
    return {"argv": s.argv, "log": str(s.handler_log), "exited_early": s.exited_early,
            "exited_at_sim_s": s.exited_at_sim_s, "port": s.handler_port,
            "exit_code": s.stop.exit_code if s.stop else None, "stopped": s.stop.how if s.stop else None}


# ---------------------------------------------------------------------------- many scenarios
def parse_shard(text: str | None) -> tuple[int, int] | None:
    """``i/n`` (1-based) -> (i, n); a clear error otherwise."""
    if text is None:
        return None
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not m or not (1 <= int(m.group(1)) <= int(m.group(2))):
        raise RunError(f"--shard must be i/n with 1 <= i <= n (e.g. 2/4), got {text!r}")
    return int(m.group(1)), int(m.group(2))


#: Wall seconds a scenario run costs beyond its simulated length: handler and gateway start-up,
#: measuring, writing the artifacts (measured on the shipped matrix: median 1.1 s; a worker's first
#: run up to 10 s, with its imports and the exchange calendars).
STARTUP_WALL_S = 3.0


def expected_wall_s(scenario: Any, speed: float | None = None, duration_s: float | None = None) -> float:
    """What one scenario is expected to take in wall seconds: its length over its speed plus start-up."""
    length_s = float(duration_s or scenario.duration_s)
    return length_s / float(speed or scenario.speed) + STARTUP_WALL_S


def _shard_cost(item: Any) -> float:
    return expected_wall_s(item) if hasattr(item, "duration_s") and hasattr(item, "speed") else 1.0


def select_shard(items: list[Any], shard: tuple[int, int] | None,
                 cost: Callable[[Any], float] = _shard_cost) -> list[Any]:
    """Shard i of n, balanced by expected wall time (longest first onto the least loaded shard).

    Shards are disjoint and together cover the list; every CI job computes the same split from
    the same list, whatever order it was given in. The selected items keep their given order.
    """
    if shard is None:
        return items
    i, n = shard
    order = sorted(range(len(items)), key=lambda k: (-cost(items[k]), str(getattr(items[k], "name", "")), k))
    loads, owner = [0.0] * n, {}
    for k in order:
        target = min(range(n), key=lambda j: (loads[j], j))
        loads[target] += cost(items[k])
        owner[k] = target
    return [x for k, x in enumerate(items) if owner[k] == i - 1]


def _worker_init() -> None:
    from .handler import _die_with_parent
    _die_with_parent()
    os.environ.setdefault("PYTHONUNBUFFERED", "1")


#: Scenario fields carried to a worker process as they are (faults are rebuilt from the file: their
#: bound schedules do not pickle).
_CARRIED = ("name", "seed", "speed", "duration_s", "start", "market", "accounts", "handler", "expect",
            "default_pacing", "log_market_data", "market_data_lines")


def _worker_run(path: str, carried: dict[str, Any], options: RunOptions, queue: Any) -> RunOutcome:
    from .scenario import apply_overrides, load_scenario
    scenario = load_scenario(path)
    if options.overrides:
        scenario = apply_overrides(scenario, options.overrides)
    scenario = scenario.model_copy(update=carried)
    return run_scenario(scenario, options, lambda name, f, phase: queue.put((name, f, phase)))


def run_many(scenarios: list[Scenario], options: RunOptions, jobs: int = 1,
             progress: Progress | None = None) -> list[RunOutcome]:
    """Run several scenarios, ``jobs`` at a time (each its own process, gateway and ports)."""
    names = [s.name for s in scenarios]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise RunError(f"two scenarios are named {', '.join(dupes)}; their results would overwrite each other")
    if jobs < 1:
        raise RunError(f"--jobs must be at least 1, got {jobs}")
    if jobs == 1 or len(scenarios) == 1 or any(s.source is None for s in scenarios):
        return [run_scenario(s, options, progress) for s in scenarios]
    import multiprocessing as mp
    import queue as queue_mod
    from concurrent.futures import ProcessPoolExecutor

    ctx = mp.get_context("spawn")
    with ctx.Manager() as manager:
        q = manager.Queue()
        with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_worker_init) as pool:
            # longest first, so that no long run starts last and leaves a worker idle at the end
            order = sorted(range(len(scenarios)), key=lambda k: -expected_wall_s(scenarios[k], options.speed,
                                                                                  options.duration_s))
            submitted = {k: pool.submit(_worker_run, str(scenarios[k].source),
                                        {key: getattr(scenarios[k], key) for key in _CARRIED}, options, q)
                         for k in order}
            futures = [submitted[k] for k in range(len(scenarios))]
            while not all(f.done() for f in futures):
                try:
                    item = q.get(timeout=0.2)
                except queue_mod.Empty:
                    continue
                if progress:
                    progress(*item)
            results = []
            for s, f in zip(scenarios, futures):
                try:
                    results.append(f.result())
                except Exception as exc:
                    results.append(RunOutcome(s.name, False, Path(options.out_dir) / s.name,
                                              error=f"{type(exc).__name__}: {exc}"))
            return results
