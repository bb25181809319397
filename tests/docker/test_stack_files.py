"""The Compose files: both stacks render, share the handler's view of the gateway, refuse missing
credentials, and their health checks are real API handshakes that pass against a mock gateway
container and fail against a port that merely accepts TCP."""
from __future__ import annotations

import json
import socket
import subprocess
import time

import pytest

from harness.docker.engine import compose_command
from harness.docker.probe import ProbeFailed, handshake
from harness.docker.stack import MOCK_STACK, PAPER_STACK

DUMMY_ENV = "TWS_USERID=dummy-user\nTWS_PASSWORD=dummy-Secret-42\nIB_ACCOUNT=DU0000001\n"
#: An in-process mock gateway on 0.0.0.0:4004 (the same server `prelive gateway` runs).
GATEWAY_PY = ("import asyncio\n"
              "from mock_gateway.server import start_gateway\n"
              "async def main():\n"
              "    async with start_gateway(host='0.0.0.0', port=4004):\n"
              "        await asyncio.Event().wait()\n"
              "asyncio.run(main())\n")


def compose(stack, env_file, *args):
    argv = [*compose_command(), "-f", str(stack), "--env-file", str(env_file), *args]
    return subprocess.run(argv, capture_output=True, text=True, env={"PATH": "/usr/local/bin:/usr/bin:/bin"})


@pytest.fixture
def dummy_env(tmp_path):
    path = tmp_path / "paper.env"
    path.write_text(DUMMY_ENV)
    return path


