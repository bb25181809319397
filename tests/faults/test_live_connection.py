"""Socket faults as a real ib_insync client meets them: drops, restarts, stalls, a lingering client id."""
import asyncio

import pytest

from live import Recorder, connect, events, gateway, run_async
from mock_gateway.faults.connection import Disconnect, GatewayRestart, HandshakeStall, LingerAfterClose
from mock_gateway.faults.replies import SuppressReply
from mock_gateway.faults.schedule import Schedule


@run_async
async def test_a_scheduled_disconnect_fires_disconnected_event_without_an_error():
    async with gateway(Disconnect(schedule=Schedule(at_s=2)), speed=10) as gw:
        ib = await connect(gw)
        rec = Recorder(ib)
        await rec.until(lambda: rec.disconnects == 1)
        assert rec.codes() == [] and not ib.isConnected()
        fault_events = events(gw, "sys", "fault")
        assert [(e["attrs"]["name"], e["attrs"]["phase"], e["sim"]) for e in fault_events] == [
            ("disconnect", "begin", 2.0)]
        assert events(gw, "sys", "disconnect")[-1]["attrs"]["reason"] == "fault:disconnect"


@run_async
async def test_a_gateway_restart_drops_the_client_refuses_it_while_down_and_serves_it_after():
    async with gateway(GatewayRestart(schedule=Schedule(at_s=1, duration_s=10)), speed=10) as gw:
        ib = await connect(gw)
        rec = Recorder(ib)
        await rec.until(lambda: rec.disconnects == 1)
        with pytest.raises(ConnectionRefusedError):
            await connect(gw, timeout=0.3)
        assert len(events(gw, "sys", "connect")) == 1   # the listener is closed: the attempt never got in
        while gw.clock.target() < 11:
            await asyncio.sleep(0.05)
        ib2 = await connect(gw)
        assert ib2.isConnected()
        ib2.disconnect()


@run_async
async def test_a_stalled_hello_makes_connect_time_out_and_the_next_attempt_is_served():
    async with gateway(HandshakeStall(connections=1)) as gw:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        with pytest.raises(asyncio.TimeoutError):
            await connect(gw, timeout=0.5)
        assert loop.time() - t0 >= 0.5
        assert events(gw, "sys", "connect")[0]["fault"] == "handshake_stall"
        assert not events(gw, "out", "handshakeReply") or events(gw, "out", "handshakeReply")[0]["conn"] != 1
        ib = await connect(gw)
        assert ib.isConnected()
        ib.disconnect()


@run_async
async def test_no_next_valid_id_makes_connect_time_out_after_the_hello():
    async with gateway(HandshakeStall(mode="no_start")) as gw:
        with pytest.raises(asyncio.TimeoutError):
            await connect(gw, timeout=0.5)
        assert [e["conn"] for e in events(gw, "out", "handshakeReply")] == [1]
        assert not events(gw, "out", "nextValidId")


@run_async
async def test_a_fast_reconnect_with_the_same_client_id_gets_326():
    async with gateway(LingerAfterClose(linger_s=5), speed=1) as gw:
        ib = await connect(gw, client_id=7)
        ib.disconnect()
        again = __import__("ib_insync").IB()
        rec = Recorder(again)
        with pytest.raises(asyncio.TimeoutError):
            await again.connectAsync(gw.host, gw.port, clientId=7, timeout=0.5)
        assert (-1, 326) in [(r, c) for r, c, _ in rec.errors]
        other = await connect(gw, client_id=8)  # another id is free
        assert other.isConnected()
        other.disconnect()


@run_async
async def test_the_client_id_is_free_again_after_the_linger():
    async with gateway(LingerAfterClose(linger_s=5), speed=20) as gw:
        ib = await connect(gw, client_id=7)
        ib.disconnect()
        await asyncio.sleep(0.4)  # 8 sim seconds
        again = await connect(gw, client_id=7)
        assert again.isConnected()
        again.disconnect()


@run_async
async def test_a_missing_position_end_only_delays_connect():
    async with gateway(SuppressReply(replies=["positionEnd"], times=1)) as gw:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        ib = await connect(gw, timeout=0.5)
        assert ib.isConnected() and loop.time() - t0 >= 0.5
        assert [e["attrs"]["msg"] for e in events(gw, "sys", "suppressed")] == ["positionEnd"]
        ib.disconnect()


@run_async
async def test_a_missing_exec_details_end_fails_ib_insync_connect():
    async with gateway(SuppressReply(replies=["execDetailsEnd"])) as gw:
        with pytest.raises(asyncio.TimeoutError):
            await connect(gw, timeout=0.5)
