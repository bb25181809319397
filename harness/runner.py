"""Run scenarios against a handler: gateway, handler process, clock, metrics, expectations, artifacts.

One scenario run (``run_scenario``): start the mock gateway in-process (or delegate to the
container stack), start the handler with the ``IB_*`` environment, let the scenario run for
``duration_s / speed`` wall seconds, stop the handler (SIGTERM, then SIGKILL after the grace
period), stop the gateway, then measure the session event log. When asked (or when an
expectation needs it) a baseline run follows: the same handler and seed with every fault off,
zero latency, fills at the quoted price; it gives Sharpe(backtest) and the latency delta.

Each run writes to ``<out>/<scenario name>/``: ``events.jsonl`` (append-only), ``handler.log``,
``baseline/`` and, last and atomically, ``METRICS.csv`` and ``RESULT.json``. A killed harness
leaves those two complete or absent.
"""
from __future__ import annotations

import math
import os
import re
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from . import metrics as M
from .artifacts import SCENARIO_RESULT_SCHEMA, atomic_write_json, atomic_write_metrics_csv, sha256_file, \
    utc_now_iso
from .handler import HandlerError, HandlerProcess, StopResult, handler_argv, handler_env, parse_handler_option
from .metrics.report import PaperTargets, compute_metrics, metric_rows
from .safety import check_managed_accounts

Progress = Callable[[str, float, str], None]   # (scenario name, fraction done 0..1, phase)

#: Expectations that need the baseline run.
_BASELINE_METRICS = {"sharpe_backtest", "latency_delta_pct"}


class RunError(Exception):
    """A run could not be set up (bad options, a missing area); nothing was started."""


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


@dataclass
class Expectation:
    kind: str                 # "metric" | "survive"
    name: str
    passed: bool
    observed: Any = None
    bound: dict[str, float] | None = None
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "passed": self.passed, "observed": self.observed,
                "bound": self.bound, "detail": self.detail}


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

    @property
    def failed(self) -> list[Expectation]:
        return [e for e in self.expectations if not e.passed]


# ---------------------------------------------------------------------------- one session
def _handler_command(scenario: Any, override: str | None) -> list[str]:
    if override:
        command, entry_point = parse_handler_option(override)
        return handler_argv(command, entry_point)
    spec = scenario.handler
    return handler_argv(spec.command, spec.entry_point)


def _handler_extra_env(scenario: Any) -> dict[str, str]:
    extra = {"PRELIVE_SEED": str(scenario.seed), "PRELIVE_SCENARIO": scenario.name}
    if scenario.market.symbols:
        # for handlers that trade one symbol (the reference handler does): one the market has
        extra["PRELIVE_SYMBOL"] = scenario.market.symbols[0]
    extra.update(scenario.handler.env)
    return extra


def run_session(scenario: Any, run_dir: Path, argv: list[str], *, baseline: bool = False,
                speed: float | None = None, duration_s: float | None = None,
                progress: Callable[[float], None] | None = None) -> SessionRecord:
    """Gateway in-process + handler process for the scenario's length; returns when both are stopped."""
    from mock_gateway.faults.base import FaultStack
    from mock_gateway.server import GatewayThread

    run_dir.mkdir(parents=True, exist_ok=True)
    event_log = run_dir / "events.jsonl"
    handler_log = run_dir / "handler.log"
    kill_file = run_dir / "KILL"
    for stale in (event_log, handler_log, kill_file):
        stale.unlink(missing_ok=True)
    if baseline:
        # the backtest: same seed and handler, no faults, no pacing rules, zero latency, quoted fills
        scenario = scenario.model_copy(update={"faults": [], "default_pacing": False})
    config = scenario.gateway_config(port=0, event_log=event_log, **({"speed": speed} if speed else {}))
    if baseline:
        config.faults = FaultStack([])
    check_managed_accounts(config.account_ids, scenario.accounts[0].id, what="a handler run")  # paper logins only
    sim_length_s = float(duration_s or scenario.duration_s)
    wall_length_s = sim_length_s / config.speed
    started_at, t0 = utc_now_iso(), time.monotonic()
    stop: StopResult | None = None
    exited_early = False
    with GatewayThread(config) as gw:
        log = gw.event_log
        env = handler_env(gw.host, gw.port, scenario.handler.client_id, scenario.accounts[0].id, kill_file,
                          _handler_extra_env(scenario))
        handler = HandlerProcess(argv, env, handler_log, scenario.handler.grace_period_s, cwd=None)
        handler.start()
        log.sys("handler_start", sim=gw.env.now, source="harness",
                attrs={"pid": handler.pid, "argv": argv, "baseline": baseline, "duration_s": sim_length_s})
        try:
            deadline = time.monotonic() + wall_length_s   # from when the gateway serves: its sim clock starts then
            while (now := time.monotonic()) < deadline:
                if handler.poll() is not None:
                    exited_early = True
                    break
                if progress:
                    progress((now - t0) / wall_length_s)
                time.sleep(min(0.1, max(0.0, deadline - now)))
        finally:
            log.sys("handler_stop", sim=gw.env.now, source="harness", attrs={"exited_early": exited_early})
            stop = handler.stop()
            log.sys("handler_exit", sim=gw.env.now, source="harness",
                    attrs={"exit_code": stop.exit_code, "how": stop.how, "stop_s": round(stop.stop_s, 3)})
    return SessionRecord(event_log, handler_log, argv, started_at, utc_now_iso(), time.monotonic() - t0, stop,
                         exited_early)


