"""Drives nautilus_trader's Interactive Brokers adapter (a TradingNode, as its examples do) against a gateway.

Runs in ``.venv-nautilus`` (nautilus_trader with its ``ib`` extra cannot share the test venv: it
pins its own ``nautilus-ibapi``). Usage: ``nautilus_agent.py PORT ACCOUNT [SECONDS]``. It loads
AAPL, EUR.USD, the front ES future and an AAPL option through the instrument provider, subscribes
to their quote ticks and to 5-second bars, requests historical bars, sends a market order and waits for its
fill, then rests a limit order far below the market, reprices and cancels it; then prints one JSON object on stdout: what the adapter saw (instruments, counts, fill,
errors). The test (``test_nautilus.py``) decides what is right.
"""
from __future__ import annotations

import json
import os
import sys
import threading
import time
from datetime import timedelta
from decimal import Decimal

from nautilus_trader.adapters.interactive_brokers.common import IB, IBContract
from nautilus_trader.adapters.interactive_brokers.config import (
    IBMarketDataTypeEnum,
    InteractiveBrokersDataClientConfig,
    InteractiveBrokersExecClientConfig,
    InteractiveBrokersInstrumentProviderConfig,
    SymbologyMethod,
)
from nautilus_trader.adapters.interactive_brokers.factories import (
    InteractiveBrokersLiveDataClientFactory,
    InteractiveBrokersLiveExecClientFactory,
)
from nautilus_trader.config import LiveDataEngineConfig, LoggingConfig, RoutingConfig, StrategyConfig, TradingNodeConfig
from nautilus_trader.live.node import TradingNode
from nautilus_trader.model.data import Bar, BarType, QuoteTick, TradeTick
from nautilus_trader.model.enums import OrderSide, TimeInForce
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.objects import Quantity
from nautilus_trader.trading.strategy import Strategy

EURUSD = "EUR/USD.IDEALPRO"
AAPL = "AAPL.NASDAQ"


class ProbeConfig(StrategyConfig, frozen=True):
    order_instrument: str = AAPL


class Probe(Strategy):
    """Subscribes, requests history, trades once; records what arrives."""

    def __init__(self, config: ProbeConfig, seen: dict) -> None:
        super().__init__(config)
        self.seen = seen
        self.ordered = False
        self.resting = None
        self.canceling = False
        self.new_price = None

    def on_start(self) -> None:
        self.seen["instruments"] = sorted(str(i.id) for i in self.cache.instruments())
        self.seen["instrument_types"] = {str(i.id): type(i).__name__ for i in self.cache.instruments()}
        for instrument in self.cache.instruments():   # every loaded contract: stock, pair, future, option
            self.subscribe_quote_ticks(instrument.id)
        self.subscribe_bars(BarType.from_str(f"{AAPL}-5-SECOND-LAST-EXTERNAL"))
        self.subscribe_trade_ticks(InstrumentId.from_str(AAPL))     # reqTickByTickData AllLast
        self.request_bars(BarType.from_str(f"{AAPL}-1-MINUTE-LAST-EXTERNAL"),
                          start=self.clock.utc_now() - timedelta(hours=2))

    def on_quote_tick(self, tick: QuoteTick) -> None:
        key = str(tick.instrument_id)
        self.seen["quotes"][key] = self.seen["quotes"].get(key, 0) + 1
        second = str(int(time.monotonic() - self.seen["started_monotonic"]))
        self.seen["quotes_per_second"][second] = self.seen["quotes_per_second"].get(second, 0) + 1
        if tick.bid_price >= tick.ask_price:   # a locked or crossed book: the two sides out of step
            self.seen["crossed_quotes"][key] = self.seen["crossed_quotes"].get(key, 0) + 1
            self.seen.setdefault("crossed_example", [str(tick.bid_price), str(tick.ask_price), key])
        if not self.ordered and key == self.config.order_instrument:
            self.ordered = True
            instrument = self.cache.instrument(tick.instrument_id)
            order = self.order_factory.market(tick.instrument_id, OrderSide.BUY,
                                              instrument.make_qty(Decimal(10)), time_in_force=TimeInForce.DAY)
            self.seen["order"] = {"client_order_id": str(order.client_order_id)}
            self.submit_order(order)

    def on_trade_tick(self, tick: TradeTick) -> None:
        trades = self.seen.setdefault("trade_ticks", {})
        key = str(tick.instrument_id)
        trades[key] = trades.get(key, 0) + 1
        if float(tick.price) <= 0 or float(tick.size) <= 0:
            self.seen.setdefault("bad_trade_ticks", []).append([str(tick.price), str(tick.size)])

    def on_bar(self, bar: Bar) -> None:
        self.seen["live_bars"] += 1

    def on_historical_data(self, data) -> None:
        kind = {Bar: "historical_bars", QuoteTick: "historical_quotes", TradeTick: "historical_trades"}.get(type(data))
        if kind:
            self.seen[kind] = self.seen.get(kind, 0) + 1

    def on_order_filled(self, event) -> None:
        self.seen["fills"].append({"qty": str(event.last_qty), "px": str(event.last_px),
                                   "venue_order_id": str(event.venue_order_id),
                                   "commission": str(event.commission)})
        if self.resting is None:   # then a limit far below the market: accepted, repriced, canceled
            tick = self.cache.quote_tick(event.instrument_id)
            instrument = self.cache.instrument(event.instrument_id)
            self.resting = self.order_factory.limit(event.instrument_id, OrderSide.BUY, instrument.make_qty(Decimal(5)),
                                                    instrument.make_price(float(tick.bid_price) * 0.8),
                                                    time_in_force=TimeInForce.DAY)
            self.submit_order(self.resting)

    def on_order_accepted(self, event) -> None:
        if self.resting is None or event.client_order_id != self.resting.client_order_id:
            return
        self.seen["resting_events"].append("accepted")
        if self.new_price is None:
            instrument = self.cache.instrument(event.instrument_id)
            self.new_price = instrument.make_price(float(self.resting.price) * 0.99)
            self.modify_order(self.resting, price=self.new_price)

    def on_order_updated(self, event) -> None:
        # nautilus reports every openOrder with a price as an update: wait for the one with the new price
        if self.resting is None or event.client_order_id != self.resting.client_order_id:
            return
        if event.price == self.new_price and not self.canceling:
            self.seen["resting_events"].append("updated")
            self.canceling = True
            self.seen["resting_price_after_update"] = str(event.price)
            self.cancel_order(self.resting)

    def on_order_canceled(self, event) -> None:
        self.seen["resting_events"].append("canceled")

    def on_order_modify_rejected(self, event) -> None:
        self.seen["rejects"].append(f"modify: {event.reason}")

    def on_order_cancel_rejected(self, event) -> None:
        self.seen["rejects"].append(f"cancel: {event.reason}")

    def on_order_rejected(self, event) -> None:
        self.seen["rejects"].append(str(event.reason))


