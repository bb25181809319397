import pytest

from mock_gateway.faults.hist_pacing import HistoricalPacing, RealTimeBarsPacing, bar_size_seconds
from mock_gateway.protocol.requests import decode_request

from fault_fakes import FakeSession, hist_request, rt_bars_request

TEXT_162 = "Historical Market Data Service error message:Historical data request pacing violation"


def ask(fault, fields, now):
    return fault.on_request(FakeSession(), fields, now)


def test_an_identical_request_within_15_s_gets_162():
    fault = HistoricalPacing()
    assert ask(fault, hist_request(1), 0) is None
    verdict = ask(fault, hist_request(2), 14.9)
    assert verdict.errors == [(2, 162, TEXT_162)] and verdict.drop
    assert verdict.fault == "historical_pacing:identical"


def test_an_identical_request_after_15_s_passes():
    fault = HistoricalPacing()
    ask(fault, hist_request(1), 0)
    assert ask(fault, hist_request(2), 15.0) is None


def test_the_sixth_request_for_one_contract_within_2_s_gets_162():
    fault = HistoricalPacing()
    verdicts = [ask(fault, hist_request(i, duration=f"{60 + i} S"), i * 0.3) for i in range(6)]
    assert verdicts[:5] == [None] * 5
    assert verdicts[5].fault == "historical_pacing:burst"


def test_other_contracts_do_not_count_towards_the_burst():
    fault = HistoricalPacing()
    verdicts = [ask(fault, hist_request(i, symbol=f"S{i}"), 0.1 * i) for i in range(10)]
    assert verdicts == [None] * 10


def test_bid_ask_counts_twice():
    fault = HistoricalPacing()
    verdicts = [ask(fault, hist_request(i, what="BID_ASK", duration=f"{60 + i} S"), 0.1 * i) for i in range(3)]
    assert verdicts[:2] == [None, None]
    assert verdicts[2].fault == "historical_pacing:burst"


def test_the_61st_request_in_ten_minutes_gets_162():
    fault = HistoricalPacing()
    verdicts = [ask(fault, hist_request(i, symbol=f"S{i}"), i * 5.0) for i in range(61)]
    assert verdicts[:60] == [None] * 60
    assert verdicts[60].fault == "historical_pacing:period"
    assert ask(fault, hist_request(99, symbol="LATE"), 600.1) is None  # the first one has left the window


def test_silent_mode_drops_the_request_without_an_answer():
    fault = HistoricalPacing(mode="silent")
    ask(fault, hist_request(1), 0)
    verdict = ask(fault, hist_request(2), 1)
    assert verdict.errors == [] and verdict.drop


def test_bars_larger_than_30_s_are_exempt():
    fault = HistoricalPacing()
    ask(fault, hist_request(1, bar="1 min"), 0)
    assert ask(fault, hist_request(2, bar="1 min"), 1) is None
    assert HistoricalPacing(max_bar_size_s=3600).on_request(FakeSession(),
                                                            hist_request(3, bar="1 min"), 0) is None


def test_realtime_bars_pacing_answers_420():
    fault = RealTimeBarsPacing()
    assert fault.on_request(FakeSession(), rt_bars_request(1), 0) is None
    verdict = fault.on_request(FakeSession(), rt_bars_request(2), 1)
    assert verdict.errors == [(2, 420, "Invalid Real-time Query:Historical data request pacing violation")]


def test_other_requests_are_not_paced():
    assert HistoricalPacing().on_request(FakeSession(), decode_request(["49", "1"]), 0) is None


@pytest.mark.parametrize("setting, seconds", [("1 secs", 1), ("30 secs", 30), ("1 min", 60), ("2 hours", 7200),
                                              ("1 day", 86400), ("odd", None)])
def test_bar_size_settings_parse(setting, seconds):
    assert bar_size_seconds(setting) == seconds
