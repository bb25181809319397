"""Text-layout values to protobuf values (and the contract block most replies carry)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

Fields = Sequence[str]


def _s(text: str) -> str | None:
    return text if text != "" else None


def _i(text: str) -> int | None:
    """An int field; empty is absent. IB's unset sentinel travels as itself, as in the text layout."""
    if text == "":
        return None
    try:
        return int(text)
    except ValueError:
        return int(float(text))


def _d(text: str) -> float | None:
    """A double field; empty is absent, IB's unset max double stays (the client reads it as unset)."""
    if text == "":
        return None
    if text in ("Infinite", "Infinity"):
        return float("inf")
    return float(text)


def _b(text: str) -> bool | None:
    return None if text == "" else text not in ("0", "false", "False")


def _unescape(text: str) -> str:
    """Text replies escape non-ASCII as \\uXXXX (as TWS does); protobuf strings carry the characters."""
    if "\\u" not in text:
        return text
    try:
        return text.encode("ascii").decode("unicode_escape")
    except (UnicodeDecodeError, UnicodeEncodeError):
        return text


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None and v != {} and v != []}


def _contract11(f: Fields, i: int, *, primary: bool = False) -> dict[str, Any]:
    """conId, symbol, secType, lastTradeDate, strike, right, multiplier, exchange (or primary), currency,
    localSymbol, tradingClass: the contract block most replies carry."""
    return _clean({"conId": _i(f[i]), "symbol": _s(f[i + 1]), "secType": _s(f[i + 2]),
                   "lastTradeDateOrContractMonth": _s(f[i + 3]), "strike": _d(f[i + 4]), "right": _s(f[i + 5]),
                   "multiplier": _d(f[i + 6]), ("primaryExch" if primary else "exchange"): _s(f[i + 7]),
                   "currency": _s(f[i + 8]), "localSymbol": _s(f[i + 9]), "tradingClass": _s(f[i + 10])})
