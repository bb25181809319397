"""Sign-offs bound to the evidence they approved and signed with the signer's own SSH key.

A signature counts (is *current*) when ssh-keygen verifies it against the governance
framework's allowed_signers for the role it claims, and the manifest it signed still matches
the evidence (every file's sha256, event logs included) and the gates config. Otherwise it is
reported as forged, by an unknown key, for the wrong role, unverifiable, or stale.
"""
from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .artifacts import Signature
from .sshsig import Verdict, VerdictKind

SIGNATURES_SCHEMA = "prelive/signatures/v2"


@dataclass(frozen=True)
class SignatureState:
    signature: Signature
    verdict: Verdict
    stale_reason: str  # "" when the signed manifest still covers the evidence and config as they are now
    changed_files: tuple[str, ...] = ()

    @property
    def authentic(self) -> bool:
        return self.verdict.valid

    @property
    def current(self) -> bool:
        """Counts for its role: authentic and not stale."""
        return self.authentic and not self.stale_reason

    @property
    def tampered(self) -> bool:
        """Forged, or a listed key claiming another role: someone edited SIGNATURES.json."""
        return self.verdict.kind in (VerdictKind.FORGED, VerdictKind.WRONG_ROLE)

    @property
    def status_text(self) -> str:
        """CURRENT, or what is wrong: FORGED/UNKNOWN KEY/WRONG ROLE/UNVERIFIABLE/STALE and why."""
        if not self.authentic:
            return f"{self.verdict.kind.value.upper()}: {self.verdict.detail}"
        return f"STALE: {self.stale_reason}" if self.stale_reason else "CURRENT"


def role_key(role: str) -> str:
    """Roles compare case- and space-insensitively: "risk  officer" signs for "Risk Officer"."""
    return " ".join(role.split()).casefold()


def same_role(a: str, b: str) -> bool:
    return role_key(a) == role_key(b)


def nearest_role(role: str, named: Sequence[str]) -> str | None:
    """The named role closest to a misspelt ``role``, if any is close."""
    keys = {role_key(r): r for r in named}
    match = difflib.get_close_matches(role_key(role), list(keys), n=1, cutoff=0.5)
    return keys[match[0]] if match else None


def config_sha256(config_dump: Mapping[str, Any]) -> str:
    """sha256 of the merged gates config (as JSON), so a signature says which thresholds it approved."""
    canonical = json.dumps(config_dump, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def signed_payload(entry: Mapping[str, Any]) -> bytes:
    """The bytes a signature covers: the entry without its ``signature``, as canonical JSON."""
    body = {k: v for k, v in entry.items() if k != "signature"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def signature_states(signatures: Sequence[Signature], verdicts: Sequence[Verdict],
                     file_hashes: dict[str, str | None], digest: str, config_digest: str, now: datetime,
                     max_age_days: float | None = None) -> tuple[SignatureState, ...]:
    """Each signature with its verdict and why it is stale, if it is: evidence or config changed, or too old."""
    states = []
    for sig, verdict in zip(signatures, verdicts, strict=True):
        if sig.evidence_digest != digest:
            changed = tuple(sorted(
                name for name in set(sig.evidence_files) | set(file_hashes)
                if sig.evidence_files.get(name) != file_hashes.get(name)))
            what = ", ".join(changed) if changed else "the evidence set"
            states.append(SignatureState(sig, verdict, f"evidence changed since signing: {what}", changed))
        elif sig.config_sha256 != config_digest:
            states.append(SignatureState(sig, verdict, "the gates config changed since signing"))
        elif max_age_days is not None and now - sig.signed_at > timedelta(days=max_age_days):
            states.append(SignatureState(sig, verdict, f"older than {max_age_days:g} days"))
        else:
            states.append(SignatureState(sig, verdict, ""))
    return tuple(states)


def latest_current(states: Sequence[SignatureState], role: str) -> SignatureState | None:
    """The role's last current signature in file order (the file is append-only)."""
    matching = [s for s in states if s.current and role_key(s.signature.role) == role_key(role)]
    return matching[-1] if matching else None


def unsigned_entry(*, role: str, name: str, decision: str, comment: str, now: datetime,
                   file_hashes: dict[str, str | None], digest: str, config_digest: str,
                   gates_outcome: str | None) -> dict[str, Any]:
    """The manifest a signer signs (SIGNATURES.json entry without ``signature``), as JSON-ready data."""
    sig = Signature(role=" ".join(role.split()), name=name, decision=decision, comment=comment,  # type: ignore[arg-type]
                    signed_at=now, evidence_digest=digest, evidence_files=file_hashes,
                    config_sha256=config_digest, gates_outcome=gates_outcome)
    return sig.model_dump(mode="json", exclude={"signature"})


def signatures_document(entries: Sequence[Mapping[str, Any]]) -> bytes:
    """SIGNATURES.json content; earlier entries are kept byte-for-byte as read, so their signatures hold."""
    doc = {"schema": SIGNATURES_SCHEMA, "signatures": list(entries)}
    return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
