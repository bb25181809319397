"""One lifecycle loop for every backend: the handler events are written once, with the real stop result."""
from __future__ import annotations

from pathlib import Path

import pytest

from harness import metrics as M
from harness.runner import run_session
from harness.scenario import load_scenario

pytestmark = [pytest.mark.timeout(90)]

HANDLERS = Path(__file__).resolve().parent / "handlers"


def _scenario(tmp_path: Path, grace_s: float = 1.0):
    path = tmp_path / "s.yaml"
    path.write_text(f"name: s\ndescription: lifecycle\nspeed: 30\nduration_s: 60\nhandler:\n  grace_period_s: {grace_s}\n")
    return load_scenario(path)


def _lifecycle(event_log: Path) -> list[tuple[str, dict]]:
    df = M.load_frame(event_log)
    rows = df[(df["dir"] == "sys") & df["msg"].isin(["handler_start", "handler_stop", "handler_exit"])]
    return list(zip(rows["msg"], rows["attrs"]))


def test_a_handler_that_ignores_sigterm_is_killed_after_the_grace_period_and_the_log_says_so(tmp_path):
    record = run_session(_scenario(tmp_path), tmp_path / "run", ["python", str(HANDLERS / "stubborn.py")])
    events = _lifecycle(record.event_log)
    assert [m for m, _ in events] == ["handler_start", "handler_stop", "handler_exit"]
    assert events[2][1]["how"] == "killed" and events[2][1]["stop_s"] >= 1.0
    assert record.stop.how == "killed" and record.stop.exit_code == -9 and not record.exited_early


def test_a_handler_that_exits_on_its_own_is_recorded_as_exited_early_with_its_exit_code(tmp_path):
    record = run_session(_scenario(tmp_path), tmp_path / "run", ["python", "-c", "import sys; sys.exit(7)"])
    events = _lifecycle(record.event_log)
    assert [m for m, _ in events] == ["handler_start", "handler_stop", "handler_exit"]
    assert events[1][1] == {"exited_early": True}
    assert events[2][1]["exit_code"] == 7 and events[2][1]["how"] == "exited"
    assert record.exited_early and record.exited_at_sim_s is not None and record.exited_at_sim_s < 60


def test_the_handler_start_event_says_which_clock_and_port_the_handler_got(tmp_path):
    record = run_session(_scenario(tmp_path), tmp_path / "run", ["python", "-c", "import time; time.sleep(600)"])
    start = _lifecycle(record.event_log)[0][1]
    assert start["port"] == record.handler_port and start["pid"] > 0
    assert start["clock"]["faketime"].startswith("@") and "x30" in start["clock"]["faketime"]
    assert record.stop.how == "terminated"
