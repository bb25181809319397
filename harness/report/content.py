"""What the go-live decision report says: the go-live template, filled in from one Verification."""
from __future__ import annotations

from typing import TYPE_CHECKING

from harness import __version__
from harness.gates.anomalies import backtest_description
from harness.gates.compare import fmt
from harness.gates.model import Condition, GateResult, Status
from harness.gates.signatures import latest_current

from .document import Banner, Block, Bullets, Checklist, Code, Document, Paragraph, Section, Table
from harness.gates.timeline import build_timeline

if TYPE_CHECKING:
    from harness.gates.verification import Verification


def _observed(c: Condition) -> str:
    return "n/a" if c.observed is None else f"{fmt(c.observed)}{(' ' + c.unit) if c.unit else ''}"


def _threshold(c: Condition) -> str:
    return f"{c.op} {fmt(c.threshold)}{(' ' + c.unit) if c.unit else ''}"


def simulated_sources(v: Verification) -> list[str]:
    """Evidence files made against the mock gateway or the mock stack (empty: none)."""
    ev = v.evidence
    found = [f"{ev.label(key)} (stage {6 if key == 'account_config' else 7}: gateway kind mock)"
             for key, kind in ev.gateway_kinds.items() if kind == "mock"]
    if ev.rollback_drill is not None and ev.rollback_drill.target == "mock":
        found.append(f"{ev.label('rollback_drill')} (drill against the mock stack)")
    return found


def simulated_banner(v: Verification) -> Section | None:
    sources = simulated_sources(v)
    if not sources:
        return None
    allowed = v.config.decision.allow_simulated_evidence
    consequence = ("The gates config accepts simulated evidence (decision.allow_simulated_evidence: true)."
                   if allowed else "Stage 6 or 7 evidence from the mock keeps the decision at CONDITIONAL_APPROVAL "
                                   "at best; repeat those stages against a paper account before going live.")
    return Section("SIMULATED EVIDENCE", (Banner(
        "SIMULATED EVIDENCE",
        "Part of this evidence was made against prelive's mock gateway, not Interactive Brokers: "
        + "; ".join(sources) + ". The market, the fills and the account are simulated. " + consequence),))


def summary_section(v: Verification) -> Section:
    d = v.decision
    blocks: list[Block] = [
        Table(("", ""), (
            ("Decision", d.outcome.value), ("Action", d.action.value), ("Exit code", str(d.exit_code)),
            ("Evaluated at", v.evaluated_at.isoformat(timespec="seconds")),
            ("Evidence", str(v.evidence.root)), ("Evidence digest", v.evidence.digest),
            ("Config", " + ".join(v.config.sources)), ("prelive", __version__))),
        Paragraph("Why:"),
        Bullets(d.reasons),
    ]
    return Section("Decision", tuple(blocks))


def gate_status_section(v: Verification) -> Section:
    rows = []
    for g in v.gates:
        passed = sum(c.status is Status.PASS for c in g.conditions)
        rows.append((g.name, g.title, g.status.value, "critical" if g.critical else "standard",
                     f"{passed}/{len(g.conditions)} conditions pass"))
    return Section("Gate status", (Table(("Gate", "Stage", "Status", "Severity", "Conditions"), tuple(rows)),))


def gate_detail_section(g: GateResult, v: Verification) -> Section:
    rows = tuple((c.description, _observed(c), _threshold(c), c.status.value,
                  v.evidence.label(c.evidence) or "-", c.note) for c in g.conditions)
    blocks: list[Block] = [Table(("Condition", "Observed", "Threshold", "Result", "Evidence", "Note"), rows)]
    facts = [f"{k.replace('_', ' ')}: {fmt(val)}" for k, val in g.details.items()
             if isinstance(val, (int, float, str)) and not isinstance(val, bool)]
    if facts:
        blocks.append(Bullets(tuple(facts)))
    if g.number == 7 and v.evidence.paper_log is not None and v.evidence.paper_log.backtest_event_log:
        blocks.append(Paragraph(f"Backtest (sharpe_backtest, the equity plot's backtest curve): "
                                f"{backtest_description(v.evidence)}."))
    return Section(f"{g.name}: {g.title} ({g.status.value})", tuple(blocks), level=3)


