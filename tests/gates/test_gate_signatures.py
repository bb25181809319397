"""Signatures bind to the evidence digest: changed evidence makes them stale and GATE_8 stops counting them."""
from __future__ import annotations

from datetime import timedelta

import pytest
from evidence_kit import NOW, SIGNERS, EvidenceKit, allowed_signers_line, condition, make_key

from harness.gates.config import build_config
from harness.gates.model import Outcome, Status
from harness.gates.signoff import SignOffError
from harness.gates.sshsig import VerdictKind


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
    kit.sign_all(config=config)
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


# ----------------------------------------------------------------------------- cryptographic sign-offs
# Every kit role has an ed25519 key pair made by ssh-keygen in the test (evidence_kit.make_key), listed
# for its role in the kit's allowed_signers.

def test_a_signature_by_the_roles_own_key_verifies(kit: EvidenceKit):
    done = kit.sign("CTO")
    state = kit.verify().signatures[0]
    assert state.verdict.kind is VerdictKind.VALID and state.current
    assert state.verdict.fingerprint.startswith("SHA256:") and done.verdict.fingerprint == state.verdict.fingerprint
    assert kit.signatures_json()["signatures"][0]["signature"].startswith("-----BEGIN SSH SIGNATURE-----")


def test_recomputing_the_digests_after_editing_the_evidence_is_a_forgery(kit: EvidenceKit):
    """The attack of issue 12: edit ACCOUNT_CONFIG.json, recompute every hash in SIGNATURES.json with hashlib."""
    kit.sign_all()
    kit.edit_json("ACCOUNT_CONFIG.json", buying_power=1.0e9)
    fresh = kit.verify().evidence
    doc = kit.signatures_json()
    for entry in doc["signatures"]:
        entry["evidence_files"] = fresh.file_hashes
        entry["evidence_digest"] = fresh.digest
    kit.write_signatures_json(doc)
    v = kit.verify()
    assert [s.verdict.kind for s in v.signatures] == [VerdictKind.FORGED] * 3
    assert all(s.status_text.startswith("FORGED") for s in v.signatures)
    assert condition(v, 8, "signatures_authentic").status is Status.FAIL
    assert v.decision.outcome is not Outcome.GO_LIVE_APPROVED


@pytest.mark.parametrize("field,value", [("decision", "APPROVED"), ("role", "Risk Officer"), ("name", "Someone Else")])
def test_editing_any_field_of_a_signed_entry_is_a_forgery(kit: EvidenceKit, field, value):
    kit.sign("CTO", "REJECTED")
    doc = kit.signatures_json()
    doc["signatures"][0][field] = value
    kit.write_signatures_json(doc)
    assert kit.verify().signatures[0].verdict.kind is VerdictKind.FORGED


def test_a_signature_by_a_key_allowed_signers_does_not_list_is_unknown(kit: EvidenceKit, tmp_path):
    stranger = make_key(tmp_path / "stranger", "stranger")
    kit.sign("CTO")  # a valid entry to copy
    doc = kit.signatures_json()
    # the stranger signs the same manifest with their own key, claiming the CTO role
    from harness.gates.signatures import signed_payload
    from harness.gates.sshsig import sign_bytes
    entry = doc["signatures"][0]
    entry["signature"] = sign_bytes(signed_payload(entry), stranger)
    kit.write_signatures_json(doc)
    v = kit.verify()
    assert v.signatures[0].verdict.kind is VerdictKind.UNKNOWN_KEY
    assert "not in allowed_signers" in v.signatures[0].status_text
    assert condition(v, 8, "signed:CTO").status is Status.PENDING


def test_a_listed_key_signing_for_another_role_is_a_wrong_role(kit: EvidenceKit):
    """The CTO's key cannot sign as Risk Officer, even when the entry is signed correctly."""
    from harness.gates.signatures import signed_payload
    from harness.gates.sshsig import sign_bytes

    kit.sign("Risk Officer")
    doc = kit.signatures_json()
    entry = doc["signatures"][0]
    entry["signature"] = sign_bytes(signed_payload(entry), kit.key("CTO"))
    kit.write_signatures_json(doc)
    v = kit.verify()
    assert v.signatures[0].verdict.kind is VerdictKind.WRONG_ROLE
    assert "not for Risk Officer" in v.signatures[0].verdict.detail
    assert condition(v, 8, "signatures_authentic").status is Status.FAIL
    assert condition(v, 8, "signed:Risk Officer").status is Status.PENDING


