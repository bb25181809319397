"""Results of the evaluation: conditions, gates and the decision. Plain frozen data."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class Status(str, Enum):
    PASS = "PASS"
    FAIL = "FAIL"
    PENDING = "PENDING"  # the evidence needed to decide is missing


class Outcome(str, Enum):
    GO_LIVE_APPROVED = "GO_LIVE_APPROVED"
    CONDITIONAL_APPROVAL = "CONDITIONAL_APPROVAL"
    REJECTED = "REJECTED"


class Action(str, Enum):
    DEPLOY = "DEPLOY"
    COMPLETE_REQUIREMENTS_THEN_DEPLOY = "COMPLETE_REQUIREMENTS_THEN_DEPLOY"
    REMEDIATE_AND_REVALIDATE = "REMEDIATE_AND_REVALIDATE"
    ROLLBACK_AND_INVESTIGATE = "ROLLBACK_AND_INVESTIGATE"


#: Process exit code per (outcome, action), so CI can gate on ``prelive gates``.
EXIT_CODES: dict[Action, int] = {
    Action.DEPLOY: 0,
    Action.COMPLETE_REQUIREMENTS_THEN_DEPLOY: 10,
    Action.REMEDIATE_AND_REVALIDATE: 20,
    Action.ROLLBACK_AND_INVESTIGATE: 21,
}
EXIT_USAGE_OR_EVIDENCE_ERROR = 2


@dataclass(frozen=True)
class Condition:
    """One boolean term of a gate: ``observed <op> threshold``."""

    id: str
    description: str
    observed: Any
    op: str | None
    threshold: Any
    status: Status
    evidence: str | None = None  # evidence file key (see EvidenceFile.key)
    unit: str = ""
    note: str = ""
    #: True for GATE_8's "gates 1-7 pass": it restates other gates, so the decision
    #: rule does not count it a second time.
    derived: bool = False


@dataclass(frozen=True)
class GateResult:
    number: int
    key: str
    title: str
    critical: bool
    conditions: tuple[Condition, ...]
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"GATE_{self.number}"

    @property
    def status(self) -> Status:
        return combine(c.status for c in self.conditions)

    @property
    def own_status(self) -> Status:
        """Status over the gate's own conditions, leaving out derived ones."""
        return combine(c.status for c in self.conditions if not c.derived)


def combine(statuses: Any) -> Status:
    """Any FAIL fails; otherwise any PENDING is pending; all PASS (or none) passes."""
    seen = set(statuses)
    if Status.FAIL in seen:
        return Status.FAIL
    if Status.PENDING in seen:
        return Status.PENDING
    return Status.PASS


@dataclass(frozen=True)
class DecisionBasis:
    """The inputs of the decision rule, kept so the report can show the rule with its values."""

    go_live: Status
    critical_failures: tuple[str, ...]  # names of critical gates failing on their own conditions
    passing_gates: int  # of GATE_1..GATE_7
    major_gaps: tuple[str, ...]  # why the gaps are not minor; empty: they all are


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    action: Action
    reasons: tuple[str, ...]
    basis: DecisionBasis

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.action]
