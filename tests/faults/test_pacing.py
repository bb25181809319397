from mock_gateway.faults.base import FaultStack
from mock_gateway.faults.pacing import MarketDataLines, MessageRate
from mock_gateway.protocol.requests import decode_request

from fault_fakes import FakeSession, mkt_data_request

REQ = decode_request(["49", "1"])  # reqCurrentTime


def send(fault, n, now, session=None):
    session = session or FakeSession()
    return [fault.on_request(session, REQ, now) for _ in range(n)]


def test_fifty_messages_in_a_second_pass():
    assert send(MessageRate(), 50, now=0.0) == [None] * 50


def test_the_51st_message_in_a_second_gets_error_100_and_is_rejected():
    verdict = send(MessageRate(), 51, now=0.0)[-1]
    assert verdict.errors == [(-1, 100, "Max rate of messages per second has been exceeded:max=50 rec=51 (1)")]
    assert verdict.drop and not verdict.disconnect
    assert verdict.fault == "message_rate"


def test_further_excess_in_the_same_second_is_rejected_without_another_error():
    verdicts = send(MessageRate(), 60, now=0.0)
    assert [v.errors for v in verdicts[51:]] == [[]] * 9
    assert all(v.drop for v in verdicts[50:])


def test_the_window_rolls_in_sim_time():
    fault = MessageRate()
    send(fault, 50, now=0.0)
    assert send(fault, 50, now=1.0) == [None] * 50


def test_arrival_jitter_below_jitter_s_is_forgiven():
    fault = MessageRate(jitter_s=0.02)
    send(fault, 45, now=0.0)
    assert send(fault, 45, now=0.985) == [None] * 45
    assert send(fault, 45, now=1.96)[-1] is not None  # 90 within 0.975 s is a violation


def test_the_third_violation_disconnects():
    fault = MessageRate()
    last = [send(fault, 51, now=t)[-1] for t in (0.0, 2.0, 4.0)]
    assert [v.errors[0][2][-3:] for v in last] == ["(1)", "(2)", "(3)"]
    assert [v.disconnect for v in last] == [False, False, True]


def test_disconnect_after_zero_never_disconnects():
    fault = MessageRate(disconnect_after=0)
    assert not any(send(fault, 51, now=t)[-1].disconnect for t in range(0, 20, 2))


def test_sessions_are_counted_separately():
    fault = MessageRate()
    send(fault, 50, now=0.0, session=FakeSession(conn_id=1))
    assert send(fault, 50, now=0.0, session=FakeSession(conn_id=2)) == [None] * 50


def test_ib_insync_throttle_of_45_per_second_never_trips_it():
    fault = MessageRate()
    verdicts = [fault.on_request(FakeSession(), REQ, i / 45.0) for i in range(45 * 30)]
    assert verdicts == [None] * len(verdicts)


def test_market_data_line_beyond_the_limit_gets_error_101():
    fault = MarketDataLines(max_lines=2)
    ok = fault.on_request(FakeSession(market_data_lines=1), mkt_data_request(7), 0)
    over = fault.on_request(FakeSession(market_data_lines=2), mkt_data_request(8), 0)
    assert ok is None
    assert over.errors == [(8, 101, "Max number of tickers has been reached")] and over.drop


def test_stacked_pacing_faults_merge_their_verdicts():
    stack = FaultStack([MessageRate(max_per_s=1), MarketDataLines(max_lines=0)])
    stack.on_request(FakeSession(), mkt_data_request(1), 0)
    verdict = stack.on_request(FakeSession(), mkt_data_request(2), 0)
    assert [e[1] for e in verdict.errors] == [100, 101]
    assert verdict.fault == "message_rate,market_data_lines"
