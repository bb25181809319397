"""Anomalies and risks the report derives from what failed, what is missing and what the evidence shows."""
from __future__ import annotations

import pytest
from evidence_kit import EvidenceKit

from harness.gates.session import summarize_frame
from harness.metrics.frame import events_frame

RISKS = [
    ("a critical failure", lambda k: k.set_metric("fill_rate_pct", 90), "critical", "fill_rate_pct > 98 %"),
    ("a non-critical failure within the margin", lambda k: k.write("coverage.xml", '<coverage line-rate="0.78"/>'),
     "medium", "test coverage (line rate) >= 80 %: observed 78"),
    ("a non-critical failure beyond the margin", lambda k: k.write("coverage.xml", '<coverage line-rate="0.5"/>'),
     "high", "test coverage (line rate) >= 80 %: observed 50"),
    ("missing evidence", lambda k: k.remove("junit-unit.xml"), "medium", "outstanding: unit tests run"),
    ("latency in sim time at high speed", lambda k: k.edit_json("PAPER_TRADING_LOG.json", speed=360.0),
     "low", "sim time at speed 360"),
    ("a losing backtest", lambda k: k.set_metric("sharpe_backtest", -0.2), "high", "backtest Sharpe ratio is -0.2"),
    ("the producer's verdict disagrees with the gate",
     lambda k: k.write("PAPER_TRADING_METRICS.csv", k.path("PAPER_TRADING_METRICS.csv").read_text().replace(
         "fill_rate_pct,99.2,%,> 98,true", "fill_rate_pct,99.2,%,> 99.5,false")),
     "low", "fill_rate_pct: the producer marked pass=false"),
    ("a probe of the mock gateway", lambda k: k.edit_json("ACCOUNT_CONFIG.json", gateway={"kind": "mock"}),
     "medium", "account probe ran against the mock gateway"),
    ("a drill against the mock stack", lambda k: k.edit_json("ROLLBACK_DRILL.json", target="mock"),
     "low", "rollback drill ran against the mock stack"),
    ("an event log that is not there", lambda k: k.remove("session.jsonl"), "high",
     "event log session.jsonl named by PAPER_TRADING_LOG.json was not found"),
    ("a paper session against the mock", lambda k: k.edit_json("PAPER_TRADING_LOG.json", gateway={"kind": "mock"}),
     "medium", "paper session ran against the mock gateway"),
]


@pytest.mark.parametrize(("edit", "severity", "text"), [r[1:] for r in RISKS], ids=[r[0] for r in RISKS])
def test_anomaly(kit: EvidenceKit, edit, severity, text):
    edit(kit)
    found = [(a.severity, a.text) for a in kit.verify().anomalies]
    assert any(s == severity and text in t for s, t in found), found


def test_the_example_evidence_has_no_anomalies_but_the_missing_signatures(kit: EvidenceKit):
    assert {a.gate for a in kit.verify().anomalies} == {"GATE_8"}


def test_anomalies_are_ordered_most_severe_first(kit: EvidenceKit):
    kit.set_metric("fill_rate_pct", 90)
    kit.edit_json("ROLLBACK_DRILL.json", target="mock")
    severities = [a.severity for a in kit.verify().anomalies]
    assert severities == sorted(severities, key=["critical", "high", "medium", "low"].index)


def _event(seq, sim, dir, msg, conn=1, **attrs):
    return {"seq": seq, "wall": 1000.0 + sim, "sim": sim, "source": "mock", "conn": conn, "client_id": 1,
            "dir": dir, "msg": msg, "msg_id": None, "fields": [], "attrs": attrs, "fault": None}


def test_a_session_yields_pacing_errors_and_disconnects_on_a_time_axis_from_its_start():
    events = [
        _event(0, 5.0, "sys", "run_start", conn=None),
        _event(1, 5.1, "out", "nextValidId", order_id=1),
        _event(2, 6.0, "in", "placeOrder", order_id=1),
        _event(3, 6.08, "out", "openOrder", order_id=1),
        _event(4, 7.0, "out", "error", code=100, text="Max rate of messages per second has been exceeded."),
        _event(5, 8.0, "out", "error", code=162, text="HMDS query returned no data"),
        _event(6, 9.0, "out", "error", code=162, text="Historical data request pacing violation"),
        _event(7, 10.0, "sys", "disconnect", reason="gateway restart"),
        _event(8, 20.0, "sys", "run_end", conn=None),
    ]
    series = summarize_frame(events_frame(events))
    assert [(i.t_s, i.kind) for i in series.incidents] == [(2.0, "pacing"), (4.0, "pacing"), (5.0, "disconnect")]
    assert series.ack_latencies_ms == pytest.approx((80.0,))
    assert series.requests_seen == {"placeOrder"}
    assert series.duration_s == 15.0
