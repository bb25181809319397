"""The order engine: each order type's fill rule, time in force, cancels, visibility, ids."""
from __future__ import annotations

import re

import pytest

from mock_gateway.config import AccountConfig
from mock_gateway.sim import ContractQuery, ExecutionFilter, Fill, OrderRejected, OrderUpdate, Reject

from .support import AAPL_ID, Recorder, make_world, order, run_due, run_until

HORIZON_S = 6 * 3600.0


def test_a_market_buy_fills_at_the_ask_and_a_market_sell_at_the_bid(world, recorder):
    quote = world.market.quote(AAPL_ID)
    world.orders.place(order(1, "BUY"), client_id=1)
    world.orders.place(order(2, "SELL"), client_id=1)
    run_due(world)
    buy, sell = (f.execution for f in recorder.of(Fill))
    assert (buy.price, buy.side, sell.price, sell.side) == (quote.ask, "BOT", quote.bid, "SLD")


def test_a_filled_order_goes_presubmitted_submitted_filled(world, recorder):
    world.orders.place(order(1), client_id=1)
    run_due(world)
    assert recorder.statuses() == ["PreSubmitted", "Submitted", "Filled"]
    assert [type(e).__name__ for e in recorder.events] == ["OrderUpdate", "OrderUpdate", "Fill", "OrderUpdate"]
    final = recorder.of(OrderUpdate)[-1]
    assert (final.filled, final.remaining, final.avg_fill_price) == (100, 0, recorder.of(Fill)[0].execution.price)


def test_a_buy_limit_below_the_market_rests_until_the_ask_reaches_it_and_fills_at_the_limit(world, recorder):
    limit = round(world.market.quote(AAPL_ID).ask - 0.10, 2)
    crossing = world.market.first_time(AAPL_ID, "ask", "<=", limit, 0.0, HORIZON_S)
    assert crossing is not None and crossing > 0
    world.orders.place(order(1, "BUY", order_type="LMT", lmt_price=limit, tif="GTC"), client_id=1)
    run_until(world, crossing - 0.01)
    assert not recorder.of(Fill) and recorder.statuses() == ["PreSubmitted", "Submitted"]
    run_until(world, crossing + 0.01)
    [fill] = recorder.of(Fill)
    assert (fill.execution.price, fill.execution.time_s) == (limit, crossing)


def test_a_marketable_limit_fills_at_once_at_the_better_quote(world, recorder):
    quote = world.market.quote(AAPL_ID)
    world.orders.place(order(1, "SELL", order_type="LMT", lmt_price=quote.bid - 1.0), client_id=1)
    run_due(world)
    assert recorder.of(Fill)[0].execution.price == quote.bid


def test_a_sell_stop_triggers_when_the_last_trades_at_the_stop_then_fills_at_the_bid(world, recorder):
    stop = round(world.market.quote(AAPL_ID).last - 0.10, 2)
    trigger = world.market.first_time(AAPL_ID, "last", "<=", stop, 0.0, HORIZON_S)
    assert trigger is not None
    world.orders.place(order(1, "SELL", order_type="STP", aux_price=stop, tif="GTC"), client_id=1)
    run_until(world, trigger + 0.01)
    [fill] = recorder.of(Fill)
    assert fill.execution.time_s == trigger and fill.execution.price == world.market.quote_at(AAPL_ID, trigger).bid


def test_a_stop_limit_waits_for_its_trigger_then_for_its_limit(world, recorder):
    start_last = world.market.quote(AAPL_ID).last
    stop = round(start_last + 0.10, 2)
    trigger = world.market.first_time(AAPL_ID, "last", ">=", stop, 0.0, HORIZON_S)
    assert trigger is not None
    limit = round(stop - 0.05, 2)
    fillable = world.market.first_time(AAPL_ID, "ask", "<=", limit, trigger, HORIZON_S)
    world.orders.place(order(1, "BUY", order_type="STP LMT", lmt_price=limit, aux_price=stop, tif="GTC"), client_id=1)
    run_until(world, HORIZON_S)
    [fill] = recorder.of(Fill)
    assert fill.execution.time_s == fillable >= trigger and fill.execution.price <= limit


def test_an_ioc_limit_that_is_not_marketable_is_cancelled_without_a_fill(world, recorder):
    bid = world.market.quote(AAPL_ID).bid
    world.orders.place(order(1, "BUY", order_type="LMT", lmt_price=bid - 1.0, tif="IOC"), client_id=1)
    run_due(world)
    assert recorder.statuses()[-1] == "Cancelled" and not recorder.of(Fill)
    assert recorder.of(OrderUpdate)[-1].reason == "IOC"


