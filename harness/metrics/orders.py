"""Orders and executions: trade count, fill rate, duplicate orders, the trade list.

An order is keyed by (client id, order id): the same order keeps its key across reconnects.
Executions are de-duplicated by exec id, because one fill reaches the client live and again in
the reqExecutions answer after a reconnect (and reaches every session that asks).
"""
from __future__ import annotations

import pandas as pd

from .frame import as_int, attr, event_time_s, select


def placed_orders(df: pd.DataFrame) -> pd.DataFrame:
    """One row per order placed in this log: client_id, order_id, first seq, last qty, order_ref, symbol, action."""
    rows = select(df, "in", "placeOrder")
    frame = pd.DataFrame({
        "seq": rows["seq"], "t": event_time_s(df).loc[rows.index], "conn": rows["conn"],
        "client_id": as_int(rows["client_id"]), "order_id": as_int(attr(rows, "order_id")),
        "total_qty": pd.to_numeric(attr(rows, "total_qty"), errors="coerce"),
        "order_ref": attr(rows, "order_ref", "").fillna(""), "symbol": attr(rows, "symbol", ""),
        "action": attr(rows, "action", ""), "order_type": attr(rows, "order_type", ""),
    }).dropna(subset=["client_id", "order_id"])
    if frame.empty:
        return frame.reset_index(drop=True)
    grouped = frame.sort_values("seq").groupby(["client_id", "order_id"], as_index=False)
    first = grouped.first()[["client_id", "order_id", "seq", "t", "conn", "order_ref", "symbol", "action",
                             "order_type"]]
    last_qty = grouped["total_qty"].last()  # a modification may change the quantity
    return first.merge(last_qty, on=["client_id", "order_id"]).sort_values("seq").reset_index(drop=True)


def executions(df: pd.DataFrame) -> pd.DataFrame:
    """One row per distinct execution: exec_id, client_id (order owner), order_id, side, shares, price, t."""
    rows = select(df, "out", "execDetails")
    owner = as_int(attr(rows, "client_id"))
    owner = owner.fillna(as_int(rows["client_id"]))
    frame = pd.DataFrame({
        "seq": rows["seq"], "t": event_time_s(df).loc[rows.index], "exec_id": attr(rows, "exec_id", ""),
        "client_id": owner, "order_id": as_int(attr(rows, "order_id")), "symbol": attr(rows, "symbol", ""),
        "side": attr(rows, "side", ""), "shares": pd.to_numeric(attr(rows, "shares"), errors="coerce"),
        "price": pd.to_numeric(attr(rows, "price"), errors="coerce"), "account": attr(rows, "account", ""),
    })
    frame = frame[frame["exec_id"].astype(str) != ""]
    return frame.sort_values("seq").drop_duplicates("exec_id", keep="first").reset_index(drop=True)


def _own_executions(df: pd.DataFrame) -> pd.DataFrame:
    """Executions of orders placed in this log (not earlier sessions' fills replayed by reqExecutions)."""
    orders = placed_orders(df)
    execs = executions(df)
    if orders.empty or execs.empty:
        return execs.iloc[0:0].assign(order_ref=pd.Series(dtype=object))
    keys = orders[["client_id", "order_id", "order_ref"]]
    return execs.merge(keys, on=["client_id", "order_id"], how="inner")


def filled_qty_by_order(df: pd.DataFrame) -> pd.DataFrame:
    """Filled quantity per placed order (0 for orders that never executed)."""
    orders = placed_orders(df)
    if orders.empty:
        return orders.assign(filled_qty=pd.Series(dtype=float))
    filled = _own_executions(df).groupby(["client_id", "order_id"])["shares"].sum().rename("filled_qty")
    out = orders.merge(filled, left_on=["client_id", "order_id"], right_index=True, how="left")
    out["filled_qty"] = out["filled_qty"].fillna(0.0)
    return out


def _client_cancelled(df: pd.DataFrame, orders: pd.DataFrame) -> pd.Series:
    """Orders the client itself cancelled (cancelOrder for it, or a reqGlobalCancel while it was open)."""
    cancels = select(df, "in", "cancelOrder")
    cancelled_keys = set(zip(as_int(cancels["client_id"]), as_int(attr(cancels, "order_id"))))
    global_cancel_seqs = select(df, "in", "reqGlobalCancel")["seq"].tolist()
    execs = _own_executions(df)
    done_seq = {}
    for (cid, oid), grp in execs.groupby(["client_id", "order_id"]):
        done_seq[(cid, oid)] = grp["seq"].max()
    flags = []
    for row in orders.itertuples():
        key = (row.client_id, row.order_id)
        by_global = any(s > row.seq and done_seq.get(key, float("inf")) > s for s in global_cancel_seqs)
        flags.append(key in cancelled_keys or by_global)
    return pd.Series(flags, index=orders.index, dtype=bool)


def fill_rate_pct(df: pd.DataFrame) -> float:
    """% of orders completely filled, among the orders the client did not cancel itself.

    Rejected orders count as not filled; an order the strategy withdrew (cancelOrder, global
    cancel, kill switch) is left out, because not filling it was the client's choice.
    """
    orders = filled_qty_by_order(df)
    if orders.empty:
        return float("nan")
    considered = orders[~_client_cancelled(df, orders)]
    if considered.empty:
        return float("nan")
    complete = considered["filled_qty"] >= considered["total_qty"].fillna(float("inf")) - 1e-9
    return 100.0 * float(complete.sum()) / len(considered)


def trade_count(df: pd.DataFrame) -> int:
    """Orders placed in this log that executed at least once (a partially filled order is one trade)."""
    execs = _own_executions(df)
    return int(execs[["client_id", "order_id"]].drop_duplicates().shape[0])


def duplicate_orders(df: pd.DataFrame) -> int:
    """Extra executed orders per order_ref: an intent (orderRef) that executed as two orders is one duplicate."""
    execs = _own_executions(df)
    execs = execs[execs["order_ref"].astype(str) != ""]
    if execs.empty:
        return 0
    per_ref = execs.drop_duplicates(["client_id", "order_id"]).groupby("order_ref").size()
    return int((per_ref - 1).clip(lower=0).sum())


def trades(df: pd.DataFrame) -> pd.DataFrame:
    """The executions of this log's orders, for PAPER_TRADING_LOG.json."""
    cols = ["t", "exec_id", "client_id", "order_id", "order_ref", "symbol", "side", "shares", "price"]
    execs = _own_executions(df)
    return execs[cols].reset_index(drop=True) if not execs.empty else pd.DataFrame(columns=cols)


def errors(df: pd.DataFrame) -> pd.DataFrame:
    """Error messages sent to clients, farm-status notices (2100-2199) left out."""
    rows = select(df, "out", "error")
    frame = pd.DataFrame({"t": event_time_s(df).loc[rows.index], "conn": rows["conn"],
                          "client_id": rows["client_id"], "req_id": attr(rows, "req_id"),
                          "code": as_int(attr(rows, "code")), "text": attr(rows, "text", "")})
    notice = frame["code"].between(2100, 2199).fillna(False).astype(bool)
    return frame[~notice].reset_index(drop=True)
