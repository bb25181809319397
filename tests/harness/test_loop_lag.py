"""Compressed time does not punish the handler for the machine's delays.

At speed S a stall of the gateway's event loop of L real seconds is L*S simulated seconds of silence.
The gateway measures it (``loop_lag`` events, real and simulated); a handler failure right after a
stall longer than a real gateway's silence is an ERROR naming the lag, not a FAIL; the pacing rule's
tolerance for bunched arrivals grows with the speed.
"""
from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import simpy

from harness import metrics as M
from harness.expectations import LAG_BUDGET_SIM_S, HandlerEnd, machine_lag_cause
from harness.runner import RunOptions, run_scenario
from harness.scenario import load_scenario
from mock_gateway.config import GatewayConfig
from mock_gateway.faults.pacing import MessageRate
from mock_gateway.server import Gateway, GatewayThread
from eventlogs import LogBuilder

pytestmark = [pytest.mark.timeout(120)]


def _events(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


# ---------------------------------------------------------------------------- measuring
def test_a_stalled_gateway_loop_is_logged_as_loop_lag_in_real_and_simulated_seconds(tmp_path):
    log = tmp_path / "events.jsonl"
    with GatewayThread(GatewayConfig(port=0, speed=100.0, event_log=log)) as gw:
        time.sleep(0.2)
        gw.loop.call_soon_threadsafe(time.sleep, 0.3)   # the machine stalls the loop for 300 ms
        time.sleep(0.6)
    events = _events(log)
    lags = [e["attrs"] for e in events if e["msg"] == "loop_lag"]
    worst = max(lags, key=lambda a: a["lag_ms"])
    assert worst["lag_ms"] >= 250 and worst["speed"] == 100.0
    assert worst["lag_sim_s"] == pytest.approx(worst["lag_ms"] / 1000 * 100, rel=1e-3)
    assert 10 <= worst["from_sim_s"] <= 40    # the stall began about 0.2 s real = 20 s sim in
    [end] = [e for e in events if e["msg"] == "run_end"]
    assert end["attrs"]["loop_lag"]["max_lag_ms"] >= 250 and end["attrs"]["loop_lag"]["wakeups"] > 5


def test_a_gateway_that_is_never_stalled_logs_no_loop_lag_at_speed_1(tmp_path):
    # at speed 1 a few ms of scheduling delay are a few ms of simulated time: nothing to report
    log = tmp_path / "events.jsonl"
    with GatewayThread(GatewayConfig(port=0, speed=1.0, event_log=log)):
        time.sleep(0.5)
    assert not [e for e in _events(log) if e["msg"] == "loop_lag" and e["attrs"]["lag_sim_s"] < 0.25]


# ---------------------------------------------------------------------------- judging
#: A handler that asks the gateway's time every second (of its clock) and gives up (exit 1) when an
#: answer takes more than PATIENCE_S: on the scenario's clock 3 s are 300 ms of real time at speed 10.
PATIENT = """\
import asyncio, os, sys
from ib_insync import IB
ib = IB()
ib.connect(os.environ["IB_HOST"], int(os.environ["IB_PORT"]), clientId=int(os.environ["IB_CLIENT_ID"]), timeout=60)
print("connected", flush=True)
while True:
    try:
        ib.run(asyncio.wait_for(ib.reqCurrentTimeAsync(), float(os.environ["PATIENCE_S"])))
    except asyncio.TimeoutError:
        print("the gateway did not answer in time: giving up", flush=True)
        sys.exit(1)
    ib.sleep(float(os.environ.get("INTERVAL_S", "1")))
"""


def _patient_scenario(tmp_path: Path, patience_s: float = 3.0, interval_s: float = 1.0) -> Path:
    handler = tmp_path / "patient.py"
    handler.write_text(PATIENT)
    path = tmp_path / "lagged.yaml"
    path.write_text("name: lagged\ndescription: loop lag test\nspeed: 10\nduration_s: 150\n"
                    f"handler:\n  command: [{sys.executable}, {handler}]\n  grace_period_s: 2\n"
                    f"  env:\n    PATIENCE_S: '{patience_s:g}'\n    INTERVAL_S: '{interval_s:g}'\n")
    return path


def _stall_after_connect(monkeypatch, stall_real_s: float) -> None:
    """The machine stalls the gateway's loop for ``stall_real_s`` once the handler is connected (a test
    stand-in for a busy machine: everything else is the real gateway, handler and runner)."""
    started = Gateway.start

    async def start_then_stall(self):
        gw = await started(self)

        async def stall_once_connected():
            while not self.ready_sessions():
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)
            time.sleep(stall_real_s)
        self.loop.create_task(stall_once_connected())
        return gw

    monkeypatch.setattr(Gateway, "start", start_then_stall)


