"""``prelive evidence merge``: the gates job merges the shards' JUnit files and summaries.

The shard files here are written by the same functions ``prelive run --junit-xml`` uses
(harness.ci_output), so the merge is tested on what shards really leave behind.
"""
from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from harness.ci_output import write_junit, write_summary
from harness.evidence_merge import EvidenceMergeError, merge_evidence, merge_junit, merge_summaries
from harness.gates.parsers import junit_xml as gates_junit_parser

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Exp:
    kind: str
    name: str
    detail: str
    passed: bool = False


@dataclass
class Outcome:
    scenario: str
    passed: bool
    run_dir: Path
    verdict: str | None = None
    expectations: list[Exp] = field(default_factory=list)
    error: str | None = None
    wall_s: float = 2.0
    metrics: dict[str, Any] = field(default_factory=dict)
    cause: str | None = None
    not_exercised: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[Exp]:
        return [e for e in self.expectations if not e.passed]


def _shard(root: Path, index: int, total: int, outcomes: list[tuple[str, str]]) -> tuple[Path, Path]:
    """A shard's junit/prelive-I.xml and runs/shard-I/ as the generated workflow leaves them."""
    runs = root / "runs" / f"shard-{index}"
    made = []
    for name, verdict in outcomes:
        (runs / name).mkdir(parents=True)
        made.append(Outcome(name, verdict == "PASS", Path("runs") / f"shard-{index}" / name, verdict=verdict,
                            expectations=[] if verdict == "PASS" else [Exp("metric", "pacing_violations", "3 > 0")],
                            error="handler exited 1" if verdict == "ERROR" else None))
    junit = write_junit(root / "junit" / f"prelive-{index}.xml", made)
    write_summary(runs / "summary.json", made, shard=f"{index}/{total}", started_at=1_700_000_000.0 + index)
    return junit, runs


@pytest.fixture
def two_shards(tmp_path: Path) -> tuple[list[Path], list[Path]]:
    j1, r1 = _shard(tmp_path, 1, 2, [("baseline", "PASS"), ("pacing_storm", "FAIL")])
    j2, r2 = _shard(tmp_path, 2, 2, [("disconnect_flap", "PASS"), ("handshake_stall", "ERROR"),
                                     ("late_replies", "NOT EXERCISED")])
    return [j1, j2], [r1, r2]


def test_merged_junit_counts_every_shards_tests_and_keeps_failures_and_errors(two_shards) -> None:
    text, counts = merge_junit(two_shards[0])
    assert (counts.tests, counts.failures, counts.errors, counts.passed) == (5, 2, 1, 2)
    root = ET.fromstring(text)
    assert root.get("tests") == "5" and root.get("failures") == "2" and root.get("errors") == "1"
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert cases["pacing_storm"].find("failure").get("message").startswith("FAIL: metric pacing_violations")
    assert cases["late_replies"].find("failure").get("type") == "NOT EXERCISED"
    assert cases["handshake_stall"].find("error") is not None
    assert cases["baseline"].find("failure") is None


def test_the_gate_engine_reads_the_merged_junit_as_the_shards_wrote_it(two_shards, tmp_path: Path) -> None:
    out = tmp_path / "junit-stages.xml"
    merge_evidence(two_shards[0], [], junit_out=out, summary_out=None)
    report = gates_junit_parser(out, out.read_bytes())
    assert report.total == 5 and report.count("failed") == 2 and report.count("error") == 1


def test_the_merged_summary_has_every_scenario_the_worst_verdict_and_run_dirs_where_they_are(two_shards) -> None:
    doc = merge_summaries(two_shards[1], expect_shards=2)
    rows = {r["scenario"]: r for r in doc["scenarios"]}
    assert set(rows) == {"baseline", "pacing_storm", "disconnect_flap", "handshake_stall", "late_replies"}
    assert doc["verdict"] == "ERROR" and doc["exit_code"] == 4
    assert doc["counts"] == {"PASS": 2, "FAIL": 1, "NOT EXERCISED": 1, "ERROR": 1}
    assert rows["pacing_storm"]["first_cause"] and rows["pacing_storm"]["shard"] == "1/2"
    assert Path(rows["disconnect_flap"]["run_dir"]) == two_shards[1][1] / "disconnect_flap"
    assert [s["shard"] for s in doc["merged_from"]] == ["1/2", "2/2"]


def test_a_missing_shard_is_an_error_not_a_smaller_pass(tmp_path: Path) -> None:
    _, r1 = _shard(tmp_path, 1, 3, [("baseline", "PASS")])
    _, r3 = _shard(tmp_path, 3, 3, [("pacing_storm", "PASS")])
    with pytest.raises(EvidenceMergeError, match="shard 2/3 is missing"):
        merge_summaries([r1, r3])


def test_the_expected_matrix_size_catches_a_shard_whose_labels_all_agree(tmp_path: Path) -> None:
    _, r1 = _shard(tmp_path, 1, 1, [("baseline", "PASS")])
    with pytest.raises(EvidenceMergeError, match="different sizes"):
        merge_summaries([r1], expect_shards=4)


