"""Pacing violations: the error codes a gateway sends when a client breaks its rate limits."""
from __future__ import annotations

import pandas as pd

from .frame import as_int, attr, select

#: 100 message rate, 101 market-data lines, 162 historical pacing (only when its text says so),
#: 420 real-time bar pacing.
PACING_CODES = (100, 101, 162, 420)


#: Columns of :func:`pacing_violation_events`.
PACING_EVENT_COLUMNS = ("wall", "sim", "code", "text", "client_id")


def pacing_violation_events(df: pd.DataFrame) -> pd.DataFrame:
    """Every pacing error sent to a client, one row each in log order: wall, sim, code, text, client_id.

    The rule the counts use: 100, 101 and 420 always; 162 only when its text says pacing (162 also
    means "no data" or "query cancelled"). The index is the events' index in ``df``.
    """
    errors = select(df, "out", "error")
    codes = as_int(attr(errors, "code"))
    text = attr(errors, "text", "").fillna("").astype(str)
    always = [c for c in PACING_CODES if c != 162]
    is_pacing = (codes.isin(always) | ((codes == 162) & text.str.lower().str.contains("pacing")))
    rows = is_pacing.fillna(False).astype(bool).to_numpy()
    return pd.DataFrame({"wall": errors["wall"], "sim": errors["sim"], "code": codes, "text": text,
                         "client_id": errors["client_id"]}, columns=list(PACING_EVENT_COLUMNS))[rows]


def pacing_violations_by_code(df: pd.DataFrame) -> pd.Series:
    """Count of pacing errors sent to clients, indexed by code (every code present, zeros included)."""
    counts = pacing_violation_events(df)["code"].value_counts()
    return pd.Series({c: int(counts.get(c, 0)) for c in PACING_CODES}, name="violations", dtype="int64")


def pacing_violations(df: pd.DataFrame) -> int:
    """Total pacing violations of all codes."""
    return int(pacing_violations_by_code(df).sum())
