"""What a session showed besides latency becomes faults: outages with their timing, disconnects, reject rates."""
from __future__ import annotations

import pytest

from harness.calibrate.patterns import find_patterns
from harness.calibrate.scenario_writer import calibrate_events

T0 = 1764599400.0   # 2025-12-01T14:30:00Z


def _e(t, dir, msg, conn=1, **attrs):
    return {"seq": 0, "wall": T0 + t, "sim": None, "source": "tap", "conn": conn, "client_id": 1, "dir": dir,
            "msg": msg, "msg_id": None, "fields": [], "attrs": attrs, "fault": None}


def _err(t, code, text="", req_id=-1, conn=1):
    return _e(t, "out", "error", conn, req_id=req_id, code=code, text=text)


def _order(t, oid, symbol="AAPL"):
    return {**_e(t, "in", "placeOrder", order_id=oid, symbol=symbol), "msg_id": 3}


TAP_SESSION = [
    _e(0, "sys", "run_start"), _e(0.1, "sys", "connect"), _e(0.2, "sys", "handshake", server_version=176),
    _e(0.3, "out", "managedAccounts", accounts="DU7654321"),
    *[ev for i in range(10) for ev in (_order(10 + i, 100 + i), _e(10.05 + i, "out", "orderStatus", order_id=100 + i,
                                                                      status="Submitted"))],
    _err(30, 201, "Order rejected - reason:Insufficient margin", req_id=200), _order(29.9, 200),
    _err(60, 1100, "Connectivity between IB and Trader Workstation has been lost."),
    _err(75, 1102, "Connectivity between IB and Trader Workstation has been restored - data maintained."),
    _err(100, 2105, "HMDS data farm connection is broken:ushmds"), _err(130, 2106, "HMDS data farm connection is OK:ushmds"),
    _e(200, "sys", "disconnect", by="gateway", reason="upstream closed"),
    _e(212, "sys", "connect", conn=2), _e(212.5, "sys", "handshake", conn=2, server_version=176),
    _e(300, "sys", "disconnect", conn=2, by="client", reason="client closed"),
]
TAP_SESSION.sort(key=lambda e: e["wall"])


def test_outages_keep_their_start_and_length_and_the_client_reconnect_is_timed():
    p = find_patterns(TAP_SESSION)
    assert [(o.at_s, o.duration_s) for o in p.connectivity] == [(60, 15)]
    assert [(o.what, o.at_s, o.duration_s) for o in p.farms] == [("hmds", 100, 30)]
    assert [(o.at_s, o.duration_s) for o in p.disconnects] == [(200, 12.5)]   # the client's own close is not one
    assert p.accounts == ["DU7654321"] and p.symbols == ["AAPL"] and p.start.isoformat() == "2025-12-01T14:30:00+00:00"


def test_an_order_reject_becomes_an_order_reject_fault_at_the_observed_rate():
    cal = calibrate_events(TAP_SESSION, "paper")
    faults = {f["name"]: f for f in cal.scenario["faults"]}
    assert faults["order_reject_201"]["probability"] == pytest.approx(1 / 11)
    assert faults["order_reject_201"]["reason"] == "Insufficient margin"
    assert faults["connectivity_loss_1"]["schedule"] == {"at_s": 60, "duration_s": 15}
    assert faults["farm_hmds_1"]["farm"] == "hmds" and faults["farm_hmds_1"]["schedule"] == {"at_s": 100, "duration_s": 30}
    assert faults["disconnect_1"]["schedule"] == {"at_s": 200}
    assert cal.scenario["accounts"] == [{"id": "DU7654321"}] and cal.scenario["start"] == "2025-12-01T14:30:00Z"
    assert any("latency order_ack: 10 samples" in line for line in cal.inferred)


def test_what_could_not_be_inferred_is_said():
    cal = calibrate_events(TAP_SESSION, "paper")
    text = "\n".join(cal.not_inferred)
    assert "latency contract_data: 0 request/reply pair(s)" in text and "account cash" in text


def test_a_reject_confined_to_one_symbol_and_side_is_scoped_to_them():
    from harness.calibrate.scenario_writer import reject_scope

    events = []
    for i, (symbol, action) in enumerate([("IBM", "SELL"), ("IBM", "BUY"), ("AAPL", "SELL"), ("IBM", "SELL")] * 3):
        events.append({**_e(i, "in", "placeOrder", order_id=i, symbol=symbol, action=action), "msg_id": 3})
        if (symbol, action) == ("IBM", "SELL"):
            events.append(_err(i + 0.1, 201, "Order rejected - reason:not available for short sale", req_id=i))
    assert reject_scope(events) == {"symbols": ["IBM"], "actions": ["SELL"], "probability": 1.0}
