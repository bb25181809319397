"""Cash dividends and the ADJUSTED_LAST adjustment IB applies to historical bars.

IB's historical bar types (TWS API docs, "Historical Data Types"): "TRADES data is adjusted for splits,
but not dividends"; "ADJUSTED_LAST data is adjusted for splits and dividends". The simulated price path
is already split-adjusted (one continuous level per contract, anchored at today's price), so a split
changes no bar of either type; what separates ADJUSTED_LAST from TRADES is the dividends. Each bar
before an ex-date is scaled by ``1 - D / P``, P the last close before the ex-date (the usual
back-adjustment; IB does not document its formula), and the factors of later ex-dates multiply.

Built-in dividends are a small table for the big payers of the universe, carried on past its last
entry at the last interval and amount (a projection, said so in docs/fidelity.md); a scenario declares
more (``market.dividends``: symbol -> [{ex_date: YYYYMMDD, amount}]), and those replace a symbol's row
exactly.
Pure: the close before each ex-date is asked of the caller (the market's own daily bars).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import numpy as np

#: Quarterly cash dividends per share, USD, by ex-date (issuers' dividend announcements, 2023-2025; the
#: values were taken from the issuers' public dividend histories and could not be re-checked offline).
DIVIDENDS: dict[str, tuple[tuple[str, float], ...]] = {
    "AAPL": (("20230210", 0.23), ("20230512", 0.24), ("20230811", 0.24), ("20231110", 0.24),
             ("20240209", 0.24), ("20240510", 0.25), ("20240812", 0.25), ("20241108", 0.25),
             ("20250210", 0.25), ("20250512", 0.26), ("20250811", 0.26), ("20251110", 0.26)),
    "MSFT": (("20230215", 0.68), ("20230517", 0.68), ("20230816", 0.68), ("20231115", 0.75),
             ("20240214", 0.75), ("20240515", 0.75), ("20240815", 0.75), ("20241121", 0.83),
             ("20250220", 0.83), ("20250515", 0.83), ("20250821", 0.83), ("20251120", 0.91)),
}
#: No more dividends per symbol than this from a scenario (a bounded adjustment, whatever the input).
MAX_DIVIDENDS_PER_SYMBOL = 400


class CorporateActionError(ValueError):
    """A declared dividend the mock cannot use (a bad date, a negative amount)."""


@dataclass(frozen=True)
class Dividend:
    ex_date: date
    amount: float

    def ex_epoch(self, time_zone: str) -> float:
        """The ex-date's local midnight in epoch seconds: bars that start before it are adjusted."""
        return datetime.combine(self.ex_date, time(0), ZoneInfo(time_zone or "UTC")).timestamp()


def _parse(ex_date: str, amount: float) -> Dividend:
    try:
        day = datetime.strptime(str(ex_date), "%Y%m%d").date()
    except ValueError:
        raise CorporateActionError(f"dividend ex_date {ex_date!r} is not YYYYMMDD") from None
    if not (amount > 0 and amount < 1e6):
        raise CorporateActionError(f"dividend amount {amount!r} must be positive")
    return Dividend(day, float(amount))


class DividendBook:
    """Every symbol's dividends: the built-in table, with a scenario's declarations replacing a symbol's row."""

    def __init__(self, declared: Mapping[str, Iterable[Mapping]] | None = None) -> None:
        self._rows: dict[str, tuple[Dividend, ...]] = {
            s: tuple(_parse(d, a) for d, a in rows) for s, rows in DIVIDENDS.items()}
        self._declared = {symbol.upper() for symbol in (declared or {})}
        for symbol, rows in (declared or {}).items():
            parsed = [_parse(r.get("ex_date", ""), float(r.get("amount", 0))) for r in rows]
            if len(parsed) > MAX_DIVIDENDS_PER_SYMBOL:
                raise CorporateActionError(f"{symbol}: at most {MAX_DIVIDENDS_PER_SYMBOL} dividends")
            self._rows[symbol.upper()] = tuple(sorted(parsed, key=lambda d: d.ex_date))

    def dividends(self, symbol: str, until: date | None = None) -> tuple[Dividend, ...]:
        """The symbol's dividends; with ``until``, a built-in row is carried on past its last entry (the last
        amount at the last interval, as a regular payer keeps paying) up to that date. Declared rows are exact."""
        rows = self._rows.get(symbol.upper(), ())
        if until is None or symbol.upper() in self._declared or len(rows) < 2:
            return rows
        step = rows[-1].ex_date - rows[-2].ex_date
        if step.days < 28:
            return rows
        out = list(rows)
        while len(out) < len(rows) + MAX_DIVIDENDS_PER_SYMBOL and out[-1].ex_date + step <= until:
            out.append(Dividend(out[-1].ex_date + step, rows[-1].amount))
        return tuple(out)


def adjustment_factors(bar_epochs: np.ndarray, ex_epochs: Iterable[float], factors: Iterable[float]) -> np.ndarray:
    """Per bar, the product of the factors of every ex-date after the bar's start (1 for bars on or after
    the last one)."""
    out = np.ones(len(bar_epochs))
    for ex, f in zip(ex_epochs, factors):
        out[bar_epochs < ex] *= f
    return out


def dividend_factors(dividends: Iterable[Dividend], time_zone: str, now_epoch: float,
                     close_before: Callable[[float], float | None]) -> tuple[list[float], list[float]]:
    """(ex epochs, factors) of the dividends that have gone ex by ``now_epoch``: factor = 1 - D / P with P the
    close before the ex-date (``close_before(ex_epoch)``; None when there was no trading before it)."""
    exs, fs = [], []
    for d in dividends:
        ex = d.ex_epoch(time_zone)
        if ex > now_epoch:
            break
        price = close_before(ex)
        if price is None or price <= d.amount:
            continue
        exs.append(ex)
        fs.append(1.0 - d.amount / price)
    return exs, fs


__all__ = ["CorporateActionError", "DIVIDENDS", "Dividend", "DividendBook", "adjustment_factors",
           "dividend_factors"]
