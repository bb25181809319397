"""Same seed, same client script: the same event log, once wall times and socket noise are set aside."""
import asyncio

from ib_insync import MarketOrder, Stock

from live import connect, gateway
from mock_gateway.faults.base import ReplyKind
from mock_gateway.faults.distributions import Uniform
from mock_gateway.faults.latency import Latency
from mock_gateway.faults.orders import OrderReject, PartialFills

#: streamed or clock-driven: how many arrive depends on wall timing, not on the seed
TIMING_DEPENDENT = {"tickPrice", "tickSize", "tickString", "tickGeneric", "pnl", "updateAccountTime",
                    "updateAccountValue", "updatePortfolio", "accountUpdateMulti", "account_mark",
                    "run_start", "run_end", "connect", "disconnect", "handshake", "handshakeReply", "currentTime"}
KEPT_ATTRS = ("code", "status", "filled", "remaining", "shares", "order_id", "action", "total_qty")


def normalized(events):
    return [(e["dir"], e["msg"], e["client_id"], e["fault"], tuple(e["attrs"].get(k) for k in KEPT_ATTRS))
            for e in events if e["msg"] not in TIMING_DEPENDENT]


def run(seed):
    async def body():
        faults = (OrderReject(probability=0.3), PartialFills(fractions=[0.5, 0.5], interval_s=0.01, probability=0.5),
                  Latency(distribution=Uniform(low_ms=1, high_ms=5), kinds=[ReplyKind.ORDER_ACK]))
        async with gateway(*faults, seed=seed) as gw:
            ib = await connect(gw)
            [contract] = await ib.qualifyContractsAsync(Stock("AAPL", "SMART", "USD"))
            outcomes = []
            for i in range(16):
                trade = ib.placeOrder(contract, MarketOrder("BUY" if i % 2 else "SELL", 10))
                while trade.orderStatus.status not in ("Filled", "Inactive"):   # a market order's two endings
                    await trade.statusEvent
                outcomes.append((trade.orderStatus.status, [f.execution.shares for f in trade.fills]))
            ib.disconnect()
            await asyncio.sleep(0.05)
            return outcomes, list(gw.event_log.events)
    return asyncio.run(body())


def test_the_same_seed_gives_the_same_event_log_and_the_same_outcomes():
    outcomes_a, log_a = run(seed=5)
    outcomes_b, log_b = run(seed=5)
    assert outcomes_a == outcomes_b
    assert normalized(log_a) == normalized(log_b)
    statuses = [s for s, _ in outcomes_a]
    assert "Inactive" in statuses and "Filled" in statuses     # rejected orders end Inactive, as IB's do
    assert [5.0, 5.0] in [fills for _, fills in outcomes_a]


def test_another_seed_gives_other_draws():
    assert run(seed=5)[0] != run(seed=6)[0]
