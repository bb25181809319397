"""PnL series and Sharpe ratios.

The PnL comes from the best source the log has: the mock's ``account_mark`` sys events, else the
NetLiquidation values or ``pnl`` messages a real gateway sent (tap logs), else the fills alone
(cash flows marked at the last fill price of each symbol).
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .frame import attr, event_time_s, select

#: Trading seconds in a year (252 sessions of 6.5 hours), for annualising.
TRADING_SECONDS_PER_YEAR = 252 * 6.5 * 3600
DEFAULT_INTERVAL_S = 60.0


def _to_float(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values, errors="coerce").astype(float)


def _equity_by_account(times: pd.Series, accounts: pd.Series, values: pd.Series) -> pd.Series:
    """Sum over accounts of each account's latest value, at every time any account reported."""
    frame = pd.DataFrame({"t": times.to_numpy(), "account": accounts.astype(str).to_numpy(),
                          "v": values.to_numpy()}).dropna()
    if frame.empty:
        return pd.Series(dtype=float)
    wide = frame.pivot_table(index="t", columns="account", values="v", aggfunc="last").sort_index().ffill()
    return wide.sum(axis=1, min_count=1).dropna()


def equity_from_marks(df: pd.DataFrame) -> pd.Series:
    """Net liquidation over time from the mock's ``account_mark`` events."""
    rows = select(df, "sys", "account_mark")
    return _equity_by_account(event_time_s(df).loc[rows.index], attr(rows, "account", ""),
                              _to_float(attr(rows, "net_liquidation")))


def equity_from_account_values(df: pd.DataFrame) -> pd.Series:
    """Net liquidation over time from updateAccountValue / accountSummary / accountUpdateMulti messages."""
    rows = select(df, "out", "updateAccountValue", "accountSummary", "accountUpdateMulti")
    key = attr(rows, "key").fillna(attr(rows, "tag")).fillna("")
    currency = attr(rows, "currency", "").fillna("")
    rows = rows[(key == "NetLiquidation") & (currency != "BASE")]
    return _equity_by_account(event_time_s(df).loc[rows.index], attr(rows, "account", ""),
                              _to_float(attr(rows, "value")))


def pnl_from_pnl_messages(df: pd.DataFrame) -> pd.Series:
    """Daily PnL over time from ``pnl`` messages (reqPnL), one request id at a time."""
    rows = select(df, "out", "pnl")
    values = _to_float(attr(rows, "daily_pnl"))
    frame = pd.DataFrame({"t": event_time_s(df).loc[rows.index].to_numpy(), "v": values.to_numpy(),
                          "req": attr(rows, "req_id").astype(str).to_numpy()}).dropna()
    if frame.empty:
        return pd.Series(dtype=float)
    first_req = frame["req"].iloc[0]
    frame = frame[frame["req"] == first_req]
    return frame.groupby("t")["v"].last().sort_index()


def pnl_from_fills(df: pd.DataFrame) -> pd.Series:
    """PnL marked at the latest fill price of each symbol, after every fill (commissions excluded)."""
    from .orders import executions

    execs = executions(df).sort_values("seq")
    if execs.empty:
        return pd.Series(dtype=float)
    cash, position, last_price, points = 0.0, {}, {}, {}
    for row in execs.itertuples():
        sign = 1.0 if str(row.side).upper() in ("BOT", "BUY") else -1.0
        qty = float(row.shares or 0.0)
        price = float(row.price or 0.0)
        cash -= sign * qty * price
        position[row.symbol] = position.get(row.symbol, 0.0) + sign * qty
        last_price[row.symbol] = price
        points[float(row.t)] = cash + sum(q * last_price[s] for s, q in position.items())
    return pd.Series(points, dtype=float).sort_index()


def pnl_series(df: pd.DataFrame) -> pd.Series:
    """PnL in account currency over time (seconds on the log's clock), 0 at the first observation."""
    for source in (equity_from_marks, equity_from_account_values, pnl_from_pnl_messages):
        series = source(df)
        if len(series) >= 2:
            return (series - series.iloc[0]).rename("pnl")
    series = pnl_from_fills(df)
    if len(series):
        return pd.concat([pd.Series({float(series.index[0]) - 1e-9: 0.0}), series]).rename("pnl")
    return pd.Series(dtype=float, name="pnl")


def sharpe_ratio(pnl: pd.Series, interval_s: float = DEFAULT_INTERVAL_S) -> float:
    """Annualised Sharpe of PnL changes per ``interval_s`` (zero risk-free rate).

    Dollar changes rather than returns, so a PnL series without a capital base (``pnl``
    messages) works too; for a constant base the two agree.
    """
    if len(pnl) < 3:
        return float("nan")
    times = pnl.index.to_numpy(dtype=float)
    grid = np.arange(times[0], times[-1] + interval_s, interval_s)
    idx = np.searchsorted(times, grid, side="right") - 1
    sampled = pnl.to_numpy(dtype=float)[np.clip(idx, 0, len(times) - 1)]
    changes = np.diff(sampled)
    if changes.size < 2:
        return float("nan")
    std = float(np.std(changes, ddof=1))
    if std == 0.0 or not math.isfinite(std):
        return float("nan")
    return float(np.mean(changes) / std * math.sqrt(TRADING_SECONDS_PER_YEAR / interval_s))


def sharpe(df: pd.DataFrame, interval_s: float = DEFAULT_INTERVAL_S) -> float:
    """Annualised Sharpe of this log's PnL series."""
    return sharpe_ratio(pnl_series(df), interval_s)
