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


# ---------------------------------------------------------------------------- tolerance at speed
def _at_speed(fault, speed):
    import simpy
    from types import SimpleNamespace
    fault.install(SimpleNamespace(env=simpy.Environment(), clock=SimpleNamespace(speed=speed)))
    return fault


def test_an_identical_request_a_machine_delay_early_passes_at_speed():
    # 15 s apart by the client's clock, bunched 0.4 sim s (4 ms real at speed 100) by the machine
    fast = _at_speed(HistoricalPacing(), 100.0)
    ask(fast, hist_request(1), 0)
    assert ask(fast, hist_request(2), 14.6) is None
    slow = _at_speed(HistoricalPacing(), 1.0)
    ask(slow, hist_request(1), 0)
    assert ask(slow, hist_request(2), 14.6).fault == "historical_pacing:identical"


def test_a_burst_spread_over_the_window_less_the_machines_delay_passes_at_speed():
    # six requests for one contract, the sixth 1.6 s after the first: 0.4 s early at speed 100 is jitter
    fast = _at_speed(HistoricalPacing(), 100.0)
    times = [0.0, 0.3, 0.6, 0.9, 1.2, 1.6]
    assert [ask(fast, hist_request(i, duration=f"{60 + i} S"), t) for i, t in enumerate(times)] == [None] * 6
    slow = _at_speed(HistoricalPacing(), 1.0)
    verdicts = [ask(slow, hist_request(i, duration=f"{60 + i} S"), t) for i, t in enumerate(times)]
    assert verdicts[5].fault == "historical_pacing:burst"


def test_the_ten_minute_period_takes_the_same_tolerance():
    fast = _at_speed(HistoricalPacing(), 100.0)
    assert [ask(fast, hist_request(i, symbol=f"S{i}"), i * 5.0) for i in range(60)] == [None] * 60
    assert ask(fast, hist_request(99, symbol="LATE"), 599.6) is None    # the first left 0.4 s early


def test_the_tolerance_never_exceeds_half_a_window():
    fault = _at_speed(HistoricalPacing(), 100_000.0)
    ask(fault, hist_request(1), 0)
    assert ask(fault, hist_request(2), 7.4).fault == "historical_pacing:identical"   # half of 15 s
    assert ask(fault, hist_request(3, duration="61 S"), 7.6) is None
    times = [10.0, 10.1, 10.2, 10.3, 10.4, 10.9]                                      # half of 2 s
    verdicts = [ask(fault, hist_request(10 + i, duration=f"{90 + i} S"), t) for i, t in enumerate(times)]
    assert verdicts[5].fault == "historical_pacing:burst"


def test_realtime_bars_pacing_takes_the_tolerance_too():
    fault = _at_speed(RealTimeBarsPacing(), 100.0)
    assert fault.tolerance_s() == pytest.approx(0.495)
    assert fault.on_request(FakeSession(), rt_bars_request(1), 0) is None
    assert fault.on_request(FakeSession(), rt_bars_request(2), 14.6) is None
