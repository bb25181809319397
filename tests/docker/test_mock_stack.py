"""Container mode end to end: scenarios in the mock stack with container faults, and the clean-up.

Two short runs (about a minute in all): the reference handler while the gateway container is killed,
started again and restarted; and a heartbeat handler (tests/docker/heartbeat_handler.py) that reports
what it sees while the gateway is frozen, partitioned, and while its own container restarts. The
assertions read the stitched event log the metrics read, the handler's container log, and the
engine's state afterwards.
"""
from __future__ import annotations

import json
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
from harness.metrics.connectivity import disconnect_events
from harness.metrics.frame import events_frame
from mock_gateway.eventlog import read_events

SCENARIO = """\
name: container_faults
description: Container faults against a handler in the mock stack
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
KILL_AND_RESTART = """\
  - {action: kill_gateway, at_s: 6, duration_s: 3}        # SIGKILL, started again 3 s later
  - {action: restart_gateway, at_s: 16}                   # SIGTERM and start
"""
OBSERVED = """\
  - {action: pause_gateway, at_s: 5, duration_s: 3}       # frozen: TCP up, nothing answers
  - {action: disconnect_gateway, at_s: 12, duration_s: 3} # partition from the stack network
  - {action: restart_handler, at_s: 18}              # a restart on a loaded machine takes seconds
"""
HEARTBEAT = (Path(__file__).parent / "heartbeat_handler.py").read_text()


def write_scenario(folder: Path, duration: float, faults: str) -> Path:
    path = folder / "container_faults.yaml"
    path.write_text(SCENARIO.format(duration=duration, faults=faults))
    return path


def timed_run(folder: Path, scenario: Path, image: str, run_id: str, **kwargs):
    started = time.monotonic()
    result = run_scenario_in_containers(scenario, folder / "out", image=image, build=False, run_id=run_id, **kwargs)
    print(f"\n[docker] container run {run_id} in {time.monotonic() - started:.1f} s: {result.timings_s}")
    return result


@pytest.fixture(scope="module")
def kill_run(docker_client, prelive_image, tmp_path_factory, session_tag):
    """The reference handler; the gateway container is killed (and started again), then restarted."""
    folder = tmp_path_factory.mktemp("kill-run")
    return timed_run(folder, write_scenario(folder, 26, KILL_AND_RESTART), prelive_image, f"{session_tag}-kill")


@pytest.fixture(scope="module")
def observed_run(docker_client, prelive_image, tmp_path_factory, session_tag):
    """A heartbeat handler that reports every reply, timeout, drop and restart it sees."""
    folder = tmp_path_factory.mktemp("observed-run")
    return timed_run(folder, write_scenario(folder, 30, OBSERVED), prelive_image, f"{session_tag}-observed",
                     handler_command=["python", "-c", HEARTBEAT])


def handler_observations(result) -> list[dict]:
    """The heartbeat handler's JSON lines from its container log (every lifetime of the container)."""
    out = []
    for line in (result.logs_dir / "handler.log").read_text().splitlines():
        _stamp, _, text = line.partition(" ")
        if text.startswith("{"):
            out.append(json.loads(text))
    return out


def fault_event(events, action):
    (event,) = [e for e in events if e["msg"] == "container_fault" and e["fault"] == action]
    return event


def handler_conns(events, client_id=7) -> set[int]:
    return {e["conn"] for e in events if e["client_id"] == client_id and e["conn"] is not None}


def seen(observations, event, after, before=None):
    return [o for o in observations if o["event"] == event and o["t"] > after and (before is None or o["t"] < before)]


# ------------------------------------------------------------------ the gateway killed and restarted
def test_the_run_executes_every_fault_and_leaves_nothing_behind(kill_run, observed_run, docker_client):
    for run, actions in ((kill_run, ["kill_gateway", "start_gateway", "restart_gateway"]),
                         (observed_run, ["pause_gateway", "unpause_gateway", "disconnect_gateway",
                                         "reconnect_gateway", "restart_handler"])):
        assert run.error is None, run.error
        assert [f["action"] for f in run.faults_executed] == actions
        assert not run.faults_failed and not run.faults_skipped
        assert run.leftovers == [] and leftovers(docker_client, run.run_id).total == 0
        assert (run.out_dir / "container_run.json").is_file() and (run.logs_dir / "handler.log").is_file()


