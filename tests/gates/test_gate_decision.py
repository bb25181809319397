"""The decision rule: approve, roll back, conditional, remediate; "most" and "minor" as configured."""
from __future__ import annotations

import pytest
from evidence_kit import EvidenceKit

from harness.gates.config import build_config
from harness.gates.decision import decide
from harness.gates.model import EXIT_CODES, Action, Condition, GateResult, Outcome, Status

PASS, FAIL, PENDING = Status.PASS, Status.FAIL, Status.PENDING
RULE = build_config().decision  # min_passing_gates 5, minor_margin_pct 10, pending_is_minor


def cond(status: Status, observed=1.0, op=">=", threshold=1.0, derived=False) -> Condition:
    return Condition("c", "condition", observed, op, threshold, status, derived=derived)


def gates(overrides: dict[int, tuple[Condition, ...]] | None = None, critical: frozenset[int] = frozenset({6, 7}),
          ) -> list[GateResult]:
    """Eight passing gates, with the conditions of some replaced; GATE_8 restates 1-7 like the engine does."""
    overrides = overrides or {}
    earlier = [GateResult(n, f"g{n}", f"gate {n}", n in critical, overrides.get(n, (cond(PASS),)))
               for n in range(1, 8)]
    upstream = cond(PASS if all(g.status is PASS for g in earlier) else
                    FAIL if any(g.status is FAIL for g in earlier) else PENDING, derived=True)
    own = overrides.get(8, (cond(PASS),))
    return earlier + [GateResult(8, "g8", "gate 8", 8 in critical, (upstream, *own))]


# Observed values relative to a ">= 100" threshold: 95 misses by 5 % (minor), 85 by 15 % (not minor).
NEAR_MISS = cond(FAIL, observed=95.0, threshold=100.0)
FAR_MISS = cond(FAIL, observed=85.0, threshold=100.0)
BOOLEAN_FAIL = cond(FAIL, observed=False, op="==", threshold=True)

DECISIONS = [
    ("everything passes", {}, Outcome.GO_LIVE_APPROVED, Action.DEPLOY),
    ("a critical gate fails", {7: (FAR_MISS,)}, Outcome.REJECTED, Action.ROLLBACK_AND_INVESTIGATE),
    ("a critical gate fails even by a hair", {6: (NEAR_MISS,)}, Outcome.REJECTED, Action.ROLLBACK_AND_INVESTIGATE),
    ("only signatures are outstanding", {8: (cond(PENDING, observed=None),)}, Outcome.CONDITIONAL_APPROVAL,
     Action.COMPLETE_REQUIREMENTS_THEN_DEPLOY),
    ("a non-critical gate misses within the margin", {1: (NEAR_MISS,)}, Outcome.CONDITIONAL_APPROVAL,
     Action.COMPLETE_REQUIREMENTS_THEN_DEPLOY),
    ("a non-critical gate misses beyond the margin", {1: (FAR_MISS,)}, Outcome.REJECTED,
     Action.REMEDIATE_AND_REVALIDATE),
    ("a boolean failure is never minor", {8: (BOOLEAN_FAIL,)}, Outcome.REJECTED, Action.REMEDIATE_AND_REVALIDATE),
    ("a critical gate without evidence is not a minor gap", {7: (cond(PENDING, observed=None),)},
     Outcome.REJECTED, Action.REMEDIATE_AND_REVALIDATE),
    ("three minor gaps leave only 4 of 7 passing (fewer than 5)",
     {1: (NEAR_MISS,), 2: (NEAR_MISS,), 3: (NEAR_MISS,)}, Outcome.REJECTED, Action.REMEDIATE_AND_REVALIDATE),
    ("two minor gaps leave 5 of 7 passing", {1: (NEAR_MISS,), 2: (NEAR_MISS,)}, Outcome.CONDITIONAL_APPROVAL,
     Action.COMPLETE_REQUIREMENTS_THEN_DEPLOY),
]


@pytest.mark.parametrize(("overrides", "outcome", "action"), [d[1:] for d in DECISIONS], ids=[d[0] for d in DECISIONS])
def test_decision_branch(overrides, outcome, action):
    decision = decide(gates(overrides), RULE)
    assert (decision.outcome, decision.action) == (outcome, action)


def test_a_derived_failure_of_a_critical_gate_8_does_not_count_as_its_own():
    decision = decide(gates({1: (NEAR_MISS,)}, critical=frozenset({6, 7, 8})), RULE)
    assert decision.outcome is Outcome.CONDITIONAL_APPROVAL


@pytest.mark.parametrize(("rule_overrides", "overrides", "outcome"), [
    ({"minor_margin_pct": 20}, {1: (FAR_MISS,)}, Outcome.CONDITIONAL_APPROVAL),
    ({"minor_margin_pct": 2}, {1: (NEAR_MISS,)}, Outcome.REJECTED),
    ({"min_passing_gates": 7}, {1: (NEAR_MISS,)}, Outcome.REJECTED),
    ({"pending_is_minor": False}, {8: (cond(PENDING, observed=None),)}, Outcome.REJECTED),
], ids=["wider margin", "narrower margin", "all seven must pass", "pending is not minor"])
def test_most_and_minor_follow_the_config(rule_overrides, overrides, outcome):
    rule = build_config({"decision": rule_overrides}).decision
    assert decide(gates(overrides), rule).outcome is outcome


def test_exit_codes_are_distinct_and_zero_only_for_approval():
    assert EXIT_CODES[Action.DEPLOY] == 0
    assert sorted(EXIT_CODES.values()) == [0, 10, 20, 21]


def test_the_rejection_reasons_name_the_failing_critical_condition():
    decision = decide(gates({7: (FAR_MISS,)}), RULE)
    assert any("GATE_7" in r and "85" in r for r in decision.reasons)


E2E = [
    ("unsigned example evidence", lambda k: None, Outcome.CONDITIONAL_APPROVAL),
    ("signed example evidence", lambda k: k.sign_all(), Outcome.GO_LIVE_APPROVED),
    ("pacing violations in paper trading", lambda k: (k.sign_all(), k.set_metric("pacing_violations", 3)),
     Outcome.REJECTED),
    ("coverage slightly short", lambda k: (k.sign_all(), k.write("coverage.xml", '<coverage line-rate="0.77"/>')),
     Outcome.CONDITIONAL_APPROVAL),
]


@pytest.mark.parametrize(("edit", "outcome"), [e[1:] for e in E2E], ids=[e[0] for e in E2E])
def test_decision_on_evidence(kit: EvidenceKit, edit, outcome):
    edit(kit)
    assert kit.verify().decision.outcome is outcome
