"""API settings as real clients meet them: pace mode, Read-Only API, the master client id; 1101 and
account subscriptions; a restart keeps positions and open orders (ib_insync over real sockets)."""
import asyncio

from ib_insync import LimitOrder, MarketOrder, Stock

from live import Recorder, connect, events, gateway, run_async
from mock_gateway.config import AccountConfig, GatewayConfig, OpenOrderConfig, PositionConfig
from mock_gateway.faults.codes import READ_ONLY_API_TEXT
from mock_gateway.faults.connection import GatewayRestart
from mock_gateway.faults.connectivity import ConnectivityLoss
from mock_gateway.faults.pacing import MessageRate
from mock_gateway.faults.schedule import Schedule

AAPL = Stock("AAPL", "SMART", "USD")


async def _answers(gw, n, timeout=10.0):
    async def wait():
        while len(events(gw, "out", "currentTime")) < n:
            await asyncio.sleep(0.02)
    await asyncio.wait_for(wait(), timeout)


@run_async
async def test_with_pacing_applied_a_burst_is_served_late_and_in_full_with_no_error():
    async with gateway(MessageRate(reject_excess=False), speed=1) as gw:
        ib = await connect(gw)
        rec = Recorder(ib)
        ib.client.MaxRequests = 0                 # a naive client: no throttle of its own
        before = len(events(gw, "out", "currentTime"))
        for _ in range(120):
            ib.client.reqCurrentTime()
        await _answers(gw, before + 120)
        answered = events(gw, "out", "currentTime")[before:]
        assert 100 not in rec.codes() and ib.isConnected()
        assert answered[-1]["sim"] - answered[0]["sim"] >= 1.0   # 120 at 50 per rolling second: over 1 s
        ib.disconnect()


@run_async
async def test_with_pacing_applied_no_second_serves_more_than_the_limit():
    async with gateway(MessageRate(reject_excess=False, max_per_s=20), speed=1) as gw:
        ib = await connect(gw)
        ib.client.MaxRequests = 0
        before = len(events(gw, "out", "currentTime"))
        for _ in range(60):
            ib.client.reqCurrentTime()
        await _answers(gw, before + 60)
        times = [e["sim"] for e in events(gw, "out", "currentTime")[before:]]
        assert max(sum(1 for u in times if t <= u < t + 0.999) for t in times) <= 20
        ib.disconnect()


@run_async
async def test_read_only_api_refuses_orders_with_321_and_serves_data():
    async with gateway(config=GatewayConfig(port=0, read_only_api=True)) as gw:
        ib = await connect(gw, readonly=True)     # ib_insync skips the open-order downloads in read-only mode
        rec = Recorder(ib)
        [contract] = await ib.qualifyContractsAsync(AAPL)
        trade = ib.placeOrder(contract, MarketOrder("BUY", 1))
        await rec.until(lambda: 321 in rec.codes())
        assert rec.errors[-1] == (trade.order.orderId, 321, READ_ONLY_API_TEXT)
        assert not events(gw, "out", "orderStatus")
        assert await ib.reqCurrentTimeAsync()      # data requests are served
        ib.disconnect()


@run_async
async def test_read_only_api_refuses_the_open_order_download_a_normal_connect_makes():
    async with gateway(config=GatewayConfig(port=0, read_only_api=True)) as gw:
        ib = await connect(gw, readonly=True)
        rec = Recorder(ib)
        ib.client.reqOpenOrders()
        await rec.until(lambda: 321 in rec.codes())
        assert rec.errors[-1] == (-1, 321, READ_ONLY_API_TEXT)
        ib.disconnect()


@run_async
async def test_the_master_client_hears_another_clients_order_but_cannot_cancel_it():
    async with gateway(config=GatewayConfig(port=0, master_client_id=9)) as gw:
        master = await connect(gw, client_id=9)
        rec = Recorder(master)
        trader = await connect(gw, client_id=1)
        [contract] = await trader.qualifyContractsAsync(AAPL)
        trade = trader.placeOrder(contract, LimitOrder("BUY", 1, 1.0))
        for _ in range(100):
            if any(t.order.permId == trade.order.permId for t in master.trades()):
                break
            await asyncio.sleep(0.02)
        [seen] = [t for t in master.trades() if t.order.permId == trade.order.permId]
        assert seen.order.clientId == 1 and seen.orderStatus.status == "Submitted"
        master.client.cancelOrder(trade.order.orderId, "")
        await rec.until(lambda: 10147 in rec.codes())    # orders stay bound to the client that placed them
        assert trade.orderStatus.status == "Submitted"
        trader.disconnect()
        master.disconnect()