def test_every_container_fault_is_in_the_event_log_with_its_time(kill_run):
    events = read_events(kill_run.event_log)
    faults = [e for e in events if e["msg"] == "container_fault"]
    assert [e["fault"] for e in faults] == ["kill_gateway", "start_gateway", "restart_gateway"]
    assert all(e["source"] == "docker" and e["dir"] == "sys" and e["attrs"]["ok"] for e in faults)
    start = next(e["wall"] for e in events if e["msg"] == "run_start")
    kill = fault_event(events, "kill_gateway")
    assert 5.9 <= kill["wall"] - start <= 7.0 and 5.9 <= kill["sim"] <= 7.0     # at_s 6, from run_start


def test_the_kill_shows_as_a_disconnect_in_the_metrics_and_the_handler_reconnects(kill_run):
    events = read_events(kill_run.event_log)
    drops = disconnect_events(events_frame(events))
    killed = drops[drops["reason"] == "gateway container killed"]
    assert len(killed) == 1 and int(killed["client_id"].iloc[0]) == 7
    assert 3.0 <= killed["reconnect_s"].iloc[0] <= 20.0            # recovered (NaN would fail)
    assert kill_run.synthetic_disconnects == 1
    assert "disconnected from the gateway" in (kill_run.logs_dir / "handler.log").read_text()


def test_the_restarted_gateway_ends_sessions_and_the_handler_reconnects(kill_run):
    events = read_events(kill_run.event_log)
    drops = disconnect_events(events_frame(events))
    restart = fault_event(events, "restart_gateway")
    later = drops[drops["t"] >= restart["sim"] - 0.5]
    assert len(later) == 1 and later["reconnect_s"].notna().all()
    assert kill_run.gateway_lifetimes == 3
    assert [e["msg"] for e in events if e["msg"] in ("run_start", "gateway_up", "run_end")] == [
        "run_start", "gateway_up", "gateway_up", "run_end"]


# ------------------------------------------------------------------ what a handler observes
def test_the_frozen_gateway_answers_nothing_until_unpaused(observed_run):
    events, seen_by = read_events(observed_run.event_log), handler_observations(observed_run)
    pause, unpause = fault_event(events, "pause_gateway"), fault_event(events, "unpause_gateway")
    assert seen(seen_by, "timeout", pause["wall"], unpause["wall"] + 1.0)          # the handler waited in vain
    assert not seen(seen_by, "reply", pause["wall"] + 0.1, unpause["wall"])
    assert seen(seen_by, "reply", unpause["wall"])
    conns = handler_conns(events)
    out = [e for e in events if e["dir"] == "out" and e["conn"] in conns]
    assert not [e for e in out if pause["wall"] + 0.2 < e["wall"] < unpause["wall"]]
    assert [e for e in out if e["wall"] > unpause["wall"]]


def test_the_partitioned_gateway_hears_nothing_from_the_handler_until_reconnected(observed_run):
    events, seen_by = read_events(observed_run.event_log), handler_observations(observed_run)
    cut, heal = fault_event(events, "disconnect_gateway"), fault_event(events, "reconnect_gateway")
    assert seen(seen_by, "timeout", cut["wall"], heal["wall"] + 1.0)
    assert seen(seen_by, "reply", heal["wall"])
    conns = handler_conns(events)
    inbound = [e for e in events if e["dir"] == "in" and e["conn"] in conns]
    assert not [e for e in inbound if cut["wall"] + 0.3 < e["wall"] < heal["wall"]]
    assert [e for e in inbound if e["wall"] > heal["wall"]]


def test_the_restarted_handler_comes_back_with_a_new_session(observed_run):
    events, seen_by = read_events(observed_run.event_log), handler_observations(observed_run)
    restart = fault_event(events, "restart_handler")
    assert seen(seen_by, "stop", restart["wall"] - 0.5) and seen(seen_by, "start", restart["wall"])
    assert [e for e in events if e["msg"] == "disconnect" and e["client_id"] == 7
            and e["wall"] >= restart["wall"] - 0.5]
    ready_after = [e for e in events if e["msg"] == "nextValidId" and e["wall"] > restart["wall"]]
    assert ready_after and ready_after[0]["client_id"] == 7


