"""``prelive gateway`` and ``prelive demo`` as a user runs them: real processes, real clients."""
from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import time

import ib_insync
import pytest

from mock_gateway.eventlog import read_events

CLI = [sys.executable, "-m", "harness.cli"]


def _start(*args: str) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen(CLI + ["gateway", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    match = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
    if not match:
        proc.kill()
        pytest.fail(f"no listening line; stdout {line!r}, stderr {proc.stderr.read()!r}")
    return proc, int(match.group(1))


def test_gateway_command_serves_an_ib_insync_client_on_a_free_port(tmp_path):
    log = tmp_path / "events.jsonl"
    proc, port = _start("--port", "0", "--seed", "5", "--account", "DU111", "--account", "DU222",
                        "--event-log", str(log))
    try:
        ib = ib_insync.IB()
        ib.connect("127.0.0.1", port, clientId=3, timeout=5)
        accounts = ib.managedAccounts()
        ib.disconnect()
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(10)
    assert accounts == ["DU111", "DU222"] and code == 0
    events = read_events(log)
    assert events[0]["attrs"]["seed"] == 5 and events[-1]["msg"] == "run_end"


def test_gateway_command_takes_its_world_from_a_scenario():
    proc, port = _start("--port", "0", "--scenario", "scenarios/baseline.yaml", "--speed", "5")
    try:
        ib = ib_insync.IB()
        ib.connect("127.0.0.1", port, clientId=1, timeout=5)
        ib.disconnect()
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(10) == 0


def _invoke(*args: str):
    """The CLI in-process (the error paths return before anything would serve)."""
    from typer.testing import CliRunner

    from harness.cli import app

    return CliRunner().invoke(app, list(args))


def test_a_bad_scenario_is_reported_and_nothing_starts(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nduration_s: -5\nspeedd: 3\n")
    result = _invoke("gateway", "--port", "0", "--scenario", str(bad))
    assert result.exit_code == 1 and "listening" not in result.stdout
    assert "bad.yaml" in result.stderr


def test_a_port_in_use_is_a_clear_error():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = _invoke("gateway", "--port", str(taken.getsockname()[1]))
    assert result.exit_code == 1 and "cannot listen" in result.stderr and "--port" in result.stderr


@pytest.mark.parametrize("args,message", [(["--speed", "0"], "--speed must be > 0"),
                                          (["--max-server-version", "150"], "157..193")])
def test_bad_options_are_refused_before_starting(args, message):
    result = _invoke("gateway", "--port", "0", *args)
    assert result.exit_code == 2 and message in result.stderr


def test_demo_runs_a_whole_session_and_exits_zero():
    result = subprocess.run(CLI + ["demo"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Filled" in out and "Cancelled" in out and "NetLiquidation" in out and "done" in out


def test_the_seed_option_seeds_a_scenarios_faults_too(tmp_path):
    scenario = tmp_path / "random_drops.yaml"
    scenario.write_text("name: random_drops\ndescription: random drops\nseed: 7\nspeed: 1000\nduration_s: 60\n"
                        "faults:\n  - type: disconnect\n    schedule: {rate_per_min: 60, count: 4}\n")
    runs = {}
    for run, seed in (("a", "1"), ("b", "1"), ("c", "2")):
        log = tmp_path / f"{run}.jsonl"
        runs[run] = (_start("--port", "0", "--scenario", str(scenario), "--seed", seed, "--event-log", str(log)), log)
    time.sleep(0.5)   # 500 sim seconds: the four drops (about one a sim second) are long done
    drops = {}
    for run, ((proc, _), log) in runs.items():
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
        drops[run] = [e["sim"] for e in read_events(log) if e["msg"] == "fault"]
    assert len(drops["a"]) == 4
    assert drops["a"] == drops["b"]     # the same seed, the same draws
    assert drops["a"] != drops["c"]     # another seed, other draws (not the file's seed 7 for both)
