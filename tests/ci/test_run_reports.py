"""``prelive run`` in a CI log: plain progress lines, JUnit XML and summary.json across scenarios."""
from __future__ import annotations

import io
import json
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from harness.ci_output import PlainProgress, junit_xml, summary_document

REPO = Path(__file__).resolve().parents[2]
NAIVE = REPO / "tests" / "handlers" / "naive.py"


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
    run_dir: Path = Path("runs/x")
    metrics: dict[str, Any] = field(default_factory=dict)
    expectations: list[Exp] = field(default_factory=list)
    error: str | None = None
    wall_s: float = 1.5
    verdict: str | None = None
    cause: str | None = None
    not_exercised: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[Exp]:
        return [e for e in self.expectations if not e.passed]


@pytest.fixture(scope="module")
def two_scenario_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess, Path]:
    out = tmp_path_factory.mktemp("runs")
    done = subprocess.run([sys.executable, "-m", "harness.cli", "run", "pacing_storm", "market_data_lines",
                           "--duration", "150", "--handler", f"python {NAIVE}", "--no-baseline", "--out", str(out),
                           "--junit-xml", str(out / "junit" / "prelive.xml")],
                          cwd=REPO, capture_output=True, text=True, timeout=240)
    return done, out


@pytest.mark.slow
def test_a_run_in_a_log_prints_started_each_fault_and_the_verdict(two_scenario_run) -> None:
    done, _ = two_scenario_run
    lines = done.stdout.splitlines()
    assert any(l.endswith("pacing_storm: started") for l in lines), done.stdout
    assert any("pacing_storm: fault" in l and "acted" in l for l in lines), done.stdout
    finished = [l for l in lines if "pacing_storm: finished FAIL" in l]
    assert finished and ("survive" in finished[0] or "pacing" in finished[0]), done.stdout   # its first cause
    assert any("market_data_lines: finished" in l for l in lines), done.stdout


@pytest.mark.slow
def test_junit_xml_has_one_testcase_per_scenario_with_the_first_cause(two_scenario_run) -> None:
    done, out = two_scenario_run
    root = ET.parse(out / "junit" / "prelive.xml").getroot()
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert set(cases) == {"pacing_storm", "market_data_lines"}, done.stdout
    failure = cases["pacing_storm"].find("failure")
    summary = json.loads((out / "summary.json").read_text())
    cause = next(r["first_cause"] for r in summary["scenarios"] if r["scenario"] == "pacing_storm")
    assert failure is not None and failure.get("message") == f"FAIL: {cause}"
    assert "pacing_violations_100" in failure.text   # every failed expectation in the body
    assert float(cases["pacing_storm"].get("time")) > 0


@pytest.mark.slow
def test_summary_json_names_every_scenarios_verdict_cause_metrics_and_wall_time(two_scenario_run) -> None:
    done, out = two_scenario_run
    summary = json.loads((out / "summary.json").read_text())
    rows = {r["scenario"]: r for r in summary["scenarios"]}
    assert set(rows) == {"pacing_storm", "market_data_lines"}
    storm = rows["pacing_storm"]
    assert storm["verdict"] == "FAIL" and storm["first_cause"]
    assert storm["metrics"]["pacing_violations_100"] >= 1 and storm["wall_s"] > 0
    assert summary["verdict"] != "PASS" and summary["exit_code"] == done.returncode != 0


def test_a_junit_message_with_control_characters_is_still_valid_xml() -> None:
    o = Outcome("evil<&>", False, expectations=[Exp("metric", "x", "bad \x00\x1b[31m </failure> ]]>")])
    root = ET.fromstring(junit_xml([o]).encode())
    [case] = root.iter("testcase")
    assert case.get("name") == "evil<&>" and "</failure>" in case.find("failure").get("message")


def test_not_exercised_is_a_failure_in_junit_not_a_pass() -> None:
    o = Outcome("flap", False, verdict="NOT EXERCISED", not_exercised=["disconnect never acted"])
    root = ET.fromstring(junit_xml([o]).encode())
    failure = next(root.iter("failure"))
    assert failure.get("type") == "NOT EXERCISED" and "never acted" in failure.get("message")


def test_the_summarys_overall_verdict_is_the_worst() -> None:
    doc = summary_document([Outcome("a", True), Outcome("b", False, error="handler not found")])
    assert doc["verdict"] == "ERROR" and doc["counts"]["PASS"] == 1
    assert doc["scenarios"][1]["first_cause"] == "setup error: handler not found"


def test_plain_progress_is_never_quiet_longer_than_its_limit(tmp_path: Path) -> None:
    stream = io.StringIO()
    with PlainProgress(tmp_path, ["slow"], stream=stream, quiet_s=0.3, poll_s=0.05) as progress:
        progress("slow", 0.25, "run")
        time.sleep(1.0)
    status = [l for l in stream.getvalue().splitlines() if "slow: running, 25 %" in l]
    assert len(status) >= 2, stream.getvalue()


def test_plain_progress_prints_a_fault_as_it_appears_in_the_event_log(tmp_path: Path) -> None:
    stream = io.StringIO()
    log = tmp_path / "flap" / "events.jsonl"
    log.parent.mkdir()
    log.write_text("")
    with PlainProgress(tmp_path, ["flap"], stream=stream, quiet_s=60, poll_s=0.05) as progress:
        progress("flap", 0.1, "run")
        with log.open("a") as fh:
            fh.write(json.dumps({"dir": "sys", "msg": "fault", "sim": 60.0, "fault": "disconnect",
                                 "attrs": {"dropped": 1}}, separators=(",", ":")) + "\n")
        time.sleep(0.5)
    assert "flap: fault disconnect acted at sim 60 s (dropped=1)" in stream.getvalue()