@run_async
async def test_an_ordinary_client_does_not_hear_another_clients_orders():
    async with gateway() as gw:
        other = await connect(gw, client_id=9)
        trader = await connect(gw, client_id=1)
        [contract] = await trader.qualifyContractsAsync(AAPL)
        trader.placeOrder(contract, LimitOrder("BUY", 1, 1.0))
        await asyncio.sleep(0.3)
        assert other.trades() == []
        trader.disconnect()
        other.disconnect()


@run_async
async def test_1101_drops_the_account_subscriptions_until_the_client_asks_again():
    # late enough that a slow start-up still connects before it (the clock runs from the gateway's start)
    fault = ConnectivityLoss(data_lost=True, schedule=Schedule(from_s=240, to_s=242))
    held = AccountConfig("DU777", 500_000.0, cash_by_currency={"EUR": 10_000.0},
                         positions=[PositionConfig("AAPL", 300, 221.35)])   # values that move with the market
    async with gateway(fault, config=GatewayConfig(port=0, speed=60, accounts=[held])) as gw:
        ib = await connect(gw)
        rec = Recorder(ib)
        await rec.until(lambda: 1101 in rec.codes(), timeout=15)
        restored_at = events(gw, "out", "error")[-1]["sim"]
        while gw.clock.env.now < restored_at + 190:   # past the next 3-minute refresh (sim)
            await asyncio.sleep(0.05)
        assert not [e for e in events(gw, "out", "updateAccountValue") if e["sim"] > restored_at]
        ib.client.reqAccountUpdates(True, "")     # subscribe again: the values come back
        for _ in range(100):
            if [e for e in events(gw, "out", "updateAccountValue") if e["sim"] > restored_at]:
                break
            await asyncio.sleep(0.02)
        assert [e for e in events(gw, "out", "updateAccountValue") if e["sim"] > restored_at]
        ib.disconnect()


@run_async
async def test_positions_and_open_orders_survive_a_gateway_restart():
    account = AccountConfig("DU777", 500_000.0, positions=[PositionConfig("AAPL", 300, 221.35)],
                            open_orders=[OpenOrderConfig("AAPL", "SELL", 100, "LMT", 400.0, client_id=1)])
    config = GatewayConfig(port=0, speed=10, accounts=[account])
    async with gateway(GatewayRestart(schedule=Schedule(at_s=2, duration_s=2)), config=config) as gw:
        ib = await connect(gw)
        rec = Recorder(ib)
        assert len(ib.openTrades()) == 1
        await rec.until(lambda: rec.disconnects == 1)
        for _ in range(200):
            try:
                await ib.connectAsync(gw.host, gw.port, clientId=1, timeout=2)
                break
            except (ConnectionRefusedError, OSError, asyncio.TimeoutError):
                await asyncio.sleep(0.05)
        assert {p.contract.symbol: p.position for p in ib.positions()} == {"AAPL": 300}
        [gtc] = ib.openTrades()
        assert (gtc.order.lmtPrice, gtc.order.tif, gtc.orderStatus.status) == (400.0, "GTC", "Submitted")
        ib.disconnect()


@run_async
async def test_account_ready_turns_false_during_an_outage_and_true_after_it():
    async with gateway(ConnectivityLoss(schedule=Schedule(from_s=2, to_s=4)), speed=10) as gw:
        ib = await connect(gw)
        rec = Recorder(ib)
        ready = []
        ib.accountValueEvent += lambda v: ready.append(v.value) if v.tag == "AccountReady" else None
        await rec.until(lambda: 1100 in rec.codes())
        await asyncio.sleep(0.05)
        assert ready[-1:] == ["false"]
        await rec.until(lambda: 1102 in rec.codes())
        await asyncio.sleep(0.05)
        assert ready[-1] == "true"
        ib.disconnect()
