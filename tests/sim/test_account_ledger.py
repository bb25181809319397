"""The account as a real paper account reports it: cash per currency, FX to base, IB's rows and currencies,
cash-account rules, and the start state a scenario gives it."""
from __future__ import annotations

import pytest

from mock_gateway.config import AccountConfig, ExecutionConfig, OpenOrderConfig, PositionConfig
from mock_gateway.sim import ContractQuery
from mock_gateway.sim.account import LEDGER_TAGS, SUMMARY_TAGS
from mock_gateway.sim.initial_state import InitialStateError
from mock_gateway.sim.order_types import Reject

from .support import AAPL_ID, Recorder, make_world, order, run_due, run_until

EURUSD_ID = 12087792


def rows_by(rows, tag):
    return {ccy: value for t, value, ccy in rows if t == tag}


def test_an_fx_buy_moves_both_cash_legs():
    world = make_world(accounts=[AccountConfig("DU1", 100_000.0)])
    acct = world.account()
    spec = world.contracts.get(EURUSD_ID)
    acct.apply_fill(spec, "BUY", 20_000, 1.10, 2.0)
    assert acct.cash_by_currency["EUR"] == pytest.approx(20_000)
    assert acct.cash_by_currency["USD"] == pytest.approx(100_000 - 22_000 - 2.0)


def test_net_liquidation_converts_every_currency_at_the_market_rate():
    world = make_world(accounts=[AccountConfig("DU1", 100_000.0, cash_by_currency={"EUR": 10_000.0})])
    acct = world.account()
    rate = world.market.price_at(EURUSD_ID, 0.0)
    assert acct.exchange_rate("EUR") == pytest.approx(rate)
    assert acct.net_liquidation() == pytest.approx(100_000 + 10_000 * rate)


def test_a_non_usd_base_converts_usd_by_the_inverse_rate():
    world = make_world(accounts=[AccountConfig("DU1", 50_000.0, base_currency="EUR",
                                               cash_by_currency={"USD": 10_800.0})])
    acct = world.account()
    rate = world.market.price_at(EURUSD_ID, 0.0)
    assert acct.exchange_rate("USD") == pytest.approx(1 / rate)
    assert acct.net_liquidation() == pytest.approx(50_000 + 10_800 / rate)
    assert acct.values()["NetLiquidation"][1] == "EUR"


def test_account_updates_carry_a_ledger_per_currency_and_base():
    world = make_world(accounts=[AccountConfig("DU1", 100_000.0, cash_by_currency={"EUR": 5_000.0})])
    rows = world.account().update_rows()
    for tag in LEDGER_TAGS:
        assert set(rows_by(rows, tag)) == {"BASE", "EUR", "USD"}, tag
    assert rows_by(rows, "Currency") == {"BASE": "BASE", "EUR": "EUR", "USD": "USD"}
    assert rows_by(rows, "ExchangeRate")["BASE"] == "1.00" and rows_by(rows, "ExchangeRate")["USD"] == "1.00"
    assert rows_by(rows, "CashBalance")["EUR"] == "5000.00"
    base_cash = float(rows_by(rows, "CashBalance")["BASE"])
    assert base_cash == pytest.approx(100_000 + 5_000 * world.account().exchange_rate("EUR"), abs=1e-3)


def test_tags_ib_sends_without_a_currency_have_none():
    rows = make_world().account().update_rows()
    no_ccy = {t for t, _, c in rows if c == ""}
    assert {"AccountCode", "AccountReady", "AccountType", "Cushion", "DayTradesRemaining", "LookAheadNextChange",
            "NLVAndMarginInReview", "Leverage-S"} <= no_ccy
    assert rows_by(rows, "AccountReady") == {"": "true"} and rows_by(rows, "AccountCode") == {"": "DU111"}
    assert rows_by(rows, "NetLiquidation") == {"USD": "1000000.00"}


def test_segment_rows_follow_the_account_segments():
    plain = make_world().account().update_rows()
    both = make_world(accounts=[AccountConfig("DU1", 1e6, segments=("S", "C"))]).account().update_rows()
    assert "NetLiquidation-S" in {r[0] for r in plain} and "NetLiquidation-C" not in {r[0] for r in plain}
    assert {"NetLiquidation-C", "InitMarginReq-C", "NetLiquidation-S"} <= {r[0] for r in both}


