"""World wiring: faults, accounts, end-to-end determinism."""
from __future__ import annotations

import pytest

from mock_gateway.config import AccountConfig, GatewayConfig
from mock_gateway.faults.base import FaultStack, OrderEffect
from mock_gateway.sim import SimClock, World

from .support import EffectFault, make_world, order, run_due, run_until


def test_the_world_uses_the_configured_faults_unless_given_some():
    configured = FaultStack([EffectFault(OrderEffect(reject=(201, "configured")))])
    world = World(GatewayConfig(faults=configured), SimClock())
    assert world.faults is configured
    given = FaultStack([])
    assert World(GatewayConfig(faults=configured), SimClock(), faults=given).faults is given


def test_without_configured_faults_the_world_uses_the_healthy_gateway_stack():
    assert isinstance(World(GatewayConfig(), SimClock()).faults, FaultStack)


def test_accounts_come_from_the_config_and_are_found_by_id():
    world = World(GatewayConfig(accounts=[AccountConfig("DU1", 10.0), AccountConfig("DU2", 20.0)]), SimClock())
    assert list(world.accounts) == ["DU1", "DU2"]
    assert (world.account("DU2").cash, world.account("").account_id) == (20.0, "DU1")


def test_the_configured_stock_commission_is_charged():
    world = World(GatewayConfig(commission_per_share=0.01, min_commission=2.0), SimClock())
    world.orders.place(order(1, qty=100), client_id=1)
    run_due(world)
    assert world.orders.executions()[0].commission.commission == 2.0


def session(seed: int) -> list[tuple[int, float, float]]:
    world = make_world(seed=seed)
    for n in range(1, 6):
        world.orders.place(order(n, "BUY" if n % 2 else "SELL", qty=100 * n), client_id=1)
        run_until(world, 600.0 * n)
    return [(f.execution.order_id, f.execution.time_s, f.execution.price) for f in world.orders.executions()]


def test_the_same_seed_and_the_same_orders_give_the_same_executions():
    assert session(11) == session(11) != session(12)


def test_a_later_futures_month_has_history_scaled_from_the_front_month():
    world = make_world()
    front = world.market.bars(650000100, 0.0, 86400.0, 3600.0)
    later = world.market.bars(650000101, 0.0, 86400.0, 3600.0)
    ratio = world.contracts.get(650000101).initial_price / world.contracts.get(650000100).initial_price
    assert [b.time_s for b in front] == [b.time_s for b in later]
    assert all(b.close == pytest.approx(a.close * ratio, abs=0.25) for a, b in zip(front, later))
