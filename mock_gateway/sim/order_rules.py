"""The checks the real gateway makes on an order before it goes anywhere, with IB's codes and texts.

Pure functions of the order and its contract: :func:`check_order` answers the first rule an
order breaks as a :class:`Violation` (code, text, and the rule's name for the event log), or
None. Codes and texts are IB's error-code table (TWS API documentation, "Error Handling") and
real gateway logs; docs/fidelity.md ("Orders: validation") says which source each one follows.
New orders and modifications go through the same checks.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from .contracts import ContractSpec
from .order_types import OrderRequest

#: Order types the engine matches (aliases map to these); any other type is refused with 387.
ORDER_TYPES = {"MKT": "MKT", "LMT": "LMT", "STP": "STP", "STP LMT": "STP LMT", "STPLMT": "STP LMT",
               "MOC": "MOC", "LOC": "LOC", "TRAIL": "TRAIL"}
#: Times in force the gateway knows; any other is refused.
TIFS = ("DAY", "GTC", "IOC", "FOK", "GTD", "OPG")
#: Order types a limit price must be set for, and those a stop (aux) price must be set for.
NEEDS_LIMIT = ("LMT", "STP LMT", "LOC")
NEEDS_STOP = ("STP", "STP LMT")
#: Order types whose outsideRth flag TWS ignores with warning 2109 (market-type orders run in regular hours).
RTH_ONLY_TYPES = ("MKT", "MOC", "LOC", "TRAIL")
#: Security types with a regular vs outside-regular-hours distinction (others: the whole trading session).
EXTENDED_HOURS_SEC_TYPES = ("STK",)

TEXT_110 = "The price does not conform to the minimum price variation for this contract."
TEXT_103 = "Duplicate order id"
TEXT_104 = "Can't modify a filled order."
TEXT_105 = "Order being modified does not match original order."
TEXT_111 = "The time in force (tif type) and the order type are incompatible."
TEXT_113 = "The Tif option should be set to DAY for MOC and LOC orders."
TEXT_158 = "You must specify an offset amount or a percent offset value."
TEXT_159 = "The percent offset value must be between 0% and 100%."
TEXT_334 = "Invalid Good Till Date order"
TEXT_387 = "Unsupported order type for this exchange and security type."
TEXT_434 = "The order size cannot be zero."
TEXT_10243 = "Fractional-sized order cannot be placed via API. Please use desktop version to place this order."
TEXT_2109 = ("Order Event Warning:Attribute 'Outside Regular Trading Hours' is ignored based on the order type "
             "and destination. PlaceOrder is now being processed.")
TEXT_MISSING_EXCHANGE = "Error validating request.-'bN' : cause - Missing order exchange"


@dataclass(frozen=True)
class Violation:
    """An order refused: error ``code`` with ``text`` on the order id; ``rule`` names the check (event log)."""

    code: int
    text: str
    rule: str


def _raw(request: OrderRequest, name: str) -> str:
    wire = request.wire
    return wire.get(name) if wire is not None and hasattr(wire, "get") else ""


def _non_finite(request: OrderRequest) -> Violation | None:
    """A price or size a Java reader cannot take: TWS answers 320 with the NumberFormatException it hit."""
    for name, value in (("totalQuantity", request.total_qty), ("lmtPrice", request.lmt_price),
                        ("auxPrice", request.aux_price), ("trailingPercent", request.trailing_percent)):
        text = _raw(request, name).strip()
        bad_text = text.lower() in ("nan", "-nan", "inf", "-inf", "infinity", "-infinity", "infinite")
        if text and not bad_text:
            try:
                bad_text = math.isinf(float(text))
            except ValueError:
                bad_text = True
        if bad_text or (value is not None and not math.isfinite(value)):
            shown = text or str(value)
            return Violation(320, "Error reading request. Unable to parse data. java.lang.NumberFormatException: "
                                  f"For input string: \"{shown}\"", "non_finite_number")
    return None


def price_increment(spec: ContractSpec, price: float) -> float:
    """The price grid at ``price`` (the contract's market rule): US stocks below $1 trade in $0.0001."""
    if spec.sec_type == "STK" and spec.currency == "USD" and abs(price) < 1.0:
        return 0.0001
    return spec.min_tick


def on_tick(spec: ContractSpec, price: float) -> bool:
    inc = price_increment(spec, price)
    steps = price / inc
    if not math.isfinite(steps):   # 1e308 / 0.01: no grid reaches it (round() would raise on infinity)
        return False
    return abs(steps - round(steps)) <= 1e-6


def order_kind(request: OrderRequest) -> str | None:
    return ORDER_TYPES.get(request.order_type.upper().strip())


def parse_good_till(text: str) -> datetime | None:
    """goodTillDate as IB takes it, ``YYYYMMDD HH:MM:SS [zone]`` (zone default US/Eastern); None if unparseable."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    parts = text.strip().replace("-", " ").split()
    if len(parts) < 2:
        return None
    try:
        naive = datetime.strptime(f"{parts[0]} {parts[1]}", "%Y%m%d %H:%M:%S")
        zone = ZoneInfo(parts[2]) if len(parts) > 2 else ZoneInfo("US/Eastern")
    except (ValueError, ZoneInfoNotFoundError):
        return None
    if "-" in text.strip()[:9]:        # yyyymmdd-hh:mm:ss is UTC
        zone = ZoneInfo("UTC")
    return naive.replace(tzinfo=zone)


def check_wire(request: OrderRequest) -> Violation | None:
    """What TWS refuses before it looks the contract up: numbers it cannot read, a missing route."""
    bad = _non_finite(request)
    if bad is not None:
        return bad
    if not request.contract.exchange:
        # ib_insync's and ib_async's own test suites expect 321 for Stock('XXX') without an exchange
        return Violation(321, TEXT_MISSING_EXCHANGE, "missing_exchange")
    return None


def check_order(request: OrderRequest, spec: ContractSpec | None) -> Violation | None:
    """The first rule ``request`` breaks (on ``spec`` when known), in the order TWS checks them; None if valid."""
    bad = check_wire(request)
    if bad is not None:
        return bad
    if request.action.upper() not in ("BUY", "SELL"):
        return Violation(321, f"Error validating request.-'bN' : cause - Invalid side {request.action!r}", "side")
    if request.total_qty == 0:
        return Violation(434, TEXT_434, "size_zero")
    if request.total_qty < 0:
        return Violation(321, "Error validating request.-'bN' : cause - Invalid order size "
                              f"{request.total_qty:g}", "size_negative")
    if spec is not None:
        steps = request.total_qty / spec.size_increment
        if abs(steps - round(steps)) > 1e-9 or round(steps) == 0:
            return Violation(10243, TEXT_10243, "size_increment")
    tif = (request.tif or "DAY").upper()
    if tif not in TIFS:
        return Violation(321, f"Error validating request.-'bN' : cause - Invalid time in force {request.tif!r}",
                         "tif_unknown")
    kind = order_kind(request)
    if kind == "TRAIL":
        pct = request.trailing_percent
        if (request.aux_price is None or request.aux_price <= 0) and (pct is None or pct <= 0):
            return Violation(158, TEXT_158, "trail_offset_missing")
        if pct is not None and pct > 0 and (request.aux_price is None or request.aux_price <= 0) and pct > 100:
            return Violation(159, TEXT_159, "trail_percent_range")
    if kind is None:
        return Violation(387, TEXT_387, "order_type")
    if kind in ("MOC", "LOC") and tif != "DAY":
        return Violation(113, TEXT_113, "tif_moc_loc")
    if tif == "OPG" and kind not in ("MKT", "LMT"):
        return Violation(111, TEXT_111, "tif_order_type")
    if tif in ("IOC", "FOK") and kind in ("MOC", "LOC"):
        return Violation(111, TEXT_111, "tif_order_type")
    if kind in NEEDS_LIMIT and (request.lmt_price is None or request.lmt_price <= 0):
        return Violation(321, "Error validating request.-'bB' : cause - The limit price field must be set "
                              "for a limit order", "limit_price_missing")
    if kind in NEEDS_STOP and (request.aux_price is None or request.aux_price <= 0):
        return Violation(321, "Error validating request.-'bB' : cause - The stop price (auxPrice) must be set "
                              "for a stop order", "stop_price_missing")
    if tif == "GTD":
        until = parse_good_till(request.good_till_date)
        if until is None:
            return Violation(334, TEXT_334, "good_till_date")
    if spec is not None:
        prices = []
        if kind in NEEDS_LIMIT:
            prices.append(request.lmt_price)
        if kind in NEEDS_STOP or (kind == "TRAIL" and request.aux_price):
            prices.append(request.aux_price)
        for price in prices:
            if price is not None and not on_tick(spec, price):
                return Violation(110, TEXT_110, "price_tick")
    return None


def ignores_outside_rth(request: OrderRequest, spec: ContractSpec) -> bool:
    """Whether TWS ignores this order's outsideRth flag (warning 2109): market-type orders, and contracts
    with no regular vs outside-regular-hours distinction."""
    kind = order_kind(request)
    return request.outside_rth and (kind in RTH_ONLY_TYPES or spec.sec_type not in EXTENDED_HOURS_SEC_TYPES)


def runs_in_regular_hours_only(request: OrderRequest, spec: ContractSpec) -> bool:
    """Whether the order may work only in liquid (regular) hours: a US stock order without a usable outsideRth."""
    if spec.sec_type not in EXTENDED_HOURS_SEC_TYPES:
        return False
    return not request.outside_rth or order_kind(request) in RTH_ONLY_TYPES


__all__ = ["ORDER_TYPES", "TIFS", "Violation", "check_order", "check_wire", "ignores_outside_rth", "on_tick", "order_kind",
           "parse_good_till", "price_increment", "runs_in_regular_hours_only"]
