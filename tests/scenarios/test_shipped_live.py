"""Each shipped scenario against the live mock gateway, with what a real ib_insync client sees.

Long scenarios run with a higher ``speed`` than their file's (sim times stay as written); the
pacing scenarios keep sim seconds close to wall seconds where the client's own pace matters.
"""
import asyncio

import pytest
from ib_insync import IB, Forex, MarketOrder, Stock

from harness.scenario import load_scenario
from live import Recorder, connect, done, events, gateway, round_trip_ms, run_async, until_sim

AAPL = Stock("AAPL", "SMART", "USD")
HIST = dict(endDateTime="", durationStr="60 S", barSizeSetting="5 secs", whatToShow="TRADES", useRTH=False)


def scenario_gateway(name: str, **overrides):
    return gateway(config=load_scenario(name).gateway_config(port=0, **overrides))





@run_async
async def test_baseline_trades_cleanly_with_each_latency_fault_on_its_replies():
    async with scenario_gateway("baseline") as gw:
        ib = await connect(gw)
        rec = Recorder(ib)
        [contract] = await ib.qualifyContractsAsync(AAPL)
        trade = ib.placeOrder(contract, MarketOrder("BUY", 10))
        await done(trade)
        await ib.reqCurrentTimeAsync()
        assert trade.orderStatus.status == "Filled" and rec.codes() == []
        faults = {}
        for e in events(gw, "out"):
            faults.setdefault(e["msg"], e["fault"])   # the first of each: openOrder acks, later ones fill
        assert faults["openOrder"] == "ack_latency" and faults["execDetails"] == "fill_latency"
        assert faults["currentTime"] == "data_latency"
        ib.disconnect()


@run_async
async def test_pacing_storm_three_bursts_get_100_three_times_then_the_session_is_closed():
    async with scenario_gateway("pacing_storm", speed=1) as gw:  # the rule counts sim seconds: a faster clock stretches bursts
        ib = await connect(gw)
        rec = Recorder(ib)
        ib.client.MaxRequests = 0
        for burst in range(3):
            for _ in range(60):
                ib.client.reqCurrentTime()
            await rec.until(lambda: rec.codes().count(100) > burst or rec.disconnects)
            await asyncio.sleep(1.1)  # let the rolling second clear: each burst is its own violation
        await rec.until(lambda: rec.disconnects == 1)
        assert rec.codes() == [100, 100, 100] and not ib.isConnected()


@run_async
async def test_hist_pacing_an_identical_request_gets_162_and_no_bars():
    async with scenario_gateway("hist_pacing") as gw:
        ib = await connect(gw)
        rec = Recorder(ib)
        assert len(await ib.reqHistoricalDataAsync(AAPL, **HIST)) > 0
        assert list(await ib.reqHistoricalDataAsync(AAPL, **HIST)) == []
        assert rec.codes() == [162]
        ib.disconnect()


@run_async
async def test_market_data_lines_the_sixth_subscription_gets_101():
    async with scenario_gateway("market_data_lines") as gw:
        ib = await connect(gw)
        rec = Recorder(ib)
        contracts = [Stock(s, "SMART", "USD") for s in ("AAPL", "MSFT", "SPY", "QQQ", "IBM")] + [Forex("EURUSD")]
        tickers = [ib.reqMktData(c) for c in contracts]
        await rec.until(lambda: 101 in rec.codes())
        assert ib.wrapper.reqId2Ticker[rec.errors[-1][0]] is tickers[5]
        await asyncio.sleep(0.2)
        assert tickers[0].bid > 0 and tickers[5].bid != tickers[5].bid  # the 6th never got a quote (nan)
        ib.disconnect()


@run_async
async def test_disconnect_flap_drops_the_client_every_90_s_and_it_can_reconnect_between():
    async with scenario_gateway("disconnect_flap", speed=100) as gw:
        ib = await connect(gw)
        rec = Recorder(ib)
        await rec.until(lambda: rec.disconnects == 1, timeout=3)
        ib2 = await connect(gw)
        rec2 = Recorder(ib2)
        await rec2.until(lambda: rec2.disconnects == 1, timeout=3)
        drops = [e["sim"] for e in events(gw, "sys", "fault") if e["attrs"]["name"] == "disconnect"]
        assert drops == [60.0, 150.0]


@run_async
async def test_gateway_restart_the_daily_window_drops_refuses_then_serves():
    async with scenario_gateway("gateway_restart", speed=200) as gw:
        ib = await connect(gw)
        rec = Recorder(ib)
        await rec.until(lambda: rec.disconnects == 1, timeout=4)
        assert gw.clock.datetime_at(gw.clock.target()).strftime("%H:%M") == "04:45"   # 23:45 New York
        with pytest.raises(ConnectionRefusedError):
            await connect(gw, timeout=0.2)
        await until_sim(gw, 420)
        for _ in range(40):   # the listener re-opens as the window ends; a client retries, as real ones do
            try:
                ib = await connect(gw)
                break
            except ConnectionRefusedError:
                await asyncio.sleep(0.05)
        assert ib.isConnected()
        ib.disconnect()


@run_async
async def test_latency_spike_slows_every_reply_inside_its_window_only():
    async with scenario_gateway("latency_spike", speed=60) as gw:
        ib = await connect(gw)
        await ib.reqCurrentTimeAsync()
        await until_sim(gw, 125)
        during = [await round_trip_ms(ib) for _ in range(3)]
        assert min(during) >= 300 / 60      # 300-1500 sim ms at speed 60
        await until_sim(gw, 181)
        await ib.reqCurrentTimeAsync()
        replies = [e["fault"] for e in events(gw, "out", "currentTime")]
        assert replies == [None, "spike", "spike", "spike", None]
        ib.disconnect()


