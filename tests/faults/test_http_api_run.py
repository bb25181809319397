"""A scenario file's ``control_api:`` during ``prelive run``: the run's gateway serves the fault API at that
address (a handler or test in any language adds faults to the running session), its fault-free baseline,
which runs alongside, does not ask for the same port."""
from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

from harness.runner import RunOptions, run_scenario
from harness.scenario import load_scenario
from mock_gateway.eventlog import read_events

pytestmark = [pytest.mark.timeout(180)]

#: A handler that, as a test written in another language would, adds a fault to its own run over HTTP.
HANDLER = """\
import os, sys, time
from mock_gateway.faults.http_client import ControlClient, ControlUnreachable
client = ControlClient(os.environ["CONTROL_URL"])
for _ in range(100):
    try:
        client.add("order_reject", name="from-the-handler", reason="added over HTTP")
        break
    except ControlUnreachable:
        time.sleep(0.1)
print("added", flush=True)
time.sleep(3600)
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_runs_gateway_serves_the_fault_api_from_the_scenario_and_its_baseline_does_not(tmp_path):
    port = _free_port()
    handler = tmp_path / "adds_a_fault.py"
    handler.write_text(HANDLER)
    path = tmp_path / "controlled.yaml"
    path.write_text(f"name: controlled\ndescription: faults added over HTTP during the run\nspeed: 20\n"
                    f"duration_s: 120\ncontrol_api: 127.0.0.1:{port}\nhandler:\n"
                    f"  command: [{sys.executable}, {handler}]\n  grace_period_s: 2\n"
                    f"  env: {{CONTROL_URL: 'http://127.0.0.1:{port}'}}\n")
    outcome = run_scenario(load_scenario(path), RunOptions(out_dir=tmp_path / "out", baseline=True))
    assert outcome.error is None and outcome.session is not None and outcome.baseline is not None, outcome.error
    events = read_events(outcome.session.event_log)
    [served] = [e for e in events if e["msg"] == "control_api"]
    assert served["attrs"]["url"] == f"http://127.0.0.1:{port}"
    added = [e for e in events if e["msg"] == "fault_added" and e["attrs"]["name"] == "from-the-handler"]
    assert added and added[0]["attrs"]["by"].startswith("127.0.0.1:")
    assert not [e for e in read_events(outcome.baseline.event_log) if e["msg"] == "control_api"]
    assert "from-the-handler" in {f.name for f in outcome.faults}   # accounted for as a runtime fault
