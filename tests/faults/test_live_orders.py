"""Order faults as a real ib_insync client sees its trades: rejects, partial fills, slippage, late fills."""
import asyncio

import pytest
from ib_insync import MarketOrder, Stock

from live import Recorder, connect, done, events, gateway, run_async
from mock_gateway.config import GatewayConfig, MarketConfig
from mock_gateway.faults.defaults import build_fault_stack
from mock_gateway.faults.distributions import Fixed
from mock_gateway.faults.orders import DelayedFills, OrderReject, PartialFills, Slippage

AAPL = Stock("AAPL", "SMART", "USD")
MARGIN_TEXT = "Order rejected - reason:The contract is not available for short sale."



@run_async
async def test_a_rejected_order_gets_201_with_the_reason_and_the_trade_is_cancelled():
    async with gateway(OrderReject(actions=["SELL"], reason="The contract is not available for short sale.")) as gw:
        ib = await connect(gw)
        rec = Recorder(ib)
        [contract] = await ib.qualifyContractsAsync(AAPL)
        sell = ib.placeOrder(contract, MarketOrder("SELL", 10))
        buy = ib.placeOrder(contract, MarketOrder("BUY", 10))
        await done(sell)
        await done(buy)
        # ib_insync marks the trade Cancelled on the 201, then the gateway's orderStatus makes it Inactive (#554)
        assert sell.orderStatus.status == "Inactive" and buy.orderStatus.status == "Filled"
        assert (sell.order.orderId, 201, MARGIN_TEXT) in rec.errors
        assert any(entry.errorCode == 201 for entry in sell.log)
        ib.disconnect()


@run_async
async def test_the_event_log_names_the_fault_that_rejected_an_order():
    async with gateway(OrderReject(name="margin")) as gw:
        ib = await connect(gw)
        [contract] = await ib.qualifyContractsAsync(AAPL)
        await done(ib.placeOrder(contract, MarketOrder("BUY", 10)))
        [rejection] = [e for e in events(gw, "out", "error") if e["attrs"].get("code") == 201]
        assert rejection["fault"] == "margin"
        ib.disconnect()


@run_async
async def test_partial_fills_arrive_in_pieces():
    async with gateway(PartialFills(fractions=[0.25, 0.25, 0.5], interval_s=1), speed=10) as gw:
        ib = await connect(gw)
        [contract] = await ib.qualifyContractsAsync(AAPL)
        trade = ib.placeOrder(contract, MarketOrder("BUY", 100))
        await done(trade)
        assert [f.execution.shares for f in trade.fills] == [25, 25, 50]
        assert trade.orderStatus.filled == 100
        ib.disconnect()


@run_async
async def test_slippage_fills_worse_than_the_quote_by_its_ticks():
    config = GatewayConfig(port=0, market=MarketConfig(tick_interval_s=10_000))  # a still market: one quote
    config.faults = build_fault_stack(config, [Slippage(ticks=3, symbols=["AAPL"])], default_pacing=False)
    async with gateway(config=config) as gw:
        ib = await connect(gw)
        [contract] = await ib.qualifyContractsAsync(AAPL)
        [ticker] = await ib.reqTickersAsync(contract)
        buy, sell = ib.placeOrder(contract, MarketOrder("BUY", 10)), ib.placeOrder(contract, MarketOrder("SELL", 10))
        await done(buy)
        await done(sell)
        assert buy.fills[0].execution.price == round(ticker.ask + 0.03, 2)
        assert sell.fills[0].execution.price == round(ticker.bid - 0.03, 2)
        ib.disconnect()


@run_async
async def test_a_delayed_fill_comes_after_its_delay():
    async with gateway(DelayedFills(delay=Fixed(ms=400))) as gw:
        ib = await connect(gw)
        [contract] = await ib.qualifyContractsAsync(AAPL)
        loop = asyncio.get_running_loop()
        trade = ib.placeOrder(contract, MarketOrder("BUY", 10))
        t0 = loop.time()
        while trade.orderStatus.status != "Submitted":
            await trade.statusEvent
        acked = loop.time() - t0
        await done(trade)
        filled = loop.time() - t0
        assert acked < 0.2 and filled >= 0.4
        ib.disconnect()
