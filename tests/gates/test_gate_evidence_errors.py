"""A malformed evidence file stops the run with a message naming the file and the fault; nothing is written."""
from __future__ import annotations

import pytest
from evidence_kit import NOW, EvidenceKit

from harness.gates.config import build_config
from harness.gates.errors import EvidenceError
from harness.gates.run import DECISION_HTML, DECISION_MD, VERIFICATION_LOG, run_gates

OUTPUTS = (VERIFICATION_LOG, DECISION_MD, DECISION_HTML)

MALFORMED = [
    ("ACCOUNT_CONFIG.json", "{\"schema\": ", "not valid JSON"),
    ("ACCOUNT_CONFIG.json", '{"schema": "prelive/account-config/v2", "connected": true, "account_id": "DU1", '
                            '"account_type": "paper", "permission_mismatch": false}', "schema: expected"),
    ("ACCOUNT_CONFIG.json", '{"schema": "prelive/account-config/v1", "connected": "yes", "account_id": "DU1", '
                            '"account_type": "paper", "permission_mismatch": false}', "connected"),
    ("ACCOUNT_CONFIG.json", "[1, 2]", "expected a mapping"),
    ("KILL_SWITCH.json", '{"schema": "prelive/kill-switch/v1"}', "verified: Field required"),
    ("ROLLBACK_DRILL.json", '{"schema": "prelive/rollback-drill/v1", "passed": true, "total_recovery_s": "fast"}',
     "total_recovery_s"),
    ("PAPER_TRADING_LOG.json", '{"schema": "prelive/paper-trading-log/v1", "started_at": "yesterday"}',
     "started_at"),
    ("PAPER_TRADING_METRICS.csv", "metric,value\nfill_rate_pct,99\n", "header must be name,value,unit,target,pass"),
    ("PAPER_TRADING_METRICS.csv", "name,value,unit,target,pass\nfill_rate_pct,high,%,,\n",
     "line 2: value 'high' of fill_rate_pct is not a number"),
    ("PAPER_TRADING_METRICS.csv", "name,value,unit,target,pass\nfill_rate_pct,99,%,,\nfill_rate_pct,98,%,,\n",
     "line 3: metric 'fill_rate_pct' appears twice"),
    ("PAPER_TRADING_METRICS.csv", "name,value,unit,target,pass\nfill_rate_pct,99,%,,maybe\n", "pass must be"),
    ("coverage.xml", "<coverage>", "not valid XML"),
    ("coverage.xml", '<report line-rate="0.9"/>', "not a Cobertura report"),
    ("coverage.xml", '<coverage line-rate="90"/>', "outside 0..1"),
    ("junit-unit.xml", "<results/>", "not a JUnit report"),
    ("junit-stages.xml", "<testsuite><testcase classname='x'/></testsuite>", "no name attribute"),
    ("INTERFACE_MAP.yaml", "schema: prelive/interface-map/v1\nstages: [{id: a}, {id: a}]\n", "duplicate stage id: a"),
    ("INTERFACE_MAP.yaml", "schema: prelive/interface-map/v1\noperations: [{name: placeOrder, sla: 200}]\n",
     "operations.0.sla: unknown key"),
    ("INTERFACE_MAP.yaml", "schema: prelive/interface-map/v1\noperations: [{name: placeOrder, sla_ms: -1}]\n",
     "sla_ms"),
    ("INTERFACE_MAP.yaml", "stages: [\n", "not valid YAML"),
    ("SIGNATURES.json", '{"schema": "prelive/signatures/v1", "signatures": [{"role": "CTO"}]}', "signatures.0.name"),
    ("GOVERNANCE.md", b"\xff\xfe\x00bad".decode("latin-1"), "not UTF-8"),
]


@pytest.mark.parametrize(("name", "content", "message"), MALFORMED,
                         ids=[f"{name}: {message}" for name, _, message in MALFORMED])
def test_a_malformed_file_is_named_with_what_is_wrong_and_nothing_is_written(kit: EvidenceKit, tmp_path,
                                                                            name, content, message):
    kit.path(name).write_bytes(content.encode("latin-1") if name == "GOVERNANCE.md" else content.encode())
    out = tmp_path / "out"
    with pytest.raises(EvidenceError) as raised:
        run_gates(kit.root, build_config(), out, now=NOW)
    assert raised.value.path.name == name
    assert name in str(raised.value) and message in str(raised.value)
    assert not out.exists() or not any(out.iterdir())


def test_earlier_outputs_stay_untouched_when_the_evidence_turns_malformed(kit: EvidenceKit, tmp_path):
    out = tmp_path / "out"
    run_gates(kit.root, build_config(), out, now=NOW)
    before = {n: (out / n).read_bytes() for n in OUTPUTS}
    kit.write("KILL_SWITCH.json", "{")
    with pytest.raises(EvidenceError):
        run_gates(kit.root, build_config(), out, now=NOW)
    assert {n: (out / n).read_bytes() for n in OUTPUTS} == before
    assert sorted(p.name for p in out.iterdir()) == sorted(OUTPUTS)  # no temp files left behind


def test_a_missing_evidence_directory_is_an_error(tmp_path):
    with pytest.raises(EvidenceError, match="does not exist"):
        run_gates(tmp_path / "nope", build_config(), tmp_path / "out", now=NOW)


def test_a_failed_write_leaves_no_output_and_no_temp_file(kit: EvidenceKit, tmp_path, monkeypatch):
    import harness.gates.atomic as atomic

    out = tmp_path / "out"
    calls = []

    def flaky_fsync(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 2:  # the second of three staged files
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", flaky_fsync)
    with pytest.raises(OSError, match="No space"):
        run_gates(kit.root, build_config(), out, now=NOW)
    assert list(out.iterdir()) == []
