"""The runtime fault API (gw.faults.add / remove / clear / list) as a real ib_insync client meets it.

Each fault is added while the client is connected, its behaviour seen over the socket, then removed
and seen to stop. These tests share the gateway's event loop, so ``gw.faults`` runs in place.
"""
import asyncio

import pytest
from ib_insync import MarketOrder, Stock

from live import Recorder, connect, done, events, gateway, round_trip_ms, run_async, until_sim
from test_live_connectivity import TickCounter, ticks_during

AAPL = Stock("AAPL", "SMART", "USD")
LATENCY_MS = 400


async def burst(ib, n):
    """``n`` reqCurrentTime back to back, past ib_insync's own 45/s throttle, as a naive handler sends them."""
    ib.client.MaxRequests = 0
    for _ in range(n):
        ib.client.reqCurrentTime()
    await asyncio.sleep(0)


def answered(gw):
    return len(events(gw, "out", "currentTime"))


@run_async
async def test_latency_added_at_runtime_delays_replies_and_removing_it_ends_the_delay():
    async with gateway() as gw:
        ib = await connect(gw)
        assert await round_trip_ms(ib) < LATENCY_MS
        gw.faults.add("latency", name="slow", distribution={"kind": "fixed", "ms": LATENCY_MS}, kinds=["other"])
        assert await round_trip_ms(ib) >= LATENCY_MS
        gw.faults.remove("slow")
        assert await round_trip_ms(ib) < LATENCY_MS
        delayed = [e for e in events(gw, "out", "currentTime") if e["fault"] == "slow"]
        assert len(delayed) == 1
        ib.disconnect()


@run_async
async def test_message_rate_added_at_runtime_rejects_a_burst_and_removed_lets_it_through():
    async with gateway(default_pacing=True) as gw:
        ib = await connect(gw)
        rec = Recorder(ib)
        # a stricter limit than the default: replace the default rule of the same name
        gw.faults.add("message_rate", max_per_s=5, disconnect_after=0, replace=True)
        start = answered(gw)
        await burst(ib, 10)
        await rec.until(lambda: 100 in rec.codes())
        assert answered(gw) - start == 5
        assert [e[2] for e in rec.errors if e[1] == 100] == [
            "Max rate of messages per second has been exceeded:max=5 rec=6 (1)"]
        gw.faults.remove("message_rate")
        await asyncio.sleep(1.1)   # the rejected second is over either way
        start = answered(gw)
        await burst(ib, 10)
        while answered(gw) - start < 10:
            await asyncio.sleep(0.05)
        assert [e[1] for e in rec.errors].count(100) == 1 and ib.isConnected()
        ib.disconnect()


@run_async
async def test_a_periodic_disconnect_added_at_runtime_drops_the_client_until_it_is_removed():
    async with gateway(speed=10) as gw:
        ib = await connect(gw)
        rec = Recorder(ib)
        added = gw.faults.add("disconnect", name="flap", schedule={"every_s": 2})
        assert added.origin == "runtime" and added.kind == "disconnect"
        await rec.until(lambda: rec.disconnects == 1)
        assert events(gw, "sys", "disconnect")[-1]["attrs"]["reason"] == "fault:flap"
        ib = await connect(gw)
        rec = Recorder(ib)
        await rec.until(lambda: rec.disconnects == 1, timeout=3)   # the next period drops it again
        gw.faults.remove("flap")
        ib = await connect(gw)
        rec = Recorder(ib)
        t = gw.clock.target()
        await until_sim(gw, t + 3 * 2)                              # three periods: no drop
        assert ib.isConnected() and rec.disconnects == 0
        begins = [e["sim"] for e in events(gw, "sys", "fault") if e["attrs"]["name"] == "flap"]
        assert begins and begins[0] == pytest.approx(added.added_at_s)   # the schedule counts from the add
        ib.disconnect()


@run_async
async def test_a_one_off_disconnect_acts_once_at_the_moment_it_is_added():
    async with gateway() as gw:
        ib = await connect(gw)
        rec = Recorder(ib)
        gw.faults.add("disconnect")
        await rec.until(lambda: rec.disconnects == 1)
        ib = await connect(gw)
        await asyncio.sleep(0.3)
        assert ib.isConnected()          # a one-off: listed until removed, but it does not strike again
        assert [f.name for f in gw.faults if f.origin == "runtime"] == ["disconnect"]
        ib.disconnect()


