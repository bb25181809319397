"""Order domain types: what a client asks for, the order the engine keeps, and the events it emits.

The engine itself is in :mod:`.orders`; the gateway turns these events into wire messages
(openOrder, orderStatus, execDetails, commissionReport, error).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from .contracts import ContractQuery, ContractSpec

#: Order statuses the engine reports, in IB's spelling.
PRE_SUBMITTED, SUBMITTED, FILLED, CANCELLED, INACTIVE = "PreSubmitted", "Submitted", "Filled", "Cancelled", "Inactive"
OPEN_STATUSES = frozenset({"PendingSubmit", PRE_SUBMITTED, SUBMITTED})
DONE_STATUSES = frozenset({FILLED, CANCELLED, INACTIVE, "ApiCancelled"})


@dataclass
class OrderRequest:
    """One placeOrder as the engine needs it; ``wire`` keeps the parsed wire order so openOrder can echo it."""

    order_id: int
    contract: ContractQuery
    action: str                          # BUY / SELL
    total_qty: float
    order_type: str = "MKT"              # MKT, LMT, STP, STP LMT
    lmt_price: float | None = None
    aux_price: float | None = None       # stop trigger price
    tif: str = "DAY"                     # DAY, GTC, IOC, FOK ('' = DAY)
    account: str = ""                    # '' = the only / first account
    order_ref: str = ""
    outside_rth: bool = False
    what_if: bool = False
    transmit: bool = True
    parent_id: int = 0
    trailing_percent: float | None = None  # TRAIL: the offset as a percentage (instead of aux_price)
    good_till_date: str = ""              # GTD: "YYYYMMDD HH:MM:SS [zone]"
    wire: Any = None                     # mock_gateway.protocol.orders.WireOrder, or None

    @property
    def symbol(self) -> str:             # faults.base.OrderView
        return self.contract.symbol

    @classmethod
    def from_wire(cls, wire: Any) -> OrderRequest:
        """From a :class:`mock_gateway.protocol.orders.WireOrder` (duck-typed: its typed properties)."""
        return cls(order_id=wire.order_id, contract=ContractQuery.from_dict(wire.contract), action=wire.action,
                   total_qty=wire.total_qty, order_type=wire.order_type, lmt_price=wire.lmt_price,
                   aux_price=wire.aux_price, tif=(wire.tif or "DAY").upper(), account=wire.account,
                   order_ref=wire.order_ref, outside_rth=wire.outside_rth, what_if=wire.what_if,
                   transmit=wire.transmit, parent_id=wire.parent_id, trailing_percent=_wire_float(wire, "trailingPercent"),
                   good_till_date=wire.get("goodTillDate") if hasattr(wire, "get") else "", wire=wire)


def _wire_float(wire: Any, name: str) -> float | None:
    """A float field of the wire order; None when unset (empty or IB's unset sentinel); nan for non-numbers."""
    text = wire.get(name) if hasattr(wire, "get") else ""
    if not text:
        return None
    try:
        x = float(text)
    except ValueError:
        return math.nan
    return None if x >= 1.7976931348623157e308 else x


@dataclass
class Order:
    """An order the engine accepted (or rejected): the request plus its live state."""

    request: OrderRequest
    client_id: int
    perm_id: int
    account: str
    spec: ContractSpec | None            # None only for a rejected order with no contract (never listed)
    status: str = "PendingSubmit"
    filled: float = 0.0
    avg_fill_price: float = 0.0
    last_fill_price: float = 0.0
    commission: float = 0.0              # charged so far
    placed_at_s: float = 0.0
    completed_at_s: float | None = None
    why_held: str = ""
    reject: tuple[int, str] | None = None
    fault: str | None = None             # the faults that altered this order (OrderEffect.fault), for the event log

    # -- the OrderView the faults read
    @property
    def order_id(self) -> int:
        return self.request.order_id

    @property
    def symbol(self) -> str:
        return self.spec.symbol if self.spec else self.request.contract.symbol

    @property
    def action(self) -> str:
        return self.request.action.upper()

    @property
    def total_qty(self) -> float:
        return self.request.total_qty

    @property
    def order_type(self) -> str:
        return self.request.order_type.upper()

    @property
    def remaining(self) -> float:
        return max(0.0, self.request.total_qty - self.filled)

    @property
    def is_open(self) -> bool:
        return self.status not in DONE_STATUSES

    @property
    def key(self) -> tuple[int, int]:
        """(client_id, order_id): how a client knows its order."""
        return self.client_id, self.request.order_id


@dataclass(frozen=True)
class Execution:
    """One fill, as execDetails reports it."""

    exec_id: str                         # e.g. 0000e0d5.00000001.01.01
    order_id: int
    client_id: int
    perm_id: int
    account: str
    spec: ContractSpec
    time_s: float                        # sim seconds
    side: str                            # BOT / SLD
    shares: float
    price: float
    cum_qty: float
    avg_price: float
    exchange: str
    order_ref: str = ""
    liquidation: int = 0
    last_liquidity: int = 2              # 1 added, 2 removed liquidity


@dataclass(frozen=True)
class CommissionReport:
    """The commissionReport of one execution; ``realized_pnl`` None = unset (an opening fill)."""

    exec_id: str
    commission: float
    currency: str
    realized_pnl: float | None


@dataclass(frozen=True)
class OrderUpdate:
    """The order's status changed (or its state after a fill); the fields are a snapshot at that moment."""

    order: Order
    status: str
    filled: float = 0.0
    remaining: float = 0.0
    avg_fill_price: float = 0.0
    last_fill_price: float = 0.0
    time_s: float = 0.0
    reason: str = ""                     # why it was cancelled: "cancelled", "global cancel", "IOC", "DAY expired"


@dataclass(frozen=True)
class Fill:
    """An execution and its commission report."""

    order: Order
    execution: Execution
    commission: CommissionReport


@dataclass(frozen=True)
class Reject:
    """The order was refused (error ``code`` with ``text`` on the order's id); it is kept as Inactive."""

    order: Order
    code: int
    text: str
    fault: str | None = None             # the fault that caused it; None for the engine's own checks
    rule: str = ""                       # the check that refused it (order_rules.Violation.rule), for the event log
    inactive: bool = False               # IB reports the order Inactive after the error (201 rejections)
    modification: bool = False           # a refused modification: the working order stays as it was


@dataclass(frozen=True)
class OrderWarning:
    """A warning on a working order (error ``code`` with ``text``): 399 held until the open, 2109 outsideRth ignored."""

    order: Order
    code: int
    text: str


@dataclass(frozen=True)
class WhatIf:
    """Margin and commission impact of an order, computed without changing any state."""

    init_margin_before: float
    maint_margin_before: float
    equity_with_loan_before: float
    init_margin_change: float
    maint_margin_change: float
    equity_with_loan_change: float
    init_margin_after: float
    maint_margin_after: float
    equity_with_loan_after: float
    commission: float
    min_commission: float
    max_commission: float
    commission_currency: str = "USD"
    warning_text: str = ""


@dataclass(frozen=True)
class WhatIfReport:
    """Emitted when a whatIf order is placed: nothing is booked; openOrder carries these numbers."""

    request: OrderRequest
    client_id: int
    what_if: WhatIf


class OrderRejected(Exception):
    """A synchronous refusal (cancel of an unknown order, what-if of a bad order): send error(id, code, text)."""

    def __init__(self, code: int, text: str) -> None:
        super().__init__(f"{code}: {text}")
        self.code, self.text = code, text


OrderEvent = OrderUpdate | Fill | Reject | WhatIfReport | OrderWarning


@dataclass
class ExecutionFilter:
    """reqExecutions' filter; empty / None fields do not filter."""

    client_id: int | None = None
    account: str = ""
    since_s: float | None = None         # sim seconds (the gateway parses the filter's time)
    symbol: str = ""
    sec_type: str = ""
    exchange: str = ""
    side: str = ""                       # BUY / SELL (matches BOT / SLD)
    extra: dict[str, Any] = field(default_factory=dict)


__all__ = ["CANCELLED", "CommissionReport", "DONE_STATUSES", "Execution", "ExecutionFilter", "FILLED", "Fill",
           "INACTIVE", "OPEN_STATUSES", "Order", "OrderEvent", "OrderWarning", "OrderRejected", "OrderRequest",
           "OrderUpdate", "PRE_SUBMITTED", "Reject", "SUBMITTED", "WhatIf", "WhatIfReport"]
