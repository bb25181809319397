"""The reference execution client: ib_insync with pacing, reconnects, resync and idempotent orders.

What it adds to a bare ``ib_insync.IB`` (each a failure mode seen with the real gateway):

* pacing: every request it sends waits on a token bucket below IBKR's 50 msg/s, with
  ib_insync's own rolling-window throttle kept as a backstop; historical requests follow the
  15 s / 6-per-2 s / 60-per-10 min rules;
* connect: a timeout per attempt (a stalled handshake), exponential backoff with jitter, and an
  early abort on error 326 or a peer close instead of waiting out the timeout;
* after every reconnect: executions, open and completed orders are reconciled against the
  order ledger (orderRef idempotency), so an order is resent only if the gateway never saw
  it, and market data subscriptions are re-requested;
* 1100 pauses new orders; 1101 resubscribes market data; 1102 resumes;
* a heartbeat (:mod:`.heartbeat`): a gateway that keeps the socket open but answers nothing
  (a paused container, a hung process) is dropped and reconnected like any other loss;
* a kill switch: no new orders, cancel its own working orders;
* an order guard (:mod:`.guard`): 399 (held until the open) marks the symbol's market closed,
  201 blocks the same order from the same position for a growing while.
"""
from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from ib_insync import IB, Contract, LimitOrder, MarketOrder

from harness.safety import check_managed_accounts

from .guard import OrderGuard
from .heartbeat import Heartbeat
from .ledger import Intent, IntentState, OrderLedger, Seen
from .pacing import HistoricalPacer, TokenBucket

log = logging.getLogger("harness.client")


@dataclass
class ClientConfig:
    host: str = "127.0.0.1"
    port: int = 4002
    client_id: int = 1
    account: str = ""
    connect_timeout_s: float = 4.0
    backoff_initial_s: float = 0.2
    backoff_max_s: float = 5.0
    msg_rate_per_s: float = 35.0      # with burst 5: at most 40 messages in any second, under 50
    msg_burst: float = 5.0
    ib_max_requests: int = 40         # ib_insync's own rolling 1 s window, for messages we do not send
    intent_max_age_s: float = 30.0    # an unsent decision older than this is dropped, not sent late
    request_timeout_s: float = 10.0
    heartbeat_interval_s: float = 5.0  # wall seconds between liveness probes; 0 turns the heartbeat off
    heartbeat_timeout_s: float = 4.0   # a probe unanswered this long means the gateway is frozen
    seed: int = 0
    allow_live: bool = False           # the explicit live override (PRELIVE_ALLOW_LIVE=1); logged when used


class ClientError(Exception):
    """A setting the client cannot work with (e.g. a symbol the gateway does not know)."""


def contract_for(symbol: str) -> Contract:
    """``EUR.USD`` is a currency pair on IDEALPRO; anything else a SMART-routed US stock."""
    base, dot, quote = symbol.partition(".")
    if dot and len(base) == 3 and len(quote) == 3:
        return Contract(secType="CASH", symbol=base, currency=quote, exchange="IDEALPRO")
    return Contract(secType="STK", symbol=symbol, currency="USD", exchange="SMART")


class Subscription(Protocol):
    """Market data the client keeps alive across reconnects and 1101."""

    def start(self, client: ExecutionClient) -> None: ...
    def stop(self, client: ExecutionClient) -> None: ...


class RealTimeBars:
    """5-second bars for one symbol; ``on_bar(time_s, open, high, low, close, volume)``."""

    def __init__(self, symbol: str, on_bar: Callable[[int, float, float, float, float, float], None]) -> None:
        self.symbol = symbol
        self.on_bar = on_bar
        self._bars: Any = None

    def start(self, client: ExecutionClient) -> None:
        contract = client.contracts[self.symbol]
        what = "MIDPOINT" if contract.secType == "CASH" else "TRADES"  # IB has no trades for currencies
        self._bars = client.ib.reqRealTimeBars(contract, 5, what, False)
        self._bars.updateEvent += self._on_update

    def stop(self, client: ExecutionClient) -> None:
        if self._bars is not None:
            self._bars.updateEvent -= self._on_update
            if client.ib.isConnected():
                client.ib.cancelRealTimeBars(self._bars)
            self._bars = None

    def _on_update(self, bars: Any, has_new_bar: bool) -> None:
        if has_new_bar and bars:
            b = bars[-1]
            self.on_bar(int(b.time.timestamp()), b.open_, b.high, b.low, b.close, float(b.volume))


