"""The mock IB Gateway: an asyncio TCP server, one :class:`Session` per client, a SimPy world behind.

Start it in-process with :func:`start_gateway` (async context manager, the caller's loop) or
:class:`GatewayThread` (its own loop in a daemon thread, for synchronous code and threaded
clients such as ibapi). The :class:`Gateway` also implements the control surface scheduled
faults act through (:class:`mock_gateway.faults.base.GatewayControl`).
"""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import socket
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

from .config import GatewayConfig
from .eventlog import EventLog
from .faults.acts import FaultActs
from .faults.defaults import default_fault_stack
from .faults.runtime import RuntimeFaults
from .account_feed import AccountFeed
from .depth import DepthDesk
from .desks import Desks
from .feeds import Feeds
from .scanners import ScannerDesk
from .handlers import dispatch_request
from .order_desk import OrderDesk
from .protocol.requests import Request
from .protocol.versions import MAX_SUPPORTED, MAX_TEXT_SERVED, MIN_PROTOBUF_SUPPORTED, MIN_SUPPORTED, supported
from .session import Session, State
from .sim.clock import LagEpisode, LoopLagMonitor, SimClock
from .sim.world import World

log = logging.getLogger("mock_gateway.server")

#: Sim seconds between account_mark events (contracts §1).
ACCOUNT_MARK_INTERVAL_S = 60.0
#: Unsent bytes one session may pile up before it is closed as a client that stopped reading.
MAX_WRITE_BUFFER_BYTES = 64 * 1024 * 1024
#: Listen backlog of a re-opened listener (asyncio's default for the first one).
LISTEN_BACKLOG = 100
#: Wall seconds between attempts to re-open the listener when its port is briefly taken.
RELISTEN_RETRY_S = 0.05


