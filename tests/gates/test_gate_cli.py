"""``prelive gates`` and ``prelive sign``: exit codes CI can gate on, errors that name the file."""
from __future__ import annotations

import json

import pytest
from evidence_kit import SIGNERS, EvidenceKit
from typer.testing import CliRunner

from harness.cli import app

runner = CliRunner()


def gates(kit: EvidenceKit, out, *extra: str):
    return runner.invoke(app, ["gates", "--evidence", str(kit.root), "--out", str(out), *extra])


def sign(kit: EvidenceKit, role: str, decision: str = "APPROVED"):
    return runner.invoke(app, ["sign", "--evidence", str(kit.root), "--role", role, "--name", "Pat Doe",
                               "--decision", decision, "--comment", "looked at it"])


EXIT_CODES = [
    ("unsigned evidence is conditional", lambda k: None, 10, "CONDITIONAL_APPROVAL"),
    ("signed evidence is approved", lambda k: [sign(k, r) for r in SIGNERS], 0, "GO_LIVE_APPROVED"),
    ("a critical failure rolls back", lambda k: k.set_metric("pacing_violations", 4), 21, "ROLLBACK_AND_INVESTIGATE"),
    ("a large non-critical gap is remediated", lambda k: k.write("coverage.xml", '<coverage line-rate="0.4"/>'),
     20, "REMEDIATE_AND_REVALIDATE"),
]


@pytest.mark.parametrize(("edit", "code", "words"), [e[1:] for e in EXIT_CODES], ids=[e[0] for e in EXIT_CODES])
def test_gates_exit_code(kit: EvidenceKit, tmp_path, edit, code, words):
    edit(kit)
    result = gates(kit, tmp_path / "out")
    assert result.exit_code == code, result.output
    assert words in result.output
    log = json.loads((tmp_path / "out" / "PRELIVE_VERIFICATION_LOG.json").read_text())
    assert log["decision"]["exit_code"] == code


def test_malformed_evidence_exits_2_naming_the_file_and_writes_nothing(kit: EvidenceKit, tmp_path):
    kit.write("ROLLBACK_DRILL.json", "{oops")
    result = gates(kit, tmp_path / "out")
    assert result.exit_code == 2
    assert "ROLLBACK_DRILL.json: not valid JSON" in result.stderr
    assert not (tmp_path / "out").exists()


def test_an_invalid_config_exits_2_naming_the_key(kit: EvidenceKit, tmp_path):
    config = tmp_path / "gates.yaml"
    config.write_text("gates:\n  paper_trading:\n    fill_rate_pct: {op: about}\n")
    result = gates(kit, tmp_path / "out", "--config", str(config))
    assert result.exit_code == 2
    assert "gates.paper_trading.fill_rate_pct.op" in result.stderr


def test_a_config_override_changes_the_verdict(kit: EvidenceKit, tmp_path):
    config = tmp_path / "gates.yaml"
    config.write_text("gates:\n  go_live:\n    required_signers: [CTO]\n")
    sign(kit, "CTO")
    assert gates(kit, tmp_path / "out", "--config", str(config)).exit_code == 0


def test_show_config_prints_the_merged_thresholds(kit: EvidenceKit, tmp_path):
    result = gates(kit, tmp_path / "out", "--show-config")
    assert result.exit_code == 0
    assert "fill_rate_pct:" in result.output and "Risk Officer" in result.output
    assert not (tmp_path / "out").exists()


def test_sign_appends_a_signature_bound_to_the_evidence_digest(kit: EvidenceKit):
    assert sign(kit, "CTO").exit_code == 0
    assert sign(kit, "Risk Officer", "rejected").exit_code == 0
    doc = json.loads(kit.path("SIGNATURES.json").read_text())
    assert [(s["role"], s["decision"], s["comment"]) for s in doc["signatures"]] == [
        ("CTO", "APPROVED", "looked at it"), ("Risk Officer", "REJECTED", "looked at it")]
    assert doc["signatures"][0]["evidence_digest"] == kit.verify().evidence.digest
    assert "PAPER_TRADING_METRICS.csv" in doc["signatures"][0]["evidence_files"]


def test_sign_refuses_malformed_evidence(kit: EvidenceKit):
    kit.write("ACCOUNT_CONFIG.json", "[]")
    result = sign(kit, "CTO")
    assert result.exit_code == 2
    assert "ACCOUNT_CONFIG.json" in result.stderr
    assert not kit.path("SIGNATURES.json").exists()


def test_sign_rejects_an_unknown_decision(kit: EvidenceKit):
    assert sign(kit, "CTO", "MAYBE").exit_code == 2
    assert not kit.path("SIGNATURES.json").exists()


def test_sign_notes_a_role_that_is_not_required(kit: EvidenceKit):
    result = sign(kit, "Compliance")
    assert result.exit_code == 0
    assert "not a required signer" in result.output
