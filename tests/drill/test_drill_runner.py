"""The runner layer on a trivial playbook: real ansible-playbook through ansible-runner."""
from pathlib import Path

import pytest

from harness.drill.events import StepSpec, step_timings
from harness.drill.runner import PlaybookError, run_playbook

pytestmark = pytest.mark.ansible
FIXTURE = Path(__file__).parent / "fixtures" / "trivial"
STEPS = [StepSpec("First", "first"), StepSpec("Second", "second")]


def run(tmp_path, keep_artifacts=5, **extravars):
    return run_playbook("steps.yml", FIXTURE / "hosts.yml", tmp_path / "pdd", extravars=extravars,
                        project_dir=FIXTURE, keep_artifacts=keep_artifacts)


def test_a_successful_run_reports_every_task_with_its_timing_and_the_returned_data(tmp_path):
    result = run(tmp_path)
    assert result.ok
    first, second = step_timings(result.tasks, STEPS)
    assert first.result == "ok" and first.duration_s >= 0.3       # the step sleeps 0.3 s
    assert second.result == "ok" and second.start >= first.end
    assert result.returned == {"trivial": {"failed_step": None}}
    assert result.wall_s >= first.duration_s + second.duration_s


def test_a_failed_step_is_found_in_the_events_and_in_what_the_playbook_returned(tmp_path):
    result = run(tmp_path, fail_in_second=True)
    assert not result.ok and result.status == "failed"
    first, second = step_timings(result.tasks, STEPS)
    assert (first.result, second.result) == ("ok", "failed")
    assert second.failed_task == "second | succeed or fail on request"
    assert result.returned["trivial"]["failed_step"] == "second"


def test_artifacts_are_rotated_in_the_private_data_dir(tmp_path):
    for _ in range(3):
        run(tmp_path, keep_artifacts=2)
    assert len(list((tmp_path / "pdd" / "artifacts").iterdir())) == 2


def test_a_missing_inventory_is_an_error_before_anything_runs(tmp_path):
    with pytest.raises(PlaybookError, match="inventory"):
        run_playbook("steps.yml", tmp_path / "nope", tmp_path / "pdd", project_dir=FIXTURE)


def test_no_environment_secret_survives_in_the_artifacts(tmp_path, monkeypatch):
    monkeypatch.setenv("TWS_PASSWORD", "hunter2-from-the-shell")
    result = run(tmp_path)
    assert result.ok
    for path in (tmp_path / "pdd").rglob("*"):
        if path.is_file():
            assert "hunter2-from-the-shell" not in path.read_text(errors="replace"), path
