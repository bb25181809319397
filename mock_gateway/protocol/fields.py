"""Field codecs: how values are written to and read from the wire.

Rules from the clients' own sources (ibapi/comm.py, ibapi/utils.py decode, ib_insync/decoder.py): integral
numbers carry no trailing ``.0`` (ibapi 9.81 parses sizes with ``int()``), bools are
``1``/``0``, unset values are empty or IB's sentinels.
"""
from __future__ import annotations

import math
import re
from collections.abc import Sequence

UNSET_INTEGER = 2**31 - 1
UNSET_DOUBLE = 1.7976931348623157e308
#: How TWS writes an unset double; every client's float() reads it.
UNSET_DOUBLE_TEXT = "1.7976931348623157E308"
#: What a double may look like on the wire (no "nan", "inf", "1_000" or Unicode digits, which
#: Python's float() would take and the Java gateway would not).
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
#: IB's own spellings of an infinite double (TWS writes "Infinite"; newer clients "Infinity"), and
#: what Java's Double.parseDouble takes besides decimals.
_INFINITE = {"Infinite": math.inf, "Infinity": math.inf, "-Infinity": -math.inf, "+Infinity": math.inf,
             "NaN": math.nan}
#: The longest numeric field read (a double's repr is at most 24 characters).
MAX_NUMBER_CHARS = 40


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
    """Inbound int: '' or UNSET_INTEGER mean unset (``default``); ValueError for anything not a finite number."""
    if text == "":
        return default
    if text.isdigit() and len(text) <= 18 and text.isascii():   # the common case, fast
        n = int(text)
        return default if n == UNSET_INTEGER else n
    _check_number_text(text)
    if not _DECIMAL.fullmatch(text):
        raise ValueError(f"{text!r} is not a number")
    try:
        n = int(text)
    except ValueError:
        x = float(text)
        if not math.isfinite(x):
            raise ValueError(f"{text!r} is not a finite number") from None
        n = int(x)
    return default if n == UNSET_INTEGER else n


def parse_float(text: str, default: float | None = None) -> float | None:
    """Inbound float: '' or >= UNSET_DOUBLE mean unset; 'Infinite' is inf."""
    if text == "":
        return default
    if text in _INFINITE:
        return _INFINITE[text]
    _check_number_text(text)
    if "_" in text or text[0].isspace() or text[-1].isspace() or text[-1] in "nNyYfF":
        # float() takes "1_0", " 1", "nan", "inf", "infinity"; Java's Double.parseDouble does not
        raise ValueError(f"{text!r} is not a decimal number")
    x = float(text)
    return default if x >= UNSET_DOUBLE else x


def _check_number_text(text: str) -> None:
    """Only short ASCII text is a number here: int() would take some non-ASCII digits, and a
    5,000-digit literal costs quadratic time (Python refuses it past 4,300 digits)."""
    if len(text) > MAX_NUMBER_CHARS or not text.isascii():
        raise ValueError(f"{text[:20]!r}{'...' if len(text) > 20 else ''} is not a number")


def parse_bool(text: str) -> bool:
    return text not in ("", "0", "false", "False")


# ---------------------------------------------------------------- reading a decoded field list
def field_at(fields: Sequence[str], i: int, default: str = "") -> str:
    """Field ``i``, or ``default`` when the message is shorter."""
    return fields[i] if i < len(fields) else default


def int_at(fields: Sequence[str], i: int, what: str) -> int:
    """A required integer field; ValueError naming the field when it is absent or not a number."""
    try:
        value = parse_int(fields[i])
    except (IndexError, ValueError):
        value = None
    if value is None:
        raise ValueError(f"{what} (field {i}) must be an integer, got {fields[i] if i < len(fields) else 'nothing'!r}")
    return value


def int_or_none(fields: Sequence[str], i: int) -> int | None:
    """An optional integer field: None when absent, unset or unreadable (never raises)."""
    try:
        return parse_int(field_at(fields, i))
    except ValueError:
        return None


def float_or_none(fields: Sequence[str], i: int) -> float | None:
    """An optional float field: None when absent, unset or unreadable (never raises)."""
    try:
        return parse_float(field_at(fields, i))
    except ValueError:
        return None
