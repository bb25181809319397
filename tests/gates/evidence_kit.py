"""Helpers for the gate tests: an evidence directory to bend (a copy of examples/evidence)."""
from __future__ import annotations

import csv
import io
import json
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from harness.gates.config import GatesConfig, build_config
from harness.gates.run import Verification, verify
from harness.gates.signatures import role_key
from harness.gates.signoff import SignOff, sign_evidence

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "evidence"
NOW = datetime(2026, 1, 2, 12, 0, tzinfo=UTC)
SIGNERS = ("Risk Officer", "CTO", "Lead Trader")
#: Roles the kit's governance framework (allowed_signers) names, each with a key pair made by the kit.
ROLES = (*SIGNERS, "Compliance")


def make_key(directory: Path, name: str) -> Path:
    """A fresh ed25519 key pair from ssh-keygen (no passphrase); returns the private key's path."""
    directory.mkdir(parents=True, exist_ok=True)
    key = directory / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"{name}@test", "-f", str(key)],
                   check=True, capture_output=True)
    return key


def allowed_signers_line(role: str, key: Path) -> str:
    return f'"{role}" {key.with_suffix(".pub").read_text().strip()}\n'


class EvidenceKit:
    """Small, named edits of an evidence directory, so each test states only what it changes."""

    def __init__(self, root: Path, keys_dir: Path | None = None) -> None:
        """``root``: the evidence directory; its allowed_signers is replaced by keys made here, one per role."""
        self.root = root
        self.keys_dir = keys_dir or root.parent / "keys"
        self.keys = {role_key(role): make_key(self.keys_dir, role.replace(" ", "-").lower()) for role in ROLES}
        self.write("allowed_signers", "".join(allowed_signers_line(role, self.keys[role_key(role)]) for role in ROLES))

    def path(self, name: str) -> Path:
        return self.root / name

    def remove(self, name: str) -> None:
        self.path(name).unlink()

    def write(self, name: str, text: str) -> None:
        self.path(name).parent.mkdir(parents=True, exist_ok=True)
        self.path(name).write_text(text)

    def edit_json(self, name: str, **changes: Any) -> None:
        data = json.loads(self.path(name).read_text())
        data.update(changes)
        self.write(name, json.dumps(data, indent=2))

    def edit_yaml(self, name: str, edit: Callable[[dict], None]) -> None:
        data = yaml.safe_load(self.path(name).read_text())
        edit(data)
        self.write(name, yaml.safe_dump(data, sort_keys=False))

    def set_metric(self, metric: str, value: float | str | None) -> None:
        """Set a PAPER_TRADING_METRICS.csv value; None removes the row."""
        rows = list(csv.reader(io.StringIO(self.path("PAPER_TRADING_METRICS.csv").read_text())))
        out = [rows[0]] + [r for r in rows[1:] if r[0] != metric]
        if value is not None:
            out.append([metric, str(value), "", "", ""])
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(out)
        self.write("PAPER_TRADING_METRICS.csv", buf.getvalue())

    def key(self, role: str) -> Path:
        return self.keys[role_key(role)]

    def sign(self, role: str, decision: str = "APPROVED", config: GatesConfig | None = None,
             now: datetime = NOW, key: Path | None = None) -> SignOff:
        """``prelive sign`` as the role, with the role's own key unless ``key`` says otherwise."""
        return sign_evidence(self.root, config or build_config(), role=role, name=f"{role} person",
                             decision=decision, comment="", key=key or self.key(role), now=now)

    def signatures_json(self) -> dict:
        return json.loads(self.path("SIGNATURES.json").read_text())

    def write_signatures_json(self, doc: dict) -> None:
        self.write("SIGNATURES.json", json.dumps(doc, indent=2))

    def sign_all(self, decision: str = "APPROVED", config: GatesConfig | None = None) -> None:
        for role in SIGNERS:
            self.sign(role, decision, config)

    def verify(self, config: GatesConfig | None = None, now: datetime = NOW) -> Verification:
        return verify(self.root, config or build_config(), now)


def condition(v: Verification, gate: int, condition_id: str):
    """The named condition of a gate (fails the test if the gate has no such condition)."""
    matches = [c for c in v.gates[gate - 1].conditions if c.id == condition_id]
    assert matches, f"GATE_{gate} has no condition {condition_id}: {[c.id for c in v.gates[gate - 1].conditions]}"
    return matches[0]
