"""ROLLBACK_DRILL.json from a run's task timings and what the playbook returned (hand-made runs)."""
from datetime import datetime, timedelta, timezone
from pathlib import Path

from harness.drill.events import TaskTiming
from harness.drill.record import ROLLBACK_STEPS, rollback_record
from harness.drill.runner import PlaybookRun
from harness.gates.artifacts import RollbackDrill

T0 = datetime(2026, 11, 24, 12, 0, 0, tzinfo=timezone.utc)
VERIFIED = {"verified": True, "open_orders_before": 3, "open_orders_after": 0}


def task(step, start_s, end_s, result="ok"):
    return TaskTiming(f"{step} | work", step, "command", "localhost", result,
                      T0 + timedelta(seconds=start_s), T0 + timedelta(seconds=end_s), end_s - start_s)


def run(tasks, ok=True, **returned):
    rollback = {"kill_switch_engaged": True, "kill_switch": VERIFIED, **returned}
    return PlaybookRun("rollback.yml", "successful" if ok else "failed", 0 if ok else 2, 12.0, tasks, {},
                       {"rollback": rollback}, Path("/nonexistent"))


def full_run(step_s=1.0):
    return [task(spec.tag, i * step_s, (i + 1) * step_s) for i, spec in enumerate(ROLLBACK_STEPS)]


def test_a_clean_run_under_the_threshold_passes_and_times_recovery_from_the_kill_switch():
    record = rollback_record(run(full_run()), "mock", 30.0)
    assert record["passed"] and record["failed_step"] is None
    assert record["total_recovery_s"] == 5.0          # kill_switch .. verify_state: five 1 s steps
    assert record["kill_switch"] == {"engaged": True, "verified": True, "open_orders_after": 0}
    assert RollbackDrill.model_validate(record).passed


def test_a_recovery_over_the_threshold_does_not_pass():
    record = rollback_record(run(full_run(step_s=7.0)), "mock", 30.0)
    assert record["total_recovery_s"] == 35.0 and not record["passed"]


def test_an_unverified_kill_switch_does_not_pass():
    record = rollback_record(run(full_run(), kill_switch={**VERIFIED, "verified": False, "open_orders_after": 1}),
                             "mock", 30.0)
    assert not record["passed"] and record["kill_switch"]["open_orders_after"] == 1


def test_the_first_failed_step_is_named_and_later_steps_are_skipped():
    tasks = [task("preflight", 0, 0.1), task("kill_switch", 0.1, 2), task("stop_current", 2, 3),
             task("start_previous", 3, 3.5, result="failed"), task("record", 3.6, 3.7)]
    record = rollback_record(run(tasks, ok=False, failed_step="start_previous", failure="image missing"), "mock", 30.0)
    assert record["failed_step"] == "start_previous" and record["failure"] == "image missing"
    results = {s["tag"]: s["result"] for s in record["steps"]}
    assert results == {"preflight": "ok", "kill_switch": "ok", "stop_current": "ok", "start_previous": "failed",
                       "wait_gateway": "skipped", "verify_state": "skipped", "record": "ok"}
    assert record["total_recovery_s"] == 3.4 and not record["passed"]


def test_the_kill_switch_file_fills_in_when_the_playbook_returned_none():
    record = rollback_record(run(full_run(), kill_switch=None), "mock", 30.0, kill_switch_file=VERIFIED)
    assert record["kill_switch"]["verified"] and record["passed"]