def rendered(stack, env_file):
    proc = compose(stack, env_file, "config", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_paper_stack_renders_with_a_dummy_env_file_in_paper_mode_only(docker_client, dummy_env):
    cfg = rendered(PAPER_STACK, dummy_env)
    gw = cfg["services"]["ib-gateway"]
    assert gw["environment"]["TRADING_MODE"] == "paper"
    assert gw["image"].startswith("ghcr.io/gnzsnz/ib-gateway")
    (port,) = gw["ports"]
    assert (port["host_ip"], str(port["published"]), port["target"]) == ("127.0.0.1", "4002", 4004)
    assert "healthcheck" not in gw                                   # the image has no Python; the sidecar probes


def test_both_stacks_give_the_handler_the_same_gateway_address(docker_client, dummy_env):
    paper, mock = rendered(PAPER_STACK, dummy_env), rendered(MOCK_STACK, dummy_env)
    for cfg in (paper, mock):
        env = cfg["services"]["handler"]["environment"]
        assert (env["IB_HOST"], env["IB_PORT"]) == ("ib-gateway", "4004")
        assert env["IB_ACCOUNT"].startswith("DU")
        for service in cfg["services"].values():
            assert service["labels"]["prelive.managed"] == "true"
            assert "start_interval" not in service.get("healthcheck", {})   # engine 20.10 rejects it
            for port in service.get("ports", []):
                assert port["host_ip"] == "127.0.0.1"
    assert paper["services"]["handler"]["depends_on"]["gateway-health"]["condition"] == "service_healthy"
    assert mock["services"]["handler"]["depends_on"]["ib-gateway"]["condition"] == "service_healthy"


@pytest.mark.parametrize("missing", ["TWS_USERID", "TWS_PASSWORD", "IB_ACCOUNT"])
def test_paper_stack_refuses_a_missing_required_variable_with_the_reason(docker_client, tmp_path, missing):
    env = tmp_path / "partial.env"
    env.write_text("".join(line + "\n" for line in DUMMY_ENV.splitlines() if not line.startswith(missing + "=")))
    proc = compose(PAPER_STACK, env, "config", "-q")
    assert proc.returncode != 0
    assert f"{missing} is not set" in proc.stderr and "env file" in proc.stderr


def test_paper_stack_validation_does_not_print_the_password(docker_client, dummy_env):
    proc = compose(PAPER_STACK, dummy_env, "config", "-q")
    assert proc.returncode == 0, proc.stderr
    assert "dummy-Secret-42" not in proc.stdout + proc.stderr


def test_probe_fails_on_a_published_port_that_only_accepts_tcp(docker_client, base_image, run_labels):
    """docker-proxy accepts TCP for a container where nothing listens: a connect check would say healthy."""
    c = docker_client.containers.run(base_image, ["sleep", "60"], detach=True, labels=run_labels, init=True,
                                     ports={"4004/tcp": ("127.0.0.1", None)})
    try:
        c.reload()
        port = int(c.attrs["NetworkSettings"]["Ports"]["4004/tcp"][0]["HostPort"])
        socket.create_connection(("127.0.0.1", port), timeout=2).close()   # accepted by docker-proxy
        with pytest.raises(ProbeFailed):
            handshake("127.0.0.1", port, timeout_s=2)
    finally:
        c.remove(force=True)


@pytest.fixture
def gateway_on_network(docker_client, prelive_image, run_labels):
    """A healthy mock gateway container, reachable as ib-gateway:4004 on a fresh labelled network."""
    net = docker_client.networks.create(f"{run_labels['prelive.run']}-net", labels=run_labels)
    gw = docker_client.containers.create(prelive_image, ["python", "-c", GATEWAY_PY], labels=run_labels, init=True,
                                         ports={"4004/tcp": ("127.0.0.1", None)})
    net.connect(gw, aliases=["ib-gateway"])
    gw.start()
    try:
        assert wait_healthy(gw), f"mock gateway container never became healthy: {gw.logs().decode()[-2000:]}"
        yield net, gw
    finally:
        gw.remove(force=True)
        net.remove()


def wait_healthy(container, timeout_s=40.0) -> bool:
    """Poll the image's own HEALTHCHECK (an API handshake on 127.0.0.1:4004)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        container.reload()
        if container.status == "exited":
            return False
        if container.attrs["State"].get("Health", {}).get("Status") == "healthy":
            return True
        time.sleep(0.3)
    return False


def healthcheck_argv(cfg, service):
    test = cfg["services"][service]["healthcheck"]["test"]
    assert test[0] == "CMD"
    return test[1:]


def test_paper_health_check_command_passes_against_a_mock_gateway(docker_client, prelive_image, run_labels,
                                                                   gateway_on_network, dummy_env):
    net, _gw = gateway_on_network
    argv = healthcheck_argv(rendered(PAPER_STACK, dummy_env), "gateway-health")
    sidecar = docker_client.containers.run(prelive_image, argv, network=net.name, labels=run_labels, detach=True)
    code = sidecar.wait(timeout=30)["StatusCode"]
    logs = sidecar.logs().decode()
    sidecar.remove(force=True)
    assert code == 0, logs


def test_paper_health_check_command_fails_when_nothing_speaks_the_api(docker_client, prelive_image, base_image,
                                                                      run_labels, dummy_env):
    net = docker_client.networks.create(f"{run_labels['prelive.run']}-dead", labels=run_labels)
    mute = docker_client.containers.create(base_image, ["sleep", "60"], labels=run_labels, init=True)
    net.connect(mute, aliases=["ib-gateway"])
    mute.start()
    try:
        argv = healthcheck_argv(rendered(PAPER_STACK, dummy_env), "gateway-health")
        argv[argv.index("--timeout") + 1] = "2"
        sidecar = docker_client.containers.run(prelive_image, argv, network=net.name, labels=run_labels, detach=True)
        assert sidecar.wait(timeout=30)["StatusCode"] == 1
        assert "unhealthy" in sidecar.logs().decode()
        sidecar.remove(force=True)
    finally:
        mute.remove(force=True)
        net.remove()


def test_prelive_image_health_is_an_api_handshake_that_a_host_client_can_repeat(docker_client, gateway_on_network):
    """Healthy (the fixture waited for the image's HEALTHCHECK) and a handshake through the published port works."""
    _net, gw = gateway_on_network
    port = int(gw.attrs["NetworkSettings"]["Ports"]["4004/tcp"][0]["HostPort"])
    version, _ = handshake("127.0.0.1", port)
    assert version >= 157


def test_handler_health_check_requires_an_established_api_connection(docker_client, prelive_image, run_labels,
                                                                       gateway_on_network, dummy_env):
    net, _gw = gateway_on_network
    for cfg in (rendered(MOCK_STACK, dummy_env), rendered(PAPER_STACK, dummy_env)):
        test = cfg["services"]["handler"]["healthcheck"]["test"]
        assert test[0] == "CMD-SHELL"
        script = ("import socket, subprocess, sys\n"
                  "s = socket.create_connection(('ib-gateway', 4004)) if sys.argv[1] == 'connect' else None\n"
                  f"sys.exit(subprocess.call(['sh', '-c', {test[1]!r}]))\n")
        codes = {}
        for mode in ("connect", "idle"):
            c = docker_client.containers.run(prelive_image, ["python", "-c", script, mode], network=net.name,
                                             labels=run_labels, detach=True)
            codes[mode] = c.wait(timeout=30)["StatusCode"]
            c.remove(force=True)
        assert codes == {"connect": 0, "idle": 1}


def test_mock_stack_with_the_tap_profile_records_the_handlers_session(docker_client, prelive_image, run_labels):
    """`COMPOSE_PROFILES=tap PRELIVE_IB_HOST=tap`: the handler reaches the gateway through the recording tap."""
    from harness.docker.stack import Stack

    run_id = run_labels["prelive.run"]
    stack = Stack(docker_client, f"prelive-{run_id}", run_id, [MOCK_STACK], env={
        "COMPOSE_PROFILES": "tap", "PRELIVE_IB_HOST": "tap", "PRELIVE_GATEWAY_PUBLISH": "127.0.0.1:",
        "PRELIVE_IMAGE": prelive_image, "PRELIVE_HANDLER_IMAGE": prelive_image})
    try:
        stack.up(timeout_s=90)                                # every service healthy, the handler connected
        tap = stack.container("tap")
        lines = tap.exec_run(["cat", "/data/tap-events.jsonl"]).output.decode().splitlines()
        events = [json.loads(line) for line in lines]
        assert {e["source"] for e in events} == {"tap"}
        assert any(e["msg"] == "startApi" and e["dir"] == "in" for e in events)       # the handler's session
        assert any(e["msg"] == "nextValidId" and e["dir"] == "out" for e in events)
    finally:
        stack.down()
    from harness.docker.cleanup import leftovers

    assert leftovers(docker_client, run_id).total == 0
