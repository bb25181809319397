"""``expect.survive`` as the runner judges it from an event log."""
from __future__ import annotations

import pytest

from harness import metrics as M
from harness.runner import check_metric, check_survive
from harness.scenario import MetricBound

from eventlogs import LogBuilder


def _judged(build, item):
    b = LogBuilder()
    build(b)
    b.session(100, 9, 1).sys(120, "handler_stop")   # the handler is connected at the end
    return check_survive(item, M.frame.events_frame(b.events), client_id=1, session=None)


def test_a_handshake_stall_named_on_the_connect_events_counts_as_occurred():
    def stalls(b):
        b.marked(1, "sys", "connect", "no_hello_reply", conn=1).marked(5, "sys", "connect", "no_hello_reply", conn=2)
    outcome = _judged(stalls, "no_hello_reply")
    assert outcome.passed and outcome.observed == 2


def test_a_fault_named_among_several_on_a_message_counts():
    outcome = _judged(lambda b: b.marked(3, "out", "historicalData", "base_latency, late_historical", conn=1),
                      "late_historical")
    assert outcome.observed == 1 and "occurred 1x" in outcome.detail


def test_a_name_is_matched_whole_not_as_part_of_another():
    outcome = _judged(lambda b: b.marked(3, "out", "currentTime", "spike_2,base_spike", conn=1), "spike")
    assert outcome.observed == 0 and outcome.detail == "did not occur"


def test_a_scheduled_faults_sys_event_counts_once():
    outcome = _judged(lambda b: b.marked(2, "sys", "fault", "daily_restart", name="daily_restart", phase="begin"),
                      "daily_restart")
    assert outcome.observed == 1


def test_a_per_message_fault_that_occurred_fails_when_the_handler_is_gone_at_the_end():
    b = LogBuilder()
    b.session(0, 1, 1).marked(3, "out", "currentTime", "spike", conn=1).disconnect(4, 1, "client closed")
    b.sys(120, "handler_stop")
    outcome = check_survive("spike", M.frame.events_frame(b.events), client_id=1, session=None)
    assert not outcome.passed and "not connected at the end" in outcome.detail


@pytest.mark.parametrize("item", ["no_hello_reply", "late_historical"])
def test_a_fault_that_never_acted_did_not_occur(item):
    outcome = _judged(lambda b: b.marked(3, "out", "currentTime", "data_latency", conn=1), item)
    assert outcome.passed and outcome.observed == 0


def test_pacing_violations_of_a_code_count_only_the_pacing_rules_errors():
    b = LogBuilder().session(0, 1, 7)
    b.error(1, 1, 162, "Historical Market Data Service error message:Historical data request pacing violation", 3)
    b.error(2, 1, 162, "Historical Market Data Service error message:HMDS query returned no data", 4)
    b.error(3, 1, 162, "Historical Market Data Service error message:API historical data query cancelled: 5", 5)
    outcome = check_metric("pacing_violations_162", MetricBound(max=0), {}, M.frame.events_frame(b.events))
    assert outcome.observed == 1 and not outcome.passed