class Gateway:
    """One running mock gateway: server socket, sessions, client-id registry, world and faults."""

    def __init__(self, config: GatewayConfig, event_log: EventLog | None = None) -> None:
        if not supported(config.max_server_version) and config.max_server_version <= MAX_SUPPORTED:
            raise ValueError(f"max_server_version {config.max_server_version} cannot be emulated exactly: this "
                             f"gateway speaks {MIN_SUPPORTED}..{MAX_TEXT_SERVED} (text) and {MIN_PROTOBUF_SUPPORTED}.."
                             f"{MAX_SUPPORTED} (protobuf); pick one of those")
        if config.max_clients < 1:
            raise ValueError(f"max_clients must be at least 1, got {config.max_clients}")
        if not (config.handshake_timeout_s > 0 and config.frame_timeout_s > 0):
            raise ValueError(f"handshake_timeout_s and frame_timeout_s must be positive seconds, got "
                             f"{config.handshake_timeout_s} and {config.frame_timeout_s}")
        if not config.accounts:
            raise ValueError("the gateway needs at least one account (GatewayConfig.accounts)")
        if config.control:
            from .faults.http_api import check_bind, parse_address

            check_bind(parse_address(config.control)[0], config.control_token)   # refused before anything listens
        self.config = config
        self.clock = SimClock(config.speed, config.start)
        self.env = self.clock.env
        self.event_log = event_log if event_log is not None else EventLog(config.event_log)
        self.fault_acts = FaultActs()   # how often each fault acted, from the marks the log gets (GET /faults)
        self.event_log.add_observer(self.fault_acts.observe)
        self.control: Any = None        # the HTTP fault-control API when config.control is set
        stack = config.faults if config.faults is not None else default_fault_stack(config)
        # the runtime fault API (gw.faults.add / remove / clear / list) over the one stack everything asks
        self.faults = RuntimeFaults(stack.faults, seed=config.seed, start=config.start)
        self.world = World(config, self.clock, self.faults)   # one stack: the order engine asks it too
        self.sessions: dict[int, Session] = {}
        self.loop: asyncio.AbstractEventLoop = None  # type: ignore[assignment]  # set by start()
        # the composition root: desks see the world, a reply channel and a directory, never this server
        self.feeds = Feeds(self.world, self.clock, on_event=self.sys_event)
        self.accounts = AccountFeed(self.world, self.clock, config, self._call_soon)
        self.orders = OrderDesk(self.world, self.clock, self, self.accounts, self._call_soon, self.sys_event)
        self.scanners = ScannerDesk(self.world, self.clock)
        self.depth = DepthDesk(self.world, self.clock, config.market_data_lines, lambda: self.feeds.flowing)
        self.desks = Desks(config, self.clock, self.world, self.feeds, self.orders, self.accounts, self.scanners,
                           self.depth)
        self.host = config.host
        self.port = config.port
        self.refusing = False
        self.max_write_buffer_bytes = MAX_WRITE_BUFFER_BYTES
        self._client_ids: dict[int, Session] = {}
        self._lingering_until: dict[int, float] = {}
        self._next_conn = 0
        self._running = False
        self._servers: list[asyncio.base_events.Server] = []   # the listeners; none while refusing
        self._listen_addrs: list[tuple[int, Any]] = []         # (family, sockaddr) of each, to re-open them
        self._listener_tasks: set[asyncio.Task[None]] = set()
        self._clock_task: asyncio.Task[None] | None = None
        self.loop_lag = LoopLagMonitor(self.clock, self._log_loop_lag)   # the machine's delays, real and sim
        self._lag_task: asyncio.Task[None] | None = None
        self._sweep_task: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> Gateway:
        self.loop = asyncio.get_running_loop()
        server = await self.loop.create_server(self._new_session, self.config.host, self.config.port,
                                               reuse_address=True)
        self._servers = [server]
        self._listen_addrs = [(s.family, s.getsockname()) for s in server.sockets]
        self._running = True
        sock = server.sockets[0].getsockname()
        self.host, self.port = sock[0], sock[1]
        self.sys_event("run_start", attrs={
            "seed": self.config.seed, "speed": self.config.speed, "start": self.config.start.isoformat(),
            "accounts": self.config.account_ids, "server_version_max": self.config.max_server_version,
            "host": self.host, "port": self.port})
        self.world.orders.add_listener(self.orders.on_order_event)
        self.faults.install(self)
        self.env.process(self._account_marks())
        self._clock_task = self.loop.create_task(self.clock.run(), name="prelive-sim-clock")
        self._sweep_task = self.loop.create_task(self._sweep_deadlines(), name="prelive-session-deadlines")
        self._lag_task = self.loop.create_task(self.loop_lag.run(), name="prelive-loop-lag")
        if self.config.control:
            from .faults.http_api import start_control_server   # only a gateway asked to serve it loads it

            try:
                self.control = await start_control_server(self, self.config.control, self.config.control_token)
            except BaseException:
                await self.stop()
                raise
            self.sys_event("control_api", attrs={"url": self.control.url, "token": bool(self.config.control_token)})
        log.info("mock gateway listening on %s:%d (seed %d, speed %g)", self.host, self.port, self.config.seed,
                 self.config.speed)
        return self

    async def stop(self) -> None:
        if not self._running:
            return
        self._running = False
        for streams in (self.desks.streams, self.feeds.streams, self.orders.streams):
            streams.stop_all()     # long replies in progress stop here: nobody will read them (issue 11)
        control, self.control = self.control, None
        if control is not None:
            await control.stop()
        servers, self._servers = self._servers, []
        for server in servers:
            server.close()
        for session in list(self.sessions.values()):
            session.close("gateway shut down")
        for _ in range(100):   # let connection_lost run for every session (their disconnect events)
            if not self.sessions:
                break
            await asyncio.sleep(0.01)
        for server in servers:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(server.wait_closed(), 1.0)
        self.clock.stop()
        self.loop_lag.stop()
        if self._lag_task is not None:
            self._lag_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._lag_task
        self.loop_lag.flush()
        if self._sweep_task is not None:
            self._sweep_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._sweep_task
        if self._clock_task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._clock_task, 1.0)
        self.sys_event("run_end", attrs={"sessions": self._next_conn,
                                         "loop_lag": self.loop_lag.stats.to_json(self.clock.speed)})
        self.event_log.close()
        log.info("mock gateway on port %d stopped", self.port)

    @property
    def running(self) -> bool:
        """True from :meth:`start` until :meth:`stop`."""
        return self._running

    def _log_loop_lag(self, episode: LagEpisode) -> None:
        speed = self.clock.speed
        self.clock.catch_up()   # stamped with the gateway's sim time now, like the events around it
        self.sys_event("loop_lag", attrs={"lag_ms": round(episode.max_lag_real_s * 1000, 3),
                                          "lag_sim_s": round(episode.lag_sim_s(speed), 6), "speed": speed,
                                          "from_sim_s": round(episode.from_sim_s, 6),
                                          "late_wakeups": episode.late_wakeups})

    def _new_session(self) -> Session:
        self._next_conn += 1
        session = Session(self, self._next_conn)
        self.sessions[session.conn_id] = session
        return session

    def call(self, fn: Callable[..., Any], *args: Any, timeout_s: float = 10.0) -> Any:
        """Run ``fn(*args)`` on the gateway's loop at the current sim time and return its result.

        The world and the sessions belong to that loop; other threads (tests, the harness) act on
        them only through this.
        """
        def run() -> Any:
            self.clock.catch_up()
            try:
                return fn(*args)
            finally:
                self.clock.run_due()
                self.clock.wake()
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop:
            return run()

        async def on_loop() -> Any:
            return run()
        return asyncio.run_coroutine_threadsafe(on_loop(), self.loop).result(timeout_s)

    # ------------------------------------------------------------------ used by sessions and handlers
    def sys_event(self, msg: str, **kwargs: Any) -> None:
        self.event_log.sys(msg, sim=self.env.now, **kwargs)

    def _call_soon(self, fn: Callable[[], None]) -> object:
        return self.loop.call_soon(fn)

    def dispatch(self, session: Session, request: Request) -> None:
        dispatch_request(self.desks, session, request)

    def open_connections(self, excluding: Session) -> int:
        """Connections open now (any state), not counting ``excluding``: the 32-client limit counts these."""
        return sum(1 for s in self.sessions.values() if s is not excluding and not s.closed)

    async def _sweep_deadlines(self) -> None:
        """Close sessions whose client overran the handshake or left a frame half-sent (wall clock)."""
        period_s = max(0.05, min(1.0, self.config.handshake_timeout_s / 4, self.config.frame_timeout_s / 4))
        while self._running:
            await asyncio.sleep(period_s)
            now = self.loop.time()
            for session in list(self.sessions.values()):
                session.check_deadlines(now)

    def market_data_lines(self, conn_id: int) -> int:
        return self.feeds.market_data_lines(conn_id)

    @property
    def market_data_flowing(self) -> bool:
        return self.feeds.flowing

    def claim_client_id(self, client_id: int, session: Session) -> bool:
        """Register ``client_id`` for ``session``; False if another live (or lingering) session holds it."""
        holder = self._client_ids.get(client_id)
        if holder is not None and not holder.closed:
            return False
        if self._lingering_until.get(client_id, -1.0) > self.env.now:
            return False
        self._client_ids[client_id] = session
        self._lingering_until.pop(client_id, None)
        return True

    def next_order_id(self, client_id: int) -> int:
        """nextValidId for a client: above every order id it has used (kept across reconnects, as TWS does)."""
        return self.world.orders.next_valid_id(client_id)

    def on_session_ready(self, session: Session) -> None:
        """Hook for a session that passed startApi (nothing to set up: streams start on request)."""

    def on_session_closed(self, session: Session, was_ready: bool) -> None:
        self.sessions.pop(session.conn_id, None)
        self.feeds.session_closed(session)
        self.accounts.session_closed(session)
        self.scanners.session_closed(session)
        self.depth.session_closed(session)
        cid = session.client_id
        if cid is not None and self._client_ids.get(cid) is session:
            del self._client_ids[cid]
            linger = self.faults.linger_after_close(cid, self.env.now)
            if linger > 0:
                self._lingering_until[cid] = self.env.now + linger

    def ready_sessions(self) -> list[Session]:
        return [s for s in self.sessions.values() if s.state is State.READY]

    def session_of_client(self, client_id: int) -> Session | None:
        s = self._client_ids.get(client_id)
        return s if s is not None and s.state is State.READY else None

    # ------------------------------------------------------------------ GatewayControl (scheduled faults)
    def drop_all_sessions(self, reason: str) -> None:
        for session in list(self.sessions.values()):
            session.close(reason)   # FIN, as a gateway process that exits

    def refuse_connections(self, refusing: bool) -> None:
        """Close (True) or re-open (False) the listening socket, on the same host and port.

        While it is closed a client's connect fails with ECONNREFUSED, as against a gateway
        process that is restarting; the sessions already open are not touched.
        """
        if refusing == self.refusing:
            return
        self.refusing = refusing
        if not self._running:
            return
        if refusing:
            servers, self._servers = self._servers, []
            for server in servers:
                server.close()   # closes the listening sockets now; accepted sockets stay open
        else:
            self._listen_again()

    def _listen_again(self) -> None:
        # bind and listen synchronously, so a client that connects right after the fault ends is
        # queued by the kernel rather than refused; asyncio starts accepting on the next loop turn
        if not self._running or self.refusing or self._servers:
            return
        sockets: list[socket.socket] = []
        try:
            for family, addr in self._listen_addrs:
                sock = socket.socket(family, socket.SOCK_STREAM)
                sockets.append(sock)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if family == socket.AF_INET6:
                    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)   # as asyncio's first listener
                sock.bind(addr)
                sock.listen(LISTEN_BACKLOG)
                sock.setblocking(False)
        except OSError as exc:
            for sock in sockets:
                sock.close()
            log.warning("could not re-open the listener on %s:%d (%s); retrying", self.host, self.port, exc)
            self.loop.call_later(RELISTEN_RETRY_S, self._listen_again)
            return
        for sock in sockets:
            task = self.loop.create_task(self._serve(sock), name="prelive-listener")
            self._listener_tasks.add(task)   # the loop keeps only a weak reference to a task
            task.add_done_callback(self._listener_tasks.discard)

    async def _serve(self, sock: socket.socket) -> None:
        server = await self.loop.create_server(self._new_session, sock=sock)
        if self._running and not self.refusing:
            self._servers.append(server)
        else:   # stopped or refusing again before this turn of the loop
            server.close()

    def broadcast_error(self, code: int, text: str) -> None:
        for session in self.ready_sessions():
            session.error(-1, code, text)

    def set_market_data_flowing(self, flowing: bool) -> None:
        self.feeds.flowing = flowing

    def clear_market_data_subscriptions(self) -> None:
        for session in self.ready_sessions():
            self.feeds.drop_market_data(session)
            self.depth.drop(session)

    def set_account_ready(self, ready: bool) -> None:
        """AccountReady false while IB's servers are unreachable (TWS API: the server is resetting)."""
        self.accounts.set_account_ready(ready)

    def clear_account_subscriptions(self) -> None:
        """1101: account and portfolio subscriptions are lost too; clients must request them again."""
        self.accounts.clear_subscriptions()

    def release_delayed_replies(self, fault: str) -> None:
        """A latency fault was removed: every session sends at once the replies it held back."""
        for session in list(self.sessions.values()):
            session.release_delayed(fault)

    def log_fault(self, name: str, **attrs: Any) -> None:
        self.sys_event("fault", attrs={"name": name, **attrs}, fault=name)

    # ------------------------------------------------------------------ periodic
    def _account_marks(self):
        while True:
            for account_id in self.config.account_ids:
                self.sys_event("account_mark", attrs=self.accounts.account_mark(account_id))
            yield self.env.timeout(ACCOUNT_MARK_INTERVAL_S)


