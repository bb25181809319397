"""Stage 7 from a mock scenario: a paper run plus its baseline run -> both artifacts, readable by the gates."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harness.artifacts import load_artifact, read_metrics_csv, sha256_file
from harness.metrics.report import METRIC_UNITS
from harness.runner import RunError, parse_shard, select_shard

pytestmark = [pytest.mark.timeout(120), pytest.mark.slow]
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def stage7(tmp_path_factory):
    out = tmp_path_factory.mktemp("stage7")
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "paper", "--scenario", "baseline", "--speed", "40",
                           "--duration", "600", "--out", str(out)], cwd=REPO, capture_output=True, text=True,
                          timeout=100)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


def test_paper_metrics_csv_lists_every_contract_metric_in_order(stage7):
    rows = read_metrics_csv(stage7 / "PAPER_TRADING_METRICS.csv")
    assert [r["name"] for r in rows] == list(METRIC_UNITS)
    by_name = {r["name"]: r for r in rows}
    assert by_name["sharpe_backtest"]["value"] != "" and by_name["latency_delta_pct"]["value"] != ""
    assert by_name["pacing_violations"]["pass"] == "true" and by_name["order_ack_latency_p95_ms"]["target"] == "< 200"


def test_paper_log_points_at_the_event_log_it_was_measured_from(stage7):
    doc = load_artifact(stage7 / "PAPER_TRADING_LOG.json")
    assert doc["scenario"] == "baseline" and doc["latency_clock"] == "sim" and doc["speed"] == 40
    assert doc["event_log_sha256"] == sha256_file(stage7 / doc["event_log"])   # relative to the artifact
    assert len(doc["trades"]) >= doc["metrics"]["trade_count"]  # one entry per execution
    assert doc["backtest_event_log_sha256"] == sha256_file(stage7 / doc["backtest_event_log"])
    result = load_artifact(stage7 / "runs" / "baseline" / "RESULT.json")   # the runner's record of both runs
    assert result["baseline"]["event_log_sha256"] == doc["backtest_event_log_sha256"]


def test_each_runs_event_logs_are_kept_under_names_of_their_own(stage7):
    doc = load_artifact(stage7 / "PAPER_TRADING_LOG.json")
    assert doc["event_log"] == f"event-logs/session-{doc['event_log_sha256'][:24]}.jsonl"
    assert doc["backtest_event_log"] == f"event-logs/backtest-{doc['backtest_event_log_sha256'][:24]}.jsonl"
    assert doc["metrics_csv_sha256"] == sha256_file(stage7 / "PAPER_TRADING_METRICS.csv")


def test_a_mock_paper_session_says_it_is_simulated(stage7):
    doc = load_artifact(stage7 / "PAPER_TRADING_LOG.json")
    assert doc["gateway"]["kind"] == "mock"
    assert "2199" in doc["gateway"]["detected_by"]


def test_the_gate_engine_plots_the_backtest_run_the_paper_log_names(stage7):
    from harness.gates.config import build_config
    from harness.gates.evidence import load_evidence

    evidence = load_evidence(stage7, build_config())
    assert len(evidence.backtest_equity) >= 2 and evidence.session is not None
    assert not [n for n in evidence.notes if "backtest" in n]


def test_the_gate_engine_reads_the_paper_metrics(stage7):
    from harness.gates.parsers import metrics_csv

    path = stage7 / "PAPER_TRADING_METRICS.csv"
    parsed = metrics_csv(path, path.read_bytes())
    assert parsed["trade_count"].value is not None and parsed["pacing_violations"].passed is True


@pytest.mark.timeout(90)
def test_kill_9_of_prelive_paper_leaves_the_earlier_complete_set_usable(stage7, tmp_path):
    """Issue 12: a killed `prelive paper` left a complete but stale log whose event log it had replaced."""
    import os
    import random
    import shutil
    import signal
    import time

    from harness.artifacts import complete_interrupted_set
    from harness.gates.config import build_config
    from harness.gates.evidence import load_evidence

    out = tmp_path / "evidence"
    shutil.copytree(stage7, out)
    before = load_artifact(out / "PAPER_TRADING_LOG.json")
    proc = subprocess.Popen([sys.executable, "-m", "harness.cli", "paper", "--scenario", "baseline", "--speed", "120",
                             "--duration", "2400", "--out", str(out)], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(random.Random().uniform(1.0, 9.0))   # somewhere in the run (20 s at least), its baseline or writes
    assert proc.poll() is None, "prelive paper ended before the kill"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    complete_interrupted_set(out)
    after = load_artifact(out / "PAPER_TRADING_LOG.json")
    assert after["event_log_sha256"] == sha256_file(out / after["event_log"])
    assert after["metrics_csv_sha256"] == sha256_file(out / "PAPER_TRADING_METRICS.csv")
    assert sha256_file(out / before["event_log"]) == before["event_log_sha256"]   # never replaced
    assert load_evidence(out, build_config()).integrity_problems == ()


def test_shards_are_disjoint_and_cover_the_list():
    items = list(range(10))
    shards = [select_shard(items, (i, 3)) for i in (1, 2, 3)]
    assert sorted(x for s in shards for x in s) == items and shards[0] == [0, 3, 6, 9]


@pytest.mark.parametrize("text", ["0/2", "3/2", "a/b", "2"])
def test_a_malformed_shard_is_refused(text):
    with pytest.raises(RunError, match="--shard"):
        parse_shard(text)
