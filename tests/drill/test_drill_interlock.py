"""The live interlock in the playbooks themselves (operators may run them with plain
ansible-playbook) and in the CLI: a live port or account is refused, with the reason."""
import json

import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.drill.record import ROLLBACK_STEPS, SWITCHOVER_STEPS, rollback_record, switchover_record
from harness.drill.runner import run_playbook

pytestmark = pytest.mark.ansible
#: Nothing answers here, so a run that gets past the preflight fails at its first real step.
NOWHERE = {"gateway_port": 1, "handler_container": "prelive-test-no-such-container"}


def rollback(tmp_path, **extravars):
    run = run_playbook("rollback.yml", "mock", tmp_path / "pdd",
                       extravars={**NOWHERE, "drill_out_dir": str(tmp_path), **extravars})
    return run, rollback_record(run, "mock", 30.0)


@pytest.mark.parametrize("port", [4001, 7496])
def test_rollback_refuses_a_live_port_and_says_why(tmp_path, port):
    run, record = rollback(tmp_path, gateway_port=port)
    assert not run.ok
    assert record["failed_step"] == "preflight" and not record["passed"]
    assert f"{port} is a live trading port" in record["failure"]
    assert all(s["result"] == "skipped" for s in record["steps"][1:-1])   # nothing touched


def test_rollback_refuses_a_live_account_and_says_why(tmp_path):
    run, record = rollback(tmp_path, account="U7654321")
    assert record["failed_step"] == "preflight"
    assert "U7654321 is not a paper account" in record["failure"]


def test_rollback_preflight_refuses_a_live_login_behind_a_paper_port(tmp_path):
    """The inventory says DU1234567 on a paper port; the gateway's login manages U1234567."""
    from mock_gateway.config import AccountConfig, GatewayConfig
    from mock_gateway.eventlog import read_events
    from mock_gateway.server import GatewayThread

    log = tmp_path / "gateway.jsonl"
    with GatewayThread(GatewayConfig(port=0, accounts=[AccountConfig("U1234567")], event_log=log)) as gw:
        run, record = rollback(tmp_path, gateway_port=gw.port, account="DU1234567")
    assert record["failed_step"] == "preflight" and not record["passed"]
    assert "U1234567" in record["failure"] and "REFUSED" in record["failure"]
    assert all(s["result"] == "skipped" for s in record["steps"][1:-1])
    assert not any(e["dir"] == "in" and e.get("msg_id") in (3, 4, 58) for e in read_events(log))


def test_the_override_passes_a_live_login_and_the_preflight_says_so(tmp_path):
    from mock_gateway.config import AccountConfig, GatewayConfig
    from mock_gateway.server import GatewayThread

    with GatewayThread(GatewayConfig(port=0, accounts=[AccountConfig("U1234567")])) as gw:
        run, record = rollback(tmp_path, gateway_port=gw.port, account="U1234567", allow_live_account=True)
    assert record["steps"][0]["result"] == "ok" and record["failed_step"] != "preflight"
    warning = [t for t in run.tasks if t.name.startswith("preflight | LIVE OVERRIDE")]
    assert warning and warning[0].result == "ok"


def test_rollback_preflight_refuses_an_account_the_login_does_not_manage(tmp_path):
    from mock_gateway.config import GatewayConfig
    from mock_gateway.server import GatewayThread

    with GatewayThread(GatewayConfig(port=0)) as gw:
        run, record = rollback(tmp_path, gateway_port=gw.port, account="DU999")
    assert record["failed_step"] == "preflight" and "DU999" in record["failure"]


def test_rollback_preflight_is_case_sensitive_on_the_paper_prefix(tmp_path):
    run, record = rollback(tmp_path, account="du1234567")
    assert record["failed_step"] == "preflight" and "du1234567 is not a paper account" in record["failure"]


def test_the_explicit_override_gets_past_the_interlock(tmp_path):
    run, record = rollback(tmp_path, gateway_port=4001, allow_live_account=True)
    assert record["steps"][0]["result"] == "ok"
    assert record["failed_step"] != "preflight"


