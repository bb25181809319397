"""The paper stack gates any handler (third-party ones included) on a login check: the gateway-health
sidecar is healthy only once the gateway's login reports paper accounts only (managedAccounts, DU...),
and the handler waits for it (depends_on: service_healthy). A live login behind the paper port keeps
the handler from ever starting; ``PRELIVE_ALLOW_LIVE=1`` is the override, and it is logged."""
from __future__ import annotations

import secrets

import pytest
from drill_support import FIXTURES

from harness.docker.probe import ProbeFailed, login_accounts, main
from harness.docker.stack import PAPER_STACK, Stack, StackError
from mock_gateway.config import AccountConfig

NEVER_STARTED = "0001-01-01T00:00:00Z"
#: A handler that checks nothing (a third party's): only the stack's login check stands in its way.
THIRD_PARTY_HANDLER = "sleep 300"


# ----------------------------------------------------------------------------- the check itself (in-process gateway)

def test_the_login_check_reads_the_accounts_the_login_manages(mock_gateway, capsys):
    assert login_accounts(mock_gateway.host, mock_gateway.port, timeout_s=5) == ["DU1234567"]
    assert main(["--host", mock_gateway.host, "--port", str(mock_gateway.port), "--require-paper"]) == 0
    assert "login manages DU1234567" in capsys.readouterr().out


@pytest.mark.parametrize("account", ["U7654321", "du1234567", "DUMMY-1"])
def test_a_live_login_fails_the_login_check(mock_gateway_factory, capsys, account):
    gateway = mock_gateway_factory(accounts=[AccountConfig(account_id=account)])
    args = ["--host", gateway.host, "--port", str(gateway.port), "--require-paper"]
    assert main(args) == 3
    assert "REFUSED" in capsys.readouterr().err
    assert main(args[:4]) == 0          # the plain handshake probe still says the gateway answers


def test_a_live_login_with_a_paper_one_still_fails(mock_gateway_factory):
    gateway = mock_gateway_factory(accounts=[AccountConfig(account_id="DU1111111"), AccountConfig(account_id="U2222222")])
    assert main(["--host", gateway.host, "--port", str(gateway.port), "--require-paper"]) == 3


def test_the_override_lets_a_live_login_through_and_says_so(mock_gateway_factory, capsys, monkeypatch):
    gateway = mock_gateway_factory(accounts=[AccountConfig(account_id="U7654321")])
    args = ["--host", gateway.host, "--port", str(gateway.port), "--require-paper"]
    assert main([*args, "--i-understand-this-is-live"]) == 0
    assert "LIVE OVERRIDE" in capsys.readouterr().err
    monkeypatch.setenv("PRELIVE_ALLOW_LIVE", "1")
    assert main(args) == 0
    assert "LIVE OVERRIDE" in capsys.readouterr().err
    monkeypatch.setenv("PRELIVE_ALLOW_LIVE", "true")     # only the exact value the handler accepts
    assert main(args) == 3


def test_the_login_check_takes_no_client_id_a_handler_uses_and_sends_no_request(mock_gateway):
    from ib_insync import IB

    ib = IB()
    ib.connect(mock_gateway.host, mock_gateway.port, clientId=1, timeout=10)
    try:
        assert login_accounts(mock_gateway.host, mock_gateway.port, timeout_s=5) == ["DU1234567"]
        assert ib.isConnected()
    finally:
        ib.disconnect()


def test_a_client_id_in_use_is_a_failed_check_not_a_hang(mock_gateway):
    from ib_insync import IB

    ib = IB()
    ib.connect(mock_gateway.host, mock_gateway.port, clientId=993, timeout=10)
    try:
        with pytest.raises(ProbeFailed, match="326"):
            login_accounts(mock_gateway.host, mock_gateway.port, client_id=993, timeout_s=5)
    finally:
        ib.disconnect()


def test_nothing_listening_is_unhealthy():
    assert main(["--port", "1", "--timeout", "1", "--require-paper"]) == 1