def test_a_handler_failure_right_after_the_machine_stalled_the_gateway_is_an_error_naming_the_lag(
        tmp_path, monkeypatch):
    _stall_after_connect(monkeypatch, 0.6)   # 600 ms real at speed 10: 6 s of silence, the handler waits 3
    outcome = run_scenario(load_scenario(_patient_scenario(tmp_path)), RunOptions(out_dir=tmp_path / "out"))
    assert outcome.verdict == "ERROR" and outcome.exit_code == 4, (outcome.verdict, outcome.cause)
    assert "this machine cannot run speed 10" in outcome.cause and "lower --speed" in outcome.cause
    assert "ms real" in outcome.cause and "s simulated" in outcome.cause
    assert "exited" in outcome.cause      # what failed is still said
    result = json.loads((outcome.run_dir / "RESULT.json").read_text())
    assert result["verdict"] == "ERROR" and result["clock"]["loop_lag"]["max_lag_ms"] >= 500


def test_a_stall_within_the_handlers_patience_leaves_a_pass(tmp_path, monkeypatch):
    _stall_after_connect(monkeypatch, 0.1)   # 1 s of silence: the handler waits 3
    outcome = run_scenario(load_scenario(_patient_scenario(tmp_path)), RunOptions(out_dir=tmp_path / "out"))
    assert outcome.verdict in ("PASS", "NOT EXERCISED"), (outcome.verdict, outcome.cause)
    assert not outcome.failed


def _scenario_stub(tmp_path: Path):
    path = tmp_path / "s.yaml"
    path.write_text("name: s\ndescription: judge test\nspeed: 100\nduration_s: 3600\n")
    return load_scenario(path)


def _log_with(lag_at_s: float, lag_ms: float, speed: float, exit_at_s: float, error_at_s: float | None = None):
    b = LogBuilder()
    b.sys(0.0, "run_start", speed=speed)
    b.session(1.0, 1, 1)
    if error_at_s is not None:
        b.out(error_at_s, 1, "error", req_id=3, code=200, text="No security definition has been found")
    b.sys(lag_at_s + lag_ms / 1000 * speed, "loop_lag", lag_ms=lag_ms, lag_sim_s=lag_ms / 1000 * speed,
          speed=speed, from_sim_s=lag_at_s, late_wakeups=1)
    b.sys(exit_at_s, "handler_stop", exited_early=True)
    return M.events_frame(b.events), HandlerEnd(exited_early=True, exit_code=1, exited_at_sim_s=exit_at_s)


def test_a_stall_long_before_the_failure_leaves_the_failure_to_the_handler(tmp_path):
    df, end = _log_with(lag_at_s=100.0, lag_ms=100.0, speed=100.0, exit_at_s=3000.0)
    assert machine_lag_cause(_scenario_stub(tmp_path), df, end) is None


def test_a_stall_within_what_a_real_gateway_may_take_blames_nobody_but_the_handler(tmp_path):
    ms = LAG_BUDGET_SIM_S / 100.0 * 1000 * 0.9    # just under the budget at speed 100
    df, end = _log_with(lag_at_s=100.0, lag_ms=ms, speed=100.0, exit_at_s=101.0)
    assert machine_lag_cause(_scenario_stub(tmp_path), df, end) is None


def test_a_stall_beyond_the_budget_just_before_the_failure_is_the_machines(tmp_path):
    df, end = _log_with(lag_at_s=100.0, lag_ms=50.0, speed=100.0, exit_at_s=110.0)
    cause = machine_lag_cause(_scenario_stub(tmp_path), df, end)
    assert cause is not None and "50 ms real = 5.0 s simulated at 100.0 s" in cause
    assert "10.0 s before the handler's first failure at 110.0 s" in cause


# ---------------------------------------------------------------------------- pacing tolerance
def _installed(fault: MessageRate, speed: float) -> MessageRate:
    fault.install(SimpleNamespace(env=simpy.Environment(), clock=SimpleNamespace(speed=speed)))
    return fault


def _send(fault: MessageRate, n: int, now: float):
    session = SimpleNamespace(conn_id=1, client_id=1, server_version=176, market_data_lines=0)
    request = SimpleNamespace(name="reqIds", req_id=None, attrs={})
    return [fault.on_request(session, request, now) for _ in range(n)]


def test_the_pacing_tolerance_for_bunched_arrivals_scales_with_the_speed():
    # a self-pacing client's next 45 arrive 0.85 sim s after the last 45: at speed 60 that is 2.5 ms real
    # of bunching, machine jitter; at speed 1 it is 150 ms early, a real burst
    assert _send(_installed(MessageRate(), 60.0), 45, 0.0) == [None] * 45
    fast = _installed(MessageRate(), 60.0)
    _send(fast, 45, 0.0)
    assert _send(fast, 45, 0.85) == [None] * 45
    slow = _installed(MessageRate(), 1.0)
    _send(slow, 45, 0.0)
    assert _send(slow, 45, 0.85)[-1] is not None


