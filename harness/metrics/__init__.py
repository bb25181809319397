"""Run metrics from the session event log alone (pandas; one function per metric).

Every function takes the frame built by :func:`events_frame` / :func:`load_frame` and returns a
number or a small frame, so the same code measures a mock scenario and a tap recording.
"""
from .connectivity import disconnect_events, disconnects, reconnect_time_s, reconnect_times_s, \
    sessions, unrecovered_disconnects
from .frame import events_frame, latency_clock, load_frame
from .latency import fill_latencies_ms, fill_latency_ms, latency_delta_pct, order_ack_latencies_ms, \
    order_ack_latency_ms
from .orders import duplicate_orders, errors, executions, fill_rate_pct, placed_orders, trade_count, trades
from .pacing import PACING_CODES, pacing_violation_events, pacing_violations, pacing_violations_by_code
from .pnl import pnl_series, sharpe, sharpe_ratio
from .working import max_working_orders_per_contract, orders_held, working_intervals
from .report import METRIC_UNITS, PaperTargets, Target, compute_metrics, metric_rows

__all__ = [
    "PACING_CODES", "METRIC_UNITS", "PaperTargets", "Target", "compute_metrics", "disconnect_events",
    "disconnects", "duplicate_orders", "errors", "events_frame", "executions", "fill_latencies_ms",
    "fill_latency_ms", "fill_rate_pct", "latency_clock", "latency_delta_pct", "load_frame", "max_working_orders_per_contract", "metric_rows",
    "order_ack_latencies_ms", "order_ack_latency_ms", "orders_held", "pacing_violation_events", "pacing_violations",
    "pacing_violations_by_code",
    "placed_orders", "pnl_series", "reconnect_time_s", "reconnect_times_s", "sessions", "sharpe",
    "sharpe_ratio", "trade_count", "trades", "unrecovered_disconnects", "working_intervals",
]