@run_async
async def test_a_gateway_restart_added_at_runtime_refuses_connections_until_it_is_removed():
    async with gateway() as gw:
        ib = await connect(gw)
        rec = Recorder(ib)
        gw.faults.add("gateway_restart", name="down")
        await rec.until(lambda: rec.disconnects == 1)
        with pytest.raises(ConnectionRefusedError):
            await connect(gw, timeout=0.3)
        await asyncio.sleep(0.2)
        with pytest.raises(ConnectionRefusedError):   # open-ended: down until removed
            await connect(gw, timeout=0.3)
        gw.faults.remove("down")
        await asyncio.sleep(0.05)   # the listener is bound at once and accepts on the loop's next turn
        ib = await connect(gw)
        assert ib.isConnected()
        [end] = [e for e in events(gw, "sys", "fault") if e["attrs"].get("phase") == "end"]
        assert end["attrs"] == {"name": "down", "phase": "end", "removed": True}
        ib.disconnect()


@run_async
async def test_a_restart_with_for_s_ends_by_itself():
    async with gateway(speed=10) as gw:
        ib = await connect(gw)
        rec = Recorder(ib)
        added = gw.faults.add("gateway_restart", for_s=3)
        await rec.until(lambda: rec.disconnects == 1)
        await until_sim(gw, added.added_at_s + 3.2)
        ib = await connect(gw)
        assert ib.isConnected()
        assert [e["attrs"]["phase"] for e in events(gw, "sys", "fault")] == ["begin", "end"]
        ib.disconnect()


@run_async
async def test_connectivity_loss_added_at_runtime_sends_1100_and_removing_it_restores_with_1102():
    async with gateway() as gw:
        ib = await connect(gw)
        rec = Recorder(ib)
        ticks = TickCounter(ib.reqMktData(AAPL))
        assert await ticks_during(ticks, 0.5) > 0
        gw.faults.add("connectivity_loss")
        await rec.until(lambda: 1100 in rec.codes())
        assert await ticks_during(ticks, 0.5) == 0
        gw.faults.remove("connectivity_loss")
        await rec.until(lambda: any(code == 1102 for _, code, _ in rec.errors))
        assert [text for _, code, text in rec.errors if code == 1102] == [
            "Connectivity between IBKR and Trader Workstation has been restored - data maintained. "
            "All data farms are connected: usfarm; ushmds; secdefnj."]
        assert await ticks_during(ticks, 0.5) > 0
        assert ib.isConnected()
        ib.disconnect()


@run_async
async def test_order_reject_added_at_runtime_rejects_orders_and_removed_lets_them_fill():
    async with gateway() as gw:
        ib = await connect(gw)
        rec = Recorder(ib)
        [contract] = await ib.qualifyContractsAsync(AAPL)
        gw.faults.add({"type": "order_reject", "name": "margin", "reason": "Insufficient margin"})
        rejected = ib.placeOrder(contract, MarketOrder("BUY", 10))
        await done(rejected)
        assert rejected.orderStatus.status == "Inactive"
        assert (rejected.order.orderId, 201, "Order rejected - reason:Insufficient margin") in rec.errors
        gw.faults.remove("margin")
        filled = ib.placeOrder(contract, MarketOrder("BUY", 10))
        await done(filled)
        assert filled.orderStatus.status == "Filled"
        ib.disconnect()


@run_async
async def test_after_s_delays_a_runtime_fault_and_for_s_bounds_it():
    async with gateway(speed=10) as gw:
        ib = await connect(gw)
        [contract] = await ib.qualifyContractsAsync(AAPL)
        added = gw.faults.add("order_reject", after_s=2, for_s=2)
        first = ib.placeOrder(contract, MarketOrder("BUY", 1))       # before the window
        await done(first)
        await until_sim(gw, added.added_at_s + 2.5)
        second = ib.placeOrder(contract, MarketOrder("BUY", 1))      # inside it
        await done(second)
        await until_sim(gw, added.added_at_s + 4.5)
        third = ib.placeOrder(contract, MarketOrder("BUY", 1))       # after it
        await done(third)
        assert [t.orderStatus.status for t in (first, second, third)] == ["Filled", "Inactive", "Filled"]
        assert gw.faults.get("order_reject").params["schedule"] == {
            "from_s": pytest.approx(added.added_at_s + 2), "to_s": pytest.approx(added.added_at_s + 4)}
        ib.disconnect()


@run_async
async def test_clear_removes_runtime_and_scheduled_faults_the_default_pacing_too():
    async with gateway(default_pacing=True) as gw:
        ib = await connect(gw)
        rec = Recorder(ib)
        gw.faults.add("latency", distribution={"kind": "fixed", "ms": LATENCY_MS}, kinds=["other"])
        removed = gw.faults.clear()
        assert {(f.name, f.origin) for f in removed} == {
            ("latency", "runtime"), ("message_rate", "scenario"), ("historical_pacing", "scenario"),
            ("realtime_bars_pacing", "scenario"), ("market_data_lines", "scenario")}
        assert gw.faults.list() == [] and len(gw.faults) == 0
        start = answered(gw)
        await burst(ib, 80)          # over the real 50/s limit: nobody enforces it now
        while answered(gw) - start < 80:
            await asyncio.sleep(0.05)
        assert 100 not in rec.codes()
        assert await round_trip_ms(ib) < LATENCY_MS
        assert {e["attrs"]["name"] for e in events(gw, "sys", "fault_removed")} == {f.name for f in removed}
        ib.disconnect()


