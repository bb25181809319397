"""PRELIVE_VERIFICATION_LOG.json: the machine-readable record of one gates run."""
from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from harness import __version__

from .model import Condition
from .timeline import build_timeline

if TYPE_CHECKING:
    from .verification import Verification

SCHEMA = "prelive/verification-log/v1"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _condition(c: Condition, v: Verification) -> dict[str, Any]:
    file = v.evidence.file(c.evidence)
    return {
        "id": c.id, "description": c.description, "observed": c.observed, "comparison": c.op,
        "threshold": c.threshold, "unit": c.unit or None, "result": c.status.value, "note": c.note or None,
        "derived": c.derived,
        "evidence": None if file is None else {"file": file.label, "sha256": file.sha256},
    }


def verification_log(v: Verification) -> dict[str, Any]:
    ev = v.evidence
    return {
        "schema": SCHEMA,
        "prelive_version": __version__,
        "evaluated_at": _iso(v.evaluated_at),
        "evidence_dir": str(ev.root.resolve()),
        "evidence_digest": ev.digest,
        "config": {"sources": list(v.config.sources),
                   "resolved": v.config.model_dump(mode="json", exclude={"sources"})},
        "evidence_files": [
            {"key": f.key, "file": f.label, "present": f.present, "sha256": f.sha256,
             "modified_at": _iso(f.modified_at)} for f in ev.files.values()],
        "artifacts": [{"artifact": a.label, "present": a.present, "valid": a.valid, "problem": a.problem or None}
                      for a in ev.artifacts],
        "fixtures": [{"pattern": f.entry, "file": f.label, "valid": f.valid, "problem": f.problem or None}
                     for f in ev.fixtures],
        "gates": [
            {"gate": g.number, "name": g.name, "key": g.key, "title": g.title, "critical": g.critical,
             "result": g.status.value, "conditions": [_condition(c, v) for c in g.conditions],
             "details": g.details} for g in v.gates],
        "signatures": [
            {"role": s.signature.role, "name": s.signature.name, "decision": s.signature.decision,
             "comment": s.signature.comment, "signed_at": _iso(s.signature.signed_at),
             "evidence_digest": s.signature.evidence_digest, "stale": bool(s.stale_reason),
             "verification": s.verdict.kind.value, "verification_detail": s.verdict.detail,
             "key_fingerprint": s.verdict.fingerprint or None, "counted": s.current,
             "config_sha256": s.signature.config_sha256, "gates_outcome": s.signature.gates_outcome,
             "stale_reason": s.stale_reason or None, "changed_files": list(s.changed_files)}
            for s in v.signatures],
        "timeline": [{"at": _iso(e.at), "event": e.event, "source": e.source} for e in build_timeline(v)],
        "anomalies": [{"severity": a.severity, "gate": a.gate, "text": a.text} for a in v.anomalies],
        "decision": {"outcome": v.decision.outcome.value, "action": v.decision.action.value,
                     "exit_code": v.decision.exit_code, "reasons": list(v.decision.reasons),
                     "basis": {"gate_8": v.decision.basis.go_live.value,
                               "critical_failures": list(v.decision.basis.critical_failures),
                               "passing_gates": v.decision.basis.passing_gates,
                               "major_gaps": list(v.decision.basis.major_gaps)}},
    }


def verification_log_json(v: Verification) -> bytes:
    return (json.dumps(verification_log(v), indent=2, default=str) + "\n").encode("utf-8")
