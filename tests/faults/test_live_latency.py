"""Injected latency as a real ib_insync client measures it, at speed 1 (sim ms = wall ms)."""
import asyncio

import numpy as np
import pytest

from live import Recorder, connect, events, gateway, round_trip_ms, run_async, until_sim
from mock_gateway.faults.base import ReplyKind
from mock_gateway.faults.distributions import Fixed, Normal, Uniform
from mock_gateway.faults.latency import Latency
from mock_gateway.faults.orders import OrderReject
from mock_gateway.faults.schedule import Schedule

CLIENTS, SAMPLES_EACH = 4, 50   # each client asks in sequence: replies of one kind never overtake
#: A seed whose first 200 draws sit within 0.35 ms of both distributions' p50 and p95, so the test
#: measures what the socket path adds, not the sampling noise of 200 draws.
SEED = 145



async def round_trips_ms(ib, n):
    return [await round_trip_ms(ib) for _ in range(n)]


@pytest.mark.parametrize("distribution", [Uniform(low_ms=60, high_ms=100), Normal(mean_ms=80, std_ms=8)],
                         ids=["uniform", "normal"])
@run_async
async def test_client_side_latency_matches_the_configured_p50_and_p95(distribution):
    async with gateway(Latency(distribution=distribution, kinds=[ReplyKind.OTHER]), seed=SEED) as gw:
        clients = [await connect(gw, client_id=i + 1) for i in range(CLIENTS)]
        samples = np.concatenate(await asyncio.gather(*(round_trips_ms(ib, SAMPLES_EACH) for ib in clients)))
        for p in (0.5, 0.95):
            want, got = distribution.quantile(p), float(np.quantile(samples, p))
            assert abs(got - want) <= max(0.05 * want, 1.0), f"p{p * 100:g}: measured {got:.1f} ms, configured {want:.1f}"
        delayed = events(gw, "out", "currentTime")
        assert len(delayed) == CLIENTS * SAMPLES_EACH and {e["fault"] for e in delayed} == {"latency"}
        for ib in clients:
            ib.disconnect()


@run_async
async def test_a_spike_window_adds_to_the_base_latency_and_ends():
    base = Latency(distribution=Fixed(ms=5), kinds=[ReplyKind.OTHER])
    spike = Latency(name="spike", distribution=Fixed(ms=100), kinds=[ReplyKind.OTHER],
                    schedule=Schedule(from_s=0.5, to_s=1.0))
    async with gateway(base, spike) as gw:
        ib = await connect(gw)
        before = await round_trips_ms(ib, 3)
        await until_sim(gw, 0.5)
        during = await round_trips_ms(ib, 2)
        await until_sim(gw, 1.0)
        after = await round_trips_ms(ib, 3)
        assert all(5 <= ms < 50 for ms in before + after), (before, after)
        assert all(ms >= 105 for ms in during), during
        assert "latency,spike" in {e["fault"] for e in events(gw, "out", "currentTime")}
        ib.disconnect()


@run_async
async def test_a_reply_that_comes_after_the_client_timed_out_is_still_sent_late():
    late = Latency(name="late_historical", distribution=Fixed(ms=1500), kinds=[ReplyKind.HISTORICAL_DATA])
    async with gateway(late) as gw:
        ib = await connect(gw)
        from ib_insync import Stock
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        bars = await ib.reqHistoricalDataAsync(Stock("AAPL", "SMART", "USD"), "", "60 S", "5 secs", "TRADES",
                                               False, timeout=0.5)
        assert list(bars) == [] and 0.5 <= loop.time() - t0 < 1.0     # the client gave up
        while not events(gw, "out", "historicalData"):
            await asyncio.sleep(0.05)
        [cancel] = events(gw, "in", "cancelHistoricalData")
        [reply] = events(gw, "out", "historicalData")
        assert reply["fault"] == "late_historical" and reply["sim"] > cancel["sim"]
        assert ib.isConnected()
        ib.disconnect()


@run_async
async def test_two_faults_compose_a_reject_arrives_after_the_injected_ack_latency():
    async with gateway(OrderReject(), Latency(distribution=Fixed(ms=300), kinds=[ReplyKind.ORDER_ACK])) as gw:
        ib = await connect(gw, timeout=8)
        rec = Recorder(ib)
        from ib_insync import MarketOrder, Stock
        [contract] = await ib.qualifyContractsAsync(Stock("AAPL", "SMART", "USD"))
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        trade = ib.placeOrder(contract, MarketOrder("BUY", 1))
        await rec.until(lambda: 201 in rec.codes())
        assert loop.time() - t0 >= 0.3
        await rec.until(lambda: trade.orderStatus.status == "Inactive")    # 201, then orderStatus Inactive
        ib.disconnect()
