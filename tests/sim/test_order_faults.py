"""Faults alter an order's life through OrderEffect: reject, partial fills, slippage, delay."""
from __future__ import annotations

import pytest

from mock_gateway.faults.base import OrderEffect
from mock_gateway.sim import Fill, OrderUpdate, Reject

from .support import AAPL_ID, EffectFault, Recorder, make_world, order, run_due, run_until


def world_with(effect: OrderEffect):
    effect.fault = effect.fault or "test_effect"
    world = make_world([EffectFault(effect)])
    return world, Recorder(world)


def test_a_fault_reject_refuses_the_order_with_its_code_and_text():
    world, recorder = world_with(OrderEffect(reject=(201, "Order rejected - reason:test")))
    world.orders.place(order(1), client_id=1)
    run_due(world)
    [reject] = recorder.of(Reject)
    assert (reject.code, reject.text, reject.order.status) == (201, "Order rejected - reason:test", "Inactive")
    assert reject.fault == "test_effect" == reject.order.fault
    assert not recorder.of(Fill)


def test_partial_fills_come_in_the_given_fractions_at_the_given_interval():
    world, recorder = world_with(OrderEffect(fill_fractions=(0.3, 0.3, 0.4), fill_interval_s=2.0))
    world.orders.place(order(1, qty=1000), client_id=1)
    run_until(world, 10)
    fills = [f.execution for f in recorder.of(Fill)]
    assert [(e.shares, e.time_s, e.cum_qty) for e in fills] == [(300, 0, 300), (300, 2, 600), (400, 4, 1000)]
    assert [u.status for u in recorder.of(OrderUpdate)][-3:] == ["Submitted", "Submitted", "Filled"]
    assert fills[-1].avg_price == pytest.approx(sum(e.shares * e.price for e in fills) / 1000)


def test_partial_fills_pay_the_order_commission_once():
    world, recorder = world_with(OrderEffect(fill_fractions=(0.5, 0.5), fill_interval_s=1.0))
    world.orders.place(order(1, qty=100), client_id=1)
    run_until(world, 5)
    assert [f.commission.commission for f in recorder.of(Fill)] == [1.0, 0.0]


def test_an_ioc_order_with_partial_fills_fills_the_first_part_and_cancels_the_rest():
    world, recorder = world_with(OrderEffect(fill_fractions=(0.4, 0.6), fill_interval_s=1.0))
    world.orders.place(order(1, qty=100, tif="IOC"), client_id=1)
    run_until(world, 5)
    assert [f.execution.shares for f in recorder.of(Fill)] == [40]
    assert recorder.statuses()[-1] == "Cancelled"


def test_slippage_moves_the_fill_price_against_the_order():
    world, recorder = world_with(OrderEffect(slippage_ticks=3))
    quote = world.market.quote(AAPL_ID)
    world.orders.place(order(1, "BUY"), client_id=1)
    world.orders.place(order(2, "SELL"), client_id=1)
    run_due(world)
    buy, sell = (f.execution.price for f in recorder.of(Fill))
    assert (buy, sell) == (pytest.approx(quote.ask + 0.03), pytest.approx(quote.bid - 0.03))


def test_slippage_never_crosses_a_limit():
    world, recorder = world_with(OrderEffect(slippage_ticks=10))
    ask = world.market.quote(AAPL_ID).ask
    world.orders.place(order(1, "BUY", order_type="LMT", lmt_price=ask + 0.02), client_id=1)
    run_due(world)
    assert recorder.of(Fill)[0].execution.price == ask + 0.02


def test_a_fill_delay_acknowledges_at_once_and_fills_later_at_the_later_quote():
    world, recorder = world_with(OrderEffect(fill_delay_s=30.0))
    world.orders.place(order(1), client_id=1)
    run_due(world)
    assert recorder.statuses() == ["PreSubmitted", "Submitted"]
    run_until(world, 31)
    [fill] = recorder.of(Fill)
    assert fill.execution.time_s == 30.0 and fill.execution.price == world.market.quote_at(AAPL_ID, 30.0).ask
