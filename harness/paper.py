"""Stage 7, paper-trading validation -> PAPER_TRADING_LOG.json + PAPER_TRADING_METRICS.csv.

Two sources, one metrics code: a mock scenario run by the runner (with its baseline run for
Sharpe(backtest) and the latency delta), or a real paper session recorded by the tap (an event
log), optionally with a baseline scenario replayed through the mock for its backtest.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from . import metrics as M
from .artifacts import (PAPER_TRADING_LOG_SCHEMA, artifact_json_bytes, metrics_csv_bytes, preserve_event_log,
                        write_artifact_set)
from .gateway_kind import gateway_of_log
from .metrics.report import PaperTargets, compute_metrics, metric_rows
from .runner import RunError, RunOptions, run_scenario, run_session, _handler_command

LOG_NAME = "PAPER_TRADING_LOG.json"
METRICS_NAME = "PAPER_TRADING_METRICS.csv"
MAX_ERRORS_LISTED = 1000


class PaperError(Exception):
    """Stage 7 could not produce its artifacts (the run failed, the log is unreadable)."""


@dataclass
class PaperResult:
    log_path: Path
    metrics_path: Path
    metrics: dict[str, Any]
    rows: list[tuple]
    gateway: dict[str, Any] = field(default_factory=dict)   # {"kind": "mock"|"real", "detected_by"}


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for rec in frame.to_dict(orient="records"):
        out.append({k: (None if isinstance(v, float) and math.isnan(v) else
                        (v.item() if hasattr(v, "item") else v)) for k, v in rec.items()})
    return out


def write_paper_artifacts(df: pd.DataFrame, event_log: Path, out_dir: Path, *, scenario: str, seed: int | None,
                          speed: float | None, started_at: str, ended_at: str,
                          baseline_df: pd.DataFrame | None = None, baseline_log: Path | None = None,
                          targets: PaperTargets | None = None) -> PaperResult:
    """Measure ``df`` (and the baseline) and write both stage-7 artifacts as one set.

    The event logs are copied beside the artifacts under names of their own (a later run never
    replaces them), and the log and the metrics CSV switch together: a kill at any moment leaves
    the previous complete set or the new one.
    """
    targets = targets or PaperTargets()
    metrics = compute_metrics(df, baseline_df, latency_floor_ms=targets.p95_latency_ms.value)
    rows = metric_rows(metrics, targets)
    errors = M.errors(df)
    out_dir.mkdir(parents=True, exist_ok=True)
    session_log, session_sha = preserve_event_log(event_log, out_dir, "session")
    backtest_log, backtest_sha = preserve_event_log(baseline_log, out_dir, "backtest") if baseline_log else (None, None)
    metrics_csv = metrics_csv_bytes(rows)
    document = {
        "schema": PAPER_TRADING_LOG_SCHEMA, "scenario": scenario, "seed": seed, "speed": speed,
        "latency_clock": metrics["latency_clock"], "started_at": started_at, "ended_at": ended_at,
        "event_log": session_log, "event_log_sha256": session_sha,
        # the baseline (backtest) run's log, for the gate engine's paper-vs-backtest equity plot
        "backtest_event_log": backtest_log, "backtest_event_log_sha256": backtest_sha,
        # which gateway the session ran against, from what the gateway itself said (mock = simulated evidence)
        "gateway": gateway_of_log(df),
        "trades": _records(M.trades(df)),
        "errors": _records(errors.head(MAX_ERRORS_LISTED)), "errors_total": int(len(errors)),
        "disconnects": _records(M.disconnect_events(df)),
        "pacing_violations_by_code": {str(k): int(v) for k, v in M.pacing_violations_by_code(df).items()},
        # numbers only (contracts §4, and what the gate engine reads); the clock is its own field above
        "metrics": {name: value for name, value in metrics.items() if name != "latency_clock"},
        "targets": {name: target for name, _, _, target, _ in rows if target},
        "metrics_csv_sha256": hashlib.sha256(metrics_csv).hexdigest(),
    }
    metrics_path, log_path = write_artifact_set(out_dir, {METRICS_NAME: metrics_csv,
                                                          LOG_NAME: artifact_json_bytes(document)})
    return PaperResult(log_path, metrics_path, metrics, rows, document["gateway"])


def paper_from_scenario(scenario: Any, options: RunOptions, out_dir: Path, progress: Any = None) -> PaperResult:
    """Run the scenario and its baseline through the mock, then write the stage-7 artifacts."""
    options.baseline = True
    outcome = run_scenario(scenario, options, progress)
    if outcome.error or outcome.session is None:
        raise PaperError(f"scenario {scenario.name} did not run: {outcome.error}")
    s, b = outcome.session, outcome.baseline
    return write_paper_artifacts(
        M.load_frame(s.event_log), s.event_log, out_dir, scenario=scenario.name, seed=scenario.seed,
        speed=options.speed or scenario.speed, started_at=s.started_at, ended_at=s.ended_at,
        baseline_df=M.load_frame(b.event_log) if b else None, baseline_log=b.event_log if b else None,
        targets=PaperTargets.from_gates_config(options.gates_config))


def paper_from_event_log(event_log: Path, out_dir: Path, *, baseline_scenario: Any = None,
                         options: RunOptions | None = None, progress: Any = None) -> PaperResult:
    """Measure a recorded session (a tap log); a baseline scenario, if given, is run in the mock as its backtest."""
    if not Path(event_log).is_file():
        raise PaperError(f"event log {event_log} not found")
    df = M.load_frame(event_log)
    if df.empty:
        raise PaperError(f"event log {event_log} has no events")
    options = options or RunOptions()
    baseline_df, baseline_log = None, None
    if baseline_scenario is not None:
        try:
            argv = _handler_command(baseline_scenario, options.handler)
        except Exception as exc:
            raise PaperError(f"baseline handler: {exc}") from None
        record = run_session(baseline_scenario, Path(options.out_dir) / baseline_scenario.name / "baseline", argv,
                             baseline=True, speed=options.speed, duration_s=options.duration_s,
                             progress=(lambda f: progress(baseline_scenario.name, f, "baseline")) if progress else None)
        baseline_log = record.event_log
        baseline_df = M.load_frame(baseline_log)
    starts = df[(df["dir"] == "sys") & (df["msg"] == "run_start")]
    ends = df[(df["dir"] == "sys") & (df["msg"] == "run_end")]
    iso = lambda w: pd.Timestamp(w, unit="s", tz="UTC").isoformat()  # noqa: E731
    started = iso(starts["wall"].iloc[0] if len(starts) else df["wall"].min())
    ended = iso(ends["wall"].iloc[-1] if len(ends) else df["wall"].max())
    return write_paper_artifacts(
        df, Path(event_log), out_dir, scenario=f"recorded:{Path(event_log).name}", seed=None, speed=None,
        started_at=started, ended_at=ended, baseline_df=baseline_df, baseline_log=baseline_log,
        targets=PaperTargets.from_gates_config(options.gates_config))


__all__ = ["PaperError", "PaperResult", "paper_from_event_log", "paper_from_scenario", "write_paper_artifacts",
           "RunError"]
