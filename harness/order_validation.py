"""A handler that sends every kind of order the real gateway refuses, and checks each refusal.

Shipped with the ``order_validation`` scenario: what passes against the mock must not be
rejected by IB, and what IB rejects must be rejected here with IB's code. Each case places one
invalid order (or an invalid modification) and waits for the error on its order id; at the end
the account must hold exactly what the valid orders bought. Prints one line per case; exits 1
on the first run in which any case got another answer (or none), otherwise stays connected until
the harness stops it. Run as ``python -m harness.order_validation`` with the ``IB_*`` environment
the harness provides.
"""
from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from ib_insync import IB, LimitOrder, MarketOrder, Order, Stock

#: How long (wall seconds) to wait for the gateway's answer to one order.
ANSWER_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Case:
    """One invalid order and the code IB answers it with."""

    what: str
    code: int
    order: Callable[[], Order]


def _order(kind: str, qty: float = 10, **fields) -> Callable[[], Order]:
    return lambda: Order(action="BUY", totalQuantity=qty, orderType=kind, **fields)


#: Orders refused on their own fields (IB's error-code table; docs/fidelity.md "Orders: validation").
CASES = [
    Case("limit price off the tick grid", 110, _order("LMT", lmtPrice=100.123)),
    Case("stop price off the tick grid", 110, _order("STP", auxPrice=50.005)),
    Case("sub-dollar limit off the $0.0001 grid", 110, _order("LMT", lmtPrice=0.12345)),
    Case("size zero", 434, _order("MKT", qty=0)),
    Case("fractional shares", 10243, _order("MKT", qty=10.5)),
    Case("below the size increment", 10243, _order("MKT", qty=1e-10)),
    Case("unknown order type", 387, _order("BOGUS")),
    Case("unknown time in force", 321, _order("MKT", tif="GARBAGE")),
    Case("stop without a stop price", 321, _order("STP")),
    Case("limit without a limit price", 321, _order("LMT")),
    Case("trailing stop without an offset", 158, _order("TRAIL")),
    Case("market-on-close that is not DAY", 113, _order("MOC", tif="GTC")),
    Case("OPG for a stop order", 111, _order("STP", auxPrice=50.0, tif="OPG")),
    Case("GTD without a date", 334, _order("LMT", lmtPrice=100.0, tif="GTD")),
    Case("NaN limit price", 320, _order("LMT", lmtPrice=math.nan)),
    Case("infinite limit price", 320, _order("LMT", lmtPrice=math.inf)),
    Case("more than the account can carry", 201, _order("MKT", qty=1e9)),
]


class Checker:
    def __init__(self, ib: IB) -> None:
        self.ib = ib
        self.errors: list[tuple[int, int, str]] = []
        self.failures: list[str] = []
        ib.errorEvent += lambda req_id, code, text, *rest: self.errors.append((req_id, code, text))

    def answer(self, order_id: int) -> int | None:
        """The first error code on ``order_id``, waiting up to ANSWER_TIMEOUT_S."""
        deadline = time.monotonic() + ANSWER_TIMEOUT_S
        while time.monotonic() < deadline:
            for req_id, code, _ in self.errors:
                if req_id == order_id:
                    return code
            self.ib.sleep(0.02)
        return None

    def expect(self, what: str, order_id: int, code: int) -> None:
        got = self.answer(order_id)
        ok = got == code
        print(f"{'ok      ' if ok else 'MISMATCH'} {code:>5} {what}" + ("" if ok else f" (got {got})"), flush=True)
        if not ok:
            self.failures.append(what)


def cash(ib: IB) -> float:
    return float(next(v.value for v in ib.accountSummary() if v.tag == "TotalCashValue" and v.currency == "USD"))


def run(ib: IB) -> list[str]:
    check = Checker(ib)
    contract = Stock("AAPL", "SMART", "USD")
    ib.qualifyContracts(contract)
    cash_before = cash(ib)
    for case in CASES:
        trade = ib.placeOrder(contract, case.order())
        check.expect(case.what, trade.order.orderId, case.code)
    check.expect("what-if with a limit off the tick grid", _what_if_id(ib, contract), 110)

    # an order id at or below one already used
    high = MarketOrder("BUY", 1)
    high.orderId = ib.client.getReqId() + 10
    ib.client.placeOrder(high.orderId, contract, high)
    stale = LimitOrder("BUY", 1, 100.0)
    ib.client.placeOrder(high.orderId - 5, contract, stale)
    check.expect("order id below one already used", high.orderId - 5, 103)
    ib.client.reqIds(-1)

    # modifications are validated like new orders, and a refused one leaves the order as it was
    resting = ib.placeOrder(contract, LimitOrder("BUY", 1, 100.0))
    _wait(ib, lambda: resting.orderStatus.status == "Submitted")
    big = LimitOrder("BUY", 1e9, 100_000.0)
    ib.client.placeOrder(resting.order.orderId, contract, big)
    check.expect("modification to 1e9 shares at 100,000", resting.order.orderId, 201)
    check.errors[:] = [e for e in check.errors if e[0] != resting.order.orderId]
    ib.client.placeOrder(resting.order.orderId, contract, LimitOrder("BUY", 1, 100.001))
    check.expect("modification off the tick grid", resting.order.orderId, 110)
    ib.cancelOrder(resting.order)
    _wait(ib, lambda: any(i == resting.order.orderId and c == 202 for i, c, _ in check.errors))
    check.errors[:] = [e for e in check.errors if e[0] != resting.order.orderId]
    ib.client.placeOrder(resting.order.orderId, contract, LimitOrder("BUY", 1, 100.0))
    check.expect("modification of a cancelled order", resting.order.orderId, 103)

    # the account holds exactly what the one valid market order bought
    ib.sleep(0.5)
    bought = sum(f.execution.shares * f.execution.price + f.commissionReport.commission
                 for f in ib.fills() if f.execution.orderId == high.orderId)
    ib.reqAccountSummary()
    cash_after = cash(ib)
    consistent = abs(cash_before - bought - cash_after) < 0.01
    print(f"{'ok      ' if consistent else 'MISMATCH'}       cash {cash_before:.2f} -> {cash_after:.2f} "
          f"(bought {bought:.2f})", flush=True)
    if not consistent:
        check.failures.append("account")
    filled = ib.placeOrder(contract, MarketOrder("BUY", 1))
    _wait(ib, lambda: filled.orderStatus.status == "Filled")
    ib.client.placeOrder(filled.order.orderId, contract, MarketOrder("BUY", 2))
    check.expect("modification of a filled order", filled.order.orderId, 104)
    return check.failures


def _what_if_id(ib: IB, contract) -> int:
    order = LimitOrder("BUY", 1, 100.001)
    order.whatIf = True
    order_id = ib.client.getReqId()
    ib.client.placeOrder(order_id, contract, order)
    return order_id


def _wait(ib: IB, condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + ANSWER_TIMEOUT_S
    while not condition() and time.monotonic() < deadline:
        ib.sleep(0.02)


def main() -> int:
    ib = IB()
    ib.connect(os.environ.get("IB_HOST", "127.0.0.1"), int(os.environ.get("IB_PORT", "4002")),
               int(os.environ.get("IB_CLIENT_ID", "1")), timeout=10)
    failures = run(ib)
    if failures:
        print(f"order_validation: {len(failures)} case(s) not answered as IB does: {', '.join(failures)}", flush=True)
        ib.disconnect()
        return 1
    print(f"order_validation: all {len(CASES) + 6} cases answered as IB does", flush=True)
    while ib.isConnected():
        ib.sleep(1.0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