class ExecutionClient:
    """One API connection kept alive for a strategy. Use :meth:`run` as a task, :meth:`stop` to end."""

    def __init__(self, config: ClientConfig, symbols: list[str] | None = None) -> None:
        self.config = config
        self.ib = IB()
        self.ib.client.MaxRequests = config.ib_max_requests
        self.ledger = OrderLedger(config.client_id)
        self.bucket = TokenBucket(config.msg_rate_per_s, config.msg_burst)
        self.hist_pacer = HistoricalPacer()
        self.symbols = list(symbols or [])
        self.contracts: dict[str, Contract] = {}
        self._symbol_of: dict[int, str] = {}   # conId -> our symbol name (EUR.USD trades as symbol EUR)
        self.subscriptions: list[Subscription] = []
        self.connected = asyncio.Event()
        self.orders_paused = False
        self.kill_engaged = False
        self.guard = OrderGuard()
        self._rejected_ids: set[int] = set()
        self.counters = {"connects": 0, "connect_failures": 0, "disconnects": 0, "resent": 0, "adopted": 0,
                         "dropped": 0, "resubscribed": 0, "pacing_errors": 0, "orders_sent": 0,
                         "heartbeat_timeouts": 0}
        self._rng = random.Random(config.seed * 7919 + config.client_id)
        self._disconnected = asyncio.Event()
        self._stopping = False
        self._first_connect = True
        self._send_lock = asyncio.Lock()
        self._connect_abort: asyncio.Future | None = None
        self.heartbeat: Heartbeat | None = None
        if config.heartbeat_interval_s > 0:
            self.heartbeat = Heartbeat(self.ib, self.bucket, config.heartbeat_interval_s, config.heartbeat_timeout_s,
                                       self._on_heartbeat_silence)
        self._heartbeat_task: asyncio.Task | None = None
        self.ib.disconnectedEvent += self._on_disconnected
        self.ib.errorEvent += self._on_error
        self.ib.orderStatusEvent += self._on_order_status
        self.ib.execDetailsEvent += self._on_exec_details
        self.ib.client.apiError += self._on_api_error
        self.ib.client.conn.disconnected += self._on_api_error  # a socket closed mid-handshake (refused, 326)

    # ------------------------------------------------------------------ lifecycle
    async def run(self) -> None:
        """Connect, and reconnect after every drop, until :meth:`stop`."""
        try:
            while not self._stopping:
                if not await self._connect_with_retry():
                    break
                try:
                    await self._after_connect()
                except (ConnectionError, OSError, asyncio.TimeoutError) as exc:
                    log.warning("resync after connect failed (%r); reconnecting", exc)
                    self.ib.disconnect()
                self._start_heartbeat()
                await self._disconnected.wait()
                await self._end_heartbeat()
        finally:
            await self._end_heartbeat()

    def stop(self) -> None:
        """End :meth:`run`: close the connection; working orders stay with the gateway."""
        self._stopping = True
        self._cancel_heartbeat()
        for sub in self.subscriptions:
            try:
                sub.stop(self)
            except Exception:  # closing down: best effort
                pass
        self.ib.disconnect()
        self._disconnected.set()

    async def _connect_with_retry(self) -> bool:
        delay = self.config.backoff_initial_s
        while not self._stopping:
            self._disconnected.clear()
            loop = asyncio.get_running_loop()
            self._connect_abort = loop.create_future()
            attempt = asyncio.ensure_future(self.ib.connectAsync(
                self.config.host, self.config.port, self.config.client_id,
                timeout=self.config.connect_timeout_s, account=self.config.account))
            done, _ = await asyncio.wait({attempt, self._connect_abort}, return_when=asyncio.FIRST_COMPLETED)
            if attempt in done and attempt.exception() is None:
                self._connect_abort = None
                self.counters["connects"] += 1
                log.info("connected to %s:%s as client %s", self.config.host, self.config.port,
                         self.config.client_id)
                return True
            reason = attempt.exception() if attempt in done else self._connect_abort.result()
            if attempt not in done:
                attempt.cancel()
                await asyncio.gather(attempt, return_exceptions=True)
            self.ib.disconnect()
            self._connect_abort = None
            self.counters["connect_failures"] += 1
            wait = delay * (1.0 + 0.25 * self._rng.random())
            log.warning("connect failed (%s); retrying in %.2f s", reason, wait)
            await asyncio.sleep(wait)
            delay = min(delay * 2.0, self.config.backoff_max_s)
        return False

    def _start_heartbeat(self) -> None:
        # not after the kill switch: the client is winding down, the cancels it wrote reach a frozen gateway
        # when it thaws either way, and a reconnect would only add churn while the operator checks the account
        if self.heartbeat is not None and self.ib.isConnected() and not self.kill_engaged and not self._stopping:
            self._heartbeat_task = asyncio.ensure_future(self.heartbeat.run())

    def _cancel_heartbeat(self) -> None:
        if self._heartbeat_task is not None:
            self._heartbeat_task.cancel()

    async def _end_heartbeat(self) -> None:
        task, self._heartbeat_task = self._heartbeat_task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    def _on_heartbeat_silence(self, reason: str) -> None:
        """A frozen gateway: drop the connection so :meth:`run` reconnects and resyncs."""
        if self._stopping or not self.ib.isConnected():
            return
        self.counters["heartbeat_timeouts"] += 1
        log.error("gateway %s:%s not answering (%s): dropping the connection to reconnect",
                  self.config.host, self.config.port, reason)
        self.ib.disconnect()

    async def _after_connect(self) -> None:
        # the interlock, on every (re)connect and before anything is sent: a login can change behind
        # the same port, and pending intents are flushed below. Raises LiveAccountRefused.
        check_managed_accounts(self.ib.managedAccounts(), self.config.account or None, port=self.config.port,
                               allow_live=self.config.allow_live, what="the execution client")
        for symbol in self.symbols:
            if symbol not in self.contracts:
                await self.bucket.acquire()
                found = await asyncio.wait_for(self.ib.qualifyContractsAsync(contract_for(symbol)),
                                               self.config.request_timeout_s)
                if not found:
                    raise ClientError(f"the gateway knows no contract for symbol {symbol!r}")
                self.contracts[symbol] = found[0]
                self._symbol_of[found[0].conId] = symbol
        if self._first_connect:
            self._first_connect = False
            self.ledger.set_baseline(self.broker_positions(), (f.execution.execId for f in self.ib.fills()))
            self._note_start_state()
        else:
            self._resync()
        self.orders_paused = False
        for sub in self.subscriptions:
            sub.start(self)
        self.connected.set()
        await self.flush()

    def _note_start_state(self) -> None:
        """Start-up reconciliation: the account is not flat. Positions become the ledger's baseline;
        working orders left from earlier sessions are counted and logged (they are the broker's,
        not this run's intents, so they are neither re-sent nor cancelled)."""
        working = [t for t in self.ib.openTrades()]
        self.counters["positions_at_start"] = len([p for p in self.ib.positions(self.config.account or "")
                                                   if p.position])
        self.counters["open_orders_at_start"] = len(working)
        self.counters["executions_at_start"] = len(self.ib.fills())
        log.info("start-up: positions %s; %d working orders %s; %d executions today", self.broker_positions(),
                 len(working), [(t.contract.symbol, t.order.action, t.order.totalQuantity, t.order.orderType,
                                 t.order.tif, t.order.orderRef) for t in working], len(self.ib.fills()))

    def _resync(self) -> None:
        """After a reconnect: count fills made while away, adopt known orders, requeue lost ones."""
        self.sync_fills()
        seen = [Seen(t.order.orderRef or "", t.order.orderId, t.orderStatus.status,
                     t.orderStatus.filled) for t in self.ib.trades() if t.order.clientId in (0, self.config.client_id)]
        before = {i.ref for i in self.ledger.open_intents()}
        resend = self.ledger.reconcile(seen, time.monotonic(), self.config.intent_max_age_s)
        self.counters["resent"] += len(resend)
        self.counters["adopted"] += len(before) - len(resend)
        self.counters["dropped"] += sum(1 for r in before if self.ledger.intents[r].state == IntentState.DROPPED)
        broker = self.broker_positions()
        if not self.ledger.open_intents():
            for symbol in self.symbols:
                if abs(self.ledger.position(symbol) - broker.get(symbol, 0.0)) > 1e-9:
                    log.warning("position of %s: ledger %s, broker %s; adopting the broker's", symbol,
                                self.ledger.position(symbol), broker.get(symbol, 0.0))
                    self.ledger.set_baseline(broker, (f.execution.execId for f in self.ib.fills()))
                    break
        self.counters["resubscribed"] += len(self.subscriptions)
        log.info("resync: %d resent, %d open intents, positions %s", len(resend), len(self.ledger.open_intents()),
                 {s: self.ledger.position(s) for s in self.symbols})

    def symbol_of(self, contract: Contract) -> str:
        return self._symbol_of.get(contract.conId, contract.symbol)

    def broker_positions(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for p in self.ib.positions(self.config.account or ""):
            key = self.symbol_of(p.contract)
            out[key] = out.get(key, 0.0) + float(p.position)
        return out

    def sync_fills(self) -> None:
        for fill in self.ib.fills():
            ex = fill.execution
            self.ledger.on_fill(ex.execId, self.symbol_of(fill.contract), ex.side, float(ex.shares), ex.orderId,
                                ex.orderRef or "", ex.clientId)

    # ------------------------------------------------------------------ orders
    async def submit(self, intent: Intent) -> bool:
        """Queue an intent (idempotent on its ref) and send it as soon as that is safe."""
        if self.kill_engaged:
            intent.state, intent.note = IntentState.DROPPED, "kill switch engaged"
            return False
        if not self.ledger.add(intent):
            return False
        await self.flush()
        return True

    async def flush(self) -> None:
        """Send every pending intent that may go now; stale ones are dropped."""
        async with self._send_lock:
            for intent in [i for i in self.ledger.intents.values() if i.state == IntentState.PENDING]:
                if self.kill_engaged:
                    intent.state, intent.note = IntentState.DROPPED, "kill switch engaged"
                    continue
                if time.monotonic() - intent.created_at > self.config.intent_max_age_s:
                    intent.state, intent.note = IntentState.DROPPED, "stale"
                    self.counters["dropped"] += 1
                    continue
                if not self.connected.is_set() or self.orders_paused:
                    return
                await self.bucket.acquire()
                if not self.ib.isConnected() or self.orders_paused or self.kill_engaged:
                    return
                self._place(intent)

    def _place(self, intent: Intent) -> None:
        contract = self.contracts[intent.symbol]
        if intent.order_type == "LMT" and intent.lmt_price is not None:
            order = LimitOrder(intent.action, intent.qty, intent.lmt_price)
        else:
            order = MarketOrder(intent.action, intent.remaining or intent.qty)
        order.orderRef = intent.ref
        order.tif = "DAY"
        if self.config.account:
            order.account = self.config.account
        try:
            trade = self.ib.placeOrder(contract, order)
        except ConnectionError:
            return  # stays PENDING; sent after the reconnect
        self.ledger.mark_sent(intent.ref, trade.order.orderId)
        self.counters["orders_sent"] += 1

    async def engage_kill(self, reason: str) -> None:
        """Stop new orders for good and cancel this client's working orders."""
        if self.kill_engaged:
            return
        self.kill_engaged = True
        self._cancel_heartbeat()
        log.warning("kill switch engaged (%s): no new orders; cancelling working orders", reason)
        for intent in self.ledger.intents.values():
            if intent.state == IntentState.PENDING:
                intent.state, intent.note = IntentState.DROPPED, "kill switch engaged"
        if not self.ib.isConnected():
            return
        for trade in self.ib.openTrades():
            await self.bucket.acquire()
            if self.ib.isConnected():
                self.ib.cancelOrder(trade.order)

    async def historical_bars(self, symbol: str, duration: str, bar_size: str) -> list[Any]:
        """Historical bars (epoch-dated), paced; empty on a timeout or an error."""
        contract = self.contracts[symbol]
        what = "MIDPOINT" if contract.secType == "CASH" else "TRADES"
        await self.hist_pacer.acquire((symbol, contract.exchange, what), (symbol, duration, bar_size, what))
        await self.bucket.acquire()
        try:
            return list(await asyncio.wait_for(self.ib.reqHistoricalDataAsync(
                contract, "", duration, bar_size, what, False, formatDate=2),
                self.config.request_timeout_s))
        except (asyncio.TimeoutError, ConnectionError):
            return []

    # ------------------------------------------------------------------ events
    def _on_disconnected(self) -> None:
        if self.connected.is_set() and not self._stopping:
            self.counters["disconnects"] += 1
            log.warning("disconnected from the gateway")
        self.connected.clear()
        for sub in self.subscriptions:
            try:
                sub.stop(self)
            except Exception:
                pass
        self._disconnected.set()

    def _on_api_error(self, msg: str = "") -> None:
        # during a connect attempt any API error means the socket is gone (reset, peer closed, refused):
        # retry now rather than wait out the connect timeout
        if self._connect_abort is not None and not self._connect_abort.done():
            self._connect_abort.set_result(msg or "socket closed during the handshake")

    def _on_error(self, req_id: int, code: int, text: str, contract: Any = None) -> None:
        if code == 326 and self._connect_abort is not None and not self._connect_abort.done():
            self._connect_abort.set_result(f"326 {text}")
        elif code == 1100:
            self.orders_paused = True
            log.warning("1100 connectivity lost: new orders paused")
        elif code in (1101, 1102):
            self.orders_paused = False
            if code == 1101:  # data lost: subscriptions must be made again
                for sub in self.subscriptions:
                    sub.stop(self)
                    sub.start(self)
                self.counters["resubscribed"] += len(self.subscriptions)
            log.warning("%d connectivity restored; orders resumed", code)
            asyncio.ensure_future(self.flush())
        elif code in (100, 420) or (code == 162 and "pacing" in text.lower()):
            self.counters["pacing_errors"] += 1
            log.error("pacing error %d: %s", code, text)
        elif code == 201:
            intent = self.ledger.by_order(req_id)
            if intent is not None and req_id not in self._rejected_ids:   # ib_insync has marked it Cancelled
                self._rejected_ids.add(req_id)
                self.counters["rejected"] = self.counters.get("rejected", 0) + 1
                self.guard.on_rejected(intent.symbol, intent.action, intent.qty, intent.position_at_decision, text)
            self.ledger.on_reject(req_id, text)
        elif code == 399:
            intent = self.ledger.by_order(req_id)
            if intent is not None:
                self.counters["held"] = self.counters.get("held", 0) + 1
                self.guard.on_held(intent.symbol, text)

    def _on_order_status(self, trade: Any) -> None:
        if trade.orderStatus.status not in ("PreSubmitted", "PendingSubmit", "ApiPending") and \
                self.ledger.by_order(trade.order.orderId):
            # a held order went to the exchange, or ended: never left waiting for a release that cannot come
            self.guard.on_released(self.symbol_of(trade.contract))
        self.ledger.on_status(trade.order.orderId, trade.orderStatus.status, trade.orderStatus.filled,
                              ref=trade.order.orderRef or "")

    def _on_exec_details(self, trade: Any, fill: Any) -> None:
        ex = fill.execution
        self.ledger.on_fill(ex.execId, self.symbol_of(fill.contract), ex.side, float(ex.shares), ex.orderId,
                            ex.orderRef or trade.order.orderRef or "", ex.clientId)
