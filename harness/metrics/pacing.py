"""Pacing violations: the error codes a gateway sends when a client breaks its rate limits."""
from __future__ import annotations

import pandas as pd

from .frame import as_int, attr, select

#: 100 message rate, 101 market-data lines, 162 historical pacing (only when its text says so),
#: 420 real-time bar pacing.
PACING_CODES = (100, 101, 162, 420)


def pacing_violations_by_code(df: pd.DataFrame) -> pd.Series:
    """Count of pacing errors sent to clients, indexed by code (every code present, zeros included)."""
    errors = select(df, "out", "error")
    codes = as_int(attr(errors, "code"))
    text = attr(errors, "text", "").fillna("").astype(str).str.lower()
    # 162 also means "no data" or "query cancelled"; only its pacing text is a violation
    is_pacing = codes.isin([100, 101, 420]) | ((codes == 162) & text.str.contains("pacing"))
    counts = codes[is_pacing.fillna(False).astype(bool)].value_counts()
    return pd.Series({c: int(counts.get(c, 0)) for c in PACING_CODES}, name="violations", dtype="int64")


def pacing_violations(df: pd.DataFrame) -> int:
    """Total pacing violations of all codes."""
    return int(pacing_violations_by_code(df).sum())
