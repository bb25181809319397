"""A failure's first cause names the metric bound that was crossed first, in time order with errors."""
from __future__ import annotations

from harness import metrics as M
from harness.expectations import Expectation, check_metric, first_cause
from harness.scenario import MetricBound, load_scenario

from eventlogs import LogBuilder


def _stacked_then_rejected(reject_at_s: float):
    b = LogBuilder().session(0, 1, 1)
    for i in range(4):
        b.place(100 + i, 1, 10 + i).error(100.5 + i, 1, 399, "held until 2026-11-25 09:30:00 US/Eastern",
                                          req_id=10 + i)
    b.place(reject_at_s - 1, 1, 20).error(reject_at_s, 1, 201, "Order rejected - reason:margin", req_id=20)
    return M.events_frame(b.events)


def _expectations(df) -> list[Expectation]:
    m = M.compute_metrics(df)
    return [check_metric("orders_held", MetricBound(max=2), m, df),
            check_metric("max_working_orders_per_contract", MetricBound(max=3), m, df)]


def test_orders_stacked_before_a_rejection_are_the_first_cause():
    df = _stacked_then_rejected(5000)
    cause = first_cause(load_scenario("after_hours_open"), df, None, _expectations(df))
    assert cause.startswith("metric orders_held: 4 outside <= 2, first above 2 at 102.5 s")
    assert "201" in cause   # the rejection is still reported, after it


def test_an_error_before_the_breach_comes_first():
    df = _stacked_then_rejected(50)
    cause = first_cause(load_scenario("after_hours_open"), df, None, _expectations(df))
    assert cause.startswith("first error sent to the handler: 201") and "metric orders_held" in cause


def test_a_passing_metric_is_never_a_cause():
    df = _stacked_then_rejected(5000)
    m = M.compute_metrics(df)
    ok = [check_metric("orders_held", MetricBound(max=10), m, df)]
    assert "metric" not in (first_cause(load_scenario("after_hours_open"), df, None, ok) or "")
