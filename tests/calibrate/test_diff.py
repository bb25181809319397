"""``prelive diff``: a mock session against the same mock is alike; one changed behaviour is exactly that."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from harness.calibrate.session import read_session
from harness.cli import app
from harness.diff.answers import compare_sessions
from harness.diff.replay import replay_against_mock
from harness.scenario import load_scenario

from .sessions import record_mock_session, write_scenario

REPLAY_SPEED = 5.0   # the replay keeps the session's sim timing: 1 ms of wall jitter = 5 ms sim
BASE = {"seed": 7, "speed": 50, "duration_s": 3600, "market": {"symbols": ["AAPL", "IBM"]},
        "faults": [{"type": "latency", "name": "ack", "kinds": ["order_ack"],
                    "distribution": {"kind": "normal", "mean_ms": 60, "std_ms": 5}}]}
REJECT = {"type": "order_reject", "name": "margin", "probability": 1.0,
          "reason": "Your order is not accepted because your Equity with Loan Value is insufficient"}


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    folder = tmp_path_factory.mktemp("session")
    truth = write_scenario(folder, {**BASE, "faults": BASE["faults"] + [{**REJECT, "symbols": ["IBM"]}]})
    return truth, record_mock_session(truth, folder / "session.jsonl", rounds=12, speed=50.0)


def _diff(session_log, scenario_file, tmp_path):
    events = read_session(session_log)
    replayed = replay_against_mock(events, load_scenario(scenario_file), tmp_path / "replay.jsonl", speed=REPLAY_SPEED)
    return compare_sessions(events, replayed)


def test_a_mock_session_replayed_against_the_same_mock_differs_nowhere(session, tmp_path):
    truth, log = session
    report = _diff(log, truth, tmp_path)
    assert report.requests >= 36 and report.differences == [] and report.fidelity == 1.0


def test_a_changed_error_text_is_the_only_difference_reported(session, tmp_path):
    _, log = session
    changed = write_scenario(tmp_path, {**BASE, "faults": BASE["faults"] + [
        {**REJECT, "symbols": ["IBM"], "reason": "The contract is not available for short sale."}]}, "changed")
    report = _diff(log, changed, tmp_path)
    assert report.differences, "the changed reject reason went unnoticed"
    assert {(d.category, d.request) for d in report.differences} == {("error", "placeOrder")}
    assert all("error 201 text" in d.detail and "short sale" in d.detail for d in report.differences)
    assert report.alike == report.requests - len(report.differences)


def test_an_error_code_the_real_gateway_sent_but_the_mock_does_not_is_reported_on_those_orders(session, tmp_path):
    _, log = session
    changed = write_scenario(tmp_path, BASE, "no_rejects")   # IBM orders now fill instead of error 201
    report = _diff(log, changed, tmp_path)
    errors = [d for d in report.differences if d.category == "error"]
    assert len(errors) == 6   # every other order of 12 was IBM
    assert all(d.request == "placeOrder" and d.detail == "error codes [201] recorded, [] from the mock" for d in errors)
    # the filled IBM orders then show in the positions: consequences, on account requests only
    assert {d.request for d in report.differences} <= {"placeOrder", "reqPositions", "reqAccountUpdates"}


def test_a_suppressed_reply_is_reported_as_that_missing_message_only(session, tmp_path):
    truth, log = session
    body = {**BASE, "faults": BASE["faults"] + [{**REJECT, "symbols": ["IBM"]},
                                                {"type": "suppress_reply", "name": "no_end", "replies": ["positionEnd"]}]}
    report = _diff(log, write_scenario(tmp_path, body, "no_position_end"), tmp_path)
    assert report.differences
    assert {(d.category, d.request, d.detail) for d in report.differences} == \
        {("missing_message", "reqPositions", "the mock sent no positionEnd")}


def test_a_skipped_presubmitted_is_reported_as_a_different_order_status_sequence(session):
    _, log = session
    events = read_session(log)
    skipped = [e for e in events if not (e["msg"] == "orderStatus" and e["attrs"].get("status") == "PreSubmitted")]
    report = compare_sessions(events, skipped)
    assert report.differences
    assert {(d.category, d.request) for d in report.differences} == {("order_status", "placeOrder")}
    assert all(d.detail.startswith("order status PreSubmitted -> Filled recorded, Filled from the mock")
               for d in report.differences)


def test_the_diff_command_writes_json_markdown_and_a_table(session, tmp_path):
    truth, log = session
    result = CliRunner().invoke(app, ["diff", str(log), "--scenario", str(truth), "--out", str(tmp_path),
                                      "--speed", str(REPLAY_SPEED)])
    assert result.exit_code == 0, result.output
    assert "fidelity: " in result.output and "(100.0%)" in result.output
    data = json.loads((tmp_path / "FIDELITY_DIFF.json").read_text())
    assert data["fidelity"] == 1.0 and data["differences"] == [] and data["requests"] >= 36
    assert "**Fidelity: 100.0%**" in (tmp_path / "FIDELITY_DIFF.md").read_text()


def test_without_a_scenario_the_diff_replays_against_the_session_calibrated_on_the_fly(session, tmp_path):
    _, log = session
    result = CliRunner().invoke(app, ["diff", str(log), "--out", str(tmp_path), "--speed", str(REPLAY_SPEED)])
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "FIDELITY_DIFF.json").read_text())
    assert data["scenario"] == "calibrated from the session"
    # calibrate confines the 201s to IBM, as the session showed, so the same orders are rejected on replay
    assert not [d for d in data["differences"] if d["category"] == "error"], data["differences"][:5]
    assert data["fidelity"] >= 0.95, data["differences"][:5]
