"""Each container fault acts on a real container through the Docker SDK and is logged with its time.

A tiny TCP echo server stands in for the gateway and a second container plays the client, so the
fault layer is tested without the mock gateway; tests/docker/test_mock_stack.py runs the real one.
"""
from __future__ import annotations

import time

import pytest

from harness.docker.faults import ContainerFault, ContainerFaultError, ContainerFaults, FaultScheduler, plan
from mock_gateway.eventlog import EventLog, read_events

ECHO = ("import socketserver\n"
        "class H(socketserver.BaseRequestHandler):\n"
        "    def handle(self): self.request.sendall(self.request.recv(64))\n"
        "socketserver.ThreadingTCPServer.allow_reuse_address = True\n"
        "socketserver.ThreadingTCPServer(('0.0.0.0', 7000), H).serve_forever()\n")
PING = ("import socket, sys\n"
        "try:\n"
        "    s = socket.create_connection(('ib-gateway', 7000), timeout=1.0); s.sendall(b'hi')\n"
        "    sys.exit(0 if s.recv(8) == b'hi' else 1)\n"
        "except OSError:\n"
        "    sys.exit(1)\n")


@pytest.fixture
def echo_stack(docker_client, base_image, run_labels, tmp_path):
    name = run_labels["prelive.run"]
    net = docker_client.networks.create(f"{name}-net", labels=run_labels)
    server = docker_client.containers.run(base_image, ["python", "-c", ECHO], name=f"{name}-gw", detach=True,
                                          network=net.name, labels=run_labels, init=True)
    net.disconnect(server)
    net.connect(server, aliases=["ib-gateway"])
    client = docker_client.containers.run(base_image, ["sleep", "300"], name=f"{name}-handler", detach=True,
                                          network=net.name, labels=run_labels, init=True)
    log = EventLog(tmp_path / "docker-events.jsonl", source="docker")
    faults = ContainerFaults(gateway=server, network=net, event_log=log, handler=client, stop_timeout_s=2)

    def reachable() -> bool:
        return client.exec_run(["python", "-c", PING]).exit_code == 0

    deadline = time.monotonic() + 15
    while not reachable():
        assert time.monotonic() < deadline, "echo server never answered"
        time.sleep(0.2)
    yield faults, reachable, log
    log.close()
    for c in (client, server):
        c.reload()
        if c.status == "paused":
            c.unpause()
        c.remove(force=True)
    net.remove()


def wait_for(predicate, timeout_s=10.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_pause_freezes_the_gateway_and_unpause_brings_it_back(echo_stack):
    faults, reachable, log = echo_stack
    faults.apply("pause_gateway")
    assert faults.gateway.client.containers.get(faults.gateway.id).status == "paused"
    assert not reachable()                                   # TCP up, nothing answers
    faults.apply("unpause_gateway")
    assert wait_for(reachable)
    assert [e["fault"] for e in read_events(log.path)] == ["pause_gateway", "unpause_gateway"]


def test_disconnect_partitions_the_gateway_and_reconnect_restores_its_name(echo_stack):
    faults, reachable, log = echo_stack
    details = faults.apply("disconnect_gateway")
    assert "ib-gateway" in details["aliases"]
    assert not reachable()
    faults.apply("reconnect_gateway")
    assert wait_for(reachable)                               # the service name resolves again


def test_kill_stops_the_gateway_until_it_is_started_again(echo_stack):
    faults, reachable, log = echo_stack
    faults.apply("kill_gateway")
    faults.gateway.reload()
    assert faults.gateway.status == "exited" and faults.gateway.attrs["State"]["ExitCode"] == 137
    assert not reachable()
    faults.apply("restart_gateway")
    assert wait_for(reachable)


def test_restart_handler_restarts_the_handler_container(echo_stack):
    faults, _reachable, log = echo_stack
    faults.handler.reload()
    before = faults.handler.attrs["State"]["StartedAt"]
    faults.apply("restart_handler")
    faults.handler.reload()
    assert faults.handler.status == "running" and faults.handler.attrs["State"]["StartedAt"] != before


def test_every_fault_is_logged_as_a_docker_sys_event_with_its_wall_time(echo_stack):
    faults, _reachable, log = echo_stack
    before = time.time()
    faults.apply("pause_gateway", at_s=1.0)
    faults.apply("unpause_gateway")
    (pause, unpause) = read_events(log.path)
    assert pause["dir"] == "sys" and pause["msg"] == "container_fault" and pause["source"] == "docker"
    assert pause["attrs"]["action"] == "pause_gateway" and pause["attrs"]["ok"] is True
    assert pause["attrs"]["container"] == faults.gateway.name and pause["attrs"]["at_s"] == 1.0
    assert before <= pause["wall"] <= unpause["wall"] <= time.time()


def test_a_failing_action_is_logged_as_failed_and_raised(echo_stack):
    faults, _reachable, log = echo_stack
    with pytest.raises(Exception):
        faults.apply("unpause_gateway")                      # not paused: the engine refuses
    (event,) = read_events(log.path)
    assert event["attrs"]["ok"] is False and "error" in event["attrs"]


def test_a_schedule_runs_each_fault_and_its_undo_on_time(echo_stack):
    faults, reachable, log = echo_stack
    steps = plan([ContainerFault("pause_gateway", at_s=0.5, duration_s=1.0),
                  ContainerFault("disconnect_gateway", at_s=2.0, duration_s=0.5)], wall_per_scenario_s=1.0)
    scheduler = FaultScheduler(faults, steps)
    start_wall = time.time()
    scheduler.start()
    scheduler.join(20)
    assert not scheduler.errors and not scheduler.pending
    events = read_events(log.path)
    assert [e["fault"] for e in events] == ["pause_gateway", "unpause_gateway", "disconnect_gateway",
                                           "reconnect_gateway"]
    offsets = [e["wall"] - start_wall for e in events]
    for got, want in zip(offsets, (0.5, 1.5, 2.0, 2.5)):
        assert want - 0.05 <= got <= want + 0.5
    assert wait_for(reachable)


def test_a_stopped_schedule_skips_what_is_left(echo_stack):
    faults, _reachable, log = echo_stack
    scheduler = FaultScheduler(faults, plan([ContainerFault("restart_handler", at_s=30.0)]))
    scheduler.start()
    scheduler.stop()
    assert [s.action for s in scheduler.pending] == ["restart_handler"] and not read_events(log.path)


@pytest.mark.parametrize("entry, message", [
    ({"action": "explode_gateway", "at_s": 1}, "unknown container fault action"),
    ({"action": "pause_gateway", "at_s": -1}, "at_s must be >= 0"),
    ({"action": "restart_handler", "at_s": 1, "duration_s": 2}, "takes no duration_s"),
])
def test_bad_fault_entries_are_refused_with_the_reason(entry, message):
    with pytest.raises(ContainerFaultError, match=message):
        ContainerFault.coerce(entry)
