"""GATE_1..GATE_8 as pure functions of the evidence and the config (docs/gates.md, "The gates")."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from harness.safety import is_paper_account

from .compare import boolean, fmt, numeric, pct
from .config import GatesConfig, Threshold
from .evidence import Evidence
from .interface_map import InterfaceMap
from .model import Condition, GateResult, Status, combine
from .parsers import JUnitReport
from .signatures import SignatureState, latest_current, role_key, signature_states

TITLES = {
    1: "artifact validation", 2: "hierarchical breakdown", 3: "interface mapping",
    4: "implementation prep", 5: "test infrastructure", 6: "account config probe",
    7: "paper trading validation", 8: "go-live decision",
}
KEYS = {
    1: "artifact_validation", 2: "hierarchical_breakdown", 3: "interface_mapping", 4: "implementation_prep",
    5: "test_infrastructure", 6: "account_config", 7: "paper_trading", 8: "go_live",
}


def _gate(number: int, config: GatesConfig, conditions: Sequence[Condition], **details: object) -> GateResult:
    critical = getattr(config.gates, KEYS[number]).critical
    return GateResult(number, KEYS[number], TITLES[number], critical, tuple(conditions), dict(details))


def _absent(evidence: Evidence, key: str) -> str:
    return f"{evidence.label(key)} is absent"


def _listing(names: Sequence[str], limit: int = 8) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


# ----------------------------------------------------------------------------- GATE_1
def gate_1(evidence: Evidence, config: GatesConfig) -> GateResult:
    g = config.gates.artifact_validation
    artifacts = evidence.artifacts
    valid = sum(a.valid for a in artifacts)
    missing = [a.label + ("" if not a.present else f" ({a.problem})") for a in artifacts if not a.valid]
    artifact_pct = pct(valid, len(artifacts)) if artifacts else 100.0
    coverage = evidence.coverage
    governance = evidence.governance_text
    fixtures = evidence.fixtures
    bad_fixtures = [f"{f.label} ({f.problem})" for f in fixtures if not f.valid]
    integrity = evidence.integrity_problems
    return _gate(1, config, [
        boolean("evidence_integrity", "every evidence file matches the sha256 recorded for it", not integrity,
                evidence="paper_log", note="; ".join(integrity)),
        numeric("artifact_coverage_pct", "required artifacts present and valid", artifact_pct,
                g.artifact_coverage_pct, evidence=None, unit="%",
                note=f"{valid}/{len(artifacts)}" + (f"; missing or invalid: {_listing(missing)}" if missing else "")),
        numeric("test_coverage_pct", "test coverage (line rate)", coverage.line_pct if coverage else None,
                g.test_coverage_pct, evidence="coverage", unit="%", pending_note=_absent(evidence, "coverage")),
        boolean("governance_framework_present", "governance framework present",
                None if governance is None else bool(governance.strip()), evidence="governance",
                pending_note=_absent(evidence, "governance"), note="" if (governance or "").strip() else "file is empty"),
        numeric("fixtures_valid_pct", "fixtures present and parsing", pct(sum(f.valid for f in fixtures), len(fixtures)),
                g.fixtures_valid_pct, evidence=None, unit="%",
                pending_note=f"no fixture files match {', '.join(config.evidence.fixtures) or '(none configured)'}",
                note=f"invalid: {_listing(bad_fixtures)}" if bad_fixtures else f"{len(fixtures)} fixture file(s)"),
    ], artifacts_valid=valid, artifacts_required=len(artifacts))


# ----------------------------------------------------------------------------- GATE_2
def gate_2(evidence: Evidence, config: GatesConfig) -> GateResult:
    g = config.gates.hierarchical_breakdown
    imap = evidence.interface_map
    pending = _absent(evidence, "interface_map")
    if imap is None:
        stages_defined = required_pct = io_pct = resolved_pct = None
        no_io = unresolved = missing_required = []
    else:
        stages_defined = len(imap.stages)
        missing_required = [s for s in g.required_stages if s not in imap.stage_ids]
        required_pct = pct(len(g.required_stages) - len(missing_required), len(g.required_stages))
        no_io = [s.id for s in imap.stages if not (s.inputs and s.outputs)]
        io_pct = pct(len(imap.stages) - len(no_io), len(imap.stages)) if imap.stages else 0.0
        unresolved = _unresolved_inputs(imap)
        total_inputs = sum(len(s.inputs) for s in imap.stages)
        resolved_pct = pct(total_inputs - len(unresolved), total_inputs) if total_inputs else 100.0
    conditions = [numeric("stages_defined", "stages defined", stages_defined, g.stages_defined,
                          evidence="interface_map", pending_note=pending)]
    if g.required_stages:
        conditions.append(numeric(
            "required_stages_defined_pct", "required stages defined", required_pct, g.required_stages_defined_pct,
            evidence="interface_map", unit="%", pending_note=pending,
            note=f"missing: {_listing(missing_required)}" if missing_required else ""))
    conditions += [
        numeric("stages_with_io_pct", "stages with inputs and outputs", io_pct, g.stages_with_io_pct,
                evidence="interface_map", unit="%", pending_note=pending,
                note=f"without inputs or outputs: {_listing(no_io)}" if no_io else ""),
        numeric("stage_inputs_resolved_pct", "stage inputs produced upstream or external", resolved_pct,
                g.stage_inputs_resolved_pct, evidence="interface_map", unit="%", pending_note=pending,
                note=f"unresolved: {_listing(unresolved)}" if unresolved else ""),
    ]
    return _gate(2, config, conditions)


def _unresolved_inputs(imap: InterfaceMap) -> list[str]:
    """Inputs neither external nor an output of an earlier stage (stages are listed in flow order)."""
    available = set(imap.external_inputs)
    unresolved = []
    for stage in imap.stages:
        unresolved += [f"{stage.id}<-{name}" for name in stage.inputs if name not in available]
        available.update(stage.outputs)
    return unresolved


# ----------------------------------------------------------------------------- GATE_3
def operations_in_scope(evidence: Evidence, config: GatesConfig) -> list[str]:
    """Required operations, those the handler was seen to send, and those the map lists."""
    g = config.gates.interface_mapping
    names = list(g.required_operations)
    if g.include_observed_operations and evidence.session is not None:
        names += sorted(evidence.session.requests_seen - set(g.ignore_observed_operations))
    if evidence.interface_map is not None:
        names += [op.name for op in evidence.interface_map.operations]
    return list(dict.fromkeys(names))


def gate_3(evidence: Evidence, config: GatesConfig) -> GateResult:
    g = config.gates.interface_mapping
    imap = evidence.interface_map
    pending = _absent(evidence, "interface_map")
    scope = operations_in_scope(evidence, config)
    unmapped = undocumented = no_sla = []
    mapped_pct = documented_pct = sla_pct = None
    if imap is not None:
        ops = {op.name: op for op in imap.operations}
        unmapped = [n for n in scope if n not in ops or ops[n].stage not in imap.stage_ids]
        undocumented = [n for n in scope if n not in ops or not ops[n].error_codes_documented]
        no_sla = [n for n in scope if n not in ops or ops[n].sla_ms is None]
        mapped_pct, documented_pct, sla_pct = (
            pct(len(scope) - len(gaps), len(scope)) if scope else 0.0 for gaps in (unmapped, undocumented, no_sla))
    return _gate(3, config, [
        numeric("operations_mapped_pct", "operations mapped to a defined stage", mapped_pct, g.operations_mapped_pct,
                evidence="interface_map", unit="%", pending_note=pending,
                note=f"unmapped: {_listing(unmapped)}" if unmapped else f"{len(scope)} operation(s)"),
        numeric("error_codes_documented_pct", "operations with documented error codes", documented_pct,
                g.error_codes_documented_pct, evidence="interface_map", unit="%", pending_note=pending,
                note=f"undocumented: {_listing(undocumented)}" if undocumented else ""),
        numeric("slas_defined_pct", "operations with an SLA", sla_pct, g.slas_defined_pct,
                evidence="interface_map", unit="%", pending_note=pending,
                note=f"no SLA: {_listing(no_sla)}" if no_sla else ""),
    ], operations=scope)


# ----------------------------------------------------------------------------- GATE_4
def gate_4(evidence: Evidence, config: GatesConfig) -> GateResult:
    g = config.gates.implementation_prep
    imap, unit = evidence.interface_map, evidence.unit_tests
    implemented_pct = None
    not_implemented: list[str] = []
    if imap is not None:
        scope = operations_in_scope(evidence, config)
        ops = {op.name: op for op in imap.operations}
        not_implemented = [n for n in scope if n not in ops or not ops[n].implemented]
        implemented_pct = pct(len(scope) - len(not_implemented), len(scope)) if scope else 0.0
    unit_pending = _absent(evidence, "unit_tests")
    return _gate(4, config, [
        numeric("operations_implemented_pct", "operations implemented", implemented_pct,
                g.operations_implemented_pct, evidence="interface_map", unit="%",
                pending_note=_absent(evidence, "interface_map"),
                note=f"not implemented: {_listing(not_implemented)}" if not_implemented else ""),
        numeric("unit_tests_run", "unit tests run", unit.ran if unit else None, g.unit_tests_run,
                evidence="unit_tests", pending_note=unit_pending),
        numeric("unit_tests_failed", "unit tests failed or errored", unit.failed_or_errored if unit else None,
                g.unit_tests_failed, evidence="unit_tests", pending_note=unit_pending),
    ], **_junit_details("unit_tests", unit))


def _junit_details(prefix: str, report: JUnitReport | None) -> dict[str, object]:
    if report is None:
        return {}
    return {f"{prefix}_{o}": report.count(o) for o in ("passed", "failed", "error", "skipped")}


# ----------------------------------------------------------------------------- GATE_5
def gate_5(evidence: Evidence, config: GatesConfig) -> GateResult:
    g = config.gates.test_infrastructure
    tests, imap = evidence.stage_tests, evidence.interface_map
    pending = _absent(evidence, "stage_tests")
    covered_pct = None
    untested: list[str] = []
    if tests is not None and imap is not None:
        runnable = [c.id for c in tests.cases if c.outcome in ("passed", "failed")]
        untested = [s.id for s in imap.stages
                    if not any(sel in case for sel in s.test_selectors for case in runnable)]
        covered_pct = pct(len(imap.stages) - len(untested), len(imap.stages)) if imap.stages else 0.0
    return _gate(5, config, [
        numeric("stage_tests_total", "stage tests exist", tests.total if tests else None, g.stage_tests_total,
                evidence="stage_tests", pending_note=pending),
        numeric("stage_tests_not_run", "stage tests errored or skipped (not runnable)",
                tests.count("error") + tests.count("skipped") if tests else None, g.stage_tests_not_run,
                evidence="stage_tests", pending_note=pending),
        numeric("stages_with_tests_pct", "stages with a runnable stage test", covered_pct, g.stages_with_tests_pct,
                evidence="stage_tests", unit="%",
                pending_note=pending if tests is None else _absent(evidence, "interface_map"),
                note=f"without a runnable test: {_listing(untested)}" if untested else ""),
    ], **_junit_details("stage_tests", tests))


# ----------------------------------------------------------------------------- GATE_6
def gate_6(evidence: Evidence, config: GatesConfig) -> GateResult:
    g = config.gates.account_config
    acct = evidence.account_config
    pending = _absent(evidence, "account_config")
    conditions = [
        boolean("connected", "connection ok", acct.connected if acct else None, evidence="account_config",
                pending_note=pending),
        numeric("buying_power", "buying power", acct.buying_power if acct else None, g.buying_power,
                evidence="account_config", pending_note=pending if acct is None else "buying_power not reported"),
        boolean("permission_mismatch", "no permission mismatch", acct.permission_mismatch if acct else None,
                expected=False, evidence="account_config", pending_note=pending),
    ]
    if g.require_paper_account:
        conditions.append(boolean(
            "paper_account", "paper account (type paper, id starts with DU)",
            (acct.account_type == "paper" and is_paper_account(acct.account_id)) if acct else None,
            evidence="account_config", pending_note=pending,
            note=f"{acct.account_id} ({acct.account_type})" if acct else ""))
    return _gate(6, config, conditions, account_id=acct.account_id if acct else None)


# ----------------------------------------------------------------------------- GATE_7
def gate_7(evidence: Evidence, config: GatesConfig) -> GateResult:
    g = config.gates.paper_trading
    metrics = evidence.paper_metrics

    def metric(name: str) -> tuple[float | None, str]:
        if metrics is None:
            return None, _absent(evidence, "paper_metrics")
        row = metrics.get(name)
        if row is None:
            return None, f"{evidence.label('paper_metrics')} has no {name} row"
        return row.value, "" if row.value is not None else f"{name} has no value"

    def check(id: str, name: str, threshold: Threshold, unit: str = "") -> Condition:
        value, why = metric(name)
        return numeric(id, name, value, threshold, evidence="paper_metrics", unit=unit, pending_note=why)

    sharpe_paper, why_paper = metric("sharpe_paper")
    sharpe_backtest, why_backtest = metric("sharpe_backtest")
    bound = None if sharpe_backtest is None else g.sharpe_vs_backtest.value * sharpe_backtest
    ratio = g.sharpe_vs_backtest.value
    sharpe = numeric(
        "sharpe_vs_backtest", "sharpe_paper", sharpe_paper if bound is not None else None, g.sharpe_vs_backtest,
        evidence="paper_metrics", threshold_value=bound, pending_note=why_paper or why_backtest,
        threshold_label=f"{ratio:g} x sharpe_backtest" + ("" if bound is None else f" (= {fmt(bound)})"))
    metric_names = {"latency_delta_pct": "latency_delta_pct", "p95_latency_ms": g.p95_latency_metric,
                    "pacing_violations": "pacing_violations", "fill_rate_pct": "fill_rate_pct",
                    "sharpe_vs_backtest": "sharpe_paper", "trade_count_min": "trade_count",
                    "trade_count_max": "trade_count", "disconnects": "disconnects"}
    units = {"latency_delta_pct": "%", "p95_latency_ms": "ms", "fill_rate_pct": "%"}
    conditions = [sharpe if id == "sharpe_vs_backtest"
                  else check(id, name, getattr(g, id), units.get(id, "")) for id, name in metric_names.items()]
    return _gate(7, config, conditions, metric_names=metric_names)


# ----------------------------------------------------------------------------- GATE_8
def gate_8(evidence: Evidence, config: GatesConfig, earlier: Sequence[GateResult],
           states: Sequence[SignatureState]) -> GateResult:
    g = config.gates.go_live
    not_passing = [f"{r.name} {r.status.value}" for r in earlier if r.status is not Status.PASS]
    upstream = Condition(
        "gates_1_7_pass", "GATE_1..GATE_7 pass", sum(r.status is Status.PASS for r in earlier), "==",
        len(earlier), combine(r.status for r in earlier), note=", ".join(not_passing), derived=True)
    conditions = [upstream] + [_signed_by(role, states) for role in g.required_signers]
    tampered = [s for s in states if s.tampered]
    conditions.append(Condition(
        "signatures_authentic", "no forged or wrong-role signature", len(tampered), "==", 0,
        Status.FAIL if tampered else Status.PASS, "signatures",
        note="; ".join(f"{s.signature.role} ({s.signature.name}): {s.status_text}" for s in tampered)))
    conditions.append(_real_gateway(evidence, config))
    rejections = [s for s in states if s.current and s.signature.decision == "REJECTED"]
    conditions.append(Condition(
        "no_rejections", "no current REJECTED signature", len(rejections), "==", 0,
        Status.FAIL if rejections else Status.PASS, "signatures",
        note=", ".join(f"{s.signature.role} ({s.signature.name})" for s in rejections)))
    conditions.append(_kill_switch(evidence))
    drill = evidence.rollback_drill
    drill_pending = _absent(evidence, "rollback_drill")
    conditions.append(boolean(
        "rollback_tested", "rollback drill passed", (drill.passed and drill.failed_step is None) if drill else None,
        evidence="rollback_drill", pending_note=drill_pending,
        note=f"failed step: {drill.failed_step}" if drill and drill.failed_step else ""))
    conditions.append(numeric(
        "rollback_recovery_s", "rollback recovery", drill.total_recovery_s if drill else None, g.rollback_recovery_s,
        evidence="rollback_drill", unit="s",
        pending_note=drill_pending if drill is None else "total_recovery_s not reported"))
    return _gate(8, config, conditions)


def _real_gateway(evidence: Evidence, config: GatesConfig) -> Condition:
    """Stage 6 and 7 evidence from a real paper gateway; simulated evidence keeps approval PENDING."""
    simulated = [f"{evidence.label(key)} (gateway kind mock)" for key, kind in evidence.gateway_kinds.items()
                 if kind == "mock"]
    description = "GATE_6 and GATE_7 evidence from a real (paper) gateway"
    if not simulated:
        return Condition("real_gateway_evidence", description, True, "==", True, Status.PASS, "account_config")
    allowed = config.decision.allow_simulated_evidence
    note = "SIMULATED: " + ", ".join(simulated) + (
        "; accepted because decision.allow_simulated_evidence is true" if allowed else
        "; repeat stages 6 and 7 against a paper account (or set decision.allow_simulated_evidence)")
    return Condition("real_gateway_evidence", description, False, "==", True,
                     Status.PASS if allowed else Status.PENDING, "account_config", note=note)


def _signed_by(role: str, states: Sequence[SignatureState]) -> Condition:
    state = latest_current(states, role)
    stale = [s for s in states if not s.current and role_key(s.signature.role) == role_key(role)]
    description = f"signed APPROVED by {role}"
    if state is None:
        note = "not counted: " + stale[-1].status_text if stale else "not signed"
        return Condition(f"signed:{role}", description, None, "==", "APPROVED", Status.PENDING, "signatures", note=note)
    decision = state.signature.decision
    status = {"APPROVED": Status.PASS, "REJECTED": Status.FAIL}.get(decision, Status.PENDING)
    note = f"{state.signature.name}" + (": approval waits on conditions" if decision == "CONDITIONAL" else "")
    return Condition(f"signed:{role}", description, decision, "==", "APPROVED", status, "signatures", note=note)


def _kill_switch(evidence: Evidence) -> Condition:
    ks = evidence.kill_switch
    if ks is not None:
        verified = ks.verified and ks.open_orders_after in (0, None)
        return boolean("kill_switch_verified", "kill switch verified (no open orders after)", verified,
                       evidence="kill_switch", note=f"open orders after: {ks.open_orders_after}")
    drill = evidence.rollback_drill
    if drill is not None and drill.kill_switch is not None and drill.kill_switch.verified is not None:
        return boolean("kill_switch_verified", "kill switch verified (no open orders after)",
                       drill.kill_switch.verified and drill.kill_switch.open_orders_after in (0, None),
                       evidence="rollback_drill", note="from the rollback drill (KILL_SWITCH.json absent)")
    return boolean("kill_switch_verified", "kill switch verified (no open orders after)", None,
                   evidence="kill_switch", pending_note=_absent(evidence, "kill_switch"))


# ----------------------------------------------------------------------------- all
def evaluate_gates(evidence: Evidence, config: GatesConfig, now: datetime) -> tuple[tuple[GateResult, ...],
                                                                                 tuple[SignatureState, ...]]:
    """All eight gates, in order, and the state of every signature at ``now``."""
    earlier = tuple(fn(evidence, config) for fn in (gate_1, gate_2, gate_3, gate_4, gate_5, gate_6, gate_7))
    states = signature_states(evidence.signatures, evidence.signature_verdicts, evidence.file_hashes,
                              evidence.digest, evidence.config_digest, now, config.gates.go_live.signature_max_age_days)
    return earlier + (gate_8(evidence, config, earlier, states),), states
