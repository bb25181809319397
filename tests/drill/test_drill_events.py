"""Step timings from ansible-runner job events (hand-made events, the shape awx_display writes)."""
from datetime import datetime, timedelta, timezone

from harness.drill.events import StepSpec, span_s, step_of, step_timings, task_timings

T0 = datetime(2026, 11, 24, 12, 0, 0, tzinfo=timezone.utc)
STEPS = [StepSpec("Kill switch", "kill_switch"), StepSpec("Stop", "stop_current"), StepSpec("Start", "start_previous")]


def event(counter, outcome, task, start_s, end_s, **extra):
    start, end = T0 + timedelta(seconds=start_s), T0 + timedelta(seconds=end_s)
    return {"counter": counter, "event": f"runner_on_{outcome}",
            "event_data": {"task": task, "task_action": "command", "host": "localhost",
                           "start": start.isoformat(), "end": end.isoformat(),
                           "duration": (end - start).total_seconds(), **extra}}


def test_task_name_prefix_names_the_step():
    assert step_of("kill_switch | cancel every open order") == "kill_switch"
    assert step_of("a task without a step") is None


def test_events_other_than_task_results_are_ignored():
    events = [{"counter": 1, "event": "playbook_on_task_start", "event_data": {"task": "x | y"}},
              event(2, "ok", "kill_switch | halt", 0.0, 0.4)]
    assert [t.name for t in task_timings(events)] == ["kill_switch | halt"]


def test_step_runs_from_first_task_start_to_last_task_end():
    tasks = task_timings([event(1, "ok", "kill_switch | halt", 0.0, 0.4),
                          event(2, "ok", "kill_switch | cancel", 0.5, 1.5),
                          event(3, "ok", "stop_current | stop", 1.6, 2.0)])
    kill, stop, start = step_timings(tasks, STEPS)
    assert (kill.result, kill.duration_s, kill.tasks) == ("ok", 1.5, 2)
    assert (stop.result, stop.duration_s) == ("ok", 0.4)
    assert (start.result, start.duration_s, start.start) == ("skipped", 0.0, None)


def test_a_failed_task_fails_its_step_unless_ignored():
    tasks = task_timings([event(1, "failed", "kill_switch | halt", 0.0, 0.4, ignore_errors=True),
                          event(2, "ok", "kill_switch | cancel", 0.5, 1.0),
                          event(3, "failed", "stop_current | stop", 1.1, 1.3)])
    kill, stop, _ = step_timings(tasks, STEPS)
    assert kill.result == "ok"
    assert (stop.result, stop.failed_task) == ("failed", "stop_current | stop")


def test_a_step_whose_tasks_were_all_skipped_is_skipped():
    tasks = task_timings([event(1, "skipped", "start_previous | pull", 0.0, 0.01)])
    assert step_timings(tasks, STEPS)[2].result == "skipped"


def test_span_covers_the_window_and_stops_at_the_last_step_that_ran():
    tasks = task_timings([event(1, "ok", "kill_switch | halt", 1.0, 2.0),
                          event(2, "failed", "stop_current | stop", 2.5, 3.25)])
    steps = step_timings(tasks, STEPS)
    assert span_s(steps, "kill_switch", "start_previous") == 2.25
    assert span_s(steps, "start_previous", "start_previous") is None