def test_a_day_order_expires_at_the_close_and_a_gtc_order_does_not(world, recorder):
    far = round(world.market.quote(AAPL_ID).bid * 0.5, 2)
    world.orders.place(order(1, "BUY", order_type="LMT", lmt_price=far, tif="DAY"), client_id=1)
    world.orders.place(order(2, "BUY", order_type="LMT", lmt_price=far, tif="GTC"), client_id=1)
    close_s = 6.5 * 3600            # the sim starts at the 09:30 New York open
    run_until(world, close_s + 1)
    day, gtc = world.orders.find(1, 1), world.orders.find(1, 2)
    assert (day.status, day.completed_at_s, gtc.status) == ("Cancelled", close_s, "Submitted")


def test_day_orders_do_not_each_work_out_the_session_calendar(world, monkeypatch):
    from mock_gateway.sim import sessions

    calls = []
    scan = sessions.sessions_between
    monkeypatch.setattr(sessions, "sessions_between", lambda *args, **kw: calls.append(args) or scan(*args, **kw))
    far = round(world.market.quote(AAPL_ID).bid * 0.5, 2)
    for n in range(1, 51):
        world.orders.place(order(n, "BUY", order_type="LMT", lmt_price=far, tif="DAY"), client_id=1)
        run_due(world)
    assert len(world.orders.open_orders()) == 50
    assert len(calls) <= 2   # worked out once for the quotes and once for the orders' hours, not per order


def test_cancel_stops_a_working_order_and_it_never_fills(world, recorder):
    limit = round(world.market.quote(AAPL_ID).ask - 0.10, 2)
    crossing = world.market.first_time(AAPL_ID, "ask", "<=", limit, 0.0, HORIZON_S)
    world.orders.place(order(1, "BUY", order_type="LMT", lmt_price=limit, tif="GTC"), client_id=1)
    run_due(world)
    world.orders.cancel(1, client_id=1)
    run_until(world, crossing + 1)
    assert recorder.statuses() == ["PreSubmitted", "Submitted", "Cancelled"] and not recorder.of(Fill)
    assert world.orders.open_orders() == [] and world.orders.completed_orders()[0].status == "Cancelled"


def test_an_order_cancelled_before_the_clock_runs_is_never_acknowledged(world, recorder):
    far = round(world.market.quote(AAPL_ID).bid * 0.5, 2)
    world.orders.place(order(1, order_type="LMT", lmt_price=far), client_id=1)
    world.orders.cancel(1, client_id=1)
    run_until(world, 60)
    assert recorder.statuses() == ["Cancelled"]


def test_an_order_modified_before_the_clock_runs_is_acknowledged_once(world, recorder):
    far = round(world.market.quote(AAPL_ID).bid * 0.5, 2)
    world.orders.place(order(1, order_type="LMT", lmt_price=far), client_id=1)
    world.orders.place(order(1, order_type="LMT", lmt_price=far + 1), client_id=1)
    run_until(world, 60)
    assert recorder.statuses() == ["PreSubmitted", "Submitted"]
    assert world.orders.find(1, 1).request.lmt_price == far + 1


def test_cancelling_an_unknown_or_finished_order_is_refused_like_ib(world):
    with pytest.raises(OrderRejected) as unknown:
        world.orders.cancel(99, client_id=1)
    world.orders.place(order(1), client_id=1)
    run_due(world)
    with pytest.raises(OrderRejected) as done:
        world.orders.cancel(1, client_id=1)
    assert (unknown.value.code, done.value.code) == (10147, 10148)


def test_global_cancel_cancels_every_working_order_of_every_client_and_account():
    world = make_world(accounts=[AccountConfig("DU1", 1e6), AccountConfig("DU2", 1e6)])
    far = round(world.market.quote(AAPL_ID).bid * 0.5, 2)
    world.orders.place(order(1, order_type="LMT", lmt_price=far, account="DU1"), client_id=1)
    world.orders.place(order(1, order_type="LMT", lmt_price=far, account="DU2"), client_id=2)
    run_due(world)
    cancelled = world.orders.global_cancel()
    assert {(o.client_id, o.account) for o in cancelled} == {(1, "DU1"), (2, "DU2")}
    assert world.orders.open_orders() == []


def test_open_orders_are_visible_to_every_client(world):
    far = round(world.market.quote(AAPL_ID).bid * 0.5, 2)
    world.orders.place(order(5, order_type="LMT", lmt_price=far), client_id=3)
    run_due(world)
    assert [o.key for o in world.orders.open_orders()] == [(3, 5)]
    assert world.orders.open_orders(client_id=4) == []


def test_a_placeorder_for_a_working_order_id_modifies_it(world, recorder):
    far = round(world.market.quote(AAPL_ID).bid * 0.5, 2)
    world.orders.place(order(1, order_type="LMT", lmt_price=far, tif="GTC"), client_id=1)
    run_until(world, 1)
    ask = world.market.quote(AAPL_ID).ask
    world.orders.place(order(1, order_type="LMT", lmt_price=ask + 0.05, tif="GTC"), client_id=1)
    run_due(world)
    [fill] = recorder.of(Fill)
    assert fill.execution.price == ask and fill.order.perm_id == recorder.events[0].order.perm_id


