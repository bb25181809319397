"""Each metric on a hand-made event log, with the answer worked out by hand."""
from __future__ import annotations

import math

import pytest

from harness import metrics as M
from harness.metrics.report import PaperTargets, compute_metrics, metric_rows

from eventlogs import LogBuilder


def frame(b: LogBuilder):
    return M.events_frame(b.events)


def test_order_ack_latency_is_measured_from_place_to_first_ack_per_connection_and_order():
    b = LogBuilder().session(0, 1, 7).session(0, 2, 8)
    for i, delay in enumerate([0.010, 0.020, 0.030, 0.040, 0.100]):
        b.place(1 + i, 1, 100 + i).ack(1 + i + delay, 1, 100 + i)
    b.place(10, 2, 100).ack(10.5, 2, 100)  # same order id, other client: its own 500 ms
    lat = sorted(M.order_ack_latencies_ms(frame(b)).round(6))
    assert lat == [10.0, 20.0, 30.0, 40.0, 100.0, 500.0]
    assert M.order_ack_latency_ms(frame(b), 50) == pytest.approx(35.0)


def test_order_ack_latency_ignores_orders_never_acknowledged():
    b = LogBuilder().session(0, 1, 7).place(1, 1, 5).error(1.2, 1, 201, "rejected", req_id=5)
    assert M.order_ack_latencies_ms(frame(b)).empty
    assert math.isnan(M.order_ack_latency_ms(frame(b), 95))


def test_order_modification_is_measured_from_its_own_request():
    b = LogBuilder().session(0, 1, 7).place(1, 1, 5).ack(1.01, 1, 5).place(2, 1, 5).ack(2.05, 1, 5)
    assert sorted(M.order_ack_latencies_ms(frame(b)).round(6)) == [10.0, 50.0]


def test_fill_latency_runs_to_the_first_execution():
    b = LogBuilder().session(0, 1, 7).place(1, 1, 5).ack(1.01, 1, 5).fill(1.25, 1, 5, "e1", 50) \
        .fill(1.5, 1, 5, "e2", 50)
    assert list(M.fill_latencies_ms(frame(b)).round(6)) == [250.0]


def test_latency_uses_wall_time_for_tap_logs():
    b = LogBuilder(clock="wall", source="tap").session(0, 1, 7).place(1, 1, 5).ack(1.2, 1, 5)
    df = frame(b)
    assert M.latency_clock(df) == "wall"
    assert list(M.order_ack_latencies_ms(df).round(3)) == [200.0]


def test_latency_delta_is_relative_to_the_baseline_or_the_floor():
    assert M.latency_delta_pct(150.0, 100.0, floor_ms=10.0) == pytest.approx(50.0)
    assert M.latency_delta_pct(80.0, 0.0, floor_ms=200.0) == pytest.approx(40.0)
    assert math.isnan(M.latency_delta_pct(float("nan"), 1.0, floor_ms=1.0))


def test_pacing_violations_are_counted_by_code_and_162_only_for_pacing():
    b = LogBuilder().session(0, 1, 7)
    b.error(1, 1, 100, "Max rate of messages per second has been exceeded").error(1.1, 1, 100, "x")
    b.error(2, 1, 162, "Historical Market Data Service error message:Historical data request pacing violation")
    b.error(3, 1, 162, "Historical Market Data Service error message:HMDS query returned no data")
    b.error(4, 1, 101, "Max number of tickers has been reached").error(5, 1, 420, "Invalid Real-time Query")
    b.error(6, 1, 2104, "Market data farm connection is OK")
    by_code = M.pacing_violations_by_code(frame(b))
    assert by_code.to_dict() == {100: 2, 101: 1, 162: 1, 420: 1}
    assert M.pacing_violations(frame(b)) == 5


def test_pacing_violation_events_list_each_pacing_error_with_its_times_text_and_client():
    b = LogBuilder().session(0, 1, 7).session(0, 2, 8)
    b.error(1, 1, 100, "Max rate of messages per second has been exceeded")
    b.error(2, 2, 162, "Historical Market Data Service error message:Historical data request PACING violation")
    b.error(3, 1, 162, "Historical Market Data Service error message:HMDS query returned no data")
    b.error(4, 2, 420, "Invalid Real-time Query:Historical data request pacing violation")
    b.error(5, 1, 2104, "Market data farm connection is OK")
    events = M.pacing_violation_events(frame(b))
    assert list(events.columns) == ["wall", "sim", "code", "text", "client_id"]
    assert list(events["sim"]) == [1.0, 2.0, 4.0] and list(events["wall"] - 1_700_000_000.0) == [1.0, 2.0, 4.0]
    assert list(events["code"]) == [100, 162, 420] and list(events["client_id"]) == [7, 8, 8]
    assert events["text"].iloc[1].endswith("PACING violation")


