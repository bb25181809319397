"""``prelive sign``: sign the evidence as it is now with the signer's SSH key, for a role the governance names."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from .atomic import write_files_atomically
from .config import GatesConfig
from .model import Status
from .run import verify
from .verification import Verification
from .signatures import nearest_role, same_role, signatures_document, signed_payload, unsigned_entry
from .sshsig import SigningToolError, Verdict, sign_bytes, verify_bytes


class SignOffError(Exception):
    """Nothing was signed; the message says why and what to do."""


@dataclass(frozen=True)
class SignOff:
    entry: dict[str, Any]
    verdict: Verdict
    before: Verification      # the evaluation the signer saw (without this signature)
    warnings: tuple[str, ...]
    path: Path


def named_roles(config: GatesConfig, allowed_signer_roles: tuple[str, ...]) -> list[str]:
    """Roles the governance framework names: the required signers and the principals of allowed_signers."""
    roles: list[str] = []
    for role in [*config.gates.go_live.required_signers, *allowed_signer_roles]:
        if not any(same_role(role, r) for r in roles):
            roles.append(role)
    return roles


def contradictions(v: Verification) -> list[str]:
    """What an APPROVED sign-off would contradict: any gate condition other than the sign-offs that is not PASS."""
    found = []
    for gate in v.gates:
        for c in gate.conditions:
            if c.derived or c.status is Status.PASS or c.id.startswith("signed:"):
                continue
            found.append(f"{gate.name} {c.description}: {c.status.value}" + (f" ({c.note})" if c.note else ""))
    return found


def sign_evidence(evidence_dir: Path | str, config: GatesConfig, *, role: str, name: str, decision: str,
                  comment: str, key: Path | str, now: datetime) -> SignOff:
    """Append a signed entry to SIGNATURES.json; raises SignOffError (nothing written) when it would not count."""
    before = verify(evidence_dir, config, now)
    ev = before.evidence
    roles = named_roles(config, ev.allowed_signer_roles)
    canonical = next((r for r in roles if same_role(role, r)), None)
    if canonical is None:
        near = nearest_role(role, roles)
        raise SignOffError(f"the governance framework names no role {role!r}"
                           + (f"; did you mean {near!r}?" if near else "")
                           + f" (roles: {', '.join(roles)})")
    allowed = ev.files["allowed_signers"]
    if not allowed.present:
        raise SignOffError(f"{allowed.label} is absent: the governance framework must list each role's SSH "
                           f"public keys (one line per key: \"{canonical}\" ssh-ed25519 AAAA... name)")
    pinned = config.gates.go_live.allowed_signers_sha256
    if pinned and allowed.sha256 != pinned:
        raise SignOffError(f"{allowed.label} is not the governance key list the gates config pins "
                           "(gates.go_live.allowed_signers_sha256): restore the reviewed file")
    entry = unsigned_entry(role=canonical, name=name, decision=decision, comment=comment, now=now,
                           file_hashes=ev.file_hashes, digest=ev.digest, config_digest=ev.config_digest,
                           gates_outcome=before.decision.outcome.value)
    payload = signed_payload(entry)
    try:
        armored = sign_bytes(payload, key)
    except SigningToolError as exc:
        raise SignOffError(str(exc)) from None
    verdict = verify_bytes(payload, armored, allowed.path, canonical, same_role)
    if not verdict.valid:
        raise SignOffError(f"the key {key} cannot sign for {canonical}: {verdict.detail}. Add its public key to "
                           f"{allowed.label} for {canonical} (\"{canonical}\" <contents of the .pub file>), "
                           "have that change reviewed, and sign again")
    warnings = []
    if decision == "APPROVED":
        gaps = contradictions(before)
        if gaps:
            shown = "; ".join(gaps[:5]) + (f"; and {len(gaps) - 5} more (see prelive gates)" if len(gaps) > 5 else "")
            warnings.append(f"you signed APPROVED, but the gates say {before.decision.outcome.value}: {shown}")
    path = ev.signatures_file.path
    write_files_atomically({path: signatures_document([*ev.signature_entries, {**entry, "signature": armored}])})
    return SignOff(entry, verdict, before, tuple(warnings), path)
