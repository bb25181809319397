"""Field codecs: how values are written to and read from the wire.

Rules from the clients' own sources (see shared/docs/tws-protocol.md §3.3-3.4): integral
numbers carry no trailing ``.0`` (ibapi 9.81 parses sizes with ``int()``), bools are
``1``/``0``, unset values are empty or IB's sentinels.
"""
from __future__ import annotations

import math

UNSET_INTEGER = 2**31 - 1
UNSET_DOUBLE = 1.7976931348623157e308
#: How TWS writes an unset double; every client's float() reads it.
UNSET_DOUBLE_TEXT = "1.7976931348623157E308"


def fmt(value: object) -> str:
    """Format one outbound field."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return fmt_float(value)
    return str(value)


def fmt_float(x: float) -> str:
    if math.isnan(x):
        return ""
    if x >= UNSET_DOUBLE:
        return UNSET_DOUBLE_TEXT
    if math.isinf(x):
        return "Infinite"
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    # round away binary noise (150.25000000000003) while keeping sub-tick precision
    text = f"{x:.10f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def parse_int(text: str, default: int | None = None) -> int | None:
    """Inbound int: '' or UNSET_INTEGER mean unset (``default``)."""
    if text == "":
        return default
    try:
        n = int(text)
    except ValueError:
        n = int(float(text))
    return default if n == UNSET_INTEGER else n


def parse_float(text: str, default: float | None = None) -> float | None:
    """Inbound float: '' or >= UNSET_DOUBLE mean unset; 'Infinite' is inf."""
    if text == "":
        return default
    if text == "Infinite":
        return math.inf
    x = float(text)
    return default if x >= UNSET_DOUBLE else x


def parse_bool(text: str) -> bool:
    return text not in ("", "0", "false", "False")
