"""Signatures bind to the evidence digest: changed evidence makes them stale and GATE_8 stops counting them."""
from __future__ import annotations

from datetime import timedelta

import pytest
from evidence_kit import NOW, EvidenceKit, condition

from harness.gates.config import build_config
from harness.gates.model import Outcome, Status


def test_all_required_roles_approving_current_evidence_passes_gate_8(kit: EvidenceKit):
    kit.sign_all()
    v = kit.verify()
    assert v.gates[7].status is Status.PASS
    assert all(s.current for s in v.signatures)


def test_changing_an_evidence_file_after_signing_makes_every_signature_stale(kit: EvidenceKit):
    kit.sign_all()
    kit.set_metric("fill_rate_pct", 99.3)
    v = kit.verify()
    assert [s.current for s in v.signatures] == [False, False, False]
    assert all(s.changed_files == ("PAPER_TRADING_METRICS.csv",) for s in v.signatures)
    assert condition(v, 8, "signed:CTO").status is Status.PENDING
    assert v.decision.outcome is Outcome.CONDITIONAL_APPROVAL


def test_adding_a_missing_evidence_file_after_signing_makes_signatures_stale(kit: EvidenceKit):
    kit.remove("GOVERNANCE.md")
    kit.sign_all()
    kit.write("GOVERNANCE.md", "# governance\n")
    v = kit.verify()
    assert v.signatures[0].changed_files == ("GOVERNANCE.md",)
    assert not v.signatures[0].current


def test_writing_the_outputs_into_the_evidence_directory_keeps_signatures_current(kit: EvidenceKit):
    from harness.gates.run import run_gates

    kit.sign_all()
    run_gates(kit.root, build_config(), now=NOW)
    assert all(s.current for s in kit.verify().signatures)


def test_re_signing_the_changed_evidence_counts_again(kit: EvidenceKit):
    kit.sign_all()
    kit.set_metric("fill_rate_pct", 99.3)
    kit.sign_all()
    v = kit.verify()
    assert v.decision.outcome is Outcome.GO_LIVE_APPROVED
    assert [s.current for s in v.signatures] == [False] * 3 + [True] * 3


@pytest.mark.parametrize("role", ["Risk Officer", "Compliance"])
def test_a_current_rejection_blocks_approval_whoever_signs_it(kit: EvidenceKit, role):
    kit.sign_all()
    kit.sign(role, "REJECTED")
    v = kit.verify()
    assert condition(v, 8, "no_rejections").status is Status.FAIL
    assert v.decision.outcome is Outcome.REJECTED


def test_a_stale_rejection_does_not_block_once_the_role_approves_the_new_evidence(kit: EvidenceKit):
    kit.sign("Risk Officer", "REJECTED")
    kit.set_metric("fill_rate_pct", 99.3)
    kit.sign_all()
    assert kit.verify().decision.outcome is Outcome.GO_LIVE_APPROVED


def test_the_latest_current_signature_of_a_role_counts(kit: EvidenceKit):
    kit.sign_all()
    kit.sign("CTO", "CONDITIONAL")
    v = kit.verify()
    assert condition(v, 8, "signed:CTO").observed == "CONDITIONAL"
    assert condition(v, 8, "signed:CTO").status is Status.PENDING
    assert v.decision.outcome is Outcome.CONDITIONAL_APPROVAL


def test_roles_match_regardless_of_case_and_spacing(kit: EvidenceKit):
    for role in ("risk  officer", "cto", "LEAD TRADER"):
        kit.sign(role)
    assert kit.verify().gates[7].status is Status.PASS


def test_signatures_older_than_the_configured_age_are_stale(kit: EvidenceKit):
    config = build_config({"gates": {"go_live": {"signature_max_age_days": 7}}})
    kit.sign_all()
    v = kit.verify(config, now=NOW + timedelta(days=8))
    assert all("older than 7 days" in s.stale_reason for s in v.signatures)
    assert v.gates[7].status is Status.PENDING


def test_required_signers_are_configurable(kit: EvidenceKit):
    config = build_config({"gates": {"go_live": {"required_signers": ["CTO"]}}})
    kit.sign("CTO", config=config)
    assert kit.verify(config).decision.outcome is Outcome.GO_LIVE_APPROVED


@pytest.mark.parametrize(("edit", "condition_id", "expected"), [
    (lambda k: k.edit_json("KILL_SWITCH.json", verified=False), "kill_switch_verified", Status.FAIL),
    (lambda k: k.edit_json("KILL_SWITCH.json", open_orders_after=2), "kill_switch_verified", Status.FAIL),
    (lambda k: k.remove("KILL_SWITCH.json"), "kill_switch_verified", Status.PASS),  # the drill's own check
    (lambda k: (k.remove("KILL_SWITCH.json"), k.edit_json("ROLLBACK_DRILL.json", kill_switch=None)),
     "kill_switch_verified", Status.PENDING),
    (lambda k: k.edit_json("ROLLBACK_DRILL.json", passed=False, failed_step="deploy previous image"),
     "rollback_tested", Status.FAIL),
    (lambda k: k.edit_json("ROLLBACK_DRILL.json", total_recovery_s=30.0), "rollback_recovery_s", Status.FAIL),
    (lambda k: k.edit_json("ROLLBACK_DRILL.json", total_recovery_s=29.9), "rollback_recovery_s", Status.PASS),
    (lambda k: k.remove("ROLLBACK_DRILL.json"), "rollback_tested", Status.PENDING),
], ids=["kill switch not verified", "orders left open", "kill switch from the drill", "no kill switch evidence",
        "drill failed", "recovery of exactly 30 s (strict)", "recovery of 29.9 s", "no drill"])
def test_gate_8_drill_and_kill_switch_conditions(kit: EvidenceKit, edit, condition_id, expected):
    edit(kit)
    assert condition(kit.verify(), 8, condition_id).status is expected


def test_gate_8_needs_gates_1_to_7_to_pass(kit: EvidenceKit):
    kit.write("coverage.xml", '<coverage line-rate="0.5"/>')
    kit.sign_all()
    v = kit.verify()
    assert condition(v, 8, "gates_1_7_pass").status is Status.FAIL
    assert v.decision.outcome is Outcome.REJECTED


def test_a_fixture_glob_reaching_the_signatures_and_outputs_leaves_them_out_of_the_digest(kit: EvidenceKit):
    from harness.gates.run import run_gates

    config = build_config({"evidence": {"fixtures": ["*"]}})
    kit.sign_all()
    run_gates(kit.root, config, now=NOW)
    kit.sign("CTO", config=config)
    v = kit.verify(config)
    assert "SIGNATURES.json" not in v.evidence.file_hashes
    assert "GO_LIVE_DECISION.md" not in v.evidence.file_hashes
    assert v.signatures[-1].current
