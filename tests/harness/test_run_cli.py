"""``prelive run`` as a user runs it: a real subprocess, real exit codes, artifacts on disk."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.artifacts import load_artifact, read_metrics_csv
from mock_gateway.eventlog import read_events

pytestmark = [pytest.mark.timeout(120), pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
NAIVE = REPO / "tests" / "handlers" / "naive.py"


def prelive(*args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "harness.cli", *args], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, **kwargs)


def test_a_naive_handler_fails_the_pacing_scenario_and_the_failing_metric_is_named(tmp_path):
    proc = prelive("run", "pacing_storm", "--duration", "150", "--handler", f"python {NAIVE}", "--out", str(tmp_path))
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 1, output
    assert "pacing_violations_100" in output and "FAIL" in output
    result = load_artifact(tmp_path / "pacing_storm" / "RESULT.json")
    failed = {e["name"] for e in result["expectations"] if not e["passed"]}
    assert "pacing_violations_100" in failed and result["metrics"]["pacing_violations_100"] >= 1


def test_an_invalid_scenario_is_refused_before_anything_starts(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\ndescription: x\nduration_s: -5\n")
    proc = prelive("run", str(bad), "--out", str(tmp_path / "out"))
    output, _ = proc.communicate(timeout=30)
    assert proc.returncode == 2 and "duration_s" in output
    assert not (tmp_path / "out").exists()


def test_a_bad_shard_is_a_clear_error(tmp_path):
    proc = prelive("run", "baseline", "--shard", "3/2", "--out", str(tmp_path))
    output, _ = proc.communicate(timeout=30)
    assert proc.returncode == 2 and "--shard" in output


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead for our purposes
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_killing_the_harness_mid_run_leaves_every_artifact_complete_or_absent(tmp_path):
    out = tmp_path / "out"
    proc = prelive("run", "baseline", "disconnect_flap", "--speed", "60", "--duration", "240", "--out", str(out))
    second_log = out / "disconnect_flap" / "events.jsonl"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # kill while the second scenario is running
        if (out / "baseline" / "RESULT.json").exists() and second_log.exists() and \
                second_log.stat().st_size > 20_000:
            break
        time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail(f"the run never reached its second scenario: {proc.communicate()[0]}")
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=10)

    # every JSON and CSV artifact is complete and valid, or absent; no temp file posing as one
    for path in out.rglob("*.json"):
        load_artifact(path)
    for path in out.rglob("*.csv"):
        assert read_metrics_csv(path)
    assert (out / "baseline" / "RESULT.json").exists() and (out / "baseline" / "METRICS.csv").exists()
    assert not (out / "disconnect_flap" / "RESULT.json").exists()
    assert not (out / "disconnect_flap" / "METRICS.csv").exists()
    # the append-only event log holds whole lines up to the kill (at most the last one cut)
    raw = second_log.read_bytes().split(b"\n")
    events = read_events(second_log)
    assert len(events) >= len(raw) - 2 and all(isinstance(json.loads(line), dict) for line in raw[:-2])
    # and the killed harness's handler did not trade on
    handler_pid = next(e["attrs"]["pid"] for e in events if e["msg"] == "handler_start")
    deadline = time.monotonic() + 5
    while _pid_alive(handler_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _pid_alive(handler_pid)
