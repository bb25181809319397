"""Account bookkeeping: cash, average cost, realized/unrealized PnL, margin and values, per account."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mock_gateway.config import AccountConfig
from mock_gateway.sim import Account, CommissionSchedule, ContractBook, ContractQuery

from .support import AAPL_ID, make_world, order, run_due, run_until

BOOK = ContractBook.default()
AAPL, ES, EUR = BOOK.get(AAPL_ID), BOOK.get(650000100), BOOK.get(12087792)
CALL = next(s for s in BOOK if s.sec_type == "OPT")


def fresh(cash: float = 100_000.0) -> Account:
    return Account(AccountConfig("DU1", cash))


def test_a_stock_round_trip_realizes_the_price_difference_less_both_commissions():
    acct = fresh()
    acct.apply_fill(AAPL, "BUY", 100, 200.0, 1.0)
    result = acct.apply_fill(AAPL, "SELL", 100, 201.0, 1.0)
    assert result.realized_pnl == pytest.approx(98.0)
    assert acct.cash == pytest.approx(100_098.0) and acct.positions() == []


def test_average_cost_includes_the_opening_commission():
    acct = fresh()
    acct.apply_fill(AAPL, "BUY", 100, 200.0, 1.0)
    acct.apply_fill(AAPL, "BUY", 100, 202.0, 1.0)
    [pos] = acct.positions()
    assert (pos.qty, pos.avg_price) == (200, pytest.approx(201.01))


def test_a_partial_close_realizes_against_the_average_cost():
    acct = fresh()
    acct.apply_fill(AAPL, "BUY", 200, 100.0, 2.0)
    result = acct.apply_fill(AAPL, "SELL", 50, 110.0, 1.0)
    assert result.realized_pnl == pytest.approx((110.0 - 100.01) * 50 - 1.0)
    assert acct.position(AAPL_ID) == 150


def test_a_short_round_trip_realizes_the_fall_in_price():
    acct = fresh()
    acct.apply_fill(AAPL, "SELL", 100, 200.0, 1.0)
    result = acct.apply_fill(AAPL, "BUY", 100, 190.0, 1.0)
    assert result.realized_pnl == pytest.approx(998.0)


def test_a_fill_through_zero_closes_then_opens_the_other_way():
    acct = fresh()
    acct.apply_fill(AAPL, "BUY", 100, 100.0, 0.0)
    result = acct.apply_fill(AAPL, "SELL", 300, 105.0, 3.0)
    [pos] = acct.positions()
    assert result.closed_qty == 100 and result.realized_pnl == pytest.approx(500.0 - 1.0)
    assert pos.qty == -200 and pos.avg_price == pytest.approx(105.0 - 2.0 / 200)


def test_futures_move_no_cash_until_closed_and_then_pay_the_realized_pnl():
    acct = fresh()
    acct.apply_fill(ES, "BUY", 2, 5900.0, 1.70)
    assert acct.cash == 100_000.0
    acct.apply_fill(ES, "SELL", 2, 5910.0, 1.70)
    assert acct.cash == pytest.approx(100_000.0 + 10 * 50 * 2 - 3.40)


def test_portfolio_reports_avg_cost_times_the_multiplier():
    world = make_world()
    world.account().apply_fill(CALL, "BUY", 3, 2.0, 1.95)
    [item] = world.account().portfolio()
    assert item.average_cost == pytest.approx(200.65) and item.position == 3


def trade_lists():
    side = st.sampled_from(["BUY", "SELL"])
    contract = st.sampled_from([AAPL, ES, EUR, CALL])
    return st.lists(st.tuples(contract, side, st.integers(1, 5), st.floats(0.5, 2.0)), min_size=1, max_size=12)


@settings(max_examples=40, deadline=None)
@given(trade_lists())
def test_cash_plus_position_value_is_net_liquidation_and_pnl_adds_up(trades):
    world = make_world()
    acct = world.account()
    fees = CommissionSchedule()
    for spec, side, lots, scale in trades:
        qty = lots * (10_000 if spec.sec_type == "CASH" else 10 if spec.sec_type == "STK" else 1)
        price = world.market.price_at(spec.con_id, 0.0) * scale
        acct.apply_fill(spec, side, qty, price, fees.order_commission(spec.sec_type, qty, price, spec.multiplier_value))
    run_until(world, 600)
    values = {k: v for k, (v, _) in acct.values().items()}
    futures_pnl = sum(i.unrealized_pnl for i in acct.portfolio() if i.spec.sec_type == "FUT")
    # forex positions are conversions already in the per-currency cash, so they add no value of their own
    held_value = sum(i.market_value for i in acct.portfolio() if i.spec.sec_type not in ("FUT", "CASH"))
    assert acct.net_liquidation() == pytest.approx(acct.cash + held_value + futures_pnl)
    daily, unrealized, realized = acct.pnl()
    assert daily == pytest.approx(unrealized + realized, abs=1e-6)
    assert values["NetLiquidation"] == pytest.approx(acct.net_liquidation(), abs=0.01)


def test_buying_power_is_four_times_excess_liquidity_and_margin_is_reg_t():
    world = make_world()
    acct = world.account()
    acct.apply_fill(AAPL, "BUY", 1000, 230.0, 5.0)
    values = {k: v for k, (v, _) in acct.values().items()}
    value = 1000 * world.market.price_at(AAPL_ID, 0.0)
    assert (values["InitMarginReq"], values["MaintMarginReq"]) == (pytest.approx(value / 2), pytest.approx(value / 4))
    assert values["BuyingPower"] == pytest.approx(4 * values["ExcessLiquidity"], abs=0.05)
    assert values["GrossPositionValue"] == pytest.approx(value)
    assert values["ExcessLiquidity"] == pytest.approx(values["EquityWithLoanValue"] - values["MaintMarginReq"], abs=0.02)


def test_account_values_name_the_account_and_its_currency(world):
    values = world.account().values()
    assert values["AccountCode"] == ("DU111", "") and values["NetLiquidation"] == (1_000_000.0, "USD")
    assert {"TotalCashValue", "CashBalance", "AvailableFunds", "RealizedPnL", "UnrealizedPnL", "AccountType"} <= set(values)


def test_fills_through_the_engine_keep_the_account_consistent_with_the_market(world):
    world.orders.place(order(1, "BUY", qty=200), client_id=1)
    run_until(world, 1800)
    world.orders.place(order(2, "SELL", qty=200), client_id=1)
    run_due(world)
    buy, sell = (f.execution.price for f in world.orders.executions())
    acct = world.account()
    assert acct.realized_pnl == pytest.approx((sell - buy) * 200 - 2.0)
    assert acct.net_liquidation() == pytest.approx(1_000_000.0 + acct.realized_pnl)


def test_accounts_are_isolated_from_each_other():
    world = make_world(accounts=[AccountConfig("DU1", 500_000.0), AccountConfig("DU2", 200_000.0)])
    world.orders.place(order(1, qty=100, account="DU2"), client_id=1)
    run_due(world)
    assert world.accounts["DU1"].positions() == [] and world.accounts["DU1"].cash == 500_000.0
    assert world.accounts["DU2"].position(AAPL_ID) == 100
    assert world.orders.open_orders(account="DU1") == [] and world.orders.completed_orders(account="DU1") == []


def test_an_order_without_an_account_books_to_the_first_account():
    world = make_world(accounts=[AccountConfig("DU1", 500_000.0), AccountConfig("DU2", 200_000.0)])
    world.orders.place(order(1, qty=10), client_id=1)
    run_due(world)
    assert world.accounts["DU1"].position(AAPL_ID) == 10


def test_what_if_reports_the_margin_change_and_changes_nothing(world):
    acct = world.account()
    before = (acct.cash, acct.values(), world.orders.open_orders(), world.orders.completed_orders())
    ask = world.market.quote(AAPL_ID).ask
    result = world.orders.what_if(order(1, qty=1000))
    assert result.init_margin_change == pytest.approx(0.5 * 1000 * world.market.price_at(AAPL_ID, 0.0))
    assert result.maint_margin_after == pytest.approx(0.25 * 1000 * world.market.price_at(AAPL_ID, 0.0))
    assert result.commission == 5.0 and result.equity_with_loan_change == -5.0
    assert ask > 0 and (acct.cash, acct.values(), world.orders.open_orders(), world.orders.completed_orders()) == before


def test_a_whatif_order_emits_a_report_and_books_nothing(world, recorder):
    world.orders.place(order(1, qty=10, what_if=True), client_id=1)
    run_due(world)
    [report] = recorder.events
    assert type(report).__name__ == "WhatIfReport" and report.what_if.commission == 1.0
    assert world.orders.open_orders() == [] and world.account().positions() == []


def test_what_if_of_an_unknown_contract_is_refused(world):
    from mock_gateway.sim import OrderRejected
    with pytest.raises(OrderRejected) as refused:
        world.orders.what_if(order(1, contract=ContractQuery(symbol="NOSUCH", sec_type="STK")))
    assert refused.value.code == 200
