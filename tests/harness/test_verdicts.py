"""Honest verdicts: PASS only when the faults acted, FAIL with its first cause, NOT EXERCISED, setup errors.

Real runs (gateway, handler process, event log) through the runner and the ``prelive run`` CLI.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.runner import RunOptions, run_scenario
from harness.scenario import ScenarioError, load_scenario

pytestmark = [pytest.mark.timeout(150)]

REPO = Path(__file__).resolve().parents[2]
HANDLERS = Path(__file__).resolve().parent / "handlers"


def _write(tmp_path: Path, body: str, name: str = "s") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(f"name: {name}\ndescription: verdict test\n" + body)
    return path


def _run(path: Path, tmp_path: Path, **options):
    return run_scenario(load_scenario(path), RunOptions(out_dir=tmp_path / "out", **options))


def prelive(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=120)


def test_a_fault_whose_requests_never_came_makes_the_run_not_exercised_and_says_why(tmp_path):
    path = _write(tmp_path, "speed: 30\nduration_s: 300\n"
                  f"handler:\n  command: [python, {HANDLERS / 'idle_ib.py'}]\n  grace_period_s: 2\n"
                  "faults:\n  - type: latency\n    name: slow_history\n    kinds: [historical_data]\n"
                  "    distribution: {kind: fixed, ms: 5000}\n    schedule: {from_s: 10, to_s: 290}\n")
    outcome = _run(path, tmp_path)
    assert outcome.verdict == "NOT EXERCISED" and outcome.exit_code == 3
    assert not outcome.failed
    [reason] = outcome.not_exercised
    assert "slow_history" in reason and "never acted" in reason and "request" in reason
    result = json.loads((outcome.run_dir / "RESULT.json").read_text())
    assert result["verdict"] == "NOT EXERCISED" and result["passed"] is False
    assert result["faults"][0]["acted"] == 0 and result["faults"][0]["why_not"]


def test_an_error_to_survive_that_never_happened_is_not_a_pass(tmp_path):
    path = _write(tmp_path, "speed: 30\nduration_s: 60\n"
                  f"handler:\n  command: [python, {HANDLERS / 'idle_ib.py'}]\n  grace_period_s: 2\n"
                  "expect:\n  survive: [1100]\n")
    outcome = _run(path, tmp_path)
    assert outcome.verdict == "NOT EXERCISED"
    assert any("survive 1100: did not occur" in r for r in outcome.not_exercised)


def test_a_rule_the_handler_kept_to_counts_as_exercised(tmp_path):
    # the message-rate rule saw the handler's requests; error 100 is bounded at 0, its absence is the point
    path = _write(tmp_path, "speed: 30\nduration_s: 300\n"
                  f"handler:\n  command: [python, {HANDLERS / 'idle_ib.py'}]\n  grace_period_s: 2\n"
                  "faults:\n  - type: message_rate\n    max_per_s: 50\n"
                  "expect:\n  survive: [100]\n  metrics:\n    pacing_violations_100: {max: 0}\n")
    outcome = _run(path, tmp_path)
    assert outcome.verdict == "PASS", (outcome.not_exercised, outcome.failed)


def test_a_fault_over_before_the_handler_connected_says_the_speed_left_no_time_to_start(tmp_path):
    path = _write(tmp_path, "speed: 200\nduration_s: 1200\n"
                  f"handler:\n  command: [python, {HANDLERS / 'idle_ib.py'}]\n  grace_period_s: 2\n"
                  "faults:\n  - type: disconnect\n    schedule: {at_s: 1}\n")
    outcome = _run(path, tmp_path)
    assert outcome.verdict == "NOT EXERCISED"
    [fault] = outcome.faults
    assert "before the handler first connected" in fault.why_not and "lower --speed" in fault.why_not


def test_a_handler_that_exits_at_once_fails_with_its_exit_time_relative_to_the_first_fault_and_its_stderr(tmp_path):
    path = _write(tmp_path, "speed: 30\nduration_s: 300\n"
                  f"handler:\n  command: [python, -c, 'import sys; sys.exit(\"boom: no config file\")']\n"
                  "faults:\n  - type: disconnect\n    schedule: {at_s: 120}\n"
                  "expect:\n  survive: [disconnect]\n")
    outcome = _run(path, tmp_path)
    assert outcome.verdict == "FAIL" and outcome.exit_code == 1
    assert "exited at" in outcome.cause and "before the first fault (120 s)" in outcome.cause
    assert "boom: no config file" in outcome.cause
    assert "never connected" in outcome.cause
    assert any("exited before" in f.why_not or "exited at" in f.why_not for f in outcome.faults)


def test_a_handler_hard_wired_to_another_port_is_told_it_never_connected_and_where_it_should_have(tmp_path):
    path = _write(tmp_path, "speed: 30\nduration_s: 120\n"
                  f"handler:\n  command: [python, {HANDLERS / 'fixed_port.py'}]\n")
    outcome = _run(path, tmp_path)
    assert outcome.verdict == "FAIL"
    assert f"never connected to the gateway on port {outcome.session.handler_port}" in outcome.cause
    assert "cannot connect to 127.0.0.1:1" in outcome.cause


def test_a_contract_outside_the_scenarios_universe_is_named_as_the_first_cause():
    # gateway_restart trades FX only; a bot hard-wired to AAPL gets error 200 and gives up
    outcome = run_scenario(load_scenario("gateway_restart"),
                           RunOptions(out_dir=Path(__import__("tempfile").mkdtemp()),
                                      handler=f"python {HANDLERS / 'wrong_symbol.py'}", duration_s=400))
    assert outcome.verdict == "FAIL"
    assert "200" in outcome.cause and "outside the scenario's universe" in outcome.cause
    assert "--symbols" in outcome.cause
    assert "before the first fault" in outcome.cause


def test_symbols_adapt_a_shipped_scenario_to_the_users_instruments():
    scenario = load_scenario("gateway_restart", {"market.symbols": "[AAPL, MSFT]"})
    assert scenario.market.symbols == ["AAPL", "MSFT"]
    assert load_scenario("gateway_restart").market.symbols == ["EUR.USD", "GBP.USD"]


def test_set_reaches_nested_fields_and_is_validated_like_the_file():
    scenario = load_scenario("pacing_storm", {"seed": "9", "faults.0.max_per_s": "40", "handler.env.X": "1"})
    assert scenario.seed == 9 and scenario.faults[0].max_per_s == 40 and scenario.handler.env["X"] == "1"
    with pytest.raises(ScenarioError) as err:
        load_scenario("pacing_storm", {"faults.7.max_per_s": "40"})
    assert "--set faults.7.max_per_s" in str(err.value)
    with pytest.raises(ScenarioError):
        load_scenario("pacing_storm", {"speed": "-3"})


def test_the_cli_exit_code_says_not_exercised_and_the_console_names_the_fault(tmp_path):
    path = _write(tmp_path, "speed: 30\nduration_s: 300\n"     # 10 s: time to connect on a busy machine
                  f"handler:\n  command: [python, {HANDLERS / 'idle_ib.py'}]\n  grace_period_s: 2\n"
                  "faults:\n  - type: order_reject\n    probability: 1.0\n")
    proc = prelive("run", str(path), "--out", str(tmp_path / "out"))
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "NOT EXERCISED" in proc.stdout and "order_reject" in proc.stdout and "placeOrder" in proc.stdout


def test_the_cli_exit_code_for_a_handler_that_cannot_start_is_a_setup_error(tmp_path):
    proc = prelive("run", "baseline", "--duration", "10", "--handler", "/no/such/handler --flag",
                   "--out", str(tmp_path))
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert "setup error" in proc.stdout and "/no/such/handler" in proc.stdout


def test_a_bad_set_is_a_usage_error(tmp_path):
    proc = prelive("run", "baseline", "--set", "novalue", "--out", str(tmp_path))
    assert proc.returncode == 2 and "KEY=VALUE" in proc.stderr


def test_run_help_documents_the_exit_codes():
    proc = prelive("run", "--help")
    text = " ".join(proc.stdout.split())
    for needle in ("0 every scenario PASSED", "1 an expectation FAILED", "3 NOT EXERCISED", "4 setup error"):
        assert needle in text
