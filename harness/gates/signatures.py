"""Signatures bound to the evidence they approved: a changed evidence file makes them stale."""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from .artifacts import Signature
from .evidence import Evidence


@dataclass(frozen=True)
class SignatureState:
    signature: Signature
    stale_reason: str  # "" when the signature still covers the evidence as it is now
    changed_files: tuple[str, ...] = ()

    @property
    def current(self) -> bool:
        return not self.stale_reason


def role_key(role: str) -> str:
    """Roles compare case- and space-insensitively: "risk  officer" signs for "Risk Officer"."""
    return " ".join(role.split()).casefold()


def signature_states(signatures: Sequence[Signature], file_hashes: dict[str, str | None], digest: str,
                     now: datetime, max_age_days: float | None = None) -> tuple[SignatureState, ...]:
    """Each signature with why it is stale, if it is: the evidence changed, or it is too old."""
    states = []
    for sig in signatures:
        if sig.evidence_digest != digest:
            changed = tuple(sorted(
                name for name in set(sig.evidence_files) | set(file_hashes)
                if sig.evidence_files.get(name) != file_hashes.get(name)))
            what = ", ".join(changed) if changed else "the evidence set"
            states.append(SignatureState(sig, f"evidence changed since signing: {what}", changed))
        elif max_age_days is not None and now - sig.signed_at > timedelta(days=max_age_days):
            states.append(SignatureState(sig, f"older than {max_age_days:g} days"))
        else:
            states.append(SignatureState(sig, ""))
    return tuple(states)


def latest_current(states: Sequence[SignatureState], role: str) -> SignatureState | None:
    """The role's last current signature in file order (the file is append-only)."""
    matching = [s for s in states if s.current and role_key(s.signature.role) == role_key(role)]
    return matching[-1] if matching else None


def new_signature(evidence: Evidence, *, role: str, name: str, decision: str, comment: str,
                  now: datetime) -> Signature:
    return Signature(role=" ".join(role.split()), name=name, decision=decision, comment=comment,
                     signed_at=now, evidence_digest=evidence.digest, evidence_files=evidence.file_hashes)


def signatures_document(signatures: Sequence[Signature]) -> bytes:
    """SIGNATURES.json content for ``signatures``."""
    doc = {"schema": "prelive/signatures/v1",
           "signatures": [s.model_dump(mode="json") for s in signatures]}
    return (json.dumps(doc, indent=2) + "\n").encode("utf-8")
