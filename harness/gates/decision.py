"""The decision rule over the gate results (DESIGN.md, "Decision")."""
from __future__ import annotations

from collections.abc import Sequence

from .compare import fmt, relative_miss
from .config import DecisionConfig
from .model import Action, Condition, Decision, GateResult, Outcome, Status


def decide(gates: Sequence[GateResult], rule: DecisionConfig) -> Decision:
    """GATE_8 PASS approves; a critical gate FAIL rolls back; most gates passing with minor gaps is
    conditional; anything else is rejected for remediation."""
    by_number = {g.number: g for g in gates}
    go_live = by_number[8]
    if go_live.status is Status.PASS:
        return Decision(Outcome.GO_LIVE_APPROVED, Action.DEPLOY,
                        ("GATE_1..GATE_8 pass: every condition met and every required role signed",))
    critical = [g for g in gates if g.critical and g.own_status is Status.FAIL]
    if critical:
        return Decision(Outcome.REJECTED, Action.ROLLBACK_AND_INVESTIGATE,
                        tuple(f"critical {g.name} ({g.title}) FAIL: {c.description}, observed {fmt(c.observed)}"
                              for g in critical for c in g.conditions if c.status is Status.FAIL and not c.derived))
    earlier = [g for g in gates if g.number < 8]
    passing = sum(g.status is Status.PASS for g in earlier)
    major = major_gaps(gates, rule)
    outstanding = tuple(f"{g.name}: {c.description} {c.status.value}" + (f" ({c.note})" if c.note else "")
                        for g in gates for c in g.conditions if c.status is not Status.PASS and not c.derived)
    if passing >= rule.min_passing_gates and not major:
        return Decision(Outcome.CONDITIONAL_APPROVAL, Action.COMPLETE_REQUIREMENTS_THEN_DEPLOY,
                        (f"{passing}/{len(earlier)} of GATE_1..GATE_7 pass (minimum {rule.min_passing_gates}) "
                         "and every gap is minor; complete:",) + outstanding)
    reasons = list(major)
    if passing < rule.min_passing_gates:
        reasons.insert(0, f"only {passing}/{len(earlier)} of GATE_1..GATE_7 pass (minimum {rule.min_passing_gates})")
    return Decision(Outcome.REJECTED, Action.REMEDIATE_AND_REVALIDATE, tuple(reasons))


def major_gaps(gates: Sequence[GateResult], rule: DecisionConfig) -> list[str]:
    """Why the gaps are not minor; empty when they all are.

    Minor: the gate is not critical, and each shortfall is a PENDING condition (when
    ``pending_is_minor``) or a numeric FAIL within ``minor_margin_pct`` of its threshold.
    """
    reasons = []
    for gate in gates:
        if gate.own_status is Status.PASS:
            continue
        if gate.critical:
            reasons.append(f"critical {gate.name} ({gate.title}) is {gate.own_status.value}")
            continue
        for c in gate.conditions:
            why = _why_major(c, rule)
            if why:
                reasons.append(f"{gate.name}: {c.description}: {why}")
    return reasons


def _why_major(condition: Condition, rule: DecisionConfig) -> str:
    if condition.derived or condition.status is Status.PASS:
        return ""
    if condition.status is Status.PENDING:
        return "" if rule.pending_is_minor else f"PENDING ({condition.note})"
    miss = relative_miss(condition)
    if miss is None:
        return f"FAIL, observed {fmt(condition.observed)} (no margin applies)"
    if miss * 100 > rule.minor_margin_pct:
        return (f"FAIL, observed {fmt(condition.observed)} misses {condition.op} {fmt(condition.threshold)} "
                f"by {miss * 100:.1f} % (more than {rule.minor_margin_pct:g} %)")
    return ""

