"""What the gates and the plots need from a session event log, measured by harness.metrics."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal

import pandas as pd

from harness.metrics.connectivity import disconnect_events
from harness.metrics.frame import event_time_s, latency_clock, load_frame
from harness.metrics.latency import order_ack_latencies_ms
from harness.metrics.pacing import pacing_violation_events
from harness.metrics.pnl import equity_from_marks

IncidentKind = Literal["pacing", "disconnect"]


@dataclass(frozen=True)
class Incident:
    t_s: float  # seconds since the first event of the log
    kind: IncidentKind
    detail: str


@dataclass(frozen=True)
class SessionSeries:
    clock: str  # "sim" | "wall", as harness.metrics reads the log
    requests_seen: frozenset[str]
    ack_latencies_ms: tuple[float, ...]
    equity: tuple[tuple[float, float], ...]  # (t_s since the first event, net liquidation)
    incidents: tuple[Incident, ...]
    duration_s: float


def summarize_log(path: str | os.PathLike[str]) -> SessionSeries:
    return summarize_frame(load_frame(path))


def equity_of_log(path: str | os.PathLike[str]) -> tuple[tuple[float, float], ...]:
    """(t_s since the first event, net liquidation) of a log, e.g. the backtest run's."""
    df = load_frame(path)
    t = event_time_s(df, latency_clock(df))
    return _since(equity_from_marks(df), float(t.min()) if t.notna().any() else 0.0)


def _since(equity: pd.Series, t0: float) -> tuple[tuple[float, float], ...]:
    return tuple((float(ti) - t0, float(v)) for ti, v in equity.items())


def summarize_frame(df: pd.DataFrame) -> SessionSeries:
    """Requests the handler sent, order-ack latencies, equity marks, pacing errors and disconnects."""
    clock = latency_clock(df)
    t = event_time_s(df, clock)
    t0 = float(t.min()) if t.notna().any() else 0.0
    incidents = [Incident(float(row.t) - t0, "disconnect", str(row.reason))
                 for row in disconnect_events(df).itertuples()]
    pacing = pacing_violation_events(df)
    incidents += [Incident(float(ti) - t0, "pacing", f"{row.code} {row.text}".strip())
                  for ti, row in zip(event_time_s(pacing, clock), pacing.itertuples())]
    return SessionSeries(
        clock=clock,
        requests_seen=frozenset(df.loc[df["dir"] == "in", "msg"].astype(str)),
        ack_latencies_ms=tuple(float(x) for x in order_ack_latencies_ms(df)),
        equity=_since(equity_from_marks(df), t0),
        incidents=tuple(sorted(incidents, key=lambda i: i.t_s)),
        duration_s=float(t.max()) - t0 if t.notna().any() else 0.0,
    )



@dataclass(frozen=True)
class BacktestCosts:
    """What the backtest run's own event log says about its costs, so the report describes it truly."""

    fills: int
    commission_total: float
    commission_currency: str
    prelive_baseline: bool  # made by prelive's runner as the baseline: faults off, no pacing rules
    faults_acted: int       # events a fault touched (0 for a prelive baseline)


def backtest_costs_of_log(path: str | os.PathLike[str]) -> BacktestCosts:
    df = load_frame(path)
    reports = df[(df["dir"] == "out") & (df["msg"] == "commissionReport")]
    commissions = [a.get("commission") for a in reports["attrs"]]
    # IB sends 1.7976931348623157e308 (Double.MAX_VALUE) for "not known yet"; only real amounts count
    amounts = [float(c) for c in commissions if isinstance(c, (int, float)) and 0 <= float(c) < 1e100]
    currencies = sorted({str(a.get("currency")) for a in reports["attrs"] if a.get("currency")})
    starts = df[(df["dir"] == "sys") & (df["msg"] == "handler_start")]
    return BacktestCosts(
        fills=int(((df["dir"] == "out") & (df["msg"] == "execDetails")).sum()),
        commission_total=round(sum(amounts), 2),
        commission_currency="/".join(currencies) or "USD",
        prelive_baseline=any(bool(a.get("baseline")) for a in starts["attrs"]),
        faults_acted=int(df["fault"].notna().sum()) if "fault" in df else 0,
    )
