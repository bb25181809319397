"""An evidence file that does not match the sha256 another artifact records for it fails GATE_1 outright."""
from __future__ import annotations

import pytest
from evidence_kit import EvidenceKit, condition

from harness.gates.model import Outcome, Status


def _append(kit: EvidenceKit, name: str, text: str) -> None:
    with open(kit.path(name), "a") as fh:
        fh.write(text)


@pytest.mark.parametrize("log", ["session.jsonl", "backtest.jsonl"])
def test_one_changed_byte_in_an_event_log_fails_gate_1_and_blocks_approval(kit: EvidenceKit, log):
    kit.sign_all()
    data = bytearray(kit.path(log).read_bytes())
    data[200] = ord("X") if data[200] != ord("X") else ord("Y")
    kit.path(log).write_bytes(bytes(data))
    v = kit.verify()
    integrity = condition(v, 1, "evidence_integrity")
    assert integrity.status is Status.FAIL
    assert log in integrity.note and "does not match" in integrity.note
    assert v.gates[0].status is Status.FAIL
    assert v.decision.outcome is Outcome.REJECTED
    # the signatures covered the log too, so they no longer count
    assert all(log in s.changed_files for s in v.signatures)


def test_coverage_is_not_where_an_integrity_failure_shows(kit: EvidenceKit):
    _append(kit, "session.jsonl", '{"seq": 9999}\n')
    v = kit.verify()
    assert condition(v, 1, "artifact_coverage_pct").status is Status.PASS
    assert condition(v, 1, "evidence_integrity").status is Status.FAIL


def test_an_event_log_named_but_absent_is_an_integrity_failure(kit: EvidenceKit):
    kit.remove("session.jsonl")
    v = kit.verify()
    assert condition(v, 1, "evidence_integrity").status is Status.FAIL
    assert "session.jsonl" in condition(v, 1, "evidence_integrity").note and "not found" in \
        condition(v, 1, "evidence_integrity").note


def test_a_metrics_csv_from_another_run_is_an_integrity_failure(kit: EvidenceKit):
    import hashlib

    kit.edit_json("PAPER_TRADING_LOG.json",
                  metrics_csv_sha256=hashlib.sha256(kit.path("PAPER_TRADING_METRICS.csv").read_bytes()).hexdigest())
    assert condition(kit.verify(), 1, "evidence_integrity").status is Status.PASS
    kit.set_metric("fill_rate_pct", 99.3)
    v = kit.verify()
    assert condition(v, 1, "evidence_integrity").status is Status.FAIL
    assert "metrics_csv_sha256" in condition(v, 1, "evidence_integrity").note


def test_the_event_logs_are_part_of_the_evidence_set_signatures_cover(kit: EvidenceKit):
    v = kit.verify()
    assert {"session.jsonl", "backtest.jsonl", "allowed_signers"} <= set(v.evidence.file_hashes)
