"""The reference handler: the mean-reversion strategy on the execution client, run from the environment.

``python -m harness.client`` reads ``IB_HOST, IB_PORT, IB_CLIENT_ID, IB_ACCOUNT`` and
``PRELIVE_KILL_FILE`` (contracts §5). It refuses a live port before connecting (exit 2) and, on every
(re)connect before anything is sent, a login whose managedAccounts are not all paper or do not include
``IB_ACCOUNT`` (exit 3), unless ``PRELIVE_ALLOW_LIVE=1`` (logged). It stops placing new orders when the
kill file exists or on
SIGUSR1, and exits 0 on SIGTERM / SIGINT, leaving working orders with the gateway.
``PRELIVE_HEARTBEAT_INTERVAL_S`` (default 5, 0 = off) and ``PRELIVE_HEARTBEAT_TIMEOUT_S`` (default 4)
set the probe that drops and reconnects a frozen gateway (wall seconds).
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from harness.safety import LiveAccountRefused, check_paper_target

from .execution import ClientConfig, ExecutionClient, RealTimeBars
from .ledger import Intent, IntentState
from .strategy import Bar, BarAggregator, MeanReversion

log = logging.getLogger("harness.client")

_IB_BAR_SIZES = {5: "5 secs", 10: "10 secs", 15: "15 secs", 30: "30 secs", 60: "1 min", 120: "2 mins",
                 300: "5 mins"}


@dataclass
class StrategyConfig:
    symbol: str = "AAPL"
    qty: float = 100.0
    bar_seconds: int = 60
    lookback: int = 8
    entry_z: float = 1.2
    exit_z: float = 0.3
    warmup: bool = True


class ReferenceHandler:
    """Strategy + execution client + kill file + signals, for one process."""

    def __init__(self, client_config: ClientConfig, strategy: StrategyConfig, kill_file: Path | None = None,
                 allow_live: bool = False) -> None:
        self.strategy_config = strategy
        client_config.allow_live = client_config.allow_live or allow_live
        self.client = ExecutionClient(client_config, [strategy.symbol])
        self.strategy = MeanReversion(strategy.qty, strategy.lookback, strategy.entry_z, strategy.exit_z)
        self.kill_file = kill_file
        self.allow_live = allow_live
        self.bars: asyncio.Queue[Bar] = asyncio.Queue()
        self.aggregator = BarAggregator(strategy.bar_seconds, self.bars.put_nowait)
        self.client.subscriptions.append(RealTimeBars(strategy.symbol, self.aggregator.add))
        self.decisions = 0
        self._stop = asyncio.Event()
        self._warmed = False
        self._waiting_logged: set[str] = set()

    def request_stop(self) -> None:
        self._stop.set()

    def request_kill(self, reason: str) -> None:
        asyncio.ensure_future(self.client.engage_kill(reason))

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.request_stop)
        loop.add_signal_handler(signal.SIGUSR1, self.request_kill, "SIGUSR1")
        tasks = [asyncio.ensure_future(self.client.run()), asyncio.ensure_future(self._decide_loop()),
                 asyncio.ensure_future(self._watch_kill_file()), asyncio.ensure_future(self._guard_accounts())]
        stop = asyncio.ensure_future(self._stop.wait())
        await asyncio.wait([stop, tasks[0], tasks[3]], return_when=asyncio.FIRST_COMPLETED)
        code = 0
        for task, failure_code in ((tasks[0], 1), (tasks[3], 3)):
            if task.done() and not task.cancelled() and task.exception() is not None:
                log.error("stopping: %s", task.exception())
                code = code or (3 if isinstance(task.exception(), LiveAccountRefused) else failure_code)
        self.client.stop()
        for t in tasks + [stop]:
            t.cancel()
        await asyncio.gather(*tasks, stop, return_exceptions=True)
        self._summary()
        return code

    async def _guard_accounts(self) -> None:
        """Warm up once connected. The interlock itself runs in the execution client, before
        ``connected`` is set and before any pending order is sent (ExecutionClient._after_connect)."""
        while True:
            await self.client.connected.wait()
            if not self._warmed and self.strategy_config.warmup:
                self._warmed = True
                asyncio.ensure_future(self._warm_up())
            await self.client._disconnected.wait()

    async def _warm_up(self) -> None:
        """Fill the strategy's lookback from history so it can decide from the first live bar."""
        cfg = self.strategy_config
        size = _IB_BAR_SIZES.get(cfg.bar_seconds)
        if size is None:
            return
        bars = await self.client.historical_bars(cfg.symbol, f"{(cfg.lookback + 2) * cfg.bar_seconds} S", size)
        for b in bars[:-1]:  # the last one may still be forming
            t = int(b.date.timestamp()) if hasattr(b.date, "timestamp") else int(b.date)
            if self.aggregator.last_emitted is None or t > self.aggregator.last_emitted:
                self.strategy.closes.append(b.close)
                while len(self.strategy.closes) > self.strategy.lookback:
                    self.strategy.closes.popleft()
        log.info("warm-up: %d historical bars", max(0, len(bars) - 1))

    async def _decide_loop(self) -> None:
        while True:
            bar = await self.bars.get()
            target = self.strategy.on_close(bar.close)
            await self._trade_towards(target, bar)

    async def _trade_towards(self, target: float, bar: Bar) -> None:
        """Send at most one order per symbol at a time, none while its market is closed (399), and not
        the order the gateway just rejected (201) again: a held or rejected order is not re-decided
        on every bar (that stacks orders overnight, or loops on a rejection)."""
        client, symbol = self.client, self.strategy_config.symbol
        if client.kill_engaged:
            return
        client.guard.clock_s = max(client.guard.clock_s, float(bar.time_s + self.strategy_config.bar_seconds))
        client.sync_fills()
        for intent in client.ledger.open_intents():  # the latest decision replaces unsent older ones
            if intent.symbol == symbol and intent.state == IntentState.PENDING:
                intent.state, intent.note = IntentState.DROPPED, "superseded"
        working = [i for i in client.ledger.open_intents()
                   if i.symbol == symbol and i.state in (IntentState.SENT, IntentState.WORKING)]
        if working:
            for i in working:
                if i.ref not in self._waiting_logged:
                    self._waiting_logged.add(i.ref)
                    log.info("order %s (%s %g %s) still working: no new %s order until it is done",
                             i.ref, i.action, i.remaining, symbol, symbol)
            return
        if client.guard.market_closed(symbol):
            return
        position = client.ledger.position(symbol)
        delta = target - (position + client.ledger.in_flight(symbol))
        if abs(delta) < 1:
            return
        action = "BUY" if delta > 0 else "SELL"
        if client.guard.rejected_recently(symbol, action, abs(delta), position):
            return
        self.decisions += 1
        intent = Intent(ref=f"rc{client.config.client_id}-{symbol}-{bar.time_s}", symbol=symbol,
                        action=action, qty=abs(delta), created_at=time.monotonic(), position_at_decision=position)
        await client.submit(intent)

    async def _watch_kill_file(self) -> None:
        if self.kill_file is None:
            return
        while not self.kill_file.exists():
            await asyncio.sleep(0.1)
        await self.client.engage_kill(f"kill file {self.kill_file}")

    def _summary(self) -> None:
        ledger = self.client.ledger
        states: dict[str, int] = {}
        for i in ledger.intents.values():
            states[i.state.value] = states.get(i.state.value, 0) + 1
        print(json.dumps({"event": "summary", "decisions": self.decisions, "intents": states,
                          "position": ledger.position(self.strategy_config.symbol),
                          "kill_engaged": self.client.kill_engaged, **self.client.counters}), flush=True)


