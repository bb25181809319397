"""Old event-log copies (``event-logs/<kind>-<sha>.jsonl``) are pruned by a bounded policy, and a copy a
current artifact names is never removed: each run keeps the artifact directory bounded without ever
breaking a complete artifact set, whatever moment the pruner is killed at."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.artifacts import (SET_JOURNAL, EventLogRetention, artifact_json_bytes, preserve_event_log,
                               prune_event_logs, sha256_file, write_artifact_set)

HOUR = 3600.0


def run_once(out: Path, tmp: Path, n: int, *, age_s: float = 0.0, size: int = 100) -> str:
    """One paper run: its session log preserved, then PAPER_TRADING_LOG.json naming it switched in as a set."""
    log = tmp / f"src-{n}.jsonl"
    log.write_bytes(json.dumps({"run": n}).encode() + b"\n" + b"x" * size)
    relative, sha = preserve_event_log(log, out, "session")
    doc = {"schema": "prelive/paper-trading-log/v1", "event_log": relative, "event_log_sha256": sha}
    write_artifact_set(out, {"PAPER_TRADING_LOG.json": artifact_json_bytes(doc)})
    if age_s:
        then = time.time() - age_s
        os.utime(out / relative, (then, then))
    return relative


def copies(out: Path) -> set[str]:
    return {p.name for p in (out / "event-logs").iterdir() if p.suffix == ".jsonl"}


def current_log(out: Path) -> str:
    return json.loads((out / "PAPER_TRADING_LOG.json").read_text())["event_log"]


def assert_set_complete(out: Path) -> None:
    doc = json.loads((out / "PAPER_TRADING_LOG.json").read_text())
    assert sha256_file(out / doc["event_log"]) == doc["event_log_sha256"]


def test_unnamed_copies_beyond_the_count_are_pruned_and_the_named_one_stays(tmp_path):
    out = tmp_path / "out"
    logs = [run_once(out, tmp_path, n, age_s=(20 - n) * HOUR) for n in range(12)]
    result = prune_event_logs(out, EventLogRetention(keep_unnamed=3))
    named = Path(logs[-1]).name
    assert result.named == (named,)
    assert copies(out) == {named, *(Path(x).name for x in logs[-4:-1])}   # the named one + the 3 newest others
    assert result.removed and result.freed_bytes > 0   # (each set switch before pruned by the default policy)
    assert_set_complete(out)


def test_an_old_named_copy_is_kept_whatever_its_age_or_size(tmp_path):
    out = tmp_path / "out"
    run_once(out, tmp_path, 0, size=10_000)
    os.utime(out / current_log(out), (0, 0))    # 1970: far past any age limit
    result = prune_event_logs(out, EventLogRetention(keep_unnamed=0, max_age_s=1, max_total_bytes=1))
    assert result.removed == () and copies(out) == {Path(current_log(out)).name}
    assert result.total_bytes > 1      # over budget, and said so, but a complete set is never broken


def test_unnamed_copies_older_than_the_age_limit_go_even_under_the_count(tmp_path):
    out = tmp_path / "out"
    old = run_once(out, tmp_path, 0, age_s=40 * 24 * HOUR)
    recent = run_once(out, tmp_path, 1, age_s=2 * HOUR)
    run_once(out, tmp_path, 2)
    prune_event_logs(out, EventLogRetention(keep_unnamed=10, max_age_s=30 * 24 * HOUR))
    assert Path(old).name not in copies(out) and Path(recent).name in copies(out)


def test_the_size_budget_removes_the_oldest_unnamed_copies_first(tmp_path):
    out = tmp_path / "out"
    logs = [run_once(out, tmp_path, n, age_s=(10 - n) * HOUR, size=1000) for n in range(5)]
    result = prune_event_logs(out, EventLogRetention(keep_unnamed=10, max_total_bytes=3 * 1100))
    assert copies(out) == {Path(x).name for x in logs[2:]} and result.total_bytes <= 3 * 1100


def test_a_copy_younger_than_the_grace_period_is_kept_for_the_run_about_to_name_it(tmp_path):
    """A run preserves its log before switching in the set naming it: a pruner in between must not take it."""
    out = tmp_path / "out"
    run_once(out, tmp_path, 0)
    (tmp_path / "next.jsonl").write_text("{}\n")
    in_flight, _ = preserve_event_log(tmp_path / "next.jsonl", out, "session")   # its set is not written yet
    prune_event_logs(out, EventLogRetention(keep_unnamed=0, max_age_s=0, max_total_bytes=0, grace_s=HOUR))
    assert Path(in_flight).name in copies(out)


def test_each_set_switch_prunes_by_the_default_policy(tmp_path):
    out = tmp_path / "out"
    logs = [run_once(out, tmp_path, n) for n in range(3)]
    for rel in logs:                                  # all of them long past the grace period
        os.utime(out / rel, (time.time() - 2 * HOUR,) * 2)
    for n in range(3, 10):
        run_once(out, tmp_path, n)
        os.utime(out / current_log(out), (time.time() - 2 * HOUR,) * 2)
    # default policy: the named copy + the 5 newest unnamed, whatever number of runs wrote here
    assert len(copies(out)) == 1 + EventLogRetention().keep_unnamed
    assert_set_complete(out)


def test_files_in_event_logs_that_prelive_did_not_name_are_left_alone(tmp_path):
    out = tmp_path / "out"
    run_once(out, tmp_path, 0)
    keep = out / "event-logs" / "my-notes.jsonl"
    keep.write_text("mine\n")
    os.utime(keep, (0, 0))
    prune_event_logs(out, EventLogRetention(keep_unnamed=0, max_age_s=0, grace_s=0))
    assert keep.exists()


def test_a_set_switch_interrupted_after_its_commit_point_is_finished_before_pruning(tmp_path):
    """The journal says the new set is complete: the pruner finishes it, so the log it names is named."""
    out = tmp_path / "out"
    run_once(out, tmp_path, 0, age_s=5 * HOUR)
    (tmp_path / "new.jsonl").write_text('{"new": 1}\n')
    new_rel, new_sha = preserve_event_log(tmp_path / "new.jsonl", out, "session")
    os.utime(out / new_rel, (time.time() - 5 * HOUR,) * 2)
    staged = out / ".PAPER_TRADING_LOG.json.x.tmp"
    staged.write_bytes(artifact_json_bytes({"schema": "prelive/paper-trading-log/v1", "event_log": new_rel,
                                            "event_log_sha256": new_sha}))
    (out / SET_JOURNAL).write_text(json.dumps({"schema": "prelive/artifact-set-journal/v1",
                                               "renames": [[staged.name, "PAPER_TRADING_LOG.json"]]}))
    prune_event_logs(out, EventLogRetention(keep_unnamed=0, max_age_s=0, grace_s=0))
    assert current_log(out) == new_rel and copies(out) == {Path(new_rel).name}
    assert_set_complete(out)


def test_a_stray_half_copy_of_a_killed_run_is_removed_after_the_grace_period(tmp_path):
    out = tmp_path / "out"
    run_once(out, tmp_path, 0)
    stray = out / "event-logs" / ".session.abc123.tmp"
    stray.write_text("half")
    prune_event_logs(out)
    assert stray.exists()
    os.utime(stray, (time.time() - 2 * HOUR,) * 2)
    prune_event_logs(out)
    assert not stray.exists()


KILLER = """
import os, sys
from pathlib import Path
from harness import artifacts
limit = int(sys.argv[2])
real_unlink = Path.unlink
count = [0]
def unlink(self, *a, **k):
    if count[0] == limit:
        os._exit(9)                      # the process dies right before this unlink
    count[0] += 1
    return real_unlink(self, *a, **k)
Path.unlink = unlink
artifacts.prune_event_logs(sys.argv[1], artifacts.EventLogRetention(keep_unnamed=0, max_age_s=0, grace_s=0))
"""


@pytest.mark.parametrize("kill_at", range(6))
def test_a_pruner_killed_at_any_removal_leaves_the_set_complete(tmp_path, kill_at):
    out = tmp_path / "out"
    for n in range(6):
        run_once(out, tmp_path, n, age_s=(10 - n) * HOUR)
    named = Path(current_log(out)).name
    proc = subprocess.run([sys.executable, "-c", KILLER, str(out), str(kill_at)], capture_output=True,
                          cwd=Path(__file__).resolve().parents[2])
    assert proc.returncode in (0, 9), proc.stderr.decode()
    assert named in copies(out)
    assert_set_complete(out)
    prune_event_logs(out, EventLogRetention(keep_unnamed=0, max_age_s=0, grace_s=0))   # the next run finishes it
    assert copies(out) == {named}
