"""Anomalies and risks: what failed, what is missing, and what the evidence itself gives away."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from .compare import fmt, relative_miss
from .config import GatesConfig
from .evidence import Evidence
from .model import GateResult, Status
from .signatures import SignatureState

Severity = Literal["critical", "high", "medium", "low"]
SEVERITY_ORDER: tuple[Severity, ...] = ("critical", "high", "medium", "low")


@dataclass(frozen=True)
class Anomaly:
    severity: Severity
    gate: str | None
    text: str


def find_anomalies(evidence: Evidence, config: GatesConfig, gates: Sequence[GateResult],
                   states: Sequence[SignatureState]) -> tuple[Anomaly, ...]:
    """Ordered most severe first; every FAIL and PENDING condition appears once."""
    found: list[Anomaly] = []
    margin = config.decision.minor_margin_pct / 100
    for gate in gates:
        for c in gate.conditions:
            if c.derived or c.status is Status.PASS:
                continue
            note = f" ({c.note})" if c.note else ""
            if c.status is Status.PENDING:
                found.append(Anomaly("medium", gate.name, f"outstanding: {c.description}{note}"))
                continue
            miss = relative_miss(c)
            severity: Severity = ("critical" if gate.critical
                                  else "medium" if miss is not None and miss <= margin else "high")
            found.append(Anomaly(severity, gate.name,
                                 f"{c.description}: observed {fmt(c.observed)}, needs {c.op} {fmt(c.threshold)}{note}"))
    for state in states:
        if not state.current:
            sig = state.signature
            # low: the role's own condition already reports the missing sign-off
            severity: Severity = "high" if state.tampered else "low"
            found.append(Anomaly(severity, "GATE_8", f"signature of {sig.name} ({sig.role}, {sig.decision}) "
                                                     f"is not counted: {state.status_text}"))
    found += [Anomaly("medium", None, note) for note in evidence.notes]
    found += _evidence_risks(evidence, gates)
    return tuple(sorted(found, key=lambda a: SEVERITY_ORDER.index(a.severity)))


def backtest_description(evidence: Evidence) -> str:
    """The backtest's costs as its own event log records them (never more than the log says)."""
    costs = evidence.backtest_costs
    if costs is None:
        return "its event log is not available, so its costs are unknown"
    charged = (f"{costs.commission_total:,.2f} {costs.commission_currency} commission over {costs.fills} fills"
               if costs.commission_total else f"no commission charged over {costs.fills} fills")
    if costs.prelive_baseline:
        how = ("prelive's baseline run: the same handler and seed through the mock with every fault off and no "
               "pacing rules, fills at the quoted bid/ask (the spread is paid), no injected latency or slippage")
    else:
        how = "the log does not say how the backtest was made"
    faults = f"; {costs.faults_acted} events touched by faults" if costs.faults_acted else ""
    return f"{how}; {charged}{faults}"


def _evidence_risks(evidence: Evidence, gates: Sequence[GateResult]) -> list[Anomaly]:
    risks: list[Anomaly] = []
    log = evidence.paper_log
    if log is not None and (log.latency_clock or "sim") == "sim" and log.speed not in (None, 1, 1.0):
        risks.append(Anomaly("low", "GATE_7", f"latency figures are in sim time at speed {log.speed:g}; "
                                              "re-run at speed 1 for wall-clock latency"))
    metrics = evidence.paper_metrics or {}
    backtest = metrics.get("sharpe_backtest")
    if backtest is not None and backtest.value is not None and backtest.value <= 0:
        risks.append(Anomaly("high", "GATE_7", f"backtest Sharpe ratio is {backtest.value:g}: the strategy loses "
                                               f"money even in its backtest ({backtest_description(evidence)})"))
    gate_7 = next((g for g in gates if g.number == 7), None)
    if gate_7 is not None:
        metric_names = gate_7.details.get("metric_names", {})
        for c in gate_7.conditions:
            row = metrics.get(metric_names.get(c.id, ""))
            if row is not None and row.passed is not None and c.status is not Status.PENDING \
                    and row.passed != (c.status is Status.PASS):
                risks.append(Anomaly("low", "GATE_7", f"{row.name}: the producer marked pass={str(row.passed).lower()} "
                                                      f"(target {row.target or 'n/a'}) but the gate threshold "
                                                      f"{c.op} {fmt(c.threshold)} says {c.status.value}"))
    kinds = evidence.gateway_kinds
    if kinds.get("account_config") == "mock":
        risks.append(Anomaly("medium", "GATE_6", "the account probe ran against the mock gateway, "
                                                 "not a real paper gateway: simulated evidence"))
    if kinds.get("paper_log") == "mock":
        risks.append(Anomaly("medium", "GATE_7", "the paper session ran against the mock gateway, "
                                                 "not a real paper account: simulated evidence"))
    drill = evidence.rollback_drill
    if drill is not None and drill.target == "mock":
        risks.append(Anomaly("low", "GATE_8", "the rollback drill ran against the mock stack, not the paper stack"))
    return risks