# ---------------------------------------------------------------------------- expectations
def _observed(name: str, metrics: dict[str, Any], df: pd.DataFrame) -> Any:
    if name in metrics:
        return metrics[name]
    m = re.fullmatch(r"pacing_violations_(\d+)", name)
    if m:   # the pacing rule's errors only (a 162 "no data" is not a pacing violation)
        return int((M.pacing_violation_events(df)["code"] == int(m.group(1))).sum())
    return None


def check_metric(name: str, bound: Any, metrics: dict[str, Any], df: pd.DataFrame) -> Expectation:
    value = _observed(name, metrics, df)
    limits = {k: v for k, v in (("min", bound.min), ("max", bound.max)) if v is not None}
    if value is None or (isinstance(value, float) and math.isnan(value)):
        vacuous = name == "reconnect_time_s" and metrics.get("disconnects", 0) == 0
        return Expectation("metric", name, vacuous, None, limits,
                           "no disconnects, nothing to reconnect from" if vacuous else "not measured: no data")
    ok = (bound.min is None or value >= bound.min) and (bound.max is None or value <= bound.max)
    detail = " and ".join(f"{'>=' if k == 'min' else '<='} {v:g}" for k, v in limits.items())
    return Expectation("metric", name, bool(ok), value, limits, f"{value:g} {'within' if ok else 'outside'} {detail}")


def _connected_at_end(df: pd.DataFrame, client_id: int) -> bool:
    """The handler's client id had a ready session that was still open when the harness stopped it."""
    stops = df[(df["dir"] == "sys") & (df["msg"] == "handler_stop")]
    end_seq = int(stops["seq"].min()) if len(stops) else int(df["seq"].max()) + 1
    sessions = M.sessions(df)
    ready = sessions[(sessions["client_id"] == client_id) & sessions["t_ready"].notna()]
    if ready.empty:
        return False
    disconnects = df[(df["dir"] == "sys") & (df["msg"] == "disconnect") & (df["seq"] < end_seq)]
    closed = set(M.frame.as_int(disconnects["conn"]).dropna().astype(int))
    return any(int(c) not in closed for c in ready["conn"])


def _fault_occurrences(df: pd.DataFrame, name: str) -> int:
    """Events whose ``fault`` field (comma-separated fault names) names ``name``.

    Scheduled faults write it on their ``fault`` sys events; per-connection and per-message faults
    (handshake stalls, latency, late replies, pacing) on the connect or message events they acted on.
    """
    marked = df["fault"].dropna()
    return int(sum(name in (part.strip() for part in str(f).split(",")) for f in marked))


def check_survive(item: int | str, df: pd.DataFrame, client_id: int, session: SessionRecord | None) -> Expectation:
    name = str(item)
    if isinstance(item, int):
        codes = M.frame.as_int(M.frame.attr(M.frame.select(df, "out", "error"), "code"))
        occurred = int((codes == item).sum())
    elif item == "disconnect":
        occurred = M.disconnects(df)
    else:
        occurred = int(((df["dir"] == "sys") & (df["msg"] == item)).sum()) + _fault_occurrences(df, item)
    if session is not None and session.exited_early:
        code = session.stop.exit_code if session.stop else None
        return Expectation("survive", name, False, occurred, None, f"handler exited early (exit code {code})")
    if not occurred:
        return Expectation("survive", name, True, 0, None, "did not occur")
    if not _connected_at_end(df, client_id):
        return Expectation("survive", name, False, occurred, None,
                           f"occurred {occurred}x; handler (client {client_id}) not connected at the end")
    if item == "disconnect" and M.unrecovered_disconnects(df):
        return Expectation("survive", name, False, occurred, None, "a disconnect was never recovered from")
    return Expectation("survive", name, True, occurred, None, f"occurred {occurred}x; handler connected at the end")


def evaluate_expectations(scenario: Any, df: pd.DataFrame, metrics: dict[str, Any],
                          session: SessionRecord | None) -> list[Expectation]:
    out = [check_survive(item, df, scenario.handler.client_id, session) for item in scenario.expect.survive]
    out += [check_metric(name, bound, metrics, df) for name, bound in scenario.expect.metrics.items()]
    if session is not None and session.exited_early and not scenario.expect.survive:
        code = session.stop.exit_code if session.stop else None
        out.append(Expectation("survive", "handler_alive", False, code, None,
                               f"handler exited before the end (exit code {code})"))
    return out


