"""Which gateway made a piece of evidence: the mock says so on the wire (mock_gateway.identity), IB never does.

Evidence made against the mock is simulated and must say so wherever it goes; this module reads
that from what the gateway itself sent, never from a user flag.
"""
from __future__ import annotations

from typing import Any

import pandas as pd

from mock_gateway.identity import MOCK_NOTICE_CODE, is_mock_notice

MOCK = "mock"
REAL = "real"


def gateway_of_log(df: pd.DataFrame) -> dict[str, Any]:
    """``{"kind": "mock"|"real", "detected_by": ...}`` for an event log (a mock run's or a tap recording)."""
    if len(df):
        errors = df[(df["dir"] == "out") & (df["msg"] == "error")]
        for attrs in errors["attrs"]:
            if is_mock_notice(attrs.get("code"), attrs.get("text")):
                return {"kind": MOCK, "detected_by": f"startup notice {MOCK_NOTICE_CODE} from the gateway"}
        if "source" in df and (df["source"] == MOCK).any():
            return {"kind": MOCK, "detected_by": "the log was written by the mock gateway itself"}
    return {"kind": REAL, "detected_by": f"no mock notice ({MOCK_NOTICE_CODE}) in the gateway's startup replies"}