def settle_heap() -> None:
    """Move everything built so far (world, calendars, universe tables) out of the garbage collector's view.

    A full collection walks every live object: with the world built that is ~60 ms of one held event loop,
    a stall every other session sees. Call once, after start, in a process that hosts one gateway for its
    lifetime (``prelive gateway``); not in test processes that build many, where frozen cycles would never
    be freed.
    """
    import gc
    gc.collect()
    gc.freeze()


@contextlib.asynccontextmanager
async def start_gateway(config: GatewayConfig | None = None, **overrides: Any) -> AsyncIterator[Gateway]:
    """Run a mock gateway in the current event loop for the duration of the ``async with`` block."""
    config = _configured(config, overrides)
    gateway = Gateway(config)
    await gateway.start()
    try:
        yield gateway
    finally:
        await gateway.stop()


def _configured(config: GatewayConfig | None, overrides: dict[str, Any]) -> GatewayConfig:
    if config is None:
        config = GatewayConfig(port=0)
    if overrides:
        config = dataclasses.replace(config, **overrides)
    return config


class GatewayThread:
    """A mock gateway on its own event loop in a daemon thread; a context manager yielding the Gateway.

    For synchronous code: ib_insync's blocking API, ibapi's reader thread, pytest fixtures.
    Attributes of the yielded :class:`Gateway` may be read from any thread; to act on the
    world or sessions from outside, use :meth:`Gateway.call` (runs a function on its loop).
    """

    def __init__(self, config: GatewayConfig | None = None, *, start_timeout_s: float = 10.0, **overrides: Any) -> None:
        self.config = _configured(config, overrides)
        self.start_timeout_s = start_timeout_s
        self.gateway: Gateway | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._stop: asyncio.Event | None = None

    def start(self) -> Gateway:
        self._thread = threading.Thread(target=self._run, name="prelive-mock-gateway", daemon=True)
        self._thread.start()
        if not self._ready.wait(self.start_timeout_s):
            raise TimeoutError(f"mock gateway did not start within {self.start_timeout_s} s")
        if self._error is not None:
            raise self._error
        assert self.gateway is not None
        return self.gateway

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._main())
        finally:
            loop.close()

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        try:
            self.gateway = Gateway(self.config)
            await self.gateway.start()
        except BaseException as exc:  # reported to the starting thread
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await self.gateway.stop()

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None and self._thread is not None:
            if self._thread.is_alive():
                self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(10.0)

    def __enter__(self) -> Gateway:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


__all__ = ["Gateway", "GatewayThread", "start_gateway"]