def test_the_pacing_tolerance_never_exceeds_half_the_window():
    fault = _installed(MessageRate(), 10_000.0)
    assert fault.tolerance_s() == pytest.approx(0.5)
    _send(fault, 45, 0.0)
    assert _send(fault, 45, 0.4)[-1] is not None    # 90 within 0.4 s is a burst at any speed


def test_the_pacing_tolerance_at_speed_1_is_the_networks_jitter():
    assert _installed(MessageRate(jitter_s=0.02), 1.0).tolerance_s() == pytest.approx(0.02)


def test_an_error_answering_the_handlers_own_request_first_keeps_the_failure_the_handlers(tmp_path):
    df, end = _log_with(lag_at_s=100.0, lag_ms=50.0, speed=100.0, exit_at_s=110.0, error_at_s=20.0)
    assert machine_lag_cause(_scenario_stub(tmp_path), df, end) is None


def test_a_failure_a_stall_cannot_cause_stays_the_handlers(tmp_path):
    # a metric bound crossed (orders stacked), no disconnect, no pacing error, no early exit
    b = LogBuilder()
    b.sys(0.0, "run_start", speed=100.0)
    b.session(1.0, 1, 1)
    b.sys(101.0, "loop_lag", lag_ms=50.0, lag_sim_s=5.0, speed=100.0, from_sim_s=100.0, late_wakeups=1)
    assert machine_lag_cause(_scenario_stub(tmp_path), M.events_frame(b.events), HandlerEnd()) is None


def test_on_the_real_clock_a_stall_is_not_magnified_and_the_failure_stays_a_fail(tmp_path, monkeypatch):
    # the handler's own 300 ms real patience, on the real clock: a 600 ms stall is 600 ms to it as well
    _stall_after_connect(monkeypatch, 0.6)
    outcome = run_scenario(load_scenario(_patient_scenario(tmp_path, patience_s=0.3, interval_s=0.05)),
                           RunOptions(out_dir=tmp_path / "out", real_clock=True))
    assert outcome.verdict == "FAIL", (outcome.verdict, outcome.cause)
    assert "exited" in outcome.cause


# ---------------------------------------------------------------------------- the handler's share of the blame
def test_a_handler_that_mostly_waited_for_a_cpu_is_told_the_machine_was_busy():
    from harness.session import ClockReport
    waited = ClockReport("faketime", 120.0, cpu_s=3.3, runqueue_wait_s=6.7, wall_s=10.0, sim_s=1200.0).warning
    assert waited and "waiting for a CPU" in waited and "33% computing" in waited and "quieter machine" in waited
    computed = ClockReport("faketime", 120.0, cpu_s=8.0, runqueue_wait_s=2.0, wall_s=10.0, sim_s=1200.0).warning
    assert computed and "each of its computations" in computed and "waiting for a CPU" not in computed


def test_a_disconnect_the_scenario_made_is_not_a_failure_a_stall_caused(tmp_path):
    b = LogBuilder()
    b.sys(0.0, "run_start", speed=100.0)
    b.session(1.0, 1, 1)
    b.sys(101.0, "loop_lag", lag_ms=50.0, lag_sim_s=5.0, speed=100.0, from_sim_s=100.0, late_wakeups=1)
    b.sys(110.0, "disconnect", 1, reason="fault:disconnect")
    assert machine_lag_cause(_scenario_stub(tmp_path), M.events_frame(b.events), HandlerEnd()) is None
    b.sys(112.0, "disconnect", 1, reason="client closed the connection")   # the handler gave up on a silent gateway
    assert "this machine cannot run speed 100" in machine_lag_cause(_scenario_stub(tmp_path),
                                                                     M.events_frame(b.events), HandlerEnd())


def test_a_system_message_before_the_stall_does_not_make_the_failure_the_handlers(tmp_path):
    # connectivity_loss_1100 on a loaded machine: 1100 (reqId -1) at 120 s, a 240 ms stall at speed 30
    # (7 s simulated) at 181 s, the handler's 4 s heartbeat gives up, the gateway sees a broken pipe
    b = LogBuilder()
    b.sys(0.0, "run_start", speed=30.0)
    b.session(25.0, 1, 1)
    b.out(120.0, 1, "error", req_id=-1, code=1100, text="Connectivity between IBKR and Trader Workstation has been lost.")
    b.sys(189.0, "loop_lag", lag_ms=241.7, lag_sim_s=7.25, speed=30.0, from_sim_s=181.1, late_wakeups=1)
    b.sys(188.3, "disconnect", 1, reason="connection lost: [Errno 32] Broken pipe")
    cause = machine_lag_cause(_scenario_stub(tmp_path), M.events_frame(b.events), HandlerEnd())
    assert cause is not None and "242 ms real = 7.2 s simulated at 181.1 s" in cause
