"""Disconnects and reconnects, from the sys events of the log and the session start messages.

A session counts once it is ready (the gateway sent nextValidId on it). A disconnect counts
only if the gateway side ended a ready session before the run ended (``run_end``, or the
harness's ``handler_stop``): a handler that closes its own socket, or the run's own teardown,
is not a connectivity failure.
"""
from __future__ import annotations

import pandas as pd

from .frame import as_int, attr, event_time_s, select

_CLIENT_SIDE = ("client", "eof", "peer closed", "by peer")
#: The run's own end (gateway or tap shutting down) is not a connectivity failure either.
_TEARDOWN = ("shut down", "tap stopped")


def closed_by_client(reason: object, by: object = None) -> bool:
    """True when the client ended the session itself, or the run's teardown did."""
    if isinstance(by, str) and by:
        return by.lower() in ("client", "tap")
    text = str(reason or "").lower()
    return any(word in text for word in _CLIENT_SIDE + _TEARDOWN)


def sessions(df: pd.DataFrame) -> pd.DataFrame:
    """One row per connection: client_id, t_ready (first nextValidId out, NaN if never ready)."""
    t = event_time_s(df)
    wire = df[df["conn"].notna()]
    if wire.empty:
        return pd.DataFrame(columns=["conn", "client_id", "t_ready"])
    client = as_int(wire["client_id"]).groupby(as_int(wire["conn"])).agg(lambda s: s.dropna().iloc[-1]
                                                                        if s.notna().any() else pd.NA)
    ready_rows = select(df, "out", "nextValidId")
    t_ready = t.loc[ready_rows.index].groupby(as_int(ready_rows["conn"])).min()
    out = pd.DataFrame({"client_id": client}).join(t_ready.rename("t_ready"), how="left")
    out.index.name = "conn"
    return out.reset_index()


def disconnect_events(df: pd.DataFrame) -> pd.DataFrame:
    """Gateway-side ends of ready sessions before run_end: t, conn, client_id, reason, reconnect_s."""
    t = event_time_s(df)
    rows = select(df, "sys", "disconnect")
    end_rows = select(df, "sys", "run_end", "handler_stop")  # the harness stopping the handler ends the run
    if len(end_rows):
        rows = rows[rows["seq"] < end_rows["seq"].min()]
    reason = attr(rows, "reason", "")
    by = attr(rows, "by")
    gateway_side = [not closed_by_client(r, b) for r, b in zip(reason, by)]
    rows = rows[pd.Series(gateway_side, index=rows.index, dtype=bool)]
    sess = sessions(df)
    ready = sess.dropna(subset=["t_ready"])
    ready_conns = set(ready["conn"].astype(int))
    frame = pd.DataFrame({"t": t.loc[rows.index], "conn": as_int(rows["conn"]),
                          "reason": attr(rows, "reason", "")})
    frame = frame[frame["conn"].isin(ready_conns)]
    client_of = dict(zip(sess["conn"].astype(int), sess["client_id"]))
    frame["client_id"] = [client_of.get(int(c)) for c in frame["conn"]]
    frame["reconnect_s"] = [_reconnect_after(ready, cid, td) for cid, td in zip(frame["client_id"], frame["t"])]
    return frame.reset_index(drop=True)


def _reconnect_after(ready: pd.DataFrame, client_id: object, t_down: float) -> float:
    later = ready[(ready["client_id"] == client_id) & (ready["t_ready"] > t_down)]
    return float(later["t_ready"].min() - t_down) if len(later) else float("nan")


def disconnects(df: pd.DataFrame) -> int:
    """Ready sessions the gateway side ended during the run."""
    return int(len(disconnect_events(df)))


def reconnect_times_s(df: pd.DataFrame) -> pd.Series:
    """Seconds from each disconnect until the same client id had a ready session again (NaN: never)."""
    return disconnect_events(df)["reconnect_s"].astype(float)


def reconnect_time_s(df: pd.DataFrame) -> float:
    """The slowest recovery from a disconnect, in seconds (NaN when nothing disconnected or none recovered)."""
    times = reconnect_times_s(df).dropna()
    return float(times.max()) if len(times) else float("nan")


def unrecovered_disconnects(df: pd.DataFrame) -> int:
    """Disconnects after which the client never had a ready session again."""
    return int(reconnect_times_s(df).isna().sum())
