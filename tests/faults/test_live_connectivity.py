"""1100/1101/1102 and farm status as a real ib_insync client sees them, ticks included."""
import asyncio

from ib_insync import Stock

from live import Recorder, connect, events, gateway, run_async
from mock_gateway.faults.connectivity import ConnectivityLoss, FarmStatus
from mock_gateway.faults.schedule import Schedule

LOST = "Connectivity between IBKR and Trader Workstation has been lost."


class TickCounter:
    def __init__(self, ticker):
        self.n = 0
        ticker.updateEvent += self._tick

    def _tick(self, _ticker):
        self.n += 1


async def ticks_during(counter: TickCounter, wall_s: float) -> int:
    before = counter.n
    await asyncio.sleep(wall_s)
    return counter.n - before


@run_async
async def test_1100_stops_ticks_and_1101_leaves_them_stopped_until_the_client_resubscribes():
    fault = ConnectivityLoss(data_lost=True, schedule=Schedule(from_s=3, to_s=8))
    async with gateway(fault, speed=10) as gw:
        ib = await connect(gw)
        rec = Recorder(ib)
        aapl = Stock("AAPL", "SMART", "USD")
        ticks = TickCounter(ib.reqMktData(aapl))
        assert await ticks_during(ticks, 0.2) > 0
        await rec.until(lambda: 1100 in rec.codes())
        assert rec.errors[-1] == (-1, 1100, LOST)
        assert await ticks_during(ticks, 0.15) == 0
        await rec.until(lambda: 1101 in rec.codes())
        assert rec.errors[-1][2] == "Connectivity between IBKR and Trader Workstation has been restored - data lost."
        assert await ticks_during(ticks, 0.3) == 0          # silently stopped: no error, no data
        ib.cancelMktData(aapl)
        ticks = TickCounter(ib.reqMktData(aapl))
        assert await ticks_during(ticks, 0.3) > 0
        assert ib.isConnected() and rec.disconnects == 0
        ib.disconnect()


@run_async
async def test_1102_resumes_ticks_by_itself_and_ib_insync_asks_for_the_account_summary():
    async with gateway(ConnectivityLoss(schedule=Schedule(from_s=2, to_s=4)), speed=10) as gw:
        ib = await connect(gw)
        rec = Recorder(ib)
        ticks = TickCounter(ib.reqMktData(Stock("AAPL", "SMART", "USD")))
        await rec.until(lambda: 1102 in rec.codes())
        assert rec.errors[-1][2] == ("Connectivity between IBKR and Trader Workstation has been restored - "
                                     "data maintained. All data farms are connected: usfarm; ushmds; secdefnj.")
        assert await ticks_during(ticks, 0.3) > 0
        await asyncio.sleep(0.05)
        assert events(gw, "in", "reqAccountSummary")  # ib_insync's own reaction to 1102
        ib.disconnect()


@run_async
async def test_repeated_1100_during_an_outage():
    fault = ConnectivityLoss(repeat_every_s=1, schedule=Schedule(from_s=1, to_s=4.5))
    async with gateway(fault, speed=20) as gw:
        ib = await connect(gw)
        rec = Recorder(ib)
        await rec.until(lambda: 1102 in rec.codes())
        assert rec.codes() == [1100, 1100, 1100, 1100, 1102]
        ib.disconnect()


@run_async
async def test_farm_status_messages_reach_the_client_as_warnings():
    async with gateway(FarmStatus(farm="market", schedule=Schedule(at_s=1, duration_s=1)), speed=10) as gw:
        ib = await connect(gw)
        rec = Recorder(ib)
        await rec.until(lambda: 2104 in [c for _, c, _ in rec.errors])
        assert [e[1:] for e in rec.errors] == [(2103, "Market data farm connection is broken:usfarm"),
                                               (2104, "Market data farm connection is OK:usfarm")]
        assert ib.isConnected()
        ib.disconnect()
