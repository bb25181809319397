"""IBKR Pro fixed commissions."""
from __future__ import annotations

import pytest

from mock_gateway.sim import CommissionSchedule

FEES = CommissionSchedule()


@pytest.mark.parametrize("sec_type, qty, price, mult, expected", [
    ("STK", 100, 200.0, 1, 1.00),          # minimum per order
    ("STK", 1000, 200.0, 1, 5.00),         # $0.005 a share
    ("STK", 1000, 0.30, 1, 3.00),          # capped at 1 % of trade value
    ("CASH", 100_000, 1.08, 1, 2.16),      # 0.2 bp of value
    ("CASH", 20_000, 1.08, 1, 2.00),       # minimum $2
    ("FUT", 3, 5900.0, 50, 2.55),          # $0.85 a contract
    ("OPT", 1, 2.0, 100, 1.00),            # minimum $1
    ("OPT", 10, 2.0, 100, 6.50),           # $0.65 a contract
])
def test_commission_of_an_order(sec_type, qty, price, mult, expected):
    assert FEES.order_commission(sec_type, qty, price, mult) == pytest.approx(expected)


def test_a_custom_stock_rate_is_used():
    assert CommissionSchedule(stock_per_share=0.01, stock_min=0.5).order_commission("STK", 100, 50.0) == 1.0
