"""allowed_signers principals are ssh-keygen patterns: a role is admitted exactly as ``ssh-keygen -Y verify -I`` admits it.

Every key here is made by ssh-keygen in the test; ssh-keygen itself is the oracle for pattern matching.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from evidence_kit import EvidenceKit, condition, make_key

from harness.gates.model import Status
from harness.gates.signatures import same_role, signed_payload
from harness.gates.signoff import SignOffError
from harness.gates.sshsig import NAMESPACE, VerdictKind, parse_allowed_signers, sign_bytes


def pub(key: Path) -> str:
    return key.with_suffix(".pub").read_text().strip()


def add_line(kit: EvidenceKit, principals: str, key: Path, options: str = "") -> None:
    kit.write("allowed_signers", kit.path("allowed_signers").read_text()
              + f'"{principals}" {options + " " if options else ""}{pub(key)}\n')


def resign_as(kit: EvidenceKit, role: str, key: Path) -> None:
    """The kit signs an entry for ``role``; then ``key`` signs that same entry (a correctly made signature)."""
    kit.sign(role)
    doc = kit.signatures_json()
    entry = doc["signatures"][-1]
    entry["signature"] = sign_bytes(signed_payload(entry), key)
    kit.write_signatures_json(doc)


def test_a_key_listed_under_a_pattern_that_matches_the_role_signs_for_it(kit: EvidenceKit, tmp_path):
    deputy = make_key(tmp_path / "k", "deputy")
    add_line(kit, "Risk *", deputy)
    done = kit.sign("Risk Officer", key=deputy)
    assert done.verdict.kind is VerdictKind.VALID
    state = kit.verify().signatures[0]
    assert state.current and condition(kit.verify(), 8, "signed:Risk Officer").status is Status.PASS


@pytest.mark.parametrize("role", ["CTO", "Risk Officer", "Lead Trader"])
def test_a_domain_wildcard_does_not_let_its_key_sign_as_a_role(kit: EvidenceKit, tmp_path, role):
    analyst = make_key(tmp_path / "k", "analyst")
    add_line(kit, "*@risk.example.com", analyst)
    with pytest.raises(SignOffError, match=f"cannot sign for {role}"):
        kit.sign(role, key=analyst)
    resign_as(kit, role, analyst)
    state = kit.verify().signatures[0]
    assert state.verdict.kind is VerdictKind.WRONG_ROLE
    assert "may sign for *@risk.example.com" in state.verdict.detail and not state.current


def test_a_pattern_is_not_a_role_one_can_sign_as(kit: EvidenceKit, tmp_path):
    analyst = make_key(tmp_path / "k", "analyst")
    add_line(kit, "*@risk.example.com", analyst)
    with pytest.raises(SignOffError, match="names no role"):
        kit.sign("*@risk.example.com", key=analyst)
    assert not kit.path("SIGNATURES.json").exists()


def test_a_negated_role_is_refused_in_every_spelling(kit: EvidenceKit, tmp_path):
    """``!CTO,*``: any role but CTO. A literal "cto" elsewhere in the file must not open a side door."""
    anyone = make_key(tmp_path / "k", "anyone")
    add_line(kit, "!CTO,*", anyone)
    add_line(kit, "cto", kit.key("CTO"))          # the CTO's key listed again, spelt in lower case
    with pytest.raises(SignOffError, match="cannot sign for CTO"):
        kit.sign("CTO", key=anyone)
    resign_as(kit, "CTO", anyone)
    assert kit.verify().signatures[0].verdict.kind is VerdictKind.WRONG_ROLE
    # the same line still admits the roles it does not exclude, as ssh-keygen does
    assert kit.sign("Lead Trader", key=anyone).verdict.kind is VerdictKind.VALID


def test_a_pattern_matches_the_configured_spelling_of_the_role_only(kit: EvidenceKit, tmp_path):
    """Patterns are case-sensitive as in ssh-keygen: ``risk *`` does not admit "Risk Officer"."""
    lower = make_key(tmp_path / "k", "lower")
    add_line(kit, "risk *", lower)
    resign_as(kit, "Risk Officer", lower)
    doc = kit.signatures_json()
    assert kit.verify().signatures[0].verdict.kind is VerdictKind.WRONG_ROLE
    # an entry claiming the role in the pattern's spelling is still checked as the configured role
    from harness.gates.sshsig import verify_bytes
    entry = {**doc["signatures"][0], "role": "risk officer"}
    entry["signature"] = sign_bytes(signed_payload(entry), lower)
    doc["signatures"][0] = entry
    kit.write_signatures_json(doc)
    assert kit.verify().signatures[0].verdict.kind is VerdictKind.WRONG_ROLE
    assert verify_bytes(signed_payload(entry), entry["signature"], kit.path("allowed_signers"), "risk officer",
                        same_role).kind is VerdictKind.VALID   # the pattern does match that spelling


def test_a_key_on_several_lines_may_sign_for_what_any_of_its_lines_admits(kit: EvidenceKit, tmp_path):
    both = make_key(tmp_path / "k", "both")
    add_line(kit, "*@risk.example.com", both)
    add_line(kit, "Lead Trader", both)
    assert kit.sign("Lead Trader", key=both).verdict.kind is VerdictKind.VALID
    resign_as(kit, "CTO", both)
    verdict = kit.verify().signatures[-1].verdict
    assert verdict.kind is VerdictKind.WRONG_ROLE
    assert "*@risk.example.com" in verdict.detail and "Lead Trader" in verdict.detail


def test_a_wildcard_line_keeps_its_options(kit: EvidenceKit, tmp_path):
    """An expired pattern line is RESTRICTED for the roles it matches, not valid."""
    old = make_key(tmp_path / "k", "old")
    add_line(kit, "Risk *", old, options='valid-before="20200101"')
    resign_as(kit, "Risk Officer", old)
    assert kit.verify().signatures[0].verdict.kind is VerdictKind.RESTRICTED


CASES = [  # (principals field, principal asked for)
    ("*@risk.example.com", "alice@risk.example.com"), ("*@risk.example.com", "alice@risk.example.com.evil"),
    ("*@risk.example.com", "Risk Officer"), ("Risk *", "Risk Officer"), ("Risk *", "risk officer"),
    ("Risk?Officer", "Risk Officer"), ("Risk?Officer", "RiskOfficer"), ("!CTO,*", "CTO"), ("!CTO,*", "Lead Trader"),
    ("*,!CTO", "CTO"), ("CTO,Lead Trader", "Lead Trader"), ("[CT]TO", "CTO"), ("[CT]TO", "[CT]TO"),
    ("a.b", "axb"), ("C*O", "CTO"), ("*", "anything at all"), ("Lead Trader", "Lead  Trader"),
]


@pytest.mark.parametrize("field,principal", CASES)
def test_pattern_matching_agrees_with_ssh_keygen(tmp_path, field, principal):
    key = make_key(tmp_path, "k")
    message = tmp_path / "m"
    message.write_bytes(b"payload")
    subprocess.run(["ssh-keygen", "-Y", "sign", "-f", str(key), "-n", NAMESPACE, str(message)],
                   check=True, capture_output=True)
    line = f'"{field}" {pub(key)}\n'
    (tmp_path / "allowed").write_text(line)
    ssh_says = subprocess.run(["ssh-keygen", "-Y", "verify", "-f", str(tmp_path / "allowed"), "-I", principal,
                               "-n", NAMESPACE, "-s", f"{message}.sig"], input=b"payload",
                              capture_output=True).returncode == 0
    [signer] = parse_allowed_signers(line)
    assert signer.admits(principal, lambda a, b: a == b) is ssh_says
