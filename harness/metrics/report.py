"""All stage-7 metrics of a run, and their rows for PAPER_TRADING_METRICS.csv with targets and verdicts.

Targets come from the gate engine's config (``harness/gates/defaults.yaml``, section
``paper_trading``) so the CSV's ``pass`` column and gate 7 never disagree; the built-in values
below are used only when that config cannot be loaded.
"""
from __future__ import annotations

import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from . import connectivity, latency, orders, pacing, pnl, working
from .frame import latency_clock

_OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq,
    "!=": operator.ne}

#: CSV row order and units (contracts §4).
METRIC_UNITS: dict[str, str] = {
    "order_ack_latency_p50_ms": "ms", "order_ack_latency_p95_ms": "ms", "order_ack_latency_p99_ms": "ms",
    "fill_latency_p50_ms": "ms", "fill_latency_p95_ms": "ms", "fill_latency_p99_ms": "ms",
    "latency_delta_pct": "%", "pacing_violations": "count", "fill_rate_pct": "%", "disconnects": "count",
    "reconnect_time_s": "s", "trade_count": "count", "sharpe_paper": "ratio", "sharpe_backtest": "ratio",
}


@dataclass(frozen=True)
class Target:
    op: str
    value: float

    def check(self, observed: float | None) -> bool | None:
        if observed is None or (isinstance(observed, float) and math.isnan(observed)):
            return None
        return bool(_OPS[self.op](float(observed), self.value))

    def describe(self) -> str:
        return f"{self.op} {self.value:g}"


@dataclass(frozen=True)
class PaperTargets:
    """Gate-7 thresholds (gate defaults: p95 < 200 ms, pacing == 0, fill rate > 98 %, ...)."""

    p95_latency_metric: str = "order_ack_latency_p95_ms"
    p95_latency_ms: Target = Target("<", 200)
    latency_delta_pct: Target = Target("<", 50)
    pacing_violations: Target = Target("==", 0)
    fill_rate_pct: Target = Target(">", 98)
    sharpe_vs_backtest: Target = Target(">=", 0.5)
    trade_count_min: Target = Target(">=", 50)
    trade_count_max: Target = Target("<=", 200)
    disconnects: Target = Target("==", 0)

    @classmethod
    def from_gates_config(cls, path: str | Path | None = None) -> PaperTargets:
        """The gate engine's paper_trading thresholds (defaults merged with ``path``), else the built-ins."""
        try:
            from harness.gates.config import load_config

            section = load_config(path).gates.paper_trading
        except Exception:
            if path is not None:
                raise
            return cls()
        t = lambda th: Target(th.op, float(th.value))  # noqa: E731
        return cls(section.p95_latency_metric, t(section.p95_latency_ms), t(section.latency_delta_pct),
                   t(section.pacing_violations), t(section.fill_rate_pct), t(section.sharpe_vs_backtest),
                   t(section.trade_count_min), t(section.trade_count_max), t(section.disconnects))


def _num(value: float) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def compute_metrics(df: pd.DataFrame, baseline: pd.DataFrame | None = None,
                    latency_floor_ms: float = 200.0) -> dict[str, Any]:
    """Every metric of one run (and its baseline run, when given), as plain numbers (None: unknown)."""
    ack = latency.order_ack_latencies_ms(df)
    fill = latency.fill_latencies_ms(df)
    p = lambda s, q: _num(latency.percentile(s, q))  # noqa: E731
    m: dict[str, Any] = {
        "order_ack_latency_p50_ms": p(ack, 50), "order_ack_latency_p95_ms": p(ack, 95),
        "order_ack_latency_p99_ms": p(ack, 99),
        "fill_latency_p50_ms": p(fill, 50), "fill_latency_p95_ms": p(fill, 95), "fill_latency_p99_ms": p(fill, 99),
        "latency_delta_pct": None,
        "pacing_violations": pacing.pacing_violations(df),
        "fill_rate_pct": _num(orders.fill_rate_pct(df)),
        "disconnects": connectivity.disconnects(df),
        "reconnect_time_s": _num(connectivity.reconnect_time_s(df)),
        "trade_count": orders.trade_count(df),
        "sharpe_paper": _num(pnl.sharpe(df)),
        "sharpe_backtest": None,
    }
    by_code = pacing.pacing_violations_by_code(df)
    m.update({f"pacing_violations_{code}": int(n) for code, n in by_code.items()})
    m["duplicate_orders"] = orders.duplicate_orders(df)
    m["unrecovered_disconnects"] = connectivity.unrecovered_disconnects(df)
    m["orders_placed"] = int(len(orders.placed_orders(df)))
    m["orders_held"] = working.orders_held(df)
    m["max_working_orders_per_contract"] = working.max_working_orders_per_contract(df)
    series = pnl.pnl_series(df)
    m["pnl_final"] = _num(float(series.iloc[-1])) if len(series) else None
    m["latency_clock"] = latency_clock(df)
    if baseline is not None:
        base_p95 = latency.order_ack_latency_ms(baseline, 95)
        m["baseline_order_ack_latency_p95_ms"] = _num(base_p95)
        m["latency_delta_pct"] = _num(latency.latency_delta_pct(
            latency.percentile(ack, 95), base_p95, latency_floor_ms))
        m["sharpe_backtest"] = _num(pnl.sharpe(baseline))
        m["trade_count_backtest"] = orders.trade_count(baseline)
    return m


def metric_rows(metrics: dict[str, Any], targets: PaperTargets | None = None) -> list[tuple]:
    """(name, value, unit, target, pass) rows in the contract's order; pass is None where no target applies."""
    targets = targets or PaperTargets()
    checks: dict[str, tuple[str, Callable[[], bool | None]]] = {
        targets.p95_latency_metric: (targets.p95_latency_ms.describe(),
                                     lambda: targets.p95_latency_ms.check(metrics.get(targets.p95_latency_metric))),
        "latency_delta_pct": (targets.latency_delta_pct.describe(),
                              lambda: targets.latency_delta_pct.check(metrics.get("latency_delta_pct"))),
        "pacing_violations": (targets.pacing_violations.describe(),
                              lambda: targets.pacing_violations.check(metrics.get("pacing_violations"))),
        "fill_rate_pct": (targets.fill_rate_pct.describe(),
                          lambda: targets.fill_rate_pct.check(metrics.get("fill_rate_pct"))),
        "disconnects": (targets.disconnects.describe(),
                        lambda: targets.disconnects.check(metrics.get("disconnects"))),
        "trade_count": (f"{targets.trade_count_min.describe()} and {targets.trade_count_max.describe()}",
                        lambda: _both(targets.trade_count_min.check(metrics.get("trade_count")),
                                      targets.trade_count_max.check(metrics.get("trade_count")))),
        "sharpe_paper": (f"{targets.sharpe_vs_backtest.op} {targets.sharpe_vs_backtest.value:g} x sharpe_backtest",
                         lambda: _sharpe_ok(metrics, targets.sharpe_vs_backtest)),
    }
    rows = []
    for name, unit in METRIC_UNITS.items():
        target, check = checks.get(name, ("", lambda: None))
        rows.append((name, metrics.get(name), unit, target, check()))
    return rows


def _both(a: bool | None, b: bool | None) -> bool | None:
    return None if a is None or b is None else (a and b)


def _sharpe_ok(metrics: dict[str, Any], ratio: Target) -> bool | None:
    paper, backtest = metrics.get("sharpe_paper"), metrics.get("sharpe_backtest")
    if paper is None or backtest is None:
        return None
    return bool(_OPS[ratio.op](paper, ratio.value * backtest))
