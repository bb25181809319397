"""Atomic artifact writes: complete or absent, never half-written."""
from __future__ import annotations

import json
import os

import pytest

from harness.artifacts import (ArtifactError, atomic_write_bytes, atomic_write_json, atomic_write_metrics_csv,
                               load_artifact, read_metrics_csv, validate_artifact)


def test_atomic_write_replaces_the_file_and_leaves_no_temp_files(tmp_path):
    target = tmp_path / "A.json"
    atomic_write_json(target, {"schema": "x", "n": 1})
    atomic_write_json(target, {"schema": "x", "n": 2})
    assert json.loads(target.read_text())["n"] == 2
    assert os.listdir(tmp_path) == ["A.json"]


def test_a_failed_write_keeps_the_previous_artifact_intact(tmp_path):
    target = tmp_path / "A.json"
    atomic_write_json(target, {"n": 1})

    class Boom:
        def __str__(self):
            raise RuntimeError("serialisation failed half way")

    with pytest.raises(RuntimeError):
        atomic_write_json(target, {"n": Boom()})
    assert json.loads(target.read_text()) == {"n": 1}
    assert os.listdir(tmp_path) == ["A.json"]


def test_an_interrupted_write_never_exposes_a_partial_file(tmp_path, monkeypatch):
    target = tmp_path / "B.bin"

    def crash(*_):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_bytes(target, b"x" * 100_000)
    assert not target.exists() and os.listdir(tmp_path) == []


def test_json_artifacts_write_unknown_numbers_as_null(tmp_path):
    atomic_write_json(tmp_path / "m.json", {"p95": float("nan"), "inf": float("inf")})
    assert json.loads((tmp_path / "m.json").read_text()) == {"p95": None, "inf": None}


def test_metrics_csv_has_the_contract_header_and_true_false_empty_pass(tmp_path):
    path = atomic_write_metrics_csv(tmp_path / "M.csv", [("a", 1.5, "ms", "< 2", True), ("b", None, "s", "", None),
                                                        ("c", 3.0, "count", "== 0", False)])
    rows = read_metrics_csv(path)
    assert [(r["name"], r["value"], r["pass"]) for r in rows] == [("a", "1.5", "true"), ("b", "", ""),
                                                                 ("c", "3", "false")]


def test_load_artifact_rejects_a_document_missing_required_keys(tmp_path):
    (tmp_path / "K.json").write_text(json.dumps({"schema": "prelive/kill-switch/v1", "at": "now"}))
    with pytest.raises(ArtifactError, match="missing keys verified"):
        load_artifact(tmp_path / "K.json")


def _paper_log(**extra):
    return {"schema": "prelive/paper-trading-log/v1", "scenario": "s", "seed": 1, "speed": 1.0,
            "latency_clock": "sim", "started_at": "a", "ended_at": "b", "event_log": "e.jsonl",
            "event_log_sha256": "0" * 64, "trades": [], "errors": [], "disconnects": [], "metrics": {}, **extra}


@pytest.mark.parametrize("extra", [
    {}, {"backtest_event_log": None, "backtest_event_log_sha256": None},
    {"backtest_event_log": "baseline/events.jsonl", "backtest_event_log_sha256": "ab" * 32},
])
def test_a_paper_log_may_name_its_backtest_event_log(extra):
    validate_artifact(_paper_log(**extra))


@pytest.mark.parametrize(("extra", "message"), [
    ({"backtest_event_log": "baseline/events.jsonl"}, "needs backtest_event_log_sha256"),
    ({"backtest_event_log": "b.jsonl", "backtest_event_log_sha256": "not-a-digest"}, "64 hex digits"),
    ({"backtest_event_log": 5, "backtest_event_log_sha256": "ab" * 32}, "must be a path"),
])
def test_a_backtest_event_log_without_its_sha256_is_refused(extra, message):
    with pytest.raises(ArtifactError, match=message):
        validate_artifact(_paper_log(**extra))


# ---------------------------------------------------------------- artifact sets under kill -9
import random  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from harness.artifacts import SET_JOURNAL, complete_interrupted_set, sha256_file, write_artifact_set  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_LOG = REPO / "examples" / "evidence" / "session.jsonl"
#: A writer that runs `prelive paper`'s artifact step again and again, each run's event log written to the
#: same path first (as the runner does), until it is killed.
_PAPER_LOOP = r"""
import sys
from pathlib import Path
from harness import metrics as M
from harness.paper import write_paper_artifacts

out, source = Path(sys.argv[1]), Path(sys.argv[2]).read_text()
log = out.parent / "runs" / "events.jsonl"
log.parent.mkdir(parents=True, exist_ok=True)
generation = 0
while True:
    generation += 1
    log.unlink(missing_ok=True)
    log.write_text(source + '{"seq": 99999, "wall": 1.0, "sim": 1.0, "source": "tap", "conn": null, '
                   '"client_id": null, "dir": "sys", "msg": "generation", "msg_id": null, "fields": [], '
                   f'"attrs": {{"n": {generation}}}, "fault": null}}\n')
    write_paper_artifacts(M.load_frame(log), log, out, scenario=f"generation-{generation}", seed=generation,
                          speed=1.0, started_at="2025-12-31T10:00:00Z", ended_at="2025-12-31T11:00:00Z")
    print(generation, flush=True)
"""


