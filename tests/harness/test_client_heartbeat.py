"""The reference client's heartbeat against a real gateway: a frozen gateway is dropped and reconnected,
a healthy one is never suspected.

A frozen gateway (``docker pause``, a hung process) keeps its sockets open and answers nothing. The
tests put a loopback proxy between the client and the in-process mock gateway and freeze it: the
proxy stops forwarding in both directions but keeps every socket open, and accepts new connections
without passing them on, as a paused container's kernel does. On thaw, what it held is delivered.
"""
from __future__ import annotations

import asyncio
import time

import pytest

from harness.client.app import config_from_env
from harness.client.execution import ClientConfig, ExecutionClient, RealTimeBars
from harness.client.ledger import Intent, IntentState
from mock_gateway.config import GatewayConfig
from mock_gateway.eventlog import read_events
from mock_gateway.server import GatewayThread

pytestmark = pytest.mark.timeout(60)


class FreezableProxy:
    """A loopback TCP proxy that can freeze: sockets stay open, nothing passes until :meth:`thaw`."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.flowing = asyncio.Event()
        self.flowing.set()
        self._writers: list[asyncio.StreamWriter] = []

    async def __aenter__(self) -> FreezableProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.host, self.port = self._server.sockets[0].getsockname()[:2]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._server.close()
        for writer in self._writers:
            writer.close()
        self.flowing.set()  # let held pumps see their closed sockets and end

    def freeze(self) -> None:
        self.flowing.clear()

    def thaw(self) -> None:
        self.flowing.set()

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        self._writers.append(client_writer)
        await self.flowing.wait()  # accepted (the kernel does that), but not served while frozen
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            client_writer.close()
            return
        self._writers.append(up_writer)
        await asyncio.gather(self._pump(client_reader, up_writer), self._pump(up_reader, client_writer))

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                data = await reader.read(65536)
                await self.flowing.wait()  # a close, too, is seen only once the freeze ends
                if not data:
                    break
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()


def _gateway(tmp_path, speed: float = 1.0) -> GatewayThread:
    return GatewayThread(GatewayConfig(port=0, speed=speed, event_log=tmp_path / "events.jsonl",
                                       log_market_data=False))


def _events(tmp_path, msg: str) -> list[dict]:
    return [e for e in read_events(tmp_path / "events.jsonl") if e["msg"] == msg]


async def _next(event) -> object:
    return await event


async def _started(config: ClientConfig, symbols: list[str], bars: list[int] | None = None):
    """A running client (with 5 s bars of every symbol when ``bars`` is given), once it is connected."""
    client = ExecutionClient(config, symbols)
    if bars is not None:
        for symbol in symbols:
            client.subscriptions.append(RealTimeBars(symbol, lambda t, *ohlcv: bars.append(t)))
    runner = asyncio.ensure_future(client.run())
    await asyncio.wait_for(client.connected.wait(), 10)
    return client, runner


async def _until_state(client: ExecutionClient, ref: str, state: IntentState, timeout_s: float = 10.0) -> None:
    """Wait until the ledger holds ``ref`` in ``state``, looking again at each order status and execution."""
    changed = asyncio.Event()

    def on_change(*_: object) -> None:
        changed.set()

    client.ib.orderStatusEvent += on_change
    client.ib.execDetailsEvent += on_change
    try:
        async with asyncio.timeout(timeout_s):
            while client.ledger.intents[ref].state != state:
                changed.clear()
                await changed.wait()
    finally:
        client.ib.orderStatusEvent -= on_change
        client.ib.execDetailsEvent -= on_change


def test_a_frozen_gateway_is_dropped_within_interval_plus_timeout_and_reconnected_without_duplicates(tmp_path):
    interval_s, timeout_s, freeze_s = 1.0, 1.5, 5.0

    async def go(gw):
        async with FreezableProxy(gw.host, gw.port) as proxy:
            client, runner = await _started(ClientConfig(
                host=proxy.host, port=proxy.port, client_id=7, heartbeat_interval_s=interval_s,
                heartbeat_timeout_s=timeout_s, connect_timeout_s=1.5, backoff_max_s=0.5), ["AAPL"])
            await client.submit(Intent("hb-before", "AAPL", "BUY", 100, time.monotonic()))
            await _until_state(client, "hb-before", IntentState.FILLED)

            dropped = asyncio.ensure_future(_next(client.ib.disconnectedEvent))
            proxy.freeze()
            frozen_at = time.monotonic()
            # a decision made during the freeze goes into the frozen socket: the gateway reads it on thaw
            await client.submit(Intent("hb-during", "AAPL", "BUY", 50, time.monotonic()))
            assert client.ledger.intents["hb-during"].state == IntentState.SENT
            await asyncio.wait_for(dropped, interval_s + timeout_s + 2.0)
            detected_s = time.monotonic() - frozen_at
            assert not client.connected.is_set()
            await asyncio.sleep(frozen_at + freeze_s - time.monotonic())  # the freeze lasts freeze_s
            attempts_while_frozen = client.counters["connect_failures"]
            reconnected_during_freeze = client.counters["connects"] > 1
            proxy.thaw()
            thawed_at = time.monotonic()
            await asyncio.wait_for(client.connected.wait(), 10)
            reconnect_s = time.monotonic() - thawed_at
            await _until_state(client, "hb-during", IntentState.FILLED)
            result = dict(client.counters, detected_s=detected_s, reconnect_s=reconnect_s,
                          attempts_while_frozen=attempts_while_frozen,
                          reconnected_during_freeze=reconnected_during_freeze,
                          ledger_position=client.ledger.position("AAPL"),
                          broker_position=client.broker_positions().get("AAPL"),
                          sends=client.ledger.intents["hb-during"].sends)
            client.stop()
            await runner
            return result

    with _gateway(tmp_path) as gw:
        r = asyncio.run(go(gw))
    print(f"frozen gateway detected after {r['detected_s']:.2f} s, reconnected {r['reconnect_s']:.2f} s after thaw")
    assert r["detected_s"] <= interval_s + timeout_s + 0.5
    assert r["heartbeat_timeouts"] == 1 and r["disconnects"] == 1
    assert r["attempts_while_frozen"] >= 1 and not r["reconnected_during_freeze"]
    assert r["connects"] == 2 and r["reconnect_s"] < 3.0
    # the order written into the frozen socket reached the gateway once, and was adopted, not resent
    assert [e["attrs"]["order_ref"] for e in _events(tmp_path, "placeOrder")] == ["hb-before", "hb-during"]
    assert r["resent"] == 0 and r["sends"] == 1
    assert r["ledger_position"] == r["broker_position"] == 150


def test_a_healthy_gateway_at_speed_1_never_trips_the_heartbeat(tmp_path):
    async def go(gw):
        bars: list[int] = []
        # the default timeout; a short interval so the 15 s see many probes
        client, runner = await _started(ClientConfig(host=gw.host, port=gw.port, client_id=8, heartbeat_interval_s=0.5),
                                        ["AAPL"], bars)
        for i in range(15):  # a trading session's traffic next to the probes: bars and an order a second
            await client.submit(Intent(f"healthy-{i}", "AAPL", "BUY" if i % 2 == 0 else "SELL", 10, time.monotonic()))
            await asyncio.sleep(1.0)
        heartbeat = client.heartbeat
        result = dict(client.counters, sent=heartbeat.probes_sent, answered=heartbeat.probes_answered,
                      max_rtt_s=heartbeat.max_round_trip_s, bars=len(bars))
        client.stop()
        await runner
        return result

    with _gateway(tmp_path) as gw:
        r = asyncio.run(go(gw))
    print(f"healthy session: {r['answered']} probes answered, slowest {r['max_rtt_s'] * 1000:.1f} ms")
    assert r["heartbeat_timeouts"] == 0 and r["disconnects"] == 0 and r["connects"] == 1
    assert r["answered"] >= 25 and r["bars"] >= 2
    assert r["sent"] == len(_events(tmp_path, "reqCurrentTime")) and r["answered"] >= r["sent"] - 1
    assert not [e for e in _events(tmp_path, "error") if e["attrs"].get("code") == 100]


def test_a_gateway_at_high_clock_speed_never_trips_the_heartbeat(tmp_path):
    async def go(gw):
        bars: list[int] = []
        client, runner = await _started(ClientConfig(host=gw.host, port=gw.port, client_id=9, heartbeat_interval_s=0.25,
                                                     heartbeat_timeout_s=1.0), ["AAPL", "MSFT"], bars)
        for symbol in ("AAPL", "MSFT"):  # every price step streamed as ticks: the busiest socket we make
            client.ib.reqMktData(client.contracts[symbol])
        await asyncio.sleep(5.0)
        result = dict(client.counters, answered=client.heartbeat.probes_answered, bars=len(bars),
                      max_rtt_s=client.heartbeat.max_round_trip_s)
        client.stop()
        await runner
        return result

    with _gateway(tmp_path, speed=300.0) as gw:  # 25 sim minutes in 5 wall seconds
        r = asyncio.run(go(gw))
    print(f"speed 300: {r['answered']} probes answered, slowest {r['max_rtt_s'] * 1000:.1f} ms, {r['bars']} bars")
    assert r["bars"] >= 300   # the sim clock really ran fast
    assert r["heartbeat_timeouts"] == 0 and r["disconnects"] == 0
    assert r["answered"] >= 12


def test_the_heartbeat_stops_on_the_kill_switch_and_on_shutdown(tmp_path):
    async def go(gw):
        client, runner = await _started(ClientConfig(host=gw.host, port=gw.port, client_id=10,
                                                     heartbeat_interval_s=0.1), [])
        await asyncio.sleep(0.5)  # the heartbeat is driven by time alone: let it probe a few times
        await client.engage_kill("test")
        sent_at_kill = client.heartbeat.probes_sent
        await asyncio.sleep(1.0)  # ten intervals in which a running heartbeat would probe
        sent_after_kill = client.heartbeat.probes_sent
        still_connected = client.connected.is_set()
        client.stop()
        await asyncio.wait_for(runner, 5)
        pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        return sent_at_kill, sent_after_kill, still_connected, pending, client.counters

    with _gateway(tmp_path) as gw:
        at_kill, after_kill, still_connected, pending, counters = asyncio.run(go(gw))
    assert at_kill >= 3 and after_kill == at_kill
    assert len(_events(tmp_path, "reqCurrentTime")) == at_kill
    assert still_connected and counters["heartbeat_timeouts"] == 0  # the kill switch keeps the connection
    assert pending == []  # no heartbeat task outlives the client


def test_the_heartbeat_is_set_from_the_environment_and_zero_turns_it_off():
    client, *_ = config_from_env({"PRELIVE_HEARTBEAT_INTERVAL_S": "2.5", "PRELIVE_HEARTBEAT_TIMEOUT_S": "1.5"})
    assert (client.heartbeat_interval_s, client.heartbeat_timeout_s) == (2.5, 1.5)
    off, *_ = config_from_env({"PRELIVE_HEARTBEAT_INTERVAL_S": "0"})
    assert ExecutionClient(off).heartbeat is None
    with pytest.raises(SystemExit, match="PRELIVE_HEARTBEAT_TIMEOUT_S"):
        config_from_env({"PRELIVE_HEARTBEAT_TIMEOUT_S": "0"})