def test_the_healthcheck_command_itself_exits_3_on_a_live_login(mock_gateway_factory):
    """What compose runs: ``python -m harness.docker.probe --require-paper`` as a process."""
    import subprocess
    import sys

    gateway = mock_gateway_factory(accounts=[AccountConfig(account_id="U7654321")])
    proc = subprocess.run([sys.executable, "-m", "harness.docker.probe", "-q", "--require-paper", "--host",
                           gateway.host, "--port", str(gateway.port)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 3 and "U7654321" in proc.stderr


# ----------------------------------------------------------------------------- the real paper stack (stand-in gateway)

@pytest.fixture
def own_image(docker_client, prelive_image):
    """This checkout's image under a tag of the test's own: the engine is shared, and another checkout's
    build may take ``local/prelive:latest`` at any moment."""
    from harness.docker.images import PRELIVE_IMAGE, build_image

    built = build_image(docker_client, PRELIVE_IMAGE)
    tag = f"login-check-{secrets.token_hex(3)}"
    docker_client.images.get(built.image_id).tag("local/prelive", tag)
    yield f"local/prelive:{tag}"
    docker_client.images.remove(f"local/prelive:{tag}", noprune=True)


@pytest.fixture
def paper_stack(docker_client, own_image, run_labels):
    """Makes (does not start) a paper stack whose stand-in gateway logs in to ``account``."""
    prelive_image = own_image
    stacks: list[Stack] = []

    def make(account: str, **env: str) -> Stack:
        drill_id = secrets.token_hex(3)
        stack = Stack(docker_client, f"prelive-login-{drill_id}", run_labels["prelive.run"],
                      [PAPER_STACK, FIXTURES / "paper-standin.yml", FIXTURES / "paper-login-check.yml"],
                      env={"PRELIVE_IMAGE": prelive_image, "PRELIVE_HANDLER_IMAGE": prelive_image,
                           "PRELIVE_GATEWAY_PUBLISH": "127.0.0.1:", "PRELIVE_DRILL_ID": drill_id,
                           "TWS_USERID": "standin", "TWS_PASSWORD": "standin", "IB_ACCOUNT": account,
                           "PAPER_STANDIN_ACCOUNT": account, **env})
        stacks.append(stack)
        return stack

    yield make
    for stack in stacks:
        stack.down()


@pytest.mark.docker
@pytest.mark.slow
def test_a_live_login_behind_the_paper_port_keeps_the_handler_from_ever_starting(paper_stack):
    """A third-party handler (here one that checks nothing at all) is never started."""
    stack = paper_stack("U1234567", PRELIVE_HANDLER_COMMAND=THIRD_PARTY_HANDLER)
    with pytest.raises(StackError) as err:
        stack.up(wait=False, timeout_s=60)      # compose still waits for the handler's dependencies
    assert "gateway-health" in str(err.value) and "unhealthy" in str(err.value)
    health = stack.container("gateway-health").attrs["State"]["Health"]
    assert health["Status"] == "unhealthy" and any("REFUSED" in e["Output"] and "U1234567" in e["Output"]
                                                   for e in health["Log"])
    handler = stack.container("handler").attrs["State"]
    assert not handler["Running"] and handler["StartedAt"] == NEVER_STARTED


@pytest.mark.docker
@pytest.mark.slow
def test_a_paper_login_lets_the_handler_start(paper_stack):
    stack = paper_stack("DU7654321")
    stack.up(timeout_s=60)
    assert stack.container("handler").status == "running"
    assert stack.container("gateway-health").attrs["State"]["Health"]["Status"] == "healthy"


@pytest.mark.docker
@pytest.mark.slow
def test_the_override_lets_the_handler_start_behind_a_live_login_and_the_check_logs_it(paper_stack):
    stack = paper_stack("U1234567", PRELIVE_ALLOW_LIVE="1", PRELIVE_HANDLER_COMMAND=THIRD_PARTY_HANDLER)
    stack.up(wait=False, timeout_s=60)
    assert stack.container("handler").status == "running"
    health = stack.container("gateway-health").attrs["State"]["Health"]
    assert any("LIVE OVERRIDE" in entry["Output"] for entry in health["Log"])