def _assert_complete_set(out: Path) -> int:
    """The directory holds one complete, self-consistent stage-7 set; returns its generation."""
    complete_interrupted_set(out)
    assert not (out / SET_JOURNAL).exists()
    doc = load_artifact(out / "PAPER_TRADING_LOG.json")
    assert doc["metrics_csv_sha256"] == sha256_file(out / "PAPER_TRADING_METRICS.csv")
    assert doc["event_log_sha256"] == sha256_file(out / doc["event_log"])
    return int(doc["scenario"].split("-")[1])


def test_kill_9_at_random_moments_leaves_the_previous_or_the_new_complete_set(tmp_path):
    """12 kills at random moments of a writer switching stage-7 sets; every survivor is one whole set."""
    rng = random.Random(12)
    out = tmp_path / "evidence"
    seen_generations = []
    for trial in range(12):
        proc = subprocess.Popen([sys.executable, "-c", _PAPER_LOOP, str(out), str(EXAMPLE_LOG)], cwd=REPO,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            first = proc.stdout.readline()   # one set complete in this trial: a kill now hits a later one
            assert first.strip() == "1", proc.stderr.read()
            import time
            time.sleep(rng.uniform(0.0, 0.4))
        finally:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
        seen_generations.append(_assert_complete_set(out))
        from harness.gates.config import build_config
        from harness.gates.evidence import load_evidence
        assert load_evidence(out, build_config()).integrity_problems == ()
    assert min(seen_generations) >= 1


def test_a_later_run_never_replaces_the_event_log_an_earlier_set_names(tmp_path):
    out = tmp_path / "evidence"
    first = {"PAPER_TRADING_LOG.json": b"{}"}
    write_artifact_set(out, first)
    from harness import metrics as M
    from harness.paper import write_paper_artifacts

    log = tmp_path / "events.jsonl"
    log.write_text(EXAMPLE_LOG.read_text())
    a = write_paper_artifacts(M.load_frame(log), log, out, scenario="a", seed=1, speed=1.0, started_at="x",
                              ended_at="y")
    kept = load_artifact(a.log_path)
    log.write_text(EXAMPLE_LOG.read_text().replace('"source":"tap"', '"source":"mock"'))   # the next run, same path
    write_paper_artifacts(M.load_frame(log), log, out, scenario="b", seed=1, speed=1.0, started_at="x", ended_at="y")
    assert sha256_file(out / kept["event_log"]) == kept["event_log_sha256"]
    assert load_artifact(a.log_path)["event_log"] != kept["event_log"]


def test_a_committed_but_unfinished_switch_is_rolled_forward(tmp_path):
    write_artifact_set(tmp_path, {"A": b"old a", "B": b"old b"})
    (tmp_path / ".A.x.tmp").write_bytes(b"new a")
    (tmp_path / ".B.y.tmp").write_bytes(b"new b")
    os.replace(tmp_path / ".A.x.tmp", tmp_path / "A")   # killed after the first rename
    (tmp_path / SET_JOURNAL).write_text(json.dumps({"schema": "prelive/artifact-set-journal/v1",
                                                    "renames": [[".A.x.tmp", "A"], [".B.y.tmp", "B"]]}))
    assert complete_interrupted_set(tmp_path)
    assert ((tmp_path / "A").read_bytes(), (tmp_path / "B").read_bytes()) == (b"new a", b"new b")


def test_a_journal_cannot_rename_files_outside_its_directory(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("keep")
    inner = tmp_path / "evidence"
    inner.mkdir()
    (inner / SET_JOURNAL).write_text(json.dumps({"schema": "prelive/artifact-set-journal/v1",
                                                 "renames": [["../victim", "X"], [".a.tmp", "../victim"]]}))
    complete_interrupted_set(inner)
    assert victim.read_text() == "keep" and not (inner / "X").exists()


_PAPER_KILLED_AT_STEP = r"""
import os, signal, sys
from pathlib import Path
from harness import metrics as M
from harness.paper import write_paper_artifacts

out, log, step = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
df = M.load_frame(log)
write_paper_artifacts(df, log, out, scenario="generation-1", seed=1, speed=1.0, started_at="a", ended_at="b")
log.write_text(log.read_text() + "\n")          # the next run's log, same path
calls = 0
def killing(real):
    def call(*args, **kwargs):
        global calls
        calls += 1
        if calls == step:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*args, **kwargs)
    return call
os.replace, os.fsync = killing(os.replace), killing(os.fsync)
write_paper_artifacts(df, log, out, scenario="generation-2", seed=1, speed=1.0, started_at="a", ended_at="b")
print("finished", calls, flush=True)
"""


def test_kill_9_at_every_rename_and_fsync_of_a_switch_leaves_one_whole_set(tmp_path):
    """Systematic: the writer kills itself at its k-th os.replace/os.fsync, for every k until it finishes."""
    outcomes = []
    for step in range(1, 40):
        out, log = tmp_path / f"k{step}" / "evidence", tmp_path / f"k{step}" / "events.jsonl"
        log.parent.mkdir()
        log.write_text(EXAMPLE_LOG.read_text())
        proc = subprocess.run([sys.executable, "-c", _PAPER_KILLED_AT_STEP, str(out), str(log), str(step)], cwd=REPO,
                              capture_output=True, text=True, timeout=60)
        generation = _assert_complete_set(out)
        outcomes.append(generation)
        if proc.returncode == 0:
            assert "finished" in proc.stdout and generation == 2
            break
        assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert outcomes[-1] == 2 and 1 in outcomes and len(outcomes) > 5   # killed at several steps before finishing
