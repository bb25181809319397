"""Helpers for the gate tests: an evidence directory to bend (a copy of examples/evidence)."""
from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from harness.gates.atomic import write_files_atomically
from harness.gates.config import GatesConfig, build_config
from harness.gates.evidence import load_evidence
from harness.gates.run import Verification, verify
from harness.gates.signatures import new_signature, signatures_document

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "evidence"
NOW = datetime(2026, 1, 2, 12, 0, tzinfo=UTC)
SIGNERS = ("Risk Officer", "CTO", "Lead Trader")


class EvidenceKit:
    """Small, named edits of an evidence directory, so each test states only what it changes."""

    def __init__(self, root: Path) -> None:
        self.root = root

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

    def sign(self, role: str, decision: str = "APPROVED", config: GatesConfig | None = None,
             now: datetime = NOW) -> None:
        evidence = load_evidence(self.root, config or build_config(), read_event_logs=False)
        signature = new_signature(evidence, role=role, name=f"{role} person", decision=decision, comment="",
                                  now=now)
        write_files_atomically({evidence.signatures_file.path: signatures_document([*evidence.signatures, signature])})

    def sign_all(self, decision: str = "APPROVED") -> None:
        for role in SIGNERS:
            self.sign(role, decision)

    def verify(self, config: GatesConfig | None = None, now: datetime = NOW) -> Verification:
        return verify(self.root, config or build_config(), now)


def condition(v: Verification, gate: int, condition_id: str):
    """The named condition of a gate (fails the test if the gate has no such condition)."""
    matches = [c for c in v.gates[gate - 1].conditions if c.id == condition_id]
    assert matches, f"GATE_{gate} has no condition {condition_id}: {[c.id for c in v.gates[gate - 1].conditions]}"
    return matches[0]