def test_pacing_violation_events_of_a_tap_log_have_wall_times_only():
    b = LogBuilder(clock="wall", source="tap").session(0, 1, 7).error(2.5, 1, 101, "Max number of tickers")
    events = M.pacing_violation_events(frame(b))
    assert list(events["wall"] - 1_700_000_000.0) == [2.5] and events["sim"].isna().all()


def test_pacing_counts_are_the_pacing_violation_events_by_code():
    b = LogBuilder().session(0, 1, 7).error(1, 1, 100, "x").error(2, 1, 100, "y").error(3, 1, 162, "no data")
    df = frame(b)
    assert M.pacing_violations_by_code(df)[100] == len(M.pacing_violation_events(df)) == 2


def test_no_pacing_errors_give_no_events():
    events = M.pacing_violation_events(frame(LogBuilder().session(0, 1, 7)))
    assert events.empty and list(events.columns) == ["wall", "sim", "code", "text", "client_id"]


def test_no_pacing_errors_give_zero_for_every_code():
    assert M.pacing_violations_by_code(frame(LogBuilder().session(0, 1, 7))).to_dict() == \
        {100: 0, 101: 0, 162: 0, 420: 0}


def test_fill_rate_counts_rejects_as_unfilled_and_leaves_out_client_cancels():
    b = LogBuilder().session(0, 1, 7)
    b.place(1, 1, 1, 100).fill(1.1, 1, 1, "e1", 100)
    b.place(2, 1, 2, 100).fill(2.1, 1, 2, "e2", 40).fill(2.2, 1, 2, "e3", 60)  # partial fills complete it
    b.place(3, 1, 3, 100).error(3.1, 1, 201, "Order rejected", req_id=3)
    b.place(4, 1, 4, 100).fill(4.1, 1, 4, "e4", 100)
    b.place(5, 1, 5, 100).inn(5.1, 1, "cancelOrder", order_id=5)  # withdrawn: not counted
    assert M.fill_rate_pct(frame(b)) == pytest.approx(75.0)


def test_global_cancel_withdraws_only_orders_open_at_the_time():
    b = LogBuilder().session(0, 1, 7)
    b.place(1, 1, 1).fill(1.1, 1, 1, "e1").place(2, 1, 2).inn(3, 1, "reqGlobalCancel").place(4, 1, 3)
    assert M.fill_rate_pct(frame(b)) == pytest.approx(50.0)  # order 1 filled, 3 unfilled, 2 withdrawn


def test_trade_count_counts_orders_with_executions_once_despite_replayed_executions():
    b = LogBuilder().session(0, 1, 7)
    b.place(1, 1, 1).fill(1.1, 1, 1, "e1", 50).fill(1.2, 1, 1, "e2", 50)
    b.place(2, 1, 2).fill(2.1, 1, 2, "e3")
    b.disconnect(3, 1, "gateway restart").session(5, 2, 7)
    b.fill(5.1, 2, 2, "e3", req_id=9)  # the same execution again, from reqExecutions after the reconnect
    b.fill(5.2, 2, 77, "old", req_id=9)  # an execution of an order placed before this log
    assert M.trade_count(frame(b)) == 2


def test_duplicate_orders_are_two_executed_orders_for_one_order_ref():
    b = LogBuilder().session(0, 1, 7)
    b.place(1, 1, 1, ref="intent-1").fill(1.1, 1, 1, "e1")
    b.place(2, 1, 2, ref="intent-1").fill(2.1, 1, 2, "e2")  # re-sent after a reconnect: duplicate
    b.place(3, 1, 3, ref="intent-2").error(3.1, 1, 201, "rejected", req_id=3)
    b.place(4, 1, 4, ref="intent-2").fill(4.1, 1, 4, "e4")  # retry of a rejected intent: not a duplicate
    assert M.duplicate_orders(frame(b)) == 1