@run_async
async def test_each_add_and_remove_is_in_the_event_log_with_its_parameters_and_origin():
    async with gateway() as gw:
        gw.faults.add("slippage", name="slip", ticks=2, symbols=["AAPL"])
        gw.faults.remove("slip")
        [added] = events(gw, "sys", "fault_added")
        [removed] = events(gw, "sys", "fault_removed")
        assert added["attrs"]["name"] == "slip" and added["attrs"]["type"] == "slippage"
        assert added["attrs"]["origin"] == "runtime"
        assert added["attrs"]["params"]["ticks"] == 2 and added["attrs"]["params"]["symbols"] == ["AAPL"]
        assert removed["attrs"] == {"name": "slip", "type": "slippage", "origin": "runtime"}
        assert added["fault"] is None and removed["fault"] is None   # adding is not acting
        assert removed["seq"] > added["seq"]


@run_async
async def test_removing_a_latency_fault_sends_the_replies_it_was_holding_at_once_in_order():
    async with gateway() as gw:
        ib = await connect(gw)
        gw.faults.add("latency", name="stuck", distribution={"kind": "fixed", "ms": 5000}, kinds=["other"])
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        ib.client.reqCurrentTime()
        ib.client.reqCurrentTime()
        asked = asyncio.ensure_future(ib.reqCurrentTimeAsync())   # ib_insync answers only its last one
        await asyncio.sleep(0.3)
        assert not asked.done() and events(gw, "out", "currentTime") == []   # held by the 5 s delay
        gw.faults.remove("stuck")
        await asyncio.wait_for(asked, 2)
        assert loop.time() - t0 < 2                       # long before the 5 s were up
        replies = events(gw, "out", "currentTime")
        assert len(replies) == 3 and all(e["fault"] == "stuck" for e in replies)
        assert [e["seq"] for e in replies] == sorted(e["seq"] for e in replies)
        assert await round_trip_ms(ib) < LATENCY_MS       # and nothing after is held behind them
        ib.disconnect()


@run_async
async def test_a_handshake_stall_added_at_runtime_times_connects_out_until_it_is_removed():
    async with gateway() as gw:
        ib = await connect(gw)
        gw.faults.add("handshake_stall", mode="no_start")
        with pytest.raises(asyncio.TimeoutError):
            await connect(gw, client_id=2, timeout=0.5)
        assert ib.isConnected()                      # the session already up is not touched
        gw.faults.remove("handshake_stall")
        late = await connect(gw, client_id=3)
        assert late.isConnected()
        late.disconnect()
        ib.disconnect()


@run_async
async def test_removing_an_outage_stops_its_repeated_1100s():
    async with gateway() as gw:
        ib = await connect(gw)
        rec = Recorder(ib)
        gw.faults.add("connectivity_loss", name="storm", repeat_every_s=0.1)
        await rec.until(lambda: rec.codes().count(1100) >= 3)
        gw.faults.remove("storm")
        await rec.until(lambda: any(code == 1102 for _, code, _ in rec.errors))
        after_removal = rec.codes().count(1100)
        await asyncio.sleep(0.5)                        # five more periods: none comes
        assert rec.codes().count(1100) == after_removal
        ib.disconnect()


@run_async
async def test_a_reject_held_by_a_removed_ack_latency_arrives_at_once():
    async with gateway() as gw:
        ib = await connect(gw)
        rec = Recorder(ib)
        [contract] = await ib.qualifyContractsAsync(AAPL)
        gw.faults.add("latency", name="slow_acks", distribution={"kind": "fixed", "ms": 5000}, kinds=["order_ack"])
        gw.faults.add("order_reject", name="margin")
        trade = ib.placeOrder(contract, MarketOrder("BUY", 10))
        await asyncio.sleep(0.3)
        assert 201 not in rec.codes()                      # the reject waits out the ack latency
        gw.faults.remove("slow_acks")
        await rec.until(lambda: 201 in rec.codes(), timeout=2)
        await done(trade, timeout=2)
        [reject] = [e for e in events(gw, "out", "error") if e["attrs"].get("code") == 201]
        assert reject["fault"] == "margin"
        ib.disconnect()
