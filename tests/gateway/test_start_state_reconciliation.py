"""restart_with_positions: a handler starting against an account that is not flat finds its positions,
the resting GTC order and the day's fills, at start-up and again after the gateway restarts.
Run through the real runner with the reference handler and with a plain ib_insync script."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from harness.runner import RunOptions, run_scenario
from harness.scenario import load_scenario

pytestmark = [pytest.mark.timeout(180), pytest.mark.slow]

SCRIPT = Path(__file__).with_name("reconcile_script.py")


def _run(tmp_path, handler: str | None):
    scenario = load_scenario("restart_with_positions")
    return run_scenario(scenario, RunOptions(out_dir=tmp_path, handler=handler, speed=30.0, duration_s=600.0,
                                             baseline=False))


def test_a_plain_ib_insync_script_reconciles_positions_orders_and_fills_across_the_restart(tmp_path):
    outcome = _run(tmp_path, f"{sys.executable} {SCRIPT}")
    assert outcome.error is None, outcome.error
    lines = [json.loads(x) for x in outcome.session.handler_log.read_text().splitlines()
             if x.startswith("{") and '"reconcile"' in x]
    assert len(lines) >= 2, "a snapshot at start-up and one after the restart"
    for snap in (lines[0], lines[-1]):
        assert snap["positions"] == {"AAPL": [300.0, 221.35], "MSFT": [120.0, 410.12], "IBM": [-50.0, 224.8]}
        assert snap["open_orders"] == [["AAPL", "SELL", 100.0, "LMT", 400.0, "GTC", "yesterday-take-profit",
                                        "Submitted"]]
        assert sorted(map(tuple, snap["fills"])) == [("AAPL", "BOT", 100.0), ("MSFT", "BOT", 20.0)]
        assert set(snap["cash"]) == {"BASE", "USD", "EUR", "GBP"} and snap["cash"]["GBP"] == "-5000.00"
    assert outcome.metrics["unrecovered_disconnects"] == 0


def test_the_reference_handler_adopts_the_positions_and_leaves_the_gtc_order_working(tmp_path):
    outcome = _run(tmp_path, None)
    assert outcome.error is None, outcome.error
    log = outcome.session.handler_log.read_text()
    assert "start-up: positions {'AAPL': 300.0, 'MSFT': 120.0, 'IBM': -50.0}" in log, log[-3000:]
    assert "1 working orders [('AAPL', 'SELL', 100.0, 'LMT', 'GTC', 'yesterday-take-profit')]" in log
    summary = json.loads([x for x in log.splitlines() if x.startswith('{"event": "summary"')][-1])
    assert summary["positions_at_start"] == 3 and summary["open_orders_at_start"] == 1
    assert summary["executions_at_start"] == 2
    assert summary["connects"] >= 2, "reconnected after the restart"
    events = [json.loads(x) for x in outcome.session.event_log.read_text().splitlines()]
    assert not [e for e in events if e["dir"] == "in" and e["msg"] in ("cancelOrder", "reqGlobalCancel")]
    assert outcome.metrics["duplicate_orders"] == 0 and outcome.metrics["unrecovered_disconnects"] == 0


def test_the_reference_handler_waits_out_the_sunday_login_and_carries_on(tmp_path):
    scenario = load_scenario("weekly_reauth")
    outcome = run_scenario(scenario, RunOptions(out_dir=tmp_path, speed=60.0, baseline=False))
    assert outcome.error is None, outcome.error
    events = [json.loads(x) for x in outcome.session.event_log.read_text().splitlines()]
    reauth = [e for e in events if e["dir"] == "sys" and e["msg"] == "fault" and e["attrs"].get("phase") ==
              "reauth_required"]
    assert reauth, "the Sunday restart asked for a login"
    down_at = reauth[0]["sim"]
    handshakes = [e["sim"] for e in events if e["dir"] == "sys" and e["msg"] == "handshake"]
    assert not [t for t in handshakes if down_at <= t < down_at + 600], "nobody got in before the login"
    assert [t for t in handshakes if t >= down_at + 600], "the handler connected again once the login came"
    log = outcome.session.handler_log.read_text()
    summary = json.loads([x for x in log.splitlines() if x.startswith('{"event": "summary"')][-1])
    assert summary["connect_failures"] >= 2 and summary["connects"] == 2
    assert outcome.passed, [(e.name, e.detail) for e in outcome.failed]
