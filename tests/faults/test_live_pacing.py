"""The pacing rules as a real ib_insync client meets them over a socket."""
import asyncio

from ib_insync import Stock

from live import Recorder, connect, events, gateway, run_async
from mock_gateway.faults.hist_pacing import HistoricalPacing, RealTimeBarsPacing
from mock_gateway.faults.pacing import MarketDataLines, MessageRate

AAPL = Stock("AAPL", "SMART", "USD")


@run_async
async def test_a_burst_over_50_per_second_gets_error_100_and_the_third_violation_drops_the_client():
    # speed 1: the rule counts sim seconds, and at a faster clock a burst slowed by CPU load
    # would spread over more than one sim second and draw no error
    async with gateway(default_pacing=True, speed=1) as gw:
        ib = await connect(gw)
        rec = Recorder(ib)
        ib.client.MaxRequests = 0  # ib_insync's own 45/s throttle off, as a naive handler has it
        for burst in range(3):
            for _ in range(60):
                ib.client.reqCurrentTime()
            await rec.until(lambda: len(rec.codes()) > burst or rec.disconnects)
            await asyncio.sleep(1.1)  # past the rolling second: the next burst is a new violation
        await rec.until(lambda: rec.disconnects == 1)
        assert [e[1:] for e in rec.errors if e[1] == 100] == [
            (100, f"Max rate of messages per second has been exceeded:max=50 rec=51 ({k})") for k in (1, 2, 3)]
        assert not ib.isConnected()
        answered = events(gw, "out", "currentTime")
        assert len(answered) == 3 * 50 - 6  # the 51st and later of each second rejected; startup took 6
        assert events(gw, "sys", "disconnect")[-1]["attrs"]["reason"] == "disconnected by fault message_rate"


@run_async
async def test_ib_insync_with_its_throttle_on_never_trips_the_limit():
    async with gateway(default_pacing=True) as gw:
        ib = await connect(gw)
        rec = Recorder(ib)
        for _ in range(100):
            ib.client.reqCurrentTime()
        await asyncio.wait_for(_answers(gw, 100), 5)
        assert 100 not in rec.codes() and ib.isConnected()
        ib.disconnect()


async def _answers(gw, n):
    while len(events(gw, "out", "currentTime")) < n:
        await asyncio.sleep(0.05)


@run_async
async def test_an_identical_historical_request_gets_162_and_empty_bars():
    async with gateway(default_pacing=True) as gw:
        ib = await connect(gw)
        rec = Recorder(ib)
        kw = dict(endDateTime="", durationStr="60 S", barSizeSetting="5 secs", whatToShow="TRADES", useRTH=False)
        first = await ib.reqHistoricalDataAsync(AAPL, **kw)
        second = await ib.reqHistoricalDataAsync(AAPL, **kw)
        assert len(first) == 12 and list(second) == []
        assert rec.errors[-1][1:] == (162, "Historical Market Data Service error message:Historical data "
                                           "request pacing violation")
        ib.disconnect()


@run_async
async def test_silent_historical_pacing_lets_the_request_time_out_without_an_error():
    async with gateway(HistoricalPacing(mode="silent")) as gw:
        ib = await connect(gw)
        rec = Recorder(ib)
        kw = dict(endDateTime="", durationStr="60 S", barSizeSetting="5 secs", whatToShow="TRADES", useRTH=False)
        await ib.reqHistoricalDataAsync(AAPL, **kw)
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        second = await ib.reqHistoricalDataAsync(AAPL, timeout=0.5, **kw)
        assert list(second) == [] and loop.time() - t0 >= 0.5
        assert 162 not in rec.codes()
        assert events(gw, "in", "reqHistoricalData")[-1]["fault"] == "historical_pacing:identical"
        ib.disconnect()


@run_async
async def test_a_market_data_line_over_the_limit_gets_error_101():
    async with gateway(MarketDataLines(max_lines=2)) as gw:
        ib = await connect(gw)
        rec = Recorder(ib)
        tickers = [ib.reqMktData(Stock(s, "SMART", "USD")) for s in ("AAPL", "MSFT", "IBM")]
        await rec.until(lambda: 101 in rec.codes())
        req_id = rec.errors[-1][0]
        assert rec.errors[-1][1:] == (101, "Max number of tickers has been reached")
        assert ib.wrapper.reqId2Ticker[req_id] is tickers[2]
        ib.disconnect()


@run_async
async def test_realtime_bars_pacing_answers_420():
    async with gateway(RealTimeBarsPacing()) as gw:
        ib = await connect(gw)
        rec = Recorder(ib)
        ib.reqRealTimeBars(AAPL, 5, "TRADES", False)
        ib.reqRealTimeBars(AAPL, 5, "TRADES", False)
        await rec.until(lambda: 420 in rec.codes())
        assert rec.errors[-1][2] == "Invalid Real-time Query:Historical data request pacing violation"
        ib.disconnect()


@run_async
async def test_message_rate_rejections_are_named_in_the_event_log():
    async with gateway(MessageRate(max_per_s=6, disconnect_after=0), speed=1) as gw:
        ib = await connect(gw)
        ib.client.MaxRequests = 0
        await asyncio.sleep(1.1)  # the six startup requests leave the window
        for _ in range(8):
            ib.client.reqCurrentTime()
        await asyncio.wait_for(_answers(gw, 6), 5)
        await asyncio.sleep(0.1)
        assert [e["fault"] for e in events(gw, "in", "reqCurrentTime")] == [None] * 6 + ["message_rate"] * 2
        ib.disconnect()