def test_prelive_sign_refuses_another_roles_key(kit: EvidenceKit):
    with pytest.raises(SignOffError, match="cannot sign for Lead Trader"):
        kit.sign("Lead Trader", key=kit.key("CTO"))
    assert not kit.path("SIGNATURES.json").exists()


def test_a_valid_signature_on_changed_evidence_is_stale_not_forged(kit: EvidenceKit):
    kit.sign("CTO")
    kit.set_metric("fill_rate_pct", 99.3)
    state = kit.verify().signatures[0]
    assert state.verdict.kind is VerdictKind.VALID and not state.current
    assert state.status_text.startswith("STALE: evidence changed since signing: PAPER_TRADING_METRICS.csv")


def test_a_signature_made_under_another_gates_config_is_stale(kit: EvidenceKit):
    kit.sign_all()
    looser = build_config({"gates": {"paper_trading": {"fill_rate_pct": {"op": ">", "value": 50}}}})
    v = kit.verify(looser)
    assert all(s.stale_reason == "the gates config changed since signing" for s in v.signatures)
    assert v.decision.outcome is Outcome.CONDITIONAL_APPROVAL


def test_adding_a_key_to_allowed_signers_makes_earlier_signatures_stale(kit: EvidenceKit, tmp_path):
    kit.sign_all()
    extra = make_key(tmp_path / "extra", "extra")
    kit.write("allowed_signers", kit.path("allowed_signers").read_text() + allowed_signers_line("CTO", extra))
    v = kit.verify()
    assert all(s.verdict.kind is VerdictKind.VALID and "allowed_signers" in s.changed_files for s in v.signatures)


def test_without_allowed_signers_no_signature_counts(kit: EvidenceKit):
    kit.sign_all()
    kit.remove("allowed_signers")
    v = kit.verify()
    assert all(s.verdict.kind is VerdictKind.UNVERIFIABLE for s in v.signatures)
    assert v.decision.outcome is Outcome.CONDITIONAL_APPROVAL


def test_a_digest_only_signature_of_an_older_prelive_does_not_count(kit: EvidenceKit):
    kit.sign("CTO")
    doc = kit.signatures_json()
    del doc["signatures"][0]["signature"]
    kit.write_signatures_json(doc)
    state = kit.verify().signatures[0]
    assert state.verdict.kind is VerdictKind.UNVERIFIABLE and not state.current


def test_a_role_the_governance_does_not_name_cannot_sign(kit: EvidenceKit):
    with pytest.raises(SignOffError, match="did you mean 'Lead Trader'"):
        kit.sign("Lead Trade", key=kit.key("Lead Trader"))


def test_a_pinned_governance_key_list_refuses_an_allowed_signers_someone_rewrote(kit: EvidenceKit, tmp_path):
    import hashlib

    pinned = hashlib.sha256(kit.path("allowed_signers").read_bytes()).hexdigest()
    config = build_config({"gates": {"go_live": {"allowed_signers_sha256": pinned}}})
    kit.sign_all(config=config)
    assert kit.verify(config).decision.outcome is Outcome.GO_LIVE_APPROVED
    # an intruder lists their own key for every role and signs everything again
    intruder = make_key(tmp_path / "intruder", "intruder")
    kit.write("allowed_signers", "".join(allowed_signers_line(r, intruder) for r in SIGNERS))
    for role in ("Risk Officer", "CTO", "Lead Trader"):
        with pytest.raises(SignOffError):
            kit.sign(role, config=config, key=intruder)
    v = kit.verify(config)
    assert all("not the pinned governance key list" in s.status_text for s in v.signatures)
    assert v.decision.outcome is not Outcome.GO_LIVE_APPROVED


def test_a_key_whose_allowed_signers_line_has_expired_is_restricted_not_forged(kit: EvidenceKit):
    kit.sign("CTO")
    lines = kit.path("allowed_signers").read_text().splitlines(keepends=True)
    kit.write("allowed_signers", "".join(line.replace('"CTO" ', '"CTO" valid-before="20200101" ') for line in lines))
    kit.sign("Risk Officer")   # a fresh signature on the changed governance: still verifiable for other roles
    v = kit.verify()
    cto = [s for s in v.signatures if s.signature.role == "CTO"][0]
    assert cto.verdict.kind is VerdictKind.RESTRICTED and not cto.tampered
    assert [s.verdict.kind for s in v.signatures if s.signature.role == "Risk Officer"] == [VerdictKind.VALID]