def test_a_scenario_in_two_shards_is_refused(tmp_path: Path) -> None:
    j1, r1 = _shard(tmp_path / "a", 1, 2, [("baseline", "PASS")])
    j2, r2 = _shard(tmp_path / "b", 2, 2, [("baseline", "FAIL")])
    with pytest.raises(EvidenceMergeError, match="baseline is also in"):
        merge_summaries([r1, r2])
    with pytest.raises(EvidenceMergeError, match="also in"):
        merge_junit([j1, j2])


@pytest.mark.parametrize("content, message", [
    (b"<testsuites><testsuite name='x'><testcase name='a'>", "not valid XML"),
    (b"<coverage line-rate='1'/>", "not a JUnit report"),
    (b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'aaaa'>]><testsuites/>", "DOCTYPE"),
    (b"<testsuites><testsuite><testcase classname='c'/></testsuite></testsuites>", "no name"),
])
def test_malformed_junit_is_a_clear_error_and_nothing_is_written(two_shards, tmp_path: Path, content: bytes,
                                                                  message: str) -> None:
    bad = tmp_path / "junit" / "prelive-9.xml"
    bad.write_bytes(content)
    out, summary_out = tmp_path / "junit-stages.xml", tmp_path / "summary.json"
    with pytest.raises(EvidenceMergeError, match=message) as info:
        merge_evidence([*two_shards[0], bad], two_shards[1], junit_out=out, summary_out=summary_out)
    assert "prelive-9.xml" in str(info.value)
    assert not out.exists() and not summary_out.exists()


@pytest.mark.parametrize("content, message", [
    ("{not json", "not valid JSON"),
    ('{"schema": "something/else"}', "not a prelive run summary"),
    ('{"schema": "prelive.run-summary/1", "scenarios": [{"scenario": "x", "verdict": "GREAT"}]}', "verdict 'GREAT'"),
    ('{"schema": "prelive.run-summary/1", "shard": "5/4", "scenarios": []}', "not of the form i/n"),
])
def test_a_malformed_summary_is_a_clear_error_naming_the_file(tmp_path: Path, content: str, message: str) -> None:
    bad = tmp_path / "runs" / "shard-1" / "summary.json"
    bad.parent.mkdir(parents=True)
    bad.write_text(content)
    with pytest.raises(EvidenceMergeError, match=message) as info:
        merge_summaries([bad.parent])
    assert str(bad) in str(info.value)


def test_junit_and_summaries_of_different_shards_do_not_merge(two_shards, tmp_path: Path) -> None:
    out = tmp_path / "junit-stages.xml"
    with pytest.raises(EvidenceMergeError, match="2 test.*5 scenario"):
        merge_evidence(two_shards[0][:1], two_shards[1], junit_out=out, summary_out=tmp_path / "s.json")
    assert not out.exists()


def test_an_empty_shard_merges_as_a_shard_with_no_scenarios(tmp_path: Path) -> None:
    _, r1 = _shard(tmp_path, 1, 2, [("baseline", "PASS")])
    _, r2 = _shard(tmp_path, 2, 2, [])
    doc = merge_summaries([r1, r2], expect_shards=2)
    assert doc["verdict"] == "PASS" and len(doc["scenarios"]) == 1


def test_an_oversized_input_is_refused_before_it_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import harness.evidence_merge as em
    monkeypatch.setattr(em, "MAX_INPUT_BYTES", 1000)
    big = tmp_path / "prelive-1.xml"
    big.write_bytes(b"<testsuites>" + b" " * 2000 + b"</testsuites>")
    with pytest.raises(EvidenceMergeError, match="larger than"):
        merge_junit([big])


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness.cli", "evidence", "merge", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=60, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})


def test_the_command_merges_the_shards_as_the_gates_job_calls_it(two_shards, tmp_path: Path) -> None:
    done = _cli("junit/prelive-1.xml", "junit/prelive-2.xml", "runs/shard-1", "runs/shard-2", "--shards", "2",
                "--junit-xml", "junit-stages.xml", "--summary", "summary.json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "5 test(s) from 2 file(s): 2 passed, 2 failed, 1 errors" in done.stdout
    assert json.loads((tmp_path / "summary.json").read_text())["verdict"] == "ERROR"


def test_the_command_exits_2_and_writes_nothing_on_a_missing_shard(two_shards, tmp_path: Path) -> None:
    done = _cli("junit/prelive-1.xml", "runs/shard-1", "--shards", "2", "--junit-xml", "junit-stages.xml",
                "--summary", "summary.json", cwd=tmp_path)
    assert done.returncode == 2 and "shard 2/2 is missing" in done.stderr and "Nothing was written" in done.stderr
    assert not (tmp_path / "junit-stages.xml").exists() and not (tmp_path / "summary.json").exists()