def test_an_inventory_cannot_switch_the_interlock_off(tmp_path):
    inventory = tmp_path / "inv"
    (inventory / "group_vars").mkdir(parents=True)
    (inventory / "hosts.yml").write_text("all:\n  hosts:\n    localhost:\n      ansible_connection: local\n")
    (inventory / "group_vars" / "all.yml").write_text(
        "drill_target: mock\naccount: U1\ngateway_host: 127.0.0.1\ngateway_port: 4001\nallow_live_account: true\n")
    run = run_playbook("kill_switch.yml", inventory, tmp_path / "pdd", extravars={"drill_out_dir": str(tmp_path)})
    assert not run.ok
    preflight = [t for t in run.tasks if t.step == "preflight"]
    assert preflight and preflight[0].result == "failed"


def switchover_with_env(tmp_path, env_text, mode=0o600):
    env_file = tmp_path / "paper.env"
    env_file.write_text(env_text)
    env_file.chmod(mode)
    run = run_playbook("switchover.yml", "paper", tmp_path / "pdd",
                       extravars={"paper_env_file": str(env_file), "drill_out_dir": str(tmp_path)})
    return run, switchover_record(run, "paper")


def test_switchover_preflight_refuses_a_live_account_from_the_env_file(tmp_path):
    run, record = switchover_with_env(tmp_path, "TWS_USERID=someone\nTWS_PASSWORD=s3cr3t-pw\nIB_ACCOUNT=U7654321\n")
    assert record["failed_step"] == "preflight" and not record["passed"] and not record["restored"]
    assert "U7654321 is not a paper account" in record["failure"]
    assert "s3cr3t-pw" not in json.dumps(record)
    assert "s3cr3t-pw" not in (run.artifact_dir / "stdout").read_text()


def test_switchover_preflight_refuses_missing_credentials_without_printing_them(tmp_path):
    run, record = switchover_with_env(tmp_path, "TWS_USERID=someone\nIB_ACCOUNT=DU1234567\n")
    assert record["failed_step"] == "preflight"
    assert "someone" not in (run.artifact_dir / "stdout").read_text()


def test_switchover_refuses_an_env_file_other_users_can_read(tmp_path):
    _, record = switchover_with_env(tmp_path, "TWS_USERID=someone\nTWS_PASSWORD=pw\nIB_ACCOUNT=DU1234567\n", 0o644)
    assert record["failed_step"] == "preflight" and "chmod 600" in record["failure"]


def test_the_cli_refuses_before_any_playbook_runs(tmp_path):
    result = CliRunner().invoke(app, ["drill", "--out", str(tmp_path), "--set", "gateway_port=7496"])
    assert result.exit_code == 2
    assert "7496 is a live trading port" in result.output
    assert not (tmp_path / ".ansible-runner").exists()


def test_the_switchover_cli_reports_the_refusal_from_the_playbook(tmp_path):
    env_file = tmp_path / "paper.env"
    env_file.write_text("TWS_USERID=someone\nTWS_PASSWORD=pw-cli\nIB_ACCOUNT=U1111111\n")
    env_file.chmod(0o600)
    result = CliRunner().invoke(app, ["switchover", "--out", str(tmp_path / "out"), "--env-file", str(env_file)])
    assert result.exit_code == 1
    assert "FAILED at step preflight" in result.output and "U1111111 is not a paper account" in result.output
    assert json.loads((tmp_path / "out" / "SWITCHOVER.json").read_text())["failed_step"] == "preflight"
    assert "pw-cli" not in result.output


def test_record_step_lists_follow_the_playbooks():
    for playbook, steps in (("rollback.yml", ROLLBACK_STEPS), ("switchover.yml", SWITCHOVER_STEPS)):
        from harness.drill.runner import PLAYBOOKS_DIR
        text = (PLAYBOOKS_DIR / playbook).read_text() + "".join(
            p.read_text() for p in (PLAYBOOKS_DIR / "tasks").glob("*.yml"))
        for step in steps:
            assert f"- name: {step.tag} | " in text, f"{playbook} has no task for step {step.tag}"
