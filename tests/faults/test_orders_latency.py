import pytest
from pydantic import TypeAdapter, ValidationError

from mock_gateway.faults.base import FaultStack, ReplyKind
from mock_gateway.faults.distributions import Fixed, Uniform
from mock_gateway.faults.latency import Latency
from mock_gateway.faults.orders import DelayedFills, OrderReject, PartialFills, Slippage
from mock_gateway.faults.registry import FaultSpec
from mock_gateway.faults.schedule import Schedule

from fault_fakes import FakeOrder


def test_reject_sends_201_with_the_reason():
    effect = OrderReject(reason="The contract is not available for short sale.").on_order(FakeOrder(), 0)
    assert effect.reject == (201, "Order rejected - reason:The contract is not available for short sale.")
    assert effect.fault == "order_reject"


def test_reject_picks_only_matching_orders():
    fault = OrderReject(symbols=["MSFT"], actions=["SELL"], min_qty=10)
    assert fault.on_order(FakeOrder(symbol="AAPL", action="SELL"), 0) is None
    assert fault.on_order(FakeOrder(symbol="MSFT", action="BUY"), 0) is None
    assert fault.on_order(FakeOrder(symbol="MSFT", action="SELL", total_qty=5), 0) is None
    assert fault.on_order(FakeOrder(symbol="MSFT", action="SELL", total_qty=50), 0) is not None


def test_reject_probability_is_a_seeded_fraction():
    def picks(seed):
        fault = OrderReject(probability=0.2).bound(seed, None)
        return [fault.on_order(FakeOrder(order_id=i), 0) is not None for i in range(2000)]
    a = picks(5)
    assert a == picks(5)
    assert 0.17 < sum(a) / len(a) < 0.23
    assert a != picks(6)


def test_partial_fills_split_the_quantity():
    effect = PartialFills(fractions=[0.5, 0.5], interval_s=2).on_order(FakeOrder(), 0)
    assert effect.fill_fractions == (0.5, 0.5) and effect.fill_interval_s == 2


def test_partial_fill_fractions_must_add_up_to_one():
    with pytest.raises(ValidationError, match="add up to 1"):
        TypeAdapter(FaultSpec).validate_python({"type": "partial_fills", "fractions": [0.5, 0.4]})


def test_slippage_and_delay_stack_on_one_order():
    stack = FaultStack([Slippage(ticks=2), DelayedFills(delay=Fixed(ms=1500)), Slippage(ticks=1, name="more")])
    effect = stack.on_order(FakeOrder(), 0)
    assert (effect.slippage_ticks, effect.fill_delay_s) == (3, 1.5)
    assert effect.fault == "slippage,delayed_fills,more"


def test_latency_applies_to_its_kinds_only():
    fault = Latency(distribution=Fixed(ms=40), kinds=[ReplyKind.ORDER_ACK])
    assert fault.reply_delay(ReplyKind.ORDER_ACK, 0) == pytest.approx(0.040)
    assert fault.reply_delay(ReplyKind.MARKET_DATA, 0) == 0


def test_a_spike_adds_to_the_base_latency_inside_its_window():
    stack = FaultStack([Latency(distribution=Fixed(ms=10)),
                        Latency(name="spike", distribution=Fixed(ms=500), schedule=Schedule(from_s=60, to_s=90))])
    assert stack.reply_delay(ReplyKind.ORDER_FILL, 30) == (pytest.approx(0.010), "latency")
    assert stack.reply_delay(ReplyKind.ORDER_FILL, 70) == (pytest.approx(0.510), "latency,spike")


def test_latency_draws_per_kind_do_not_disturb_each_other():
    def acks(ticks_between):
        fault = Latency(distribution=Uniform(low_ms=1, high_ms=100)).bound(3, None)
        out = []
        for _ in range(50):
            for _ in range(ticks_between):
                fault.reply_delay(ReplyKind.MARKET_DATA, 0)
            out.append(fault.reply_delay(ReplyKind.ORDER_ACK, 0))
        return out
    assert acks(0) == acks(7)


def test_latency_needs_a_length_when_scheduled_at_a_time():
    with pytest.raises(ValidationError, match="lasts a while"):
        TypeAdapter(FaultSpec).validate_python({"type": "latency", "distribution": {"kind": "fixed", "ms": 5},
                                                "schedule": {"at_s": 10}})
