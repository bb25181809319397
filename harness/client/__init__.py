"""The reference execution client and strategy (contracts §5): ``python -m harness.client``."""
from .app import ReferenceHandler, StrategyConfig, config_from_env, main
from .execution import ClientConfig, ExecutionClient, RealTimeBars
from .ledger import Intent, IntentState, OrderLedger
from .pacing import HistoricalPacer, TokenBucket
from .strategy import BarAggregator, MeanReversion

__all__ = ["BarAggregator", "ClientConfig", "ExecutionClient", "HistoricalPacer", "Intent", "IntentState",
           "MeanReversion", "OrderLedger", "RealTimeBars", "ReferenceHandler", "StrategyConfig", "TokenBucket",
           "config_from_env", "main"]
