"""Orders held by the gateway and orders working at once: what catches a handler that stacks orders.

A market order sent while the exchange is closed is not rejected: IB answers warning 399
("...will not be placed at the exchange until <next open>"), keeps it PreSubmitted and fills
it at the open. A handler that re-decides on every bar and sends again while its last order is
held wakes up with a position many times the size it meant. These metrics see that from the
event log alone: how many orders were held (399 on an order the client placed), and the
largest number of one client's orders that were working at the same time on one contract.

An order is working from its first placeOrder until the first sign it is over: an orderStatus
Filled / Cancelled / ApiCancelled / Inactive, or an error on its id that ends an order (any
code but the warnings and notices that leave it alive, e.g. 399, 161, 2100-2199).
"""
from __future__ import annotations

import pandas as pd

from .frame import as_int, attr, event_time_s, select
from .orders import placed_orders

#: orderStatus values after which an order is no longer working
TERMINAL_STATUSES = frozenset({"Filled", "Cancelled", "ApiCancelled", "Inactive"})
#: error codes on an order id that leave the order working (warnings, "cannot cancel", notices)
NON_TERMINAL_CODES = frozenset({161, 165, 399, 404, 434, 492, 2109, 10167, 10148, 10149})
HELD_CODE = 399


def _order_errors(df: pd.DataFrame) -> pd.DataFrame:
    """Errors addressed to an order id: seq, client_id (the connection's), order_id, code."""
    rows = select(df, "out", "error")
    return pd.DataFrame({"seq": rows["seq"], "client_id": as_int(rows["client_id"]),
                         "order_id": as_int(attr(rows, "req_id")), "code": as_int(attr(rows, "code"))}
                        ).dropna(subset=["client_id", "order_id", "code"])


def working_intervals(df: pd.DataFrame) -> pd.DataFrame:
    """One row per placed order: client_id, order_id, symbol, seq (placed), end_seq (over; NaN: still working)."""
    orders = placed_orders(df)
    cols = ["client_id", "order_id", "symbol", "seq", "end_seq"]
    if orders.empty:
        return pd.DataFrame(columns=cols)
    status = select(df, "out", "orderStatus")
    owner = as_int(attr(status, "client_id")).fillna(as_int(status["client_id"]))
    ends = pd.DataFrame({"seq": status["seq"], "client_id": owner, "order_id": as_int(attr(status, "order_id")),
                         "status": attr(status, "status", "")})
    ends = ends[ends["status"].isin(TERMINAL_STATUSES)][["seq", "client_id", "order_id"]]
    errs = _order_errors(df)
    codes = errs["code"].astype(int)
    ending = errs[~codes.isin(NON_TERMINAL_CODES) & ~codes.between(2100, 2199)][["seq", "client_id", "order_id"]]
    ends = pd.concat([ends, ending], ignore_index=True).dropna()
    merged = orders[["client_id", "order_id", "symbol", "seq"]].merge(
        ends.rename(columns={"seq": "end_seq"}), on=["client_id", "order_id"], how="left")
    merged = merged[merged["end_seq"].isna() | (merged["end_seq"] > merged["seq"])]
    first_end = merged.groupby(["client_id", "order_id"])["end_seq"].min()
    out = orders[["client_id", "order_id", "symbol", "seq"]].merge(
        first_end.rename("end_seq"), left_on=["client_id", "order_id"], right_index=True, how="left")
    return out[cols].reset_index(drop=True)


def orders_held(df: pd.DataFrame) -> int:
    """Orders placed in this log that the gateway held for the open (warning 399 on their id)."""
    orders = placed_orders(df)
    errs = _order_errors(df)
    held = errs[errs["code"] == HELD_CODE]
    if orders.empty or held.empty:
        return 0
    hits = orders[["client_id", "order_id", "seq"]].merge(held[["client_id", "order_id", "seq"]],
                                                          on=["client_id", "order_id"], suffixes=("", "_warn"))
    hits = hits[hits["seq_warn"] > hits["seq"]]
    return int(hits[["client_id", "order_id"]].drop_duplicates().shape[0])


def max_working_orders_per_contract(df: pd.DataFrame) -> int:
    """The most orders one client had working at the same time on one contract (0: no orders)."""
    steps = working_counts(df)
    return int(steps["running"].max()) if len(steps) else 0


def working_counts(df: pd.DataFrame) -> pd.DataFrame:
    """Each change of a (client_id, symbol)'s working-order count: seq, client_id, symbol, running (after it)."""
    spans = working_intervals(df)
    if spans.empty:
        return pd.DataFrame(columns=["seq", "client_id", "symbol", "running"])
    starts = spans[["client_id", "symbol", "seq"]].assign(step=1)
    stops = spans.dropna(subset=["end_seq"])[["client_id", "symbol", "end_seq"]].rename(
        columns={"end_seq": "seq"}).assign(step=-1)
    steps = pd.concat([starts, stops], ignore_index=True).sort_values(["seq", "step"])
    steps["symbol"] = steps["symbol"].fillna("").astype(str)
    steps["running"] = steps.groupby(["client_id", "symbol"])["step"].cumsum()
    return steps[["seq", "client_id", "symbol", "running"]].reset_index(drop=True)


def _time_of_seq(df: pd.DataFrame) -> dict:
    return dict(zip(df["seq"], event_time_s(df)))


def first_breach_s(df: pd.DataFrame, metric: str, max_value: float) -> float | None:
    """When ``metric`` first went above ``max_value`` (log clock seconds); None if it never did or is not timed.

    So a failure can name its first cause in time order: the order stacking at the close comes
    before the margin rejection it leads to at the open.
    """
    when = _time_of_seq(df)
    if metric == "orders_held":
        orders = placed_orders(df)
        errs = _order_errors(df)
        held = errs[errs["code"] == HELD_CODE].merge(orders[["client_id", "order_id", "seq"]],
                                                     on=["client_id", "order_id"], suffixes=("", "_placed"))
        held = held[held["seq"] > held["seq_placed"]].drop_duplicates(["client_id", "order_id"]).sort_values("seq")
        over = int(max_value) + 1 if max_value >= 0 else 0
        return float(when[held["seq"].iloc[over - 1]]) if over and len(held) >= over else None
    if metric == "max_working_orders_per_contract":
        steps = working_counts(df)
        above = steps[steps["running"] > max_value]
        return float(when[above["seq"].iloc[0]]) if len(above) else None
    return None
