"""Helpers for the world tests: build a world, record its events, make orders."""
from __future__ import annotations

from mock_gateway.config import AccountConfig, GatewayConfig, MarketConfig
from mock_gateway.faults.base import Fault, FaultStack, OrderEffect
from mock_gateway.sim import ContractQuery, OrderRequest, SimClock, World

AAPL = ContractQuery(symbol="AAPL", sec_type="STK", exchange="SMART", currency="USD")
AAPL_ID = 265598


class EffectFault(Fault):
    """A test fault that gives every order the same OrderEffect."""

    name = "test_effect"

    def __init__(self, effect: OrderEffect) -> None:
        self.effect = effect

    def on_order(self, order, now):
        return self.effect


def make_world(faults: list[Fault] | None = None, seed: int = 7, accounts: list[AccountConfig] | None = None,
               **market) -> World:
    config = GatewayConfig(seed=seed, market=MarketConfig(**market),
                           accounts=accounts or [AccountConfig("DU111", 1_000_000.0)])
    return World(config, SimClock(), faults=FaultStack(faults or []))


class Recorder:
    """Collects the order engine's events."""

    def __init__(self, world: World) -> None:
        self.events: list = []
        world.orders.add_listener(self.events.append)

    def of(self, kind: type) -> list:
        return [e for e in self.events if isinstance(e, kind)]

    def statuses(self) -> list[str]:
        return [e.status for e in self.events if hasattr(e, "status")]


def order(order_id: int, action: str = "BUY", qty: float = 100, order_type: str = "MKT",
          contract: ContractQuery = AAPL, **kw) -> OrderRequest:
    return OrderRequest(order_id, contract, action, qty, order_type, **kw)


def run_until(world: World, t_s: float) -> None:
    world.env.run(until=t_s)


def run_due(world: World) -> None:
    world.clock.run_due()