@run_async
async def test_order_rejects_short_sales_of_ibm_and_some_orders_for_margin():
    async with scenario_gateway("order_rejects") as gw:
        ib = await connect(gw)
        rec = Recorder(ib)
        aapl, ibm = await ib.qualifyContractsAsync(AAPL, Stock("IBM", "SMART", "USD"))
        short = ib.placeOrder(ibm, MarketOrder("SELL", 10))
        await done(short)
        trades = [ib.placeOrder(aapl, MarketOrder("BUY", 1)) for _ in range(20)]
        for t in trades:
            await done(t)
        reasons = {text.split("reason:")[1][:20] for _, code, text in rec.errors if code == 201}
        # ib_insync marks a trade Cancelled on error 201; the orderStatus Inactive the gateway sends next
        # makes it Inactive (real log: ib_insync #554)
        assert short.orderStatus.status == "Inactive"
        assert reasons == {"The contract is not ", "YOUR ORDER IS NOT AC"}
        assert 0 < sum(t.orderStatus.status == "Inactive" for t in trades) < 20
        ib.disconnect()


@run_async
async def test_partial_fills_some_orders_fill_in_three_pieces():
    async with scenario_gateway("partial_fills") as gw:
        ib = await connect(gw)
        [contract] = await ib.qualifyContractsAsync(AAPL)
        pieces = []
        for _ in range(6):
            trade = ib.placeOrder(contract, MarketOrder("BUY", 100))
            await done(trade)
            pieces.append([f.execution.shares for f in trade.fills])
        assert [25, 25, 50] in pieces and [100] in pieces
        ib.disconnect()


@run_async
async def test_connectivity_loss_1100_1101_needs_a_resubscribe_and_1102_does_not():
    async with scenario_gateway("connectivity_loss_1100", speed=100) as gw:
        ib = await connect(gw)
        rec = Recorder(ib)
        ticks = []
        ticker = ib.reqMktData(AAPL)
        ticker.updateEvent += ticks.append
        await rec.until(lambda: 1101 in rec.codes(), timeout=4)
        assert rec.codes() == [1100, 2103, 1100, 1100, 1100, 1100, 1101]
        silent_from = len(ticks)
        await asyncio.sleep(0.3)
        assert len(ticks) == silent_from                  # data lost: no ticks until resubscribed
        ib.cancelMktData(AAPL)
        ib.reqMktData(AAPL).updateEvent += ticks.append
        await asyncio.sleep(0.3)
        assert len(ticks) > silent_from
        await rec.until(lambda: 1102 in rec.codes(), timeout=5)
        kept_from = len(ticks)
        await asyncio.sleep(0.3)
        assert len(ticks) > kept_from                     # data maintained: ticks resume by themselves
        assert ib.isConnected() and rec.disconnects == 0
        ib.disconnect()


@run_async
async def test_handshake_stall_two_silent_hellos_one_missing_next_valid_id_then_served():
    async with scenario_gateway("handshake_stall") as gw:
        for _ in range(3):
            with pytest.raises(asyncio.TimeoutError):
                await connect(gw, timeout=0.3)
        ib = await connect(gw)
        assert ib.isConnected()
        assert [e["fault"] for e in events(gw, "sys", "connect")] == [
            "no_hello_reply", "no_hello_reply", "no_next_valid_id", None]
        ib.disconnect()


@run_async
async def test_client_id_in_use_a_fast_reconnect_after_the_drop_gets_326():
    async with scenario_gateway("client_id_in_use", speed=20) as gw:
        ib = await connect(gw)
        rec = Recorder(ib)
        await rec.until(lambda: rec.disconnects == 1, timeout=3)
        again = IB()
        rec2 = Recorder(again)
        with pytest.raises(asyncio.TimeoutError):
            await again.connectAsync(gw.host, gw.port, clientId=1, timeout=0.2)
        assert 326 in rec2.codes()
        await until_sim(gw, gw.clock.target() + 5)
        ib = await connect(gw)
        assert ib.isConnected()
        ib.disconnect()


@run_async
async def test_late_replies_historical_data_arrives_after_the_client_gave_up():
    async with scenario_gateway("late_replies", speed=30) as gw:
        ib = await connect(gw)
        await until_sim(gw, 31)
        assert list(await ib.reqHistoricalDataAsync(AAPL, timeout=1, **HIST)) == []
        while not events(gw, "out", "historicalData"):
            await asyncio.sleep(0.05)
        [cancel] = events(gw, "in", "cancelHistoricalData")
        [late] = events(gw, "out", "historicalData")
        assert late["fault"] == "late_historical" and late["sim"] - cancel["sim"] > 30
        assert ib.isConnected()
        ib.disconnect()


@run_async
async def test_six_hour_session_runs_a_whole_day_with_its_blips_and_no_disconnect():
    async with scenario_gateway("six_hour_session", speed=3900) as gw:   # 6.5 h in 6 wall seconds
        ib = await connect(gw)
        rec = Recorder(ib)
        [contract] = await ib.qualifyContractsAsync(AAPL)
        trades = []
        while gw.clock.target() < 23400:
            trades.append(ib.placeOrder(contract, MarketOrder("BUY" if len(trades) % 2 else "SELL", 10)))
            await asyncio.sleep(0.25)
        for t in trades:
            await done(t)
        assert [c for c in rec.codes() if c != 201] == [2103, 1100, 1102]
        assert rec.disconnects == 0 and ib.isConnected()
        assert sum(t.orderStatus.status == "Filled" for t in trades) >= 0.9 * len(trades)
        assert len(events(gw, "sys", "account_mark")) >= 23400 // 60
        ib.disconnect()
