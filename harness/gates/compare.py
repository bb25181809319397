"""Turn an observed value and a threshold into a :class:`Condition`, and measure how far it missed."""
from __future__ import annotations

import math
import operator
from collections.abc import Callable

from .config import Threshold
from .model import Condition, Status

_OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
    "==": operator.eq, "!=": operator.ne,
}


def holds(observed: float, op: str, threshold: float) -> bool:
    return _OPS[op](observed, threshold)


def numeric(id: str, subject: str, observed: float | None, threshold: Threshold, *,
            evidence: str | None, unit: str = "", pending_note: str = "", note: str = "",
            threshold_value: float | None = None, threshold_label: str = "") -> Condition:
    """``observed <op> threshold``; ``observed is None`` means the evidence is missing (PENDING).

    ``threshold_value`` replaces the configured value where the bound is derived (e.g. the
    Sharpe ratio bound is a multiple of the backtest Sharpe); ``threshold_label`` names it.
    """
    bound = threshold.value if threshold_value is None else threshold_value
    description = f"{subject} {threshold.op} {threshold_label or fmt(bound)}{(' ' + unit) if unit else ''}"
    if observed is None or (isinstance(observed, float) and math.isnan(observed)):
        return Condition(id, description, None, threshold.op, bound, Status.PENDING, evidence, unit,
                         pending_note or "evidence missing")
    status = Status.PASS if holds(observed, threshold.op, bound) else Status.FAIL
    return Condition(id, description, observed, threshold.op, bound, status, evidence, unit, note)


def boolean(id: str, description: str, observed: bool | None, expected: bool = True, *,
            evidence: str | None, pending_note: str = "", note: str = "") -> Condition:
    """``observed == expected``; ``None`` means the evidence is missing (PENDING)."""
    if observed is None:
        return Condition(id, description, None, "==", expected, Status.PENDING, evidence,
                         note=pending_note or "evidence missing")
    status = Status.PASS if observed is expected else Status.FAIL
    return Condition(id, description, observed, "==", expected, status, evidence, note=note)


def relative_miss(condition: Condition) -> float | None:
    """By how much of the threshold a FAILed numeric condition missed (0.05 = 5 %).

    None where a margin means nothing: equality, booleans, a zero threshold.
    """
    if condition.op not in ("<", "<=", ">", ">=") or isinstance(condition.observed, bool):
        return None
    if not isinstance(condition.observed, (int, float)) or not isinstance(condition.threshold, (int, float)):
        return None
    if condition.threshold == 0:
        return None
    return abs(condition.observed - condition.threshold) / abs(condition.threshold)


def pct(part: int, whole: int) -> float | None:
    """Percentage, or None when there is nothing to count."""
    return None if whole == 0 else 100.0 * part / whole


def fmt(value: object) -> str:
    """A value as the report shows it: 4 significant digits, booleans lower-case, None as "n/a"."""
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)) and abs(value) >= 1e4:
        return f"{value:,.0f}"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
