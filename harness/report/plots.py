"""The HTML report's figures, from PAPER_TRADING_LOG.json and its event log; absent data gives a caption."""
from __future__ import annotations

from typing import TYPE_CHECKING

from .document import Figure
from .svg import event_timeline, histogram, line_chart

if TYPE_CHECKING:
    from harness.gates.run import Verification

LATENCY_KEYS = ("order_ack_latency_ms", "ack_latency_ms")


def ack_latencies_ms(v: Verification) -> list[float]:
    """Per-order ack latencies: from the trades in PAPER_TRADING_LOG.json if they carry them, else the event log."""
    trades = v.evidence.paper_log.trades if v.evidence.paper_log else []
    from_trades = []
    for trade in trades:
        value = next((trade[k] for k in LATENCY_KEYS if _is_number(trade.get(k))), None)
        if value is not None:
            from_trades.append(float(value))
    if from_trades:
        return from_trades
    return list(v.evidence.session.ack_latencies_ms) if v.evidence.session else []


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def latency_figure(v: Verification) -> Figure:
    title = "Order acknowledgement latency"
    values = ack_latencies_ms(v)
    if not values:
        return Figure(title, "", "No per-order latencies: PAPER_TRADING_LOG.json or its event log is absent.")
    bound = v.config.gates.paper_trading.p95_latency_ms
    clock = (v.evidence.paper_log.latency_clock if v.evidence.paper_log else None) or "sim"
    svg = histogram(values, title=title, x_label=f"latency (ms, {clock} clock)", marker=bound.value,
                    marker_label=f"p95 bound {bound.value:g} ms")
    return Figure(title, svg, f"{len(values)} orders; dashed line: the p95 bound of GATE_7.")


def equity_figure(v: Verification) -> Figure:
    title = "Equity: paper vs backtest"
    series = []
    if v.evidence.session and v.evidence.session.equity:
        series.append(("paper", v.evidence.session.equity))
    if v.evidence.backtest_session and v.evidence.backtest_session.equity:
        series.append(("backtest", v.evidence.backtest_session.equity))
    if not series:
        return Figure(title, "", "No equity marks: the event log (account_mark events) is absent.")
    caption = "" if len(series) == 2 else \
        "Backtest curve absent: PAPER_TRADING_LOG.json names no backtest_event_log."
    return Figure(title, line_chart(series, title=title, x_label="session time (s)", y_label="net liquidation"),
                  caption)


def incidents_figure(v: Verification) -> Figure:
    title = "Pacing errors and disconnects"
    session = v.evidence.session
    if session is None:
        return Figure(title, "", "No event log: pacing errors and disconnects cannot be placed in time.")
    lanes = [(label, [(i.t_s, i.detail) for i in session.incidents if i.kind == kind])
             for label, kind in (("pacing errors", "pacing"), ("disconnects", "disconnect"),
                                 ("connectivity lost (1100)", "connectivity_lost"))]
    svg = event_timeline(lanes, duration_s=session.duration_s, title=title, x_label="session time (s)")
    return Figure(title, svg, "" if any(events for _, events in lanes) else "None occurred.")


def figures(v: Verification) -> tuple[Figure, ...]:
    return latency_figure(v), equity_figure(v), incidents_figure(v)