# ---------------------------------------------------------------------------- one scenario
def needs_baseline(scenario: Any, options: RunOptions) -> bool:
    if options.baseline is not None:
        return options.baseline
    return any(name in _BASELINE_METRICS for name in scenario.expect.metrics)


def run_scenario(scenario: Any, options: RunOptions, progress: Progress | None = None) -> RunOutcome:
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
        if options.mode == "container":
            session = _run_in_containers(scenario, run_dir, options)
        elif options.mode == "inprocess":
            argv = _handler_command(scenario, options.handler)
            share = 0.5 if with_baseline else 1.0
            session = run_session(scenario, run_dir, argv, speed=options.speed, duration_s=options.duration_s,
                                  progress=lambda f: report(scenario.name, f * share, "run"))
        else:
            raise RunError(f"unknown mode {options.mode!r}; use inprocess or container")
        outcome.session = session
        baseline_df = None
        if with_baseline:
            argv = _handler_command(scenario, options.handler)
            outcome.baseline = run_session(scenario, run_dir / "baseline", argv, baseline=True, speed=options.speed,
                                           duration_s=options.duration_s,
                                           progress=lambda f: report(scenario.name, 0.5 + f * 0.5, "baseline"))
            baseline_df = M.load_frame(outcome.baseline.event_log)
        report(scenario.name, 1.0, "measure")
        df = M.load_frame(session.event_log)
        outcome.metrics = compute_metrics(df, baseline_df, latency_floor_ms=targets.p95_latency_ms.value)
        outcome.expectations = evaluate_expectations(scenario, df, outcome.metrics, session)
        outcome.passed = all(e.passed for e in outcome.expectations)
        outcome.wall_s = time.monotonic() - t0
        atomic_write_metrics_csv(run_dir / "METRICS.csv", metric_rows(outcome.metrics, targets))
        atomic_write_json(run_dir / "RESULT.json", result_json(scenario, outcome, options))
    except (RunError, HandlerError) as exc:
        outcome.error = str(exc)
    except Exception as exc:  # one broken run must not take the others down
        outcome.error = f"{type(exc).__name__}: {exc}"
    outcome.wall_s = time.monotonic() - t0
    return outcome


def _run_in_containers(scenario: Any, run_dir: Path, options: RunOptions) -> SessionRecord:
    try:
        from harness.docker.stack import run_scenario_in_containers
    except ImportError as exc:
        raise RunError(f"container mode needs harness.docker.stack ({exc}); run with --mode inprocess") from None
    command = shlex.split(options.handler) if options.handler else None
    started_at, t0 = utc_now_iso(), time.monotonic()
    result = run_scenario_in_containers(scenario, run_dir, handler_command=command,
                                        speed=options.speed, duration_s=options.duration_s,
                                        **({"image": options.image} if options.image else {}))
    if result.error:
        raise RunError(f"container run failed: {result.error}")
    code = result.handler_exit_code
    return SessionRecord(Path(result.event_log), Path(result.logs_dir) / "handler.log", command or [],
                         started_at, utc_now_iso(), time.monotonic() - t0,
                         StopResult(code, "terminated", 0.0), exited_early=result.handler_exited_early)


def result_json(scenario: Any, outcome: RunOutcome, options: RunOptions) -> dict[str, Any]:
    s = outcome.session
    assert s is not None
    return {
        "schema": SCENARIO_RESULT_SCHEMA, "scenario": scenario.name,
        "source": str(scenario.source) if scenario.source else None, "seed": scenario.seed,
        "speed": options.speed or scenario.speed, "duration_s": options.duration_s or scenario.duration_s,
        "mode": options.mode, "passed": outcome.passed, "started_at": s.started_at, "ended_at": s.ended_at,
        "wall_s": round(outcome.wall_s, 3), "latency_clock": outcome.metrics.get("latency_clock"),
        "event_log": str(s.event_log), "event_log_sha256": sha256_file(s.event_log),
        "handler": _session_json(s),
        "baseline": ({**_session_json(outcome.baseline), "event_log": str(outcome.baseline.event_log),
                      "event_log_sha256": sha256_file(outcome.baseline.event_log)} if outcome.baseline else None),
        "metrics": outcome.metrics, "expectations": [e.to_json() for e in outcome.expectations],
    }


def _session_json(s: SessionRecord) -> dict[str, Any]:
    return {"argv": s.argv, "log": str(s.handler_log), "exited_early": s.exited_early,
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
#: measuring, writing the artifacts.
STARTUP_WALL_S = 8.0


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
    from .scenario import load_scenario
    scenario = load_scenario(path).model_copy(update=carried)
    return run_scenario(scenario, options, lambda name, f, phase: queue.put((name, f, phase)))


def run_many(scenarios: list[Any], options: RunOptions, jobs: int = 1,
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
            futures = [pool.submit(_worker_run, str(s.source), {k: getattr(s, k) for k in _CARRIED}, options, q)
                       for s in scenarios]
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
