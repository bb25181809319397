"""The HTML report's figures (matplotlib, inline SVG), from PAPER_TRADING_LOG.json and its event logs.

Absent data gives a caption that says what is missing, never an empty chart.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .document import Figure

# .charts imports matplotlib (~1 s): it is loaded by the first figure drawn, not by whoever imports the
# gate engine (every scenario run reads the gates config through harness.gates).

if TYPE_CHECKING:
    from harness.gates.verification import Verification

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
    clock = v.evidence.session.clock if v.evidence.session else \
        (v.evidence.paper_log.latency_clock if v.evidence.paper_log else None) or "sim"
    from .charts import latency_histogram, to_svg

    fig = latency_histogram(values, title=title, x_label=f"order acknowledgement latency (ms, {clock} clock)",
                            bound_ms=bound.value, bound_label=f"GATE_7 p95 bound ({bound.value:g} ms)")
    return Figure(title, to_svg(fig), f"{len(values)} orders; dashed line: the p95 bound of GATE_7.")


def equity_figure(v: Verification) -> Figure:
    title = "Equity: paper vs backtest"
    paper = v.evidence.session.equity if v.evidence.session else ()
    series = [(name, equity) for name, equity in (("paper", paper), ("backtest", v.evidence.backtest_equity))
              if equity]
    if not series:
        return Figure(title, "", "No equity marks: the event logs named by PAPER_TRADING_LOG.json "
                                 "(event_log, backtest_event_log) are absent or have no account_mark events.")
    missing = {"paper", "backtest"} - {name for name, _ in series}
    caption = {"paper": "Paper curve absent: the event_log named by PAPER_TRADING_LOG.json is absent or unmarked.",
               "backtest": "Backtest curve absent: PAPER_TRADING_LOG.json names no backtest_event_log, "
                           "or it is absent."}.get(next(iter(missing), ""), "")
    currency = (v.evidence.account_config.model_extra or {}).get("base_currency") if v.evidence.account_config else None
    from .charts import equity_lines, to_svg

    fig = equity_lines(series, title=title, y_label=f"net liquidation ({currency or 'account currency'})")
    return Figure(title, to_svg(fig), caption)


def incidents_figure(v: Verification) -> Figure:
    title = "Pacing errors and disconnects"
    session = v.evidence.session
    if session is None:
        return Figure(title, "", "No event log: pacing errors and disconnects cannot be placed in time.")
    lanes = [(label, [(i.t_s, i.detail) for i in session.incidents if i.kind == kind])
             for label, kind in (("pacing errors", "pacing"), ("disconnects", "disconnect"))]
    from .charts import incident_timeline, to_svg

    fig = incident_timeline(lanes, duration_s=session.duration_s, title=title)
    return Figure(title, to_svg(fig), "" if any(events for _, events in lanes) else "None occurred.")


def figures(v: Verification) -> tuple[Figure, ...]:
    return latency_figure(v), equity_figure(v), incidents_figure(v)
