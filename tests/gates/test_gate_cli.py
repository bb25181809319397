"""``prelive gates`` and ``prelive sign``: exit codes CI can gate on, errors that name the file."""
from __future__ import annotations

import json

import pytest
from evidence_kit import SIGNERS, EvidenceKit
from typer.testing import CliRunner

from harness.cli import app
from harness.gates.signatures import role_key

runner = CliRunner()


def gates(kit: EvidenceKit, out, *extra: str):
    return runner.invoke(app, ["gates", "--evidence", str(kit.root), "--out", str(out), *extra])


def sign(kit: EvidenceKit, role: str, decision: str = "APPROVED", *extra: str, key=None):
    key = key or (kit.key(role) if role_key(role) in kit.keys else kit.key("CTO"))
    return runner.invoke(app, ["sign", "--evidence", str(kit.root), "--role", role, "--name", "Pat Doe",
                               "--decision", decision, "--comment", "looked at it", "--key", str(key), *extra])


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
    sign(kit, "CTO", "APPROVED", "--config", str(config))
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


def test_sign_refuses_a_role_the_governance_does_not_name_and_suggests_the_nearest(kit: EvidenceKit):
    result = sign(kit, "Risk Oficer", key=kit.key("Risk Officer"))
    assert result.exit_code == 2
    assert "names no role 'Risk Oficer'" in result.stderr and "did you mean 'Risk Officer'" in result.stderr
    assert not kit.path("SIGNATURES.json").exists()


def test_sign_refuses_a_key_that_is_not_listed_for_the_role(kit: EvidenceKit):
    result = sign(kit, "Risk Officer", key=kit.key("CTO"))
    assert result.exit_code == 2
    assert "cannot sign for Risk Officer" in result.stderr and "not for Risk Officer" in result.stderr
    assert not kit.path("SIGNATURES.json").exists()


def test_sign_needs_a_key(kit: EvidenceKit):
    result = runner.invoke(app, ["sign", "--evidence", str(kit.root), "--role", "CTO", "--name", "Pat Doe",
                                 "--decision", "APPROVED"], env={"PRELIVE_SIGNING_KEY": ""})
    assert result.exit_code == 2
    assert "--key is required" in result.stderr


def test_sign_warns_when_an_approval_contradicts_the_gates(kit: EvidenceKit):
    kit.set_metric("pacing_violations", 4)
    result = sign(kit, "CTO")
    assert result.exit_code == 0
    assert "warning:" in result.output and "the gates say REJECTED" in result.output
    assert "pacing_violations" in result.output


def test_sign_does_not_warn_when_only_signatures_are_missing(kit: EvidenceKit):
    result = sign(kit, "CTO")
    assert result.exit_code == 0
    assert "warning:" not in result.output