def test_a_failed_run_leaves_no_container_network_or_volume(docker_client, prelive_image, base_image, tmp_path,
                                                            session_tag):
    scenario = write_scenario(tmp_path, 30, "  []\n")
    run_id = f"{session_tag}-failed"
    # A stack image without prelive in it: the gateway container starts, exits, `up --wait` fails
    # with the network, the volume and the container created.
    with pytest.raises(StackError, match=r"(?s)exited \(\d+\).*--- ib-gateway \(exited, exit [1-9]\d*\), last lines"):
        run_scenario_in_containers(scenario, tmp_path / "out", image=base_image, handler=prelive_image,
                                   build=False, run_id=run_id)
    assert leftovers(docker_client, run_id).total == 0
    assert not docker_client.containers.list(all=True, filters={"label": f"com.docker.compose.project=prelive-{run_id}"})
    assert (tmp_path / "out" / "logs" / "ib-gateway.log").read_text().strip()       # why it failed, kept
    assert json.loads((tmp_path / "out" / "container_run.json").read_text())["error"].startswith("StackError")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_an_interrupted_run_brings_the_stack_down(docker_client, prelive_image, tmp_path, sig, session_tag):
    scenario = write_scenario(tmp_path, 120, "  []\n")
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


def test_prelive_run_in_container_mode_reports_the_kill_in_its_metrics(docker_client, prelive_image, tmp_path):
    """The CLI path: `prelive run --mode container` -> this area's stack -> the harness's metrics and RESULT."""
    scenario = tmp_path / "kill_cli.yaml"
    scenario.write_text(SCENARIO.format(duration=14, faults="  - {action: kill_gateway, at_s: 4, duration_s: 3}\n")
                        + "expect:\n  survive: [disconnect]\n  metrics:\n    disconnects: {min: 1, max: 1}\n"
                          "    unrecovered_disconnects: {max: 0}\n")
    out = tmp_path / "runs"
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "run", "--mode", "container", "--out", str(out),
                           str(scenario)], capture_output=True, text=True, timeout=180,
                          env={**os.environ, "PRELIVE_IMAGE": prelive_image})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    metrics = dict(line.split(",")[:2] for line in (out / "container_faults" / "METRICS.csv").read_text().splitlines())
    assert metrics["disconnects"] == "1" and 3.0 <= float(metrics["reconnect_time_s"]) <= 20.0
    result = json.loads((out / "container_faults" / "RESULT.json").read_text())
    assert result["mode"] == "container" and result["passed"] is True


# ------------------------------------------------------------------ the handler on the scenario's clock
CLOCK_HANDLER = """\
import time
print(f"clock start {time.time():.3f}", flush=True)
t0 = time.monotonic()
time.sleep(20)
print(f"clock slept {time.monotonic() - t0:.3f} wall {time.time():.3f}", flush=True)
while True:
    time.sleep(5)
"""


def test_in_a_container_the_handler_runs_on_the_scenarios_clock(docker_client, prelive_image, tmp_path):
    path = tmp_path / "clock.yaml"
    path.write_text("name: container_clock\ndescription: the handler's clock in its container\nspeed: 20\n"
                    "duration_s: 120\nstart: 2026-11-24T14:30:00Z\nhandler:\n  grace_period_s: 2\n")
    started = time.monotonic()
    result = run_scenario_in_containers(path, tmp_path / "out", image=prelive_image, build=False,
                                        handler_command=["python", "-c", CLOCK_HANDLER], real_clock=False)
    wall = time.monotonic() - started
    assert result.error is None, result.error
    lines = (result.logs_dir / "handler.log").read_text()
    start = float(lines.split("clock start ")[1].split()[0])
    slept = float(lines.split("clock slept ")[1].split()[0])
    scenario_start = 1795530600.0                                   # 2026-11-24T14:30:00Z
    assert 0 <= start - scenario_start < 120, lines                 # container start-up, times 20
    assert 19.9 <= slept < 30, lines                                # 20 s by its clock, 1 s of real time
    assert wall < 60
    events = read_events(result.event_log)
    [start_event] = [e for e in events if e["msg"] == "handler_start"]
    assert start_event["attrs"]["clock"]["faketime"] == "in the handler container"
