"""Evidence made against the mock says so: a banner first, and at best CONDITIONAL unless the config allows it."""
from __future__ import annotations

import pytest
from evidence_kit import NOW, EvidenceKit, condition

from harness.gates.config import build_config
from harness.gates.model import Outcome, Status
from harness.gates.run import run_gates

MOCK = {"host": "127.0.0.1", "port": 4002, "kind": "mock", "detected_by": "startup notice 2199 from the gateway"}


def _simulate(kit: EvidenceKit, artifact: str) -> None:
    kit.edit_json(artifact, gateway=MOCK)


@pytest.mark.parametrize("artifact", ["ACCOUNT_CONFIG.json", "PAPER_TRADING_LOG.json"])
def test_simulated_stage_6_or_7_evidence_is_at_best_conditional(kit: EvidenceKit, artifact):
    _simulate(kit, artifact)
    kit.sign_all()
    v = kit.verify()
    real = condition(v, 8, "real_gateway_evidence")
    assert real.status is Status.PENDING and artifact in real.note and "SIMULATED" in real.note
    assert v.decision.outcome is Outcome.CONDITIONAL_APPROVAL


def test_the_config_can_accept_simulated_evidence_explicitly(kit: EvidenceKit):
    config = build_config({"decision": {"allow_simulated_evidence": True}})
    _simulate(kit, "PAPER_TRADING_LOG.json")
    kit.sign_all(config=config)
    v = kit.verify(config)
    assert condition(v, 8, "real_gateway_evidence").status is Status.PASS
    assert "accepted because decision.allow_simulated_evidence" in condition(v, 8, "real_gateway_evidence").note
    assert v.decision.outcome is Outcome.GO_LIVE_APPROVED


def test_real_evidence_needs_nothing_more(kit: EvidenceKit):
    kit.sign_all()
    assert condition(kit.verify(), 8, "real_gateway_evidence").status is Status.PASS


def test_the_report_opens_with_a_simulated_evidence_banner(kit: EvidenceKit, tmp_path):
    _simulate(kit, "ACCOUNT_CONFIG.json")
    run_gates(kit.root, build_config(), tmp_path, now=NOW)
    md = (tmp_path / "GO_LIVE_DECISION.md").read_text()
    html = (tmp_path / "GO_LIVE_DECISION.html").read_text()
    first_lines = md.splitlines()[:3]
    assert first_lines[0].endswith("(SIMULATED EVIDENCE)")
    assert first_lines[2].startswith("> **SIMULATED EVIDENCE**") and "ACCOUNT_CONFIG.json" in first_lines[2]
    body = html[html.index("<body>"):]
    assert body.index('class="banner"') < body.index("<h2>")


def test_a_report_on_real_evidence_has_no_banner(kit: EvidenceKit, tmp_path):
    run_gates(kit.root, build_config(), tmp_path, now=NOW)
    assert "SIMULATED" not in (tmp_path / "GO_LIVE_DECISION.md").read_text()
    assert 'class="banner"' not in (tmp_path / "GO_LIVE_DECISION.html").read_text()
