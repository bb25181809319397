"""Small pure pricing helpers: tick rounding, quotes around a mid, Black-Scholes for options."""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

#: Trading seconds in a year (252 days x 6.5 hours), the basis of the annualised drift and volatility.
TRADING_SECONDS_PER_YEAR = 252 * 6.5 * 3600
#: Calendar seconds in a year, the basis of option time to expiry.
CALENDAR_SECONDS_PER_YEAR = 365 * 86400


@lru_cache(maxsize=64)
def _digits(tick: float) -> int:
    """Decimals that print every multiple of ``tick`` exactly (two more than the tick's own)."""
    return max(0, -int(math.floor(math.log10(tick))) + 2)


def round_to_tick(price, tick: float):
    """Nearest multiple of ``tick`` (scalar or array); rounding noise is removed so prices print cleanly."""
    digits = _digits(tick)
    if isinstance(price, np.ndarray):
        return np.round(np.round(price / tick) * tick, digits)
    return round(round(float(price) / tick) * tick, digits)


def bid_ask(mid, tick: float, spread_ticks: int):
    """(bid, ask) around ``mid``: ask - bid = spread_ticks ticks, both on the tick grid."""
    spread = max(1, spread_ticks) * tick
    digits = _digits(tick)
    bid = np.floor((np.asarray(mid, dtype=float) - spread / 2) / tick + 1e-9) * tick
    bid = np.maximum(bid, tick)
    return np.round(bid, digits), np.round(bid + spread, digits)


def midpoint(bid, ask, tick: float):
    """(bid + ask) / 2 without binary noise (it may sit on a half tick)."""
    return np.round((np.asarray(bid) + np.asarray(ask)) / 2, _digits(tick) + 1)


def black_scholes(spot, strike: float, years, vol: float, right: str, rate: float = 0.0):
    """Black-Scholes price of a European call (``right`` 'C') or put ('P'); arrays broadcast."""
    spot = np.asarray(spot, dtype=float)
    years = np.maximum(np.asarray(years, dtype=float), 1e-9)
    sd = vol * np.sqrt(years)
    d1 = (np.log(spot / strike) + (rate + 0.5 * vol * vol) * years) / sd
    d2 = d1 - sd
    disc = strike * np.exp(-rate * years)
    if right == "C":
        return spot * _ncdf(d1) - disc * _ncdf(d2)
    return disc * _ncdf(-d2) - spot * _ncdf(-d1)


def _ncdf(x):
    """Standard normal CDF (Abramowitz-Stegun 7.1.26 erf, |error| < 1.5e-7), vectorised without scipy."""
    z = np.asarray(x, dtype=float) / math.sqrt(2.0)
    t = 1.0 / (1.0 + 0.3275911 * np.abs(z))
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    erf = 1.0 - poly * np.exp(-z * z)
    return 0.5 * (1.0 + np.sign(z) * erf)


def _cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def _bs_scalar(spot: float, strike: float, years: float, vol: float, right: str) -> tuple[float, float]:
    """(price, vega per 1.00 of vol) of a European option, zero rate: scalar math, a few microseconds."""
    sd = vol * math.sqrt(years)
    d1 = (math.log(spot / strike) + 0.5 * sd * sd) / sd
    d2 = d1 - sd
    if right == "C":
        price = spot * _cdf(d1) - strike * _cdf(d2)
    else:
        price = strike * _cdf(-d2) - spot * _cdf(-d1)
    return price, spot * math.exp(-0.5 * d1 * d1) / math.sqrt(2.0 * math.pi) * math.sqrt(years)


def option_greeks(spot: float, strike: float, years: float, vol: float, right: str) -> tuple[float, ...]:
    """(price, delta, gamma, vega per vol point, theta per calendar day) of a European option, zero rate:
    the units IB's tickOptionComputation reports them in."""
    years = max(float(years), 1e-9)
    vol = max(float(vol), 1e-6)
    sd = vol * math.sqrt(years)
    d1 = (math.log(spot / strike) + 0.5 * sd * sd) / sd
    price, vega = _bs_scalar(spot, strike, years, vol, right)
    n1 = math.exp(-0.5 * d1 * d1) / math.sqrt(2.0 * math.pi)
    delta = _cdf(d1) if right == "C" else _cdf(d1) - 1.0
    gamma = n1 / (spot * sd)
    theta = -spot * n1 * vol / (2.0 * math.sqrt(years)) / 365.0
    return price, delta, gamma, vega / 100.0, theta


def implied_vol(price: float, spot: float, strike: float, years: float, right: str) -> float | None:
    """The volatility at which Black-Scholes gives ``price`` (Newton steps, bisection when they leave the
    bracket; 1e-6 in price); None at or below the option's value at almost no volatility."""
    lo, hi = 1e-4, 5.0
    years = max(float(years), 1e-9)
    if not (price > 0 and spot > 0) or price <= _bs_scalar(spot, strike, years, lo, right)[0]:
        return None
    if price >= _bs_scalar(spot, strike, years, hi, right)[0]:
        return hi
    vol = 0.3
    for _ in range(50):
        value, vega = _bs_scalar(spot, strike, years, vol, right)
        if abs(value - price) < 1e-6:
            return vol
        if value < price:
            lo = vol
        else:
            hi = vol
        step = vol - (value - price) / vega if vega > 1e-12 else -1.0
        vol = step if lo < step < hi else 0.5 * (lo + hi)
    return vol
