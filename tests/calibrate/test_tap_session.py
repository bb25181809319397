"""A handler trading through `prelive tap` in front of the mock: calibrate and diff read the tap's recording."""
from __future__ import annotations

import pytest

from harness.calibrate.latency import reply_latencies
from harness.calibrate.session import read_session
from harness.diff.answers import compare_sessions
from harness.diff.replay import replay_against_mock
from harness.scenario import load_scenario
from mock_gateway.protocol.kinds import ReplyKind

from .sessions import record_mock_session, write_scenario

ACK_MS = 120.0


@pytest.fixture(scope="module")
def tapped(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tap")
    truth = write_scenario(folder, {"seed": 3, "speed": 1, "duration_s": 600, "market": {"symbols": ["AAPL"]},
                                    "faults": [{"type": "latency", "name": "ack", "kinds": ["order_ack"],
                                                "distribution": {"kind": "fixed", "ms": ACK_MS}}]})
    return truth, record_mock_session(truth, folder / "tap.jsonl", rounds=8, speed=1.0, via_tap=True)


def test_the_tap_recording_is_measured_on_the_wall_clock_and_shows_the_injected_ack_latency(tapped):
    _, log = tapped
    events = read_session(log)
    assert {e["source"] for e in events} == {"tap"}
    samples = reply_latencies(events)
    acks = samples.samples_ms[ReplyKind.ORDER_ACK]
    assert samples.clock == "wall" and len(acks) == 8
    # a wall-clock measurement can only add (scheduling, the tap's hop), never take away
    assert min(acks) >= ACK_MS * 0.95 and sorted(acks)[len(acks) // 2] < ACK_MS + 100


def test_the_tap_recording_replayed_against_the_same_mock_is_answered_alike(tapped, tmp_path):
    truth, log = tapped
    events = read_session(log)
    report = compare_sessions(events, replay_against_mock(events, load_scenario(truth), tmp_path / "r.jsonl"))
    assert report.requests >= 24 and report.differences == [], report.differences[:5]