def config_from_env(env: dict[str, str] | None = None) -> tuple[ClientConfig, StrategyConfig, Path | None, bool]:
    """The handler's settings from ``IB_*`` / ``PRELIVE_*`` variables; a clear error for a bad value."""
    env = dict(os.environ if env is None else env)

    def number(name: str, default: str, kind: type = int):  # type: ignore[no-untyped-def]
        raw = env.get(name, default)
        try:
            return kind(raw)
        except ValueError:
            raise SystemExit(f"harness.client: {name}={raw!r} is not a {kind.__name__}") from None

    client = ClientConfig(host=env.get("IB_HOST", "127.0.0.1"), port=number("IB_PORT", "4002"),
                          client_id=number("IB_CLIENT_ID", "1"), account=env.get("IB_ACCOUNT", ""),
                          seed=number("PRELIVE_SEED", "0"),
                          heartbeat_interval_s=number("PRELIVE_HEARTBEAT_INTERVAL_S", "5", float),
                          heartbeat_timeout_s=number("PRELIVE_HEARTBEAT_TIMEOUT_S", "4", float),
                          # seconds of the handler's clock: on a fast scenario clock, give it more
                          connect_timeout_s=number("PRELIVE_CONNECT_TIMEOUT_S", "4", float))
    if client.connect_timeout_s <= 0:
        raise SystemExit("harness.client: PRELIVE_CONNECT_TIMEOUT_S must be > 0")
    if client.heartbeat_interval_s < 0 or client.heartbeat_timeout_s <= 0:
        raise SystemExit("harness.client: PRELIVE_HEARTBEAT_INTERVAL_S must be >= 0 (0 turns the heartbeat off) "
                         "and PRELIVE_HEARTBEAT_TIMEOUT_S > 0")
    strategy = StrategyConfig(symbol=env.get("PRELIVE_SYMBOL", "AAPL"), qty=number("PRELIVE_QTY", "100", float),
                              bar_seconds=number("PRELIVE_BAR_SECONDS", "60"),
                              lookback=number("PRELIVE_LOOKBACK", "8"),
                              entry_z=number("PRELIVE_ENTRY_Z", "1.2", float),
                              exit_z=number("PRELIVE_EXIT_Z", "0.3", float))
    kill = env.get("PRELIVE_KILL_FILE") or None
    allow_live = env.get("PRELIVE_ALLOW_LIVE", "") == "1"
    client.allow_live = allow_live
    return client, strategy, Path(kill) if kill else None, allow_live


def main() -> int:
    """Entry point of ``python -m harness.client`` (also usable as ``harness.client:main``)."""
    logging.basicConfig(level=os.environ.get("PRELIVE_LOG_LEVEL", "INFO"), stream=sys.stdout,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("ib_insync").setLevel(logging.ERROR)
    client, strategy, kill_file, allow_live = config_from_env()
    try:
        check_paper_target(port=client.port, accounts=client.account or None, allow_live=allow_live)
    except LiveAccountRefused as exc:
        print(f"harness.client: {exc}", file=sys.stderr)
        return 2
    log.info("reference handler: %s %s", asdict(client), asdict(strategy))
    return asyncio.run(ReferenceHandler(client, strategy, kill_file, allow_live).run())
