"""The real rollback drill: rollback.yml through ansible-runner against the mock stack in containers,
with the reference handler running and resting orders on the book when the drill starts."""
from __future__ import annotations

import json

import pytest
from drill_support import PLANTED_SECRET, no_planted_secret_under, open_orders, place_resting_orders
from typer.testing import CliRunner

from harness.cli import app
from harness.drill.rollback import run_drill
from harness.drill.runner import run_playbook
from harness.gates.artifacts import RollbackDrill

pytestmark = [pytest.mark.ansible, pytest.mark.docker, pytest.mark.slow]
RESTING_ORDERS = 3


def kill_file_present(docker_client, container: str) -> bool:
    return docker_client.containers.get(container).exec_run(["test", "-e", "/data/KILL"]).exit_code == 0


def test_drill_cancels_every_order_and_brings_the_previous_release_back_connected(drill_stack, docker_client, tmp_path):
    place_resting_orders(drill_stack.host, drill_stack.port, RESTING_ORDERS)
    sets = [arg for key, value in drill_stack.overrides().items() for arg in ("--set", f"{key}={value}")]
    result = CliRunner().invoke(app, ["drill", "--inventory", "mock", "--out", str(tmp_path), *sets])
    record = json.loads((tmp_path / "ROLLBACK_DRILL.json").read_text())

    assert result.exit_code == 0 and record["passed"], (record, result.output)
    assert "PASSED" in result.output and "recovery" in result.output
    assert RollbackDrill.model_validate(record).passed          # what gate 8 reads
    assert record["failed_step"] is None
    assert [s["tag"] for s in record["steps"]] == ["preflight", "kill_switch", "stop_current", "start_previous",
                                                   "wait_gateway", "verify_state", "record"]
    assert all(s["result"] == "ok" and s["duration_s"] > 0 for s in record["steps"])
    assert 0 < record["total_recovery_s"] < record["threshold_s"] == 30
    assert record["total_recovery_s"] <= sum(s["duration_s"] for s in record["steps"]) + 1.0
    kill_switch = json.loads((tmp_path / "KILL_SWITCH.json").read_text())
    assert kill_switch["verified"] and kill_switch["open_orders_before"] >= RESTING_ORDERS
    assert kill_switch["open_orders_after"] == 0 and record["kill_switch"]["verified"]
    assert kill_switch["kill_file"].endswith("/_data/KILL")    # created by the kill switch itself, on the volume

    assert open_orders(drill_stack.host, drill_stack.port) == []
    handler = docker_client.containers.get(drill_stack.handler_container)
    assert handler.status == "running" and handler.attrs["Config"]["Image"] == drill_stack.previous_image
    assert handler.labels["prelive.rolled_back_from"] == drill_stack.current_image
    # the previous release came back with the stack's own setup, connected, and still halted
    assert handler.labels["com.docker.compose.project"] == drill_stack.stack.project
    assert kill_file_present(docker_client, drill_stack.handler_container)
    assert record["kill_switch"]["engaged"]
    # the handler's own environment came back with it, and no file the drill wrote holds its secret
    assert f"BROKER_API_SECRET={PLANTED_SECRET}" in handler.attrs["Config"]["Env"]
    no_planted_secret_under(tmp_path)
    assert not (tmp_path / ".handler.env").exists()
    # the previous release was made ready at preflight and only started in step 3: no standby is left
    assert not docker_client.containers.list(all=True, filters={"name": f"{drill_stack.handler_container}-prelive-standby"})


def test_missing_previous_image_fails_at_step_3_and_leaves_the_kill_switch_engaged(drill_stack, docker_client, tmp_path):
    place_resting_orders(drill_stack.host, drill_stack.port, count=1)
    outcome = run_drill("mock", tmp_path, overrides=drill_stack.overrides(
        handler_image_previous=f"local/prelive:drill-{drill_stack.drill_id}-does-not-exist"))
    record = json.loads((tmp_path / "ROLLBACK_DRILL.json").read_text())

    assert not outcome.run.ok and not record["passed"]
    assert record["failed_step"] == "start_previous"
    assert "is not on this Docker host" in record["failure"]
    steps = {s["tag"]: s["result"] for s in record["steps"]}
    assert steps["kill_switch"] == steps["stop_current"] == "ok"
    assert steps["start_previous"] == "failed"
    assert steps["wait_gateway"] == steps["verify_state"] == "skipped"
    assert record["kill_switch"] == {"engaged": True, "verified": True, "open_orders_after": 0}
    # engaged for real: the kill file stays on the stack's volume, the current release stays
    # stopped (not removed: an operator can inspect or restart it), and nothing trades
    handler = docker_client.containers.get(drill_stack.handler_container)
    assert handler.status == "exited" and handler.attrs["Config"]["Image"] == drill_stack.current_image
    assert kill_file_present(docker_client, drill_stack.gateway_container)
    assert open_orders(drill_stack.host, drill_stack.port) == []
    assert "ROLLBACK FAILED at step start_previous" in "\n".join(outcome.run.stdout_tail)
    assert not docker_client.containers.list(all=True, filters={"name": f"{drill_stack.handler_container}-prelive-standby"})
    assert not RollbackDrill.model_validate(record).passed


def test_kill_switch_playbook_engages_and_releases_for_operators(drill_stack, docker_client, tmp_path):
    place_resting_orders(drill_stack.host, drill_stack.port, 2)
    # the way through the container (exec: kill file + SIGUSR1), for Docker hosts this one cannot see into
    extravars = {**drill_stack.overrides(), "drill_out_dir": str(tmp_path), "halt_inside_container": True}
    engaged = run_playbook("kill_switch.yml", "mock", tmp_path / "pdd", extravars=extravars)
    assert engaged.ok, "\n".join(engaged.stdout_tail)
    kill_switch = json.loads((tmp_path / "KILL_SWITCH.json").read_text())
    assert kill_switch["verified"] and kill_switch["open_orders_before"] >= 2 and kill_switch["open_orders_after"] == 0
    assert engaged.returned["kill_switch"]["record"]["verified"]
    facts = json.loads((tmp_path / ".kill_switch_facts.json").read_text())
    assert facts["halt"] == "kill file inside the container + SIGUSR1" and kill_switch["kill_file"] is None
    assert kill_file_present(docker_client, drill_stack.handler_container)
    assert open_orders(drill_stack.host, drill_stack.port) == []

    released = run_playbook("kill_switch.yml", "mock", tmp_path / "pdd",
                            extravars={**extravars, "kill_switch_action": "release"})
    assert released.ok, "\n".join(released.stdout_tail)
    assert not kill_file_present(docker_client, drill_stack.handler_container)