def test_disconnects_count_gateway_side_ends_of_ready_sessions_only():
    b = LogBuilder().session(0, 1, 7)
    b.disconnect(10, 1, "fault: disconnect").session(12, 2, 7)
    b.sys(13, "connect", 3).disconnect(13.5, 3, "refused: client id in use")  # never ready
    b.disconnect(20, 2, "client closed").sys(30, "run_end")
    assert M.disconnects(frame(b)) == 1


def test_disconnects_after_run_end_are_teardown():
    b = LogBuilder().session(0, 1, 7).sys(5, "run_end").disconnect(6, 1, "gateway stopped")
    assert M.disconnects(frame(b)) == 0


def test_disconnects_after_the_harness_stopped_the_handler_are_teardown():
    b = LogBuilder().session(0, 1, 7).sys(5, "handler_stop").disconnect(5.1, 1, "fault:disconnect")
    assert M.disconnects(frame(b)) == 0


def test_reconnect_time_is_until_the_same_client_is_ready_again():
    b = LogBuilder().session(0, 1, 7).session(0, 9, 8)
    b.disconnect(10, 1, "gateway restart").disconnect(10, 9, "gateway restart")
    b.session(13, 2, 7).session(17.5, 3, 8)
    assert sorted(M.reconnect_times_s(frame(b))) == [3.0, 7.5]
    assert M.reconnect_time_s(frame(b)) == pytest.approx(7.5)


def test_a_client_that_never_returns_is_an_unrecovered_disconnect():
    b = LogBuilder().session(0, 1, 7).disconnect(10, 1, "fault: disconnect")
    assert M.unrecovered_disconnects(frame(b)) == 1
    assert math.isnan(M.reconnect_time_s(frame(b)))


def test_pnl_series_comes_from_account_marks_summed_over_accounts():
    b = LogBuilder().mark(0, 1000, "DU1").mark(0, 500, "DU2").mark(60, 1010, "DU1").mark(60, 495, "DU2")
    series = M.pnl_series(frame(b))
    assert list(series) == [0.0, 5.0]


def test_pnl_series_falls_back_to_net_liquidation_messages_for_tap_logs():
    b = LogBuilder(clock="wall", source="tap").session(0, 1, 7)
    b.out(0, 1, "updateAccountValue", key="NetLiquidation", value="1000.5", currency="USD", account="DU1")
    b.out(60, 1, "updateAccountValue", key="NetLiquidation", value="1003.5", currency="USD", account="DU1")
    b.out(60, 1, "updateAccountValue", key="NetLiquidation", value="9", currency="BASE", account="DU1")
    assert list(M.pnl_series(frame(b))) == [0.0, 3.0]


def test_pnl_series_from_fills_marks_positions_at_the_last_fill_price():
    b = LogBuilder().session(0, 1, 7)
    b.place(1, 1, 1).fill(1, 1, 1, "e1", 10, 100.0, "BOT").place(2, 1, 2, action="SELL")
    b.fill(2, 1, 2, "e2", 10, 103.0, "SLD")
    assert list(M.pnl_series(frame(b)))[-1] == pytest.approx(30.0)


def test_sharpe_of_a_steady_gain_with_noise_is_positive_and_annualised():
    pnl = __import__("pandas").Series([0, 2, 3, 5, 6, 8], index=[0, 60, 120, 180, 240, 300], dtype=float)
    # changes 2,1,2,1,2: mean 1.6, sd 0.5477; periods per year 252*6.5*60
    expected = 1.6 / 0.5477225575 * math.sqrt(252 * 6.5 * 60)
    assert M.sharpe_ratio(pnl) == pytest.approx(expected, rel=1e-6)


def test_sharpe_of_a_flat_pnl_is_unknown():
    pnl = __import__("pandas").Series([0.0, 0.0, 0.0, 0.0], index=[0, 60, 120, 180])
    assert math.isnan(M.sharpe_ratio(pnl))


def test_metric_rows_follow_the_contract_and_judge_against_the_gate_targets():
    b = LogBuilder().session(0, 1, 7)
    for i in range(60):
        b.place(i, 1, i + 1).ack(i + 0.05, 1, i + 1).fill(i + 0.1, 1, i + 1, f"e{i}")
    b.error(70, 1, 100, "Max rate")
    m = compute_metrics(frame(b))
    rows = {r[0]: r for r in metric_rows(m, PaperTargets())}
    assert list(rows) == list(M.METRIC_UNITS)
    assert rows["order_ack_latency_p95_ms"][4] is True
    assert rows["pacing_violations"][1] == 1 and rows["pacing_violations"][4] is False
    assert rows["trade_count"][4] is True
    assert rows["fill_rate_pct"][4] is True
    assert rows["sharpe_backtest"][4] is None  # no baseline run: unknown, not passed


