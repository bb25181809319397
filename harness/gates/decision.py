"""The decision rule over the gate results (docs/gates.md, "The decision")."""
from __future__ import annotations

from collections.abc import Sequence

from .compare import fmt, relative_miss
from .config import DecisionConfig
from .model import Action, Condition, Decision, DecisionBasis, GateResult, Outcome, Status


def decide(gates: Sequence[GateResult], rule: DecisionConfig) -> Decision:
    """GATE_8 PASS approves; a critical gate FAIL rolls back; most gates passing with minor gaps is
    conditional; anything else is rejected for remediation."""
    earlier = [g for g in gates if g.number < 8]
    critical = [g for g in gates if g.critical and g.own_status is Status.FAIL]
    basis = DecisionBasis(
        go_live=next(g for g in gates if g.number == 8).status,
        critical_failures=tuple(g.name for g in critical),
        passing_gates=sum(g.status is Status.PASS for g in earlier),
        major_gaps=tuple(major_gaps(gates, rule)))
    if basis.go_live is Status.PASS:
        return Decision(Outcome.GO_LIVE_APPROVED, Action.DEPLOY,
                        ("GATE_1..GATE_8 pass: every condition met and every required role signed",), basis)
    if critical:
        return Decision(Outcome.REJECTED, Action.ROLLBACK_AND_INVESTIGATE,
                        tuple(f"critical {g.name} ({g.title}) FAIL: {c.description}, observed {fmt(c.observed)}"
                              for g in critical for c in g.conditions if c.status is Status.FAIL and not c.derived),
                        basis)
    passing = f"{basis.passing_gates}/{len(earlier)} of GATE_1..GATE_7 pass (minimum {rule.min_passing_gates})"
    if basis.passing_gates >= rule.min_passing_gates and not basis.major_gaps:
        outstanding = tuple(f"{g.name}: {c.description} {c.status.value}" + (f" ({c.note})" if c.note else "")
                            for g in gates for c in g.conditions if c.status is not Status.PASS and not c.derived)
        return Decision(Outcome.CONDITIONAL_APPROVAL, Action.COMPLETE_REQUIREMENTS_THEN_DEPLOY,
                        (f"{passing} and every gap is minor; complete:",) + outstanding, basis)
    short = (f"only {passing}",) if basis.passing_gates < rule.min_passing_gates else ()
    return Decision(Outcome.REJECTED, Action.REMEDIATE_AND_REVALIDATE, short + basis.major_gaps, basis)


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

