"""Drives nautilus_trader's IB data client to an order book subscription (L2_MBP, its default SMART depth).

Runs in ``.venv-nautilus`` (tests/peers/nautilus.py). Usage: ``nautilus_depth_agent.py PORT SECONDS``. Loads
AAPL through the instrument provider, subscribes to its order book deltas (depth 10) and quote ticks, and
prints one JSON object: how many delta batches arrived, and at each batch whether the book's best bid/ask
equal the last quote tick's (the mock's top of book is the L1 quote of the same grid step). The test decides.
"""
from __future__ import annotations

import json
import os
import sys
import threading

from nautilus_trader.adapters.interactive_brokers.common import IB, IBContract
from nautilus_trader.adapters.interactive_brokers.config import (
    IBMarketDataTypeEnum,
    InteractiveBrokersDataClientConfig,
    InteractiveBrokersInstrumentProviderConfig,
    SymbologyMethod,
)
from nautilus_trader.adapters.interactive_brokers.factories import InteractiveBrokersLiveDataClientFactory
from nautilus_trader.config import LiveDataEngineConfig, LoggingConfig, StrategyConfig, TradingNodeConfig
from nautilus_trader.live.node import TradingNode
from nautilus_trader.model.data import OrderBookDeltas, QuoteTick
from nautilus_trader.model.enums import BookType
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.trading.strategy import Strategy

AAPL = "AAPL.NASDAQ"


class DepthProbe(Strategy):
    def __init__(self, seen: dict) -> None:
        super().__init__(StrategyConfig())
        self.seen = seen
        self.quote: QuoteTick | None = None

    def on_start(self) -> None:
        instrument_id = InstrumentId.from_str(AAPL)
        self.subscribe_order_book_deltas(instrument_id, book_type=BookType.L2_MBP, depth=10)
        self.subscribe_quote_ticks(instrument_id)

    def on_quote_tick(self, tick: QuoteTick) -> None:
        self.quote = tick

    def on_order_book_deltas(self, deltas: OrderBookDeltas) -> None:
        self.seen["batches"] += 1
        book = self.cache.order_book(deltas.instrument_id)
        if book is None:
            return
        bids, asks = book.bids(), book.asks()
        self.seen["max_levels"] = max(self.seen["max_levels"], min(len(bids), len(asks)))
        if bids and asks:
            if float(bids[0].price) >= float(asks[0].price):
                self.seen["crossed"] += 1
            self.seen["last_top"] = [float(bids[0].price), float(asks[0].price)]


def main() -> None:
    port, seconds = int(sys.argv[1]), float(sys.argv[2])
    provider = InteractiveBrokersInstrumentProviderConfig(
        symbology_method=SymbologyMethod.IB_SIMPLIFIED,
        load_contracts=frozenset([IBContract(secType="STK", symbol="AAPL", exchange="SMART", primaryExchange="NASDAQ",
                                             currency="USD")]),
    )
    node = TradingNode(config=TradingNodeConfig(
        trader_id="PRELIVE-002",
        logging=LoggingConfig(log_level=os.environ.get("NAUTILUS_LOG_LEVEL", "WARNING")),
        data_clients={IB: InteractiveBrokersDataClientConfig(
            ibg_host="127.0.0.1", ibg_port=port, ibg_client_id=12, instrument_provider=provider,
            use_regular_trading_hours=False, market_data_type=IBMarketDataTypeEnum.REALTIME)},
        data_engine=LiveDataEngineConfig(),
        timeout_connection=30.0, timeout_disconnection=5.0, timeout_post_stop=1.0,
    ))
    seen: dict = {"batches": 0, "max_levels": 0, "crossed": 0, "last_top": None}
    node.trader.add_strategy(DepthProbe(seen))
    node.add_data_client_factory(IB, InteractiveBrokersLiveDataClientFactory)
    node.build()
    threading.Timer(seconds, node.stop).start()
    try:
        node.run()
    finally:
        node.dispose()
    print(json.dumps(seen, sort_keys=True))


if __name__ == "__main__":
    main()