# ---------------------------------------------------------------- orders held and stacked (399)
def _held_overnight(stacked: int):
    """A client sends ``stacked`` market orders after the close: each is held (399) and fills at the open."""
    b = LogBuilder().session(0, 1, 7)
    for i in range(stacked):
        oid = 10 + i
        b.place(100 + i, 1, oid, ref=f"r{i}")
        b.error(100.2 + i, 1, 399, "Order Message: BUY 100 AAPL ... will not be placed at the exchange until "
                "2026-11-25 09:30:00 US/Eastern", req_id=oid)
        b.ack(100.3 + i, 1, oid, status="PreSubmitted")
    for i in range(stacked):
        b.fill(5000 + i, 1, 10 + i, f"e{i}")
        b.out(5000.1 + i, 1, "orderStatus", order_id=10 + i, status="Filled", filled=100, remaining=0, client_id=7)
    return M.events_frame(b.events)


def test_orders_held_counts_each_order_warned_399_once():
    assert M.orders_held(_held_overnight(3)) == 3


def test_orders_stacked_while_held_all_count_as_working_at_once():
    assert M.max_working_orders_per_contract(_held_overnight(4)) == 4


def test_one_order_at_a_time_is_one_working_order():
    b = LogBuilder().session(0, 1, 7)
    for i in range(3):
        b.place(10 * i, 1, 10 + i).ack(10 * i + 0.1, 1, 10 + i).fill(10 * i + 1, 1, 10 + i, f"e{i}")
        b.out(10 * i + 1.1, 1, "orderStatus", order_id=10 + i, status="Filled", filled=100, remaining=0)
    df = M.events_frame(b.events)
    assert M.max_working_orders_per_contract(df) == 1 and M.orders_held(df) == 0


def test_a_rejected_order_stops_working_at_its_error_and_inactive_ends_it_too():
    b = LogBuilder().session(0, 1, 7)
    b.place(1, 1, 10, action="SELL").error(1.1, 1, 201, "Order rejected - reason:short sale", req_id=10)
    b.place(2, 1, 11, action="SELL").ack(2.1, 1, 11, status="Inactive")
    b.place(3, 1, 12, action="SELL")
    assert M.max_working_orders_per_contract(M.events_frame(b.events)) == 1


def test_working_orders_are_counted_per_contract():
    b = LogBuilder().session(0, 1, 7)
    b.place(1, 1, 10, symbol="AAPL").place(2, 1, 11, symbol="MSFT").place(3, 1, 12, symbol="AAPL")
    df = M.events_frame(b.events)
    assert M.max_working_orders_per_contract(df) == 2
    spans = M.working_intervals(df)
    assert spans["end_seq"].isna().all() and list(spans["symbol"]) == ["AAPL", "MSFT", "AAPL"]


def test_a_399_on_an_order_id_this_log_never_placed_is_not_counted():
    b = LogBuilder().session(0, 1, 7).error(1, 1, 399, "held", req_id=99)
    assert M.orders_held(M.events_frame(b.events)) == 0
    assert M.max_working_orders_per_contract(M.events_frame(b.events)) == 0


def test_the_run_reports_orders_held_and_working_and_scenarios_may_bound_them():
    from harness.scenario import known_metric

    m = M.compute_metrics(_held_overnight(2))
    assert m["orders_held"] == 2 and m["max_working_orders_per_contract"] == 2
    assert known_metric("orders_held") and known_metric("max_working_orders_per_contract")


def test_first_breach_is_when_the_bound_was_first_crossed():
    from harness.metrics.working import first_breach_s

    df = _held_overnight(4)   # orders placed at 100, 101, 102, 103 s, warned 0.2 s later
    assert first_breach_s(df, "orders_held", 2) == pytest.approx(102.2)
    assert first_breach_s(df, "max_working_orders_per_contract", 3) == pytest.approx(103)
    assert first_breach_s(df, "max_working_orders_per_contract", 4) is None
    assert first_breach_s(df, "trade_count", 0) is None   # a metric without a time of breach