def test_futures_pnl_and_margin_sit_in_the_commodities_segment():
    world = make_world(accounts=[AccountConfig("DU1", 1e6, segments=("S", "C"))])
    acct = world.account()
    es = next(s for s in world.contracts if s.sec_type == "FUT")
    acct.apply_fill(es, "BUY", 2, world.market.price_at(es.con_id, 0.0) - 10, 0.0)
    c, s = acct.segment_values("C"), acct.segment_values("S")
    assert c["NetLiquidation"] == pytest.approx(2 * 10 * es.multiplier_value)
    assert c["InitMarginReq"] > 0 and s["InitMarginReq"] == pytest.approx(0.0, abs=1e-6)
    assert c["NetLiquidation"] + s["NetLiquidation"] == pytest.approx(acct.net_liquidation(), abs=0.01)


def test_summary_rows_use_ib_currencies_and_ledger_flags():
    world = make_world(accounts=[AccountConfig("DU1", 100_000.0, cash_by_currency={"GBP": 1_000.0})])
    acct = world.account()
    rows = acct.summary_rows(list(SUMMARY_TAGS))
    currencies = {t: c for t, _, c in rows}
    assert currencies["NetLiquidation"] == "USD" and currencies["AccountType"] == ""
    assert currencies["Cushion"] == "" and currencies["Leverage"] == "" and currencies["DayTradesRemaining"] == ""
    assert {r[2] for r in acct.summary_rows(["$LEDGER"])} == {"BASE"}
    assert {r[2] for r in acct.summary_rows(["$LEDGER:ALL"])} == {"BASE", "USD", "GBP"}
    assert {r[2] for r in acct.summary_rows(["$LEDGER:GBP"])} == {"GBP"}


def test_an_fx_order_through_the_engine_moves_both_legs_and_reports_a_cash_position():
    world = make_world(accounts=[AccountConfig("DU1", 100_000.0)])
    world.orders.place(order(1, "BUY", qty=20_000, contract=ContractQuery(con_id=EURUSD_ID, exchange="IDEALPRO")), client_id=1)
    run_due(world)
    acct = world.account()
    assert acct.cash_by_currency["EUR"] == pytest.approx(20_000)
    assert acct.cash_by_currency["USD"] < 100_000 - 20_000
    assert acct.position(EURUSD_ID) == 20_000


# ---------------------------------------------------------------------------------------------- cash accounts
def cash_world(cash: float = 100_000.0, **kw):
    return make_world(accounts=[AccountConfig("DU1", cash, account_type="cash", **kw)])


def test_a_cash_account_refuses_a_short_sale():
    world = cash_world()
    rec = Recorder(world)
    world.orders.place(order(1, "SELL", qty=10), client_id=1)
    run_due(world)
    [reject] = rec.of(Reject)
    assert reject.code == 201 and "CASH ACCOUNT" in reject.text


def test_a_cash_account_cannot_buy_more_than_its_cash():
    world = cash_world(cash=10_000.0)
    rec = Recorder(world)
    world.orders.place(order(1, "BUY", qty=1000), client_id=1)
    run_due(world)
    [reject] = rec.of(Reject)
    assert reject.code == 201 and reject.text.startswith("Order rejected - reason:YOUR ORDER IS NOT ACCEPTED")


def test_a_cash_account_has_no_leverage():
    world = cash_world()
    acct = world.account()
    acct.apply_fill(world.contracts.get(AAPL_ID), "BUY", 100, 200.0, 1.0)
    values = {k: v for k, (v, _) in acct.values().items()}
    assert values["BuyingPower"] == pytest.approx(values["SettledCash"])
    assert values["InitMarginReq"] == pytest.approx(values["GrossPositionValue"])


def test_sale_proceeds_settle_the_next_business_day():
    world = cash_world(positions=[PositionConfig("AAPL", 100, 200.0)])
    acct = world.account()
    world.orders.place(order(1, "SELL", qty=100), client_id=1)
    run_due(world)
    assert acct.settled_cash() < acct.cash - 1000          # proceeds pending
    run_until(world, 2 * 86400)                             # Tuesday 09:30 start + 2 days: settled
    assert acct.settled_cash() == pytest.approx(acct.cash)


