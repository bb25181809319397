"""Market-scanner ranking over the simulated market: pure functions from quotes to ranked rows.

The gateway's scanner desk (:mod:`mock_gateway.scanners`) samples the market and asks here which
contracts a scan code lists, in which order, after the subscription's filters.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

#: IB caps a scan at 50 rows (numberOfRows above that, or unset, gives 50).
MAX_SCANNER_ROWS = 50


@dataclass(frozen=True)
class ScanSample:
    """What a scan ranks one contract by, at one time."""

    con_id: int
    last: float
    prev_close: float
    volume: float            # shares traded today
    avg_volume: float        # the 90-day average daily volume
    vol_annual: float        # what the option-volatility scans rank by: the 30-day realised volatility
    #                          (the mock prices every option at one volatility, so IV alone ranks nothing)
    market_cap_musd: float   # millions of USD, as IB's marketCapAbove/Below filters take it

    @property
    def change_pct(self) -> float:
        return (self.last / self.prev_close - 1.0) * 100.0 if self.prev_close > 0 else 0.0


@dataclass(frozen=True)
class ScanFilter:
    """The ScannerSubscription filters the mock applies (None: not set)."""

    above_price: float | None = None
    below_price: float | None = None
    above_volume: float | None = None
    market_cap_above_musd: float | None = None
    market_cap_below_musd: float | None = None
    change_pct_above: float | None = None
    change_pct_below: float | None = None
    above_avg_volume: float | None = None

    def admits(self, x: ScanSample) -> bool:
        return ((self.change_pct_above is None or x.change_pct > self.change_pct_above)
                and (self.change_pct_below is None or x.change_pct < self.change_pct_below)
                and (self.above_avg_volume is None or x.avg_volume > self.above_avg_volume)
                and (self.above_price is None or x.last > self.above_price)
                and (self.below_price is None or x.last < self.below_price)
                and (self.above_volume is None or x.volume > self.above_volume)
                and (self.market_cap_above_musd is None or x.market_cap_musd > self.market_cap_above_musd)
                and (self.market_cap_below_musd is None or x.market_cap_musd < self.market_cap_below_musd))


#: scan code -> (the key rows rank by, highest first; which samples the scan lists at all).
_Rank = tuple[Callable[[ScanSample], float], Callable[[ScanSample], bool]]
SCAN_CODES: Mapping[str, _Rank] = {
    "TOP_PERC_GAIN": (lambda x: x.change_pct, lambda x: x.change_pct > 0),
    "TOP_PERC_LOSE": (lambda x: -x.change_pct, lambda x: x.change_pct < 0),
    # today's volume; before the first print of the day, the average day's (IB lists the previous session's)
    "MOST_ACTIVE": (lambda x: x.volume or x.avg_volume, lambda x: (x.volume or x.avg_volume) > 0),
    "MOST_ACTIVE_USD": (lambda x: (x.volume or x.avg_volume) * x.last, lambda x: (x.volume or x.avg_volume) > 0),
    "HOT_BY_VOLUME": (lambda x: x.volume / x.avg_volume if x.avg_volume > 0 else 0.0, lambda x: x.volume > 0),
    "HOT_BY_PRICE": (lambda x: abs(x.change_pct), lambda x: x.change_pct != 0),
    "HIGH_OPT_IMP_VOLAT": (lambda x: x.vol_annual, lambda x: x.vol_annual > 0),
    "LOW_OPT_IMP_VOLAT": (lambda x: -x.vol_annual, lambda x: x.vol_annual > 0),
    "TOP_PRICE_RANGE": (lambda x: x.last, lambda x: True),
}


def rows_wanted(number_of_rows: int | None) -> int:
    """How many rows a scan returns: the asked number, at most 50; unset or non-positive: 50."""
    if number_of_rows is None or number_of_rows <= 0:
        return MAX_SCANNER_ROWS
    return min(number_of_rows, MAX_SCANNER_ROWS)


def rank(samples: Iterable[ScanSample], scan_code: str, where: ScanFilter, rows: int) -> list[ScanSample]:
    """The ``rows`` best samples for ``scan_code`` that pass ``where``; ties keep conId order (deterministic).

    Raises KeyError for a scan code the mock does not compute (the desk answers IB's error)."""
    key, keep = SCAN_CODES[scan_code]
    picked = [x for x in samples if where.admits(x) and keep(x) and math.isfinite(key(x))]
    picked.sort(key=lambda x: (-key(x), x.con_id))
    return picked[:rows]


__all__ = ["MAX_SCANNER_ROWS", "SCAN_CODES", "ScanFilter", "ScanSample", "rank", "rows_wanted"]
