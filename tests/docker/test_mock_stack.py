"""Container mode end to end: a scenario in the mock stack with container faults, and the clean-up.

One run carries every container fault (kept short: about a minute in all). The reference handler
runs in its own container against the mock gateway container; the assertions read the stitched
event log the metrics read, the handler's container log, and the engine's state afterwards.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from harness.docker.cleanup import leftovers
from harness.docker.stack import RunInterrupted, StackError, run_scenario_in_containers
from harness.metrics.connectivity import disconnect_events, sessions
from harness.metrics.frame import events_frame
from mock_gateway.eventlog import read_events

SCENARIO = """\
name: container_faults
description: Every container fault once, against the reference handler
seed: 11
speed: 1
duration_s: {duration}
market:
  symbols: [AAPL]
handler:
  client_id: 7
  grace_period_s: 3
container_faults:
{faults}
"""
ALL_FAULTS = """\
  - {action: kill_gateway, at_s: 6, duration_s: 3}        # SIGKILL, started again 3 s later
  - {action: pause_gateway, at_s: 18, duration_s: 3}      # frozen: TCP up, nothing answers
  - {action: disconnect_gateway, at_s: 25, duration_s: 3} # partition from the stack network
  - {action: restart_handler, at_s: 32}
"""


def write_scenario(folder: Path, duration: float, faults: str = ALL_FAULTS) -> Path:
    path = folder / "container_faults.yaml"
    path.write_text(SCENARIO.format(duration=duration, faults=faults))
    return path


@pytest.fixture(scope="module")
def run(docker_client, prelive_image, tmp_path_factory, session_tag):
    folder = tmp_path_factory.mktemp("container-run")
    scenario = write_scenario(folder, duration=40)
    started = time.monotonic()
    result = run_scenario_in_containers(scenario, folder / "out", image=prelive_image, build=False,
                                        run_id=f"{session_tag}-e2e")
    print(f"\n[docker] container run in {time.monotonic() - started:.1f} s: {result.timings_s}")
    return result


def wire(events, direction=None, conn=None):
    return [e for e in events if e["dir"] != "sys" and (direction is None or e["dir"] == direction)
            and (conn is None or e["conn"] == conn)]


def fault_event(events, action):
    (event,) = [e for e in events if e["msg"] == "container_fault" and e["fault"] == action]
    return event


def test_the_run_completes_with_every_fault_executed_and_nothing_left_behind(run, docker_client):
    assert run.error is None, run.error
    assert [f["action"] for f in run.faults_executed] == [
        "kill_gateway", "start_gateway", "pause_gateway", "unpause_gateway", "disconnect_gateway",
        "reconnect_gateway", "restart_handler"]
    assert not run.faults_failed and not run.faults_skipped
    assert run.leftovers == [] and leftovers(docker_client, run.run_id).total == 0
    assert (run.out_dir / "container_run.json").is_file() and (run.logs_dir / "handler.log").is_file()


def test_every_container_fault_is_in_the_event_log_with_its_time(run):
    events = read_events(run.event_log)
    faults = [e for e in events if e["msg"] == "container_fault"]
    assert all(e["source"] == "docker" and e["dir"] == "sys" and e["attrs"]["ok"] for e in faults)
    start = next(e["wall"] for e in events if e["msg"] == "run_start")
    kill = fault_event(events, "kill_gateway")
    assert 5.5 <= kill["wall"] - start <= 7.5 and 5.5 <= kill["sim"] <= 7.5


def test_the_kill_shows_as_a_disconnect_in_the_metrics_and_the_handler_reconnects(run):
    events = read_events(run.event_log)
    df = events_frame(events)
    drops = disconnect_events(df)
    kill = fault_event(events, "kill_gateway")
    killed = drops[drops["reason"] == "gateway container killed"]
    assert len(killed) == 1 and int(killed["client_id"].iloc[0]) == 7
    assert killed["reconnect_s"].iloc[0] == pytest.approx(killed["reconnect_s"].iloc[0])  # not NaN: recovered
    assert 3.0 <= killed["reconnect_s"].iloc[0] <= 20.0
    assert run.gateway_lifetimes == 2 and run.synthetic_disconnects == 1
    handler_log = (run.logs_dir / "handler.log").read_text()
    assert "disconnected from the gateway" in handler_log
    ready = sessions(df).dropna(subset=["t_ready"])
    assert (ready["t_ready"] > kill["sim"]).any()


def test_the_frozen_gateway_answers_nothing_until_unpaused(run):
    events = read_events(run.event_log)
    pause, unpause = fault_event(events, "pause_gateway"), fault_event(events, "unpause_gateway")
    during = [e for e in wire(events, "out") if pause["wall"] + 0.2 < e["wall"] < unpause["wall"]]
    after = [e for e in wire(events, "out") if e["wall"] > unpause["wall"]]
    assert during == [] and after


def test_the_partitioned_gateway_hears_nothing_from_the_handler_until_reconnected(run):
    events = read_events(run.event_log)
    cut, heal = fault_event(events, "disconnect_gateway"), fault_event(events, "reconnect_gateway")
    during = [e for e in wire(events, "in") if cut["wall"] + 0.2 < e["wall"] < heal["wall"]]
    after = [e for e in wire(events, "in") if e["wall"] > heal["wall"]]
    assert during == [] and after


def test_the_restarted_handler_comes_back_with_a_new_session(run):
    events = read_events(run.event_log)
    restart = fault_event(events, "restart_handler")
    closed = [e for e in events if e["msg"] == "disconnect" and e["wall"] >= restart["wall"] - 0.5
              and e["client_id"] == 7]
    assert closed, "the handler's session did not end when its container restarted"
    ready_after = [e for e in events if e["msg"] == "nextValidId" and e["wall"] > restart["wall"]]
    assert ready_after and ready_after[0]["client_id"] == 7


def test_a_failed_run_leaves_no_container_network_or_volume(docker_client, prelive_image, tmp_path, session_tag):
    scenario = write_scenario(tmp_path, duration=30, faults="  []\n")
    run_id = f"{session_tag}-failed"
    with pytest.raises(StackError, match="up"):
        # The health check needs more than a second: `up --wait` times out with the stack half up.
        run_scenario_in_containers(scenario, tmp_path / "out", image=prelive_image, build=False, run_id=run_id,
                                   up_timeout_s=1)
    assert leftovers(docker_client, run_id).total == 0
    assert not docker_client.containers.list(all=True, filters={"label": f"com.docker.compose.project=prelive-{run_id}"})


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_an_interrupted_run_brings_the_stack_down(docker_client, prelive_image, tmp_path, sig, session_tag):
    scenario = write_scenario(tmp_path, duration=120, faults="  []\n")
    run_id = f"{session_tag}-sig{int(sig)}"
    code = textwrap.dedent(f"""
        from harness.docker.stack import run_scenario_in_containers
        run_scenario_in_containers({str(scenario)!r}, {str(tmp_path / 'out')!r}, image={prelive_image!r},
                                   build=False, run_id={run_id!r})
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not docker_client.containers.list(filters={"label": [f"prelive.run={run_id}",
                                                                   "com.docker.compose.service=handler"]}):
            assert proc.poll() is None and time.monotonic() < deadline, proc.stdout.read().decode()[-3000:]
            time.sleep(0.2)
        os.kill(proc.pid, sig)
        output, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode != 0
    assert RunInterrupted.__name__ in output.decode()
    assert leftovers(docker_client, run_id).total == 0