def test_perm_ids_are_unique_and_positive_and_exec_ids_look_like_ibs(world, recorder):
    for n in range(1, 6):
        world.orders.place(order(n), client_id=1)
    run_due(world)
    fills = recorder.of(Fill)
    perm_ids = [f.order.perm_id for f in fills]
    assert len(set(perm_ids)) == 5 and min(perm_ids) > 0
    assert all(re.fullmatch(r"[0-9a-f]{8}\.[0-9a-f]{8}\.01\.01", f.execution.exec_id) for f in fills)
    assert len({f.execution.exec_id for f in fills}) == 5


def test_next_valid_id_is_above_every_id_the_client_used(world):
    assert world.orders.next_valid_id(7) == 1
    world.orders.place(order(41), client_id=7)
    assert (world.orders.next_valid_id(7), world.orders.next_valid_id(8)) == (42, 1)


def test_executions_filter_by_client_symbol_side_and_time(world):
    msft = ContractQuery(symbol="MSFT", sec_type="STK", exchange="SMART", currency="USD")
    world.orders.place(order(1, "BUY"), client_id=1)
    world.orders.place(order(2, "SELL", contract=msft), client_id=2)
    run_until(world, 10)
    world.orders.place(order(3, "SELL"), client_id=1)
    run_due(world)
    ids = lambda f: [x.execution.order_id for x in world.orders.executions(f)]  # noqa: E731
    assert ids(None) == [1, 2, 3]
    assert ids(ExecutionFilter(client_id=1)) == [1, 3]
    assert ids(ExecutionFilter(symbol="MSFT")) == [2]
    assert ids(ExecutionFilter(side="SELL")) == [2, 3]
    assert ids(ExecutionFilter(since_s=5)) == [3]


@pytest.mark.parametrize("request_kwargs, code", [
    (dict(contract=ContractQuery(symbol="NOSUCH", sec_type="STK", exchange="SMART")), 200),
    (dict(contract=ContractQuery(symbol="ES", sec_type="FUT", exchange="CME")), 200),
    (dict(contract=ContractQuery(symbol="AAPL", sec_type="STK")), 321),
    (dict(qty=0), 434),
    (dict(qty=10.5), 10243),
    (dict(order_type="LMT"), 321),
    (dict(order_type="STP"), 321),
    (dict(order_type="TRAIL"), 158),
    (dict(order_type="BOGUS"), 387),
    (dict(account="DU999"), 321),
    (dict(qty=100_000), 201),
])
def test_invalid_orders_are_rejected_with_ibs_codes(world, recorder, request_kwargs, code):
    placed = world.orders.place(order(1, **request_kwargs), client_id=1)
    run_due(world)
    [reject] = recorder.of(Reject)
    assert reject.code == code and placed.status == "Inactive" and not recorder.of(Fill)
    assert world.account().cash == 1_000_000.0


def test_a_rejected_order_is_completed_as_inactive_unless_its_contract_is_unknown(world):
    world.orders.place(order(1, qty=0), client_id=1)
    world.orders.place(order(2, contract=ContractQuery(symbol="NOSUCH", sec_type="STK", exchange="SMART")), client_id=1)
    assert [(o.order_id, o.status) for o in world.orders.completed_orders()] == [(1, "Inactive")]


def test_a_margin_reject_says_why_like_ib(world, recorder):
    world.orders.place(order(1, qty=100_000), client_id=1)
    assert recorder.of(Reject)[0].text.startswith("Order rejected - reason:YOUR ORDER IS NOT ACCEPTED")


def test_reusing_a_finished_order_id_is_a_duplicate(world, recorder):
    far = round(world.market.quote(AAPL_ID).bid * 0.5, 2)
    world.orders.place(order(1, order_type="LMT", lmt_price=far), client_id=1)
    run_due(world)
    world.orders.cancel(1, client_id=1)
    world.orders.place(order(1), client_id=1)
    assert recorder.of(Reject)[0].code == 103


def test_placing_again_under_a_filled_orders_id_is_a_modification_of_a_filled_order(world, recorder):
    world.orders.place(order(1), client_id=1)
    run_due(world)
    world.orders.place(order(1), client_id=1)
    assert (recorder.of(Reject)[0].code, recorder.of(Reject)[0].text) == (104, "Can't modify a filled order.")


def test_a_futures_order_fills_at_the_futures_quote():
    world = make_world()
    recorder = Recorder(world)
    es = ContractQuery(symbol="ES", sec_type="FUT", exchange="CME", last_trade_date="202612")
    world.orders.place(order(1, qty=2, contract=es), client_id=1)
    run_due(world)
    [fill] = recorder.of(Fill)
    assert fill.execution.price == world.market.quote(650000100).ask and fill.commission.commission == 1.70
