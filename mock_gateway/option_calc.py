"""Option calculations on request: calculateImpliedVolatility (54) and calculateOptionPrice (55).

Pure: the request's inputs and the option's model (strike, right, years to expiry) in, the one
tickOptionComputation (21) IB answers with out, or the error IB gives. The handlers read the
request and the world; this module knows neither sockets nor the simulation clock.

What the real gateway does (sources in docs/fidelity.md, "Option calculations"):

* the answer is a tickOptionComputation with tick type 53 (CUST_OPTION_COMPUTATION, ibapi
  ticktype.py) for the request's id, the option priced at the underlying price the request gives;
* calculateImpliedVolatility answers the implied volatility, the option price and the underlying
  price it was given; its greeks are "not computed" (delta -2: a live IB Gateway, server version 157,
  ib_async PR #225, 2026-07-14: ``impliedVol=0.302, delta=None, optPrice=3.6, undPrice=315.0``);
* calculateOptionPrice answers the price and the greeks at the volatility it was given
  (``optPrice=3.567, delta=0.51, gamma=0.045, vega=0.117, theta=-0.57, impliedVol=0.3``, the same run);
* the field after the underlying price is the request's misc options, a ``tag=value;`` string:
  anything else ("0", the count ibapi 9.81, ib_insync and ib_async 2.1 send there) is error 320
  "Error reading request. Please use 'Key=Value' format for Misc Options" and no computation
  (the same live run, and ib_async #222's gateway log, 2026-06-27).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .protocol import messages as m
from .sim.market import OptionModel
from .sim.pricing import implied_vol, option_greeks

Fields = list[str]

#: tickOptionComputation's tick type for an answer to 54/55 (ibapi ticktype.py CUST_OPTION_COMPUTATION).
CUST_OPTION_COMPUTATION = 53
#: The "not computed" markers clients decode to None (ibapi decoder processTickOptionComputationMsg: implied
#: vol < 0, delta -2, option price -1, PV dividend -1, gamma/vega/theta -2, underlying price -1).
NOT_COMPUTED_IV, NOT_COMPUTED_DELTA, NOT_COMPUTED_PRICE, NOT_COMPUTED_GREEK = -1.0, -2.0, -1.0, -2.0
#: IB's 320 for misc options that are not ``tag=value;`` (real gateway text, ib_async #222).
MISC_OPTIONS_FORMAT = "Error reading request. Please use 'Key=Value' format for Misc Options"
#: Volatility IB's calculators accept as an input: above 0, at most 1000 % (beyond it no model price is meaningful).
MAX_INPUT_VOLATILITY = 10.0


class MiscOptionsFormatError(ValueError):
    """The misc options field is not a ``tag=value;`` list: IB answers 320 and computes nothing."""


@dataclass(frozen=True)
class Computation:
    """The eight values of one tickOptionComputation, in wire order; the markers above where not computed."""

    implied_vol: float
    delta: float
    opt_price: float
    pv_dividend: float
    gamma: float
    vega: float
    theta: float
    und_price: float

    def fields(self, server_version: int, req_id: int) -> Fields:
        return m.tick_option_computation(server_version, req_id, CUST_OPTION_COMPUTATION, self.implied_vol,
                                         self.delta, self.opt_price, self.pv_dividend, self.gamma, self.vega,
                                         self.theta, self.und_price)


def parse_misc_options(text: str) -> dict[str, str]:
    """The ``tag=value;`` pairs of a calculation's misc options ("" is none); MiscOptionsFormatError otherwise.

    IB reads this field as text: a client that writes a count before it ("0") is refused with 320."""
    pairs: dict[str, str] = {}
    for token in text.split(";"):
        if not token.strip():
            continue
        tag, eq, value = token.partition("=")
        if not eq or not tag.strip():
            raise MiscOptionsFormatError(MISC_OPTIONS_FORMAT)
        pairs[tag.strip()] = value.strip()
    return pairs


def _finite_positive(x: float) -> bool:
    return math.isfinite(x) and x > 0


def implied_volatility(model: OptionModel, option_price: float, under_price: float) -> Computation:
    """calculateImpliedVolatility: the volatility at which the option is worth ``option_price`` with the
    underlying at ``under_price``. Greeks are not computed (as IB answers it); a price no volatility gives
    (at or below intrinsic value, above the underlying for a call) is impliedVol -1, the solver never raises."""
    vol = None
    if (_finite_positive(option_price) and _finite_positive(under_price) and model.strike > 0
            and option_price < (under_price if model.right == "C" else model.strike)):   # above that: no volatility
        vol = implied_vol(option_price, under_price, model.strike, model.years, model.right)
    return Computation(
        implied_vol=round(vol, 6) if vol is not None and math.isfinite(vol) else NOT_COMPUTED_IV,
        delta=NOT_COMPUTED_DELTA,
        opt_price=option_price if math.isfinite(option_price) and option_price >= 0 else NOT_COMPUTED_PRICE,
        pv_dividend=NOT_COMPUTED_PRICE,
        gamma=NOT_COMPUTED_GREEK, vega=NOT_COMPUTED_GREEK, theta=NOT_COMPUTED_GREEK,
        und_price=under_price if _finite_positive(under_price) else NOT_COMPUTED_PRICE)


def option_price(model: OptionModel, volatility: float, under_price: float) -> Computation:
    """calculateOptionPrice: Black-Scholes price and greeks at ``volatility`` with the underlying at
    ``under_price`` (the same model as the reqMktData computations: zero rate, vega per vol point,
    theta per calendar day); inputs no model can price get every value "not computed"."""
    if not (_finite_positive(volatility) and volatility <= MAX_INPUT_VOLATILITY and _finite_positive(under_price)
            and model.strike > 0):
        return Computation(NOT_COMPUTED_IV, NOT_COMPUTED_DELTA, NOT_COMPUTED_PRICE, NOT_COMPUTED_PRICE,
                           NOT_COMPUTED_GREEK, NOT_COMPUTED_GREEK, NOT_COMPUTED_GREEK,
                           under_price if _finite_positive(under_price) else NOT_COMPUTED_PRICE)
    price, delta, gamma, vega, theta = option_greeks(under_price, model.strike, model.years, volatility, model.right)
    return Computation(implied_vol=volatility, delta=round(delta, 6), opt_price=round(price, 6), pv_dividend=0.0,
                       gamma=round(gamma, 6), vega=round(vega, 6), theta=round(theta, 6), und_price=under_price)


__all__ = ["CUST_OPTION_COMPUTATION", "Computation", "MISC_OPTIONS_FORMAT", "MiscOptionsFormatError",
           "implied_volatility", "option_price", "parse_misc_options"]