def test_selling_a_position_bought_with_unsettled_funds_is_a_good_faith_violation():
    world = cash_world(cash=1_000.0, positions=[PositionConfig("MSFT", 100, 400.0)])
    rec = Recorder(world)
    world.orders.place(order(1, "SELL", qty=100, contract=ContractQuery(symbol="MSFT", sec_type="STK", exchange="SMART")), client_id=1)
    run_due(world)
    world.orders.place(order(2, "BUY", qty=100), client_id=1)      # AAPL paid with the unsettled MSFT proceeds
    run_due(world)
    world.orders.place(order(3, "SELL", qty=100), client_id=1)     # sold before those proceeds settle
    run_due(world)
    [reject] = rec.of(Reject)
    assert reject.order.order_id == 3 and reject.code == 201 and "Good Faith Violation" in reject.text


# ---------------------------------------------------------------------------------------------- start state
def test_the_start_state_holds_positions_at_their_average_cost():
    world = make_world(accounts=[AccountConfig("DU1", 1e6, positions=[PositionConfig("AAPL", 300, 221.35),
                                                                        PositionConfig("IBM", -50, 224.8)])])
    acct = world.account()
    assert acct.position(AAPL_ID) == 300
    [aapl] = [p for p in acct.positions() if p.spec.con_id == AAPL_ID]
    assert aapl.avg_cost == pytest.approx(221.35)
    daily, _, _ = acct.pnl()
    assert daily == pytest.approx(0.0, abs=1e-6)          # the day starts at the start state


def test_gtc_orders_from_yesterday_are_working_at_the_start():
    world = make_world(accounts=[AccountConfig("DU1", 1e6, open_orders=[
        OpenOrderConfig("AAPL", "SELL", 100, "LMT", 999.0, client_id=7, order_ref="yesterday")])])
    run_due(world)
    [o] = world.orders.open_orders()
    assert (o.client_id, o.request.tif, o.request.order_ref, o.status) == (7, "GTC", "yesterday", "Submitted")
    assert world.orders.next_valid_id(7) == o.order_id + 1


def test_earlier_executions_are_listed_but_not_booked_again():
    world = make_world(accounts=[AccountConfig("DU1", 1e6, positions=[PositionConfig("AAPL", 100, 200.0)],
                                               executions=[ExecutionConfig("AAPL", "BUY", 100, 200.0, ago_s=600)])])
    [fill] = world.orders.executions()
    assert fill.execution.time_s == -600 and fill.execution.side == "BOT"
    assert world.account().position(AAPL_ID) == 100
    assert world.orders.completed_orders()[0].status == "Filled"


def test_a_start_state_naming_an_unknown_symbol_is_refused():
    with pytest.raises(InitialStateError, match="NOSUCH"):
        make_world(accounts=[AccountConfig("DU1", 1e6, positions=[PositionConfig("NOSUCH", 1, 1.0)])])


# ---------------------------------------------------------------------------------------------- invariants
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["AAPL", "EUR.USD", "GBP.USD", "ES"]), st.sampled_from(["BUY", "SELL"]),
                          st.integers(1, 5)), min_size=1, max_size=10),
       st.sampled_from(["USD", "EUR"]))
def test_the_base_ledger_is_every_currency_at_its_rate(trades, base):
    world = make_world(accounts=[AccountConfig("DU1", 500_000.0, base_currency=base,
                                               cash_by_currency={"GBP": 3_000.0})])
    acct = world.account()
    for symbol, side, lots in trades:
        spec = next(s for s in world.contracts if symbol in (s.symbol, s.local_symbol) and s.sec_type != "OPT")
        qty = lots * (10_000 if spec.sec_type == "CASH" else 10 if spec.sec_type == "STK" else 1)
        acct.apply_fill(spec, side, qty, world.market.price_at(spec.con_id, 0.0), 2.0)
    run_until(world, 900)
    rows = acct.update_rows()
    cash, rate, net = rows_by(rows, "CashBalance"), rows_by(rows, "ExchangeRate"), rows_by(rows, "NetLiquidationByCurrency")
    currencies = [c for c in cash if c != "BASE"]
    assert float(cash["BASE"]) == pytest.approx(sum(float(cash[c]) * float(rate[c]) for c in currencies), rel=1e-6, abs=0.05)
    assert float(net["BASE"]) == pytest.approx(sum(float(net[c]) * float(rate[c]) for c in currencies), rel=1e-6, abs=0.05)
    assert float(net["BASE"]) == pytest.approx(float(rows_by(rows, "NetLiquidation")[base]), abs=0.01)
    assert rate[base] == "1.00" and rows_by(rows, "NetLiquidation").keys() == {base}
