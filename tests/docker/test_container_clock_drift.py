"""Container mode samples the handler's clock drift as process mode does.

The handler in its container gets its clock from the gateway's run_start wall time; a witness in the
same container (``python -m harness.faketime witness``, started over ``docker exec``) reads that
clock about once a second, and the harness logs ``clock_drift`` events against the scenario's clock.
"""
from __future__ import annotations

import pytest

from mock_gateway.eventlog import read_events
from harness.docker.stack import run_session_in_containers
from harness.scenario import load_scenario

pytestmark = [pytest.mark.timeout(600)]

HANDLER = "import time\nwhile True:\n    time.sleep(5)\n"


def test_the_handlers_clock_in_its_container_is_sampled_and_its_drift_logged(docker_client, prelive_image, tmp_path):
    path = tmp_path / "drift.yaml"
    path.write_text("name: container_drift\ndescription: drift of the handler's clock in its container\n"
                    "speed: 20\nduration_s: 160\nstart: 2026-11-24T14:30:00Z\nhandler:\n  grace_period_s: 2\n")
    record = run_session_in_containers(load_scenario(path), tmp_path / "out", image=prelive_image, build=False,
                                       handler_command=["python", "-c", HANDLER], real_clock=False)
    drift = [e["attrs"] for e in read_events(record.event_log) if e["msg"] == "clock_drift"]
    assert len(drift) >= 3, (record.clock.note if record.clock else None)
    assert all(d["witness"] == "container" for d in drift)
    # both clocks count from the gateway's run_start at speed 20: 50 ms of real time is 1 simulated second
    assert max(abs(d["drift_s"]) for d in drift) < 1.0, drift
    assert max(abs(d["wall_drift_s"]) for d in drift) < 1.0, drift
    clock = record.clock.to_json()
    assert clock["drift_samples"] == len(drift) and clock["drift_max_abs_s"] < 1.0
    assert "drift sampled by a witness" in clock["note"]


def test_on_the_real_clock_no_witness_runs_in_the_container(docker_client, prelive_image, tmp_path):
    path = tmp_path / "real.yaml"
    path.write_text("name: container_real\ndescription: the handler on the real clock\n"
                    "speed: 20\nduration_s: 60\nhandler:\n  grace_period_s: 2\n")
    record = run_session_in_containers(load_scenario(path), tmp_path / "out", image=prelive_image, build=False,
                                       handler_command=["python", "-c", HANDLER], real_clock=True)
    assert not [e for e in read_events(record.event_log) if e["msg"] == "clock_drift"]
    assert record.clock.mode == "real"
