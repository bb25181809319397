"""Faults in an order's life: rejects (201), partial fills, slippage, late fills.

Each picks orders by optional filters (symbol, side, type, size) and then by ``probability``,
drawn from its own seeded stream in the order the orders arrive.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Annotated, Literal

import numpy as np
from pydantic import Field

from .base import OrderEffect, OrderView
from .codes import DEFAULT_REJECT_REASON, ORDER_REJECTED, order_rejected_text
from .common import NamedFault
from .distributions import Distribution

Probability = Annotated[float, Field(ge=0, le=1)]


@dataclass(kw_only=True)
class _OrderFault(NamedFault):
    probability: Probability = 1.0
    symbols: list[str] | None = None
    actions: list[Literal["BUY", "SELL"]] | None = None
    order_types: list[str] | None = None
    min_qty: Annotated[float, Field(ge=0)] | None = None

    _draws: np.random.Generator = field(init=False, repr=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        self._draws = self.rng("orders")

    def picks(self, order: OrderView, now: float) -> bool:
        if not self.active(now):
            return False
        if self.symbols is not None and order.symbol not in self.symbols:
            return False
        if self.actions is not None and order.action.upper() not in self.actions:
            return False
        if self.order_types is not None and order.order_type.upper() not in [t.upper() for t in self.order_types]:
            return False
        if self.min_qty is not None and order.total_qty < self.min_qty:
            return False
        return self.probability >= 1.0 or float(self._draws.random()) < self.probability


@dataclass(kw_only=True)
class OrderReject(_OrderFault):
    """Picked orders are rejected with error 201 "Order rejected - reason:<reason>" (default: margin)."""

    type: Literal["order_reject"] = "order_reject"
    reason: Annotated[str, Field(min_length=1)] = DEFAULT_REJECT_REASON

    def on_order(self, order: OrderView, now: float) -> OrderEffect | None:
        if not self.picks(order, now):
            return None
        return OrderEffect(reject=(ORDER_REJECTED, order_rejected_text(self.reason)), fault=self.name)


@dataclass(kw_only=True)
class PartialFills(_OrderFault):
    """Picked orders fill in pieces: ``fractions`` of the total quantity, ``interval_s`` apart."""

    type: Literal["partial_fills"] = "partial_fills"
    fractions: Annotated[list[Annotated[float, Field(gt=0, le=1)]], Field(min_length=2, max_length=100)] = field(
        default_factory=lambda: [0.3, 0.3, 0.4])
    interval_s: Annotated[float, Field(ge=0)] = 1.0

    def __post_init__(self) -> None:
        if not math.isclose(sum(self.fractions), 1.0, abs_tol=1e-9):
            raise ValueError(f"fractions must add up to 1, got {sum(self.fractions):g}")
        super().__post_init__()

    def on_order(self, order: OrderView, now: float) -> OrderEffect | None:
        if not self.picks(order, now):
            return None
        return OrderEffect(fill_fractions=tuple(self.fractions), fill_interval_s=self.interval_s, fault=self.name)


@dataclass(kw_only=True)
class Slippage(_OrderFault):
    """Picked orders fill ``ticks`` minimum ticks worse than the quote."""

    type: Literal["slippage"] = "slippage"
    ticks: Annotated[float, Field(gt=0)] = 1.0

    def on_order(self, order: OrderView, now: float) -> OrderEffect | None:
        if not self.picks(order, now):
            return None
        return OrderEffect(slippage_ticks=self.ticks, fault=self.name)


@dataclass(kw_only=True)
class DelayedFills(_OrderFault):
    """Picked orders are acknowledged at once but fill only after a drawn delay (ms)."""

    type: Literal["delayed_fills"] = "delayed_fills"
    delay: Distribution

    def on_order(self, order: OrderView, now: float) -> OrderEffect | None:
        if not self.picks(order, now):
            return None
        return OrderEffect(fill_delay_s=self.delay.sample(self._draws) / 1000.0, fault=self.name)
