"""IBKR Pro fixed commissions, per order: the minimum and maximum apply to the whole order.

A partial fill is charged what the order's commission so far grows by, so the fills of one
order add up to the commission of one fill of the same size.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CommissionSchedule:
    """Rates of the IBKR Pro fixed plan (exchange and regulatory fees are not modelled)."""

    stock_per_share: float = 0.005
    stock_min: float = 1.0
    stock_max_pct_of_value: float = 0.01
    forex_bp_of_value: float = 0.2
    forex_min: float = 2.0
    future_per_contract: float = 0.85
    option_per_contract: float = 0.65
    option_min: float = 1.0

    def order_commission(self, sec_type: str, qty: float, price: float, multiplier: float = 1.0) -> float:
        """Commission in USD of an order of ``qty`` filled at average ``price`` (0 quantity costs nothing)."""
        qty = abs(qty)
        if qty == 0:
            return 0.0
        value = qty * price * multiplier
        if sec_type == "STK":
            return round(min(max(qty * self.stock_per_share, self.stock_min), self.stock_max_pct_of_value * value), 6)
        if sec_type == "CASH":
            return round(max(value * self.forex_bp_of_value * 1e-4, self.forex_min), 6)
        if sec_type == "FUT":
            return round(qty * self.future_per_contract, 6)
        if sec_type == "OPT":
            return round(max(qty * self.option_per_contract, self.option_min), 6)
        return round(max(qty * self.stock_per_share, self.stock_min), 6)

    def bounds(self, sec_type: str, qty: float, price: float, multiplier: float = 1.0) -> tuple[float, float]:
        """(min, max) commission of an order, as what-if reports them."""
        c = self.order_commission(sec_type, qty, price, multiplier)
        return c, c
