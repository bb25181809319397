"""The paper switchover, end to end through ansible-runner: mock stack -> a stand-in paper stack
(the mock gateway in paper configuration behind compose/paper-stack.yml), and the automatic
restore of the mock stack when a paper check fails."""
from __future__ import annotations

import json
import secrets
import socket

import pytest
from drill_support import FIXTURES, PLANTED_SECRET, start_mock_stack

from harness.docker.stack import MOCK_STACK, PAPER_STACK, Stack
from harness.switchover import run_switchover

pytestmark = [pytest.mark.ansible, pytest.mark.docker, pytest.mark.slow]
PAPER_ACCOUNT = "DU7654321"
PASSWORD = f"pw-{secrets.token_hex(8)}"     # must never show up in any output or artifact


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def switch_setup(docker_client, prelive_image, run_labels, tmp_path):
    """The mock stack running on a host port; the paper stand-in's files, env file and names."""
    drill_id = secrets.token_hex(3)
    run_id = run_labels["prelive.run"]
    port = free_port()
    common_env = {"PRELIVE_RUN": run_id, "PRELIVE_IMAGE": prelive_image, "PRELIVE_HANDLER_IMAGE": prelive_image,
                  "PRELIVE_DRILL_ID": drill_id,
                  # the mock stack's own compose environment, so stopping and restoring it changes nothing
                  "PRELIVE_PLANTED_SECRET": PLANTED_SECRET}
    mock = start_mock_stack(docker_client, prelive_image, run_id, drill_id, publish=f"127.0.0.1:{port}",
                            project=f"prelive-swmock-{drill_id}")
    paper_project = f"prelive-swpaper-{drill_id}"
    paper_files = [PAPER_STACK, FIXTURES / "paper-standin.yml"]

    def env_file(account: str):
        path = tmp_path / "paper.env"
        path.write_text(f"TWS_USERID=standin-user\nTWS_PASSWORD={PASSWORD}\nIB_ACCOUNT={account}\n")
        path.chmod(0o600)
        return path

    overrides = {
        "gateway_host": "127.0.0.1", "gateway_port": port, "compose_project": paper_project,
        "compose_files": [str(f) for f in paper_files], "compose_env": common_env,
        "handler_container": f"{paper_project}-handler-1", "gateway_ready_timeout_s": 120,
        "from_compose_project": mock.project, "from_compose_files": [str(MOCK_STACK), str(FIXTURES / "mock-drill.yml")],
        "from_compose_env": common_env, "from_handler_container": f"{mock.project}-handler-1",
    }
    yield overrides, env_file, mock
    paper = Stack(docker_client, paper_project, run_id, paper_files,
                  env={**common_env, "TWS_USERID": "x", "TWS_PASSWORD": "x", "IB_ACCOUNT": PAPER_ACCOUNT})
    paper.down()
    mock.down()


def container_state(docker_client, name: str) -> str | None:
    import docker.errors

    try:
        return docker_client.containers.get(name).status
    except docker.errors.NotFound:
        return None


def no_secret_in(folder) -> None:
    for path in folder.rglob("*"):
        if path.is_file() and path.name != "paper.env":
            assert PASSWORD not in path.read_text(errors="replace"), f"credential leaked into {path}"


def test_switchover_moves_the_handler_to_the_paper_stack(switch_setup, docker_client, tmp_path):
    overrides, env_file, mock = switch_setup
    out = tmp_path / "out"
    outcome = run_switchover("paper", out, overrides={**overrides, "paper_env_file": str(env_file(PAPER_ACCOUNT))})
    record = json.loads((out / "SWITCHOVER.json").read_text())

    assert record["passed"], (record, "\n".join(outcome.run.stdout_tail))
    assert [s["tag"] for s in record["steps"]] == ["preflight", "stop_current", "paper_up", "wait_gateway",
                                                   "probe", "verify", "record"]
    assert record["active_target"] == "paper" and not record["restored"] and record["switchover_s"] > 0
    account = json.loads((out / "ACCOUNT_CONFIG.json").read_text())
    assert account["account_id"] == PAPER_ACCOUNT and account["account_type"] == "paper" and account["connected"]
    assert container_state(docker_client, f"{mock.project}-handler-1") == "exited"
    assert container_state(docker_client, overrides["handler_container"]) == "running"
    no_secret_in(tmp_path)


def test_a_failed_paper_check_restores_the_mock_stack(switch_setup, docker_client, tmp_path):
    overrides, env_file, mock = switch_setup
    out = tmp_path / "out"
    # the env file names an account this paper login does not manage: the probe must catch it
    outcome = run_switchover("paper", out, overrides={**overrides, "paper_env_file": str(env_file("DU5555555"))})
    record = json.loads((out / "SWITCHOVER.json").read_text())

    assert not outcome.run.ok and not record["passed"]
    assert record["failed_step"] in ("probe", "verify"), record
    assert record["restored"] and record["active_target"] == "mock"
    assert container_state(docker_client, overrides["handler_container"]) is None      # paper stack down
    assert container_state(docker_client, f"{mock.project}-handler-1") == "running"    # mock stack back
    host, port = mock.published_port()
    from harness.docker.probe import handshake
    assert handshake(host, port)[0] >= 157
    no_secret_in(tmp_path)


def test_a_live_login_behind_the_paper_port_never_gets_the_handler_even_if_the_env_file_asks(
        switch_setup, docker_client, tmp_path):
    """The stand-in logs in to U7654321 while the env file names a DU account and slips in the stack's
    override: the login check still refuses (only -e allow_live_account=true sets it), the handler never
    starts, and the mock stack comes back."""
    overrides, _env_file, mock = switch_setup
    env = tmp_path / "paper.env"
    env.write_text(f"TWS_USERID=standin-user\nTWS_PASSWORD={PASSWORD}\nIB_ACCOUNT={PAPER_ACCOUNT}\n"
                   "PAPER_STANDIN_ACCOUNT=U7654321\nPRELIVE_ALLOW_LIVE=1\n")
    env.chmod(0o600)
    out = tmp_path / "out"
    outcome = run_switchover("paper", out, overrides={**overrides, "paper_env_file": str(env),
                                                      "gateway_ready_timeout_s": 60})
    record = json.loads((out / "SWITCHOVER.json").read_text())

    assert not outcome.run.ok and not record["passed"]
    assert record["failed_step"] == "paper_up", record
    assert record["restored"] and record["active_target"] == "mock"
    assert container_state(docker_client, overrides["handler_container"]) is None      # paper stack down
    assert container_state(docker_client, f"{mock.project}-handler-1") == "running"
    no_secret_in(tmp_path)