def main() -> None:
    port, account = int(sys.argv[1]), sys.argv[2]
    seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 20.0
    future_month = os.environ.get("AGENT_FUTURE_MONTH", "202612")
    option_expiry = os.environ.get("AGENT_OPTION_EXPIRY", "20261218")
    option_strike = float(os.environ.get("AGENT_OPTION_STRIKE", "200"))
    provider = InteractiveBrokersInstrumentProviderConfig(
        symbology_method=SymbologyMethod.IB_SIMPLIFIED,
        # load_contracts only: with load_ids set as well, nautilus 1.221 loads the ids and skips the contracts.
        # The option on a named exchange: for a SMART option IB leaves primaryExchange empty (as the mock does)
        # and nautilus 1.221 then builds an empty venue (fixed upstream later, nautilus_trader PR 3452).
        load_contracts=frozenset([
            IBContract(secType="STK", symbol="AAPL", exchange="SMART", primaryExchange="NASDAQ", currency="USD"),
            IBContract(secType="CASH", symbol="EUR", exchange="IDEALPRO", currency="USD"),
            IBContract(secType="FUT", symbol="ES", exchange="CME", lastTradeDateOrContractMonth=future_month),
            IBContract(secType="OPT", symbol="AAPL", exchange="CBOE", currency="USD",
                       lastTradeDateOrContractMonth=option_expiry, strike=option_strike, right="C"),
        ]),
    )
    common = dict(ibg_host="127.0.0.1", ibg_port=port, ibg_client_id=11, instrument_provider=provider)
    node = TradingNode(config=TradingNodeConfig(
        trader_id="PRELIVE-001",
        logging=LoggingConfig(log_level=os.environ.get("NAUTILUS_LOG_LEVEL", "WARNING")),
        data_clients={IB: InteractiveBrokersDataClientConfig(
            **common, use_regular_trading_hours=False, market_data_type=IBMarketDataTypeEnum.REALTIME)},
        exec_clients={IB: InteractiveBrokersExecClientConfig(**common, account_id=account,
                                                             routing=RoutingConfig(default=True))},
        data_engine=LiveDataEngineConfig(),
        timeout_connection=30.0, timeout_reconciliation=10.0, timeout_portfolio=10.0,
        timeout_disconnection=5.0, timeout_post_stop=1.0,
    ))
    seen: dict = {"quotes": {}, "quotes_per_second": {}, "crossed_quotes": {}, "live_bars": 0, "historical_bars": 0,
                  "fills": [], "rejects": [], "resting_events": [], "started_monotonic": time.monotonic()}
    node.trader.add_strategy(Probe(ProbeConfig(), seen))
    node.add_data_client_factory(IB, InteractiveBrokersLiveDataClientFactory)
    node.add_exec_client_factory(IB, InteractiveBrokersLiveExecClientFactory)
    node.build()
    threading.Timer(seconds, node.stop).start()
    try:
        node.run()
    finally:
        node.dispose()
    seen.pop("started_monotonic")
    print(json.dumps(seen, sort_keys=True))


if __name__ == "__main__":
    main()
