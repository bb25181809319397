"""Turn an event log into the one DataFrame every metric reads, and the time helpers they share.

Metrics read only the event log (mock_gateway.eventlog), so the same code measures a mock
scenario and a real paper session recorded by the tap. The frame keeps the raw ``attrs``
dicts; each metric pulls the attributes it needs with :func:`attr`.
"""
from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from mock_gateway.eventlog import Event, read_events

COLUMNS = ("seq", "wall", "sim", "source", "conn", "client_id", "dir", "msg", "msg_id", "attrs", "fault")


def events_frame(events: Iterable[Event]) -> pd.DataFrame:
    """A frame with one row per event, in log order, and the schema's columns."""
    rows = list(events)
    df = pd.DataFrame.from_records(rows, columns=list(COLUMNS)) if rows else pd.DataFrame(columns=list(COLUMNS))
    df["attrs"] = [a if isinstance(a, dict) else {} for a in df["attrs"]]
    for col in ("wall", "sim"):
        df[col] = pd.to_numeric(df[col], errors="coerce").astype(float)
    df["seq"] = pd.to_numeric(df["seq"], errors="coerce")
    return df.reset_index(drop=True)


def load_frame(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a JSONL event log (a truncated last line from a killed writer is skipped)."""
    return events_frame(read_events(path))


def latency_clock(df: pd.DataFrame) -> str:
    """``"sim"`` when the wire messages carry SimPy time (mock runs), else ``"wall"`` (tap recordings)."""
    wire = df[df["dir"] != "sys"]
    if len(wire) and wire["sim"].notna().all():
        return "sim"
    return "wall"


def event_time_s(df: pd.DataFrame, clock: str | None = None) -> pd.Series:
    """Seconds on the log's latency clock, per row (sim time for the mock, wall time for the tap)."""
    clock = clock or latency_clock(df)
    return df["sim"] if clock == "sim" else df["wall"]


def attr(df: pd.DataFrame, name: str, default: Any = None) -> pd.Series:
    """One attribute of every row's ``attrs`` as a Series (``default`` where absent)."""
    return pd.Series([a.get(name, default) for a in df["attrs"]], index=df.index, dtype=object)


def select(df: pd.DataFrame, direction: str, *names: str) -> pd.DataFrame:
    """Rows of one direction whose ``msg`` is one of ``names``."""
    return df[(df["dir"] == direction) & df["msg"].isin(names)]


def percentile(values: pd.Series | np.ndarray, q: float) -> float:
    """The q-th percentile (linear interpolation), NaN for no values."""
    arr = pd.to_numeric(pd.Series(values), errors="coerce").dropna().to_numpy(dtype=float)
    return float(np.percentile(arr, q)) if arr.size else float("nan")


def as_int(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series, errors="coerce").astype("Int64")
