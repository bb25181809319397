"""Order acknowledgement and fill latency: placeOrder in -> first openOrder/orderStatus / execDetails out.

Matched per connection and order id, in log order, so a modification (a second placeOrder with
the same id) is measured from its own request. Measured on the log's latency clock (sim time for
the mock, wall time for the tap; see :func:`~harness.metrics.frame.latency_clock`).
"""
from __future__ import annotations

import pandas as pd

from .frame import as_int, attr, event_time_s, percentile, select


def _order_rows(df: pd.DataFrame, direction: str, names: tuple[str, ...]) -> pd.DataFrame:
    rows = select(df, direction, *names)
    t = event_time_s(df).loc[rows.index]
    out = pd.DataFrame({"seq": rows["seq"].astype("int64"), "t": t.astype(float),
                        "conn": as_int(rows["conn"]), "order_id": as_int(attr(rows, "order_id"))})
    return out.dropna(subset=["conn", "order_id", "t"]).astype({"conn": "int64", "order_id": "int64"})


def _latencies_ms(df: pd.DataFrame, replies: tuple[str, ...]) -> pd.Series:
    placed = _order_rows(df, "in", ("placeOrder",)).sort_values("seq")
    answered = _order_rows(df, "out", replies).sort_values("seq")
    if placed.empty or answered.empty:
        return pd.Series([], dtype=float, name="latency_ms")
    matched = pd.merge_asof(placed, answered.rename(columns={"t": "t_reply", "seq": "seq_reply"}),
                            left_on="seq", right_on="seq_reply", by=["conn", "order_id"],
                            direction="forward")
    latency = (matched["t_reply"] - matched["t"]) * 1000.0
    return latency.dropna().reset_index(drop=True).rename("latency_ms")


def order_ack_latencies_ms(df: pd.DataFrame) -> pd.Series:
    """One value per acknowledged placeOrder: ms until the first openOrder/orderStatus for it."""
    return _latencies_ms(df, ("openOrder", "orderStatus"))


def fill_latencies_ms(df: pd.DataFrame) -> pd.Series:
    """One value per placeOrder that filled: ms until its first execDetails."""
    return _latencies_ms(df, ("execDetails",))


def order_ack_latency_ms(df: pd.DataFrame, q: float) -> float:
    """The q-th percentile of order acknowledgement latency in ms (NaN when no order was acknowledged)."""
    return percentile(order_ack_latencies_ms(df), q)


def fill_latency_ms(df: pd.DataFrame, q: float) -> float:
    """The q-th percentile of fill latency in ms (NaN when nothing filled)."""
    return percentile(fill_latencies_ms(df), q)


def latency_delta_pct(paper_p95_ms: float, baseline_p95_ms: float, floor_ms: float) -> float:
    """How much slower paper acknowledgements are than the baseline run's, in % of the baseline.

    A zero-latency backtest acknowledges in 0 ms, which would make every real latency an
    infinite delta; ``floor_ms`` (the latency budget the strategy was designed for) is used as
    the denominator when the baseline is below it.
    """
    if pd.isna(paper_p95_ms) or pd.isna(baseline_p95_ms):
        return float("nan")
    return 100.0 * (paper_p95_ms - baseline_p95_ms) / max(baseline_p95_ms, floor_ms)