def formal_evaluation_section(v: Verification) -> Section:
    lines = []
    for g in v.gates:
        terms = [f"({c.id} = {'?' if c.observed is None else fmt(c.observed)} {c.op} {fmt(c.threshold)})"
                 for c in g.conditions]
        lines.append(f"{g.name} = " + "\n         AND ".join(terms) + f"\n       = {g.status.value}")
    rule, basis = v.config.decision, v.decision.basis
    lines.append("\n".join([
        f"DECISION = GATE_8 PASS ({basis.go_live.value})",
        "             ? GO_LIVE_APPROVED (DEPLOY)",
        f"         : a critical gate FAILs ({', '.join(basis.critical_failures) or 'none'})",
        "             ? REJECTED (ROLLBACK_AND_INVESTIGATE)",
        f"         : passing(GATE_1..GATE_7) = {basis.passing_gates} >= {rule.min_passing_gates}"
        f" AND gaps minor ({'no' if basis.major_gaps else 'yes'}; margin {rule.minor_margin_pct:g} %)",
        "             ? CONDITIONAL_APPROVAL (COMPLETE_REQUIREMENTS_THEN_DEPLOY)",
        "         : REJECTED (REMEDIATE_AND_REVALIDATE)",
        f"         = {v.decision.outcome.value} ({v.decision.action.value})"]))
    return Section("Formal evaluation", (
        Paragraph("Each gate is the AND of its conditions; a condition without evidence is ?, which makes "
                  "the gate PENDING, never PASS."),
        Code("\n\n".join(lines))))


def anomalies_section(v: Verification) -> Section:
    if not v.anomalies:
        return Section("Anomalies and risks", (Paragraph("None found."),))
    rows = tuple((a.severity, a.gate or "-", a.text) for a in v.anomalies)
    return Section("Anomalies and risks", (Table(("Severity", "Gate", "Finding"), rows),))


def checklist_section(v: Verification) -> Section:
    items = []
    for g in v.gates:
        for c in g.conditions:
            observed = "" if c.observed is None else f" (observed {_observed(c)})"
            pending = f" (PENDING: {c.note or 'evidence missing'})" if c.status is Status.PENDING else ""
            items.append((c.status is Status.PASS, f"{g.name} {c.description}{observed}{pending}"))
    return Section("Requirements checklist", (Checklist(tuple(items)),))


def signatures_section(v: Verification) -> Section:
    required = v.config.gates.go_live.required_signers
    rows = tuple((s.signature.role, s.signature.name, s.signature.decision,
                  s.signature.signed_at.isoformat(timespec="seconds"),
                  s.verdict.fingerprint or "-", s.status_text, s.signature.comment)
                 for s in v.signatures)
    blocks: list[Block] = []
    if rows:
        blocks.append(Table(("Role", "Name", "Decision", "Signed at", "Key", "Status", "Comment"), rows))
    else:
        blocks.append(Paragraph("No signatures yet."))
    missing = [r for r in required if latest_current(v.signatures, r) is None]
    blocks.append(Paragraph(
        f"Required: {', '.join(required)}. "
        + (f"Still to sign on the current evidence: {', '.join(missing)}. " if missing else "All required roles signed. ")
        + f"Sign with: prelive sign --role ROLE --name NAME --decision APPROVED --key ~/.ssh/id_ed25519 "
          f"--evidence {v.evidence.root} (the key must be listed for the role in "
          f"{v.evidence.label('allowed_signers')})."))
    return Section("Signatures", tuple(blocks))


def timeline_section(v: Verification) -> Section:
    rows = tuple((e.at.isoformat(timespec="seconds"), e.event, e.source) for e in build_timeline(v))
    return Section("Timeline", (Table(("Time (UTC)", "Event", "Source"), rows),))


def evidence_section(v: Verification) -> Section:
    rows = tuple((f.label, f.sha256[:16] if f.sha256 else "absent",
                  f.modified_at.isoformat(timespec="seconds") if f.modified_at else "-")
                 for f in v.evidence.files.values())
    return Section("Evidence files", (
        Paragraph(f"Digest over these files (signatures bind to it): {v.evidence.digest}. "
                  "Full sha256 values are in PRELIVE_VERIFICATION_LOG.json."),
        Table(("File", "sha256 (first 16)", "Modified (UTC)"), rows)))


def build_document(v: Verification, extra_after_metrics: tuple[Section, ...] = ()) -> Document:
    """The go-live template: status, per-stage metrics, formal evaluation, risks, checklist, signatures, timeline."""
    metrics = Section("Detailed metrics per stage", ())
    banner = simulated_banner(v)
    return Document(
        f"Go-live decision: {v.decision.outcome.value}" + (" (SIMULATED EVIDENCE)" if banner else ""),
        (*((banner,) if banner else ()), summary_section(v), gate_status_section(v), metrics,
         *(gate_detail_section(g, v) for g in v.gates), *extra_after_metrics,
         formal_evaluation_section(v), anomalies_section(v), checklist_section(v), signatures_section(v),
         timeline_section(v), evidence_section(v)))
