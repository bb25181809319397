"""Configuration of one mock gateway: the world it simulates and the faults it injects.

Scenario files (harness.scenario) are validated and turned into a :class:`GatewayConfig`;
Python users and the pytest fixture build one directly.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from .faults.base import FaultStack
from .protocol.versions import DEFAULT_MAX_SERVER_VERSION
from .sim.clock import DEFAULT_START

#: The highest server version the mock negotiates by default (ib_insync 0.9.86's MaxClientVersion).
MAX_SERVER_VERSION = DEFAULT_MAX_SERVER_VERSION
#: The lowest a client may ask for (ibapi 9.81 asks for 100..157).
MIN_SERVER_VERSION = 100


@dataclass
class AccountConfig:
    account_id: str = "DU1234567"
    cash: float = 1_000_000.0
    base_currency: str = "USD"


@dataclass
class MarketConfig:
    """Price process: geometric Brownian motion per symbol on a fixed sim-time grid, or replayed bars."""

    symbols: list[str] | None = None          # None: every contract of the default universe
    drift_annual: float = 0.0
    volatility_annual: float = 0.25
    tick_interval_s: float = 0.25             # sim seconds between price steps / streamed ticks
    spread_ticks: int = 1                     # ask - bid in min ticks
    replay_csv: Path | None = None            # bars to replay instead of GBM (columns: symbol,time,open,high,low,close,volume)
    initial_prices: dict[str, float] = field(default_factory=dict)  # override a symbol's start price
    #: The account's market data permission: "live" (subscribed), "delayed" (no subscription, delayed
    #: data enabled: 10167 and delayed ticks on type 3/4, 354 on type 1/2) or "none" (354 / 10168).
    data_permission: str = "live"
    #: A scenario's own contracts: dicts with symbol, sec_type, exchange, currency, min_tick, price
    #: (and optionally primary_exchange, long_name, listing_date); see ContractBook.with_extra.
    extra_contracts: list[dict] = field(default_factory=list)


@dataclass
class GatewayConfig:
    host: str = "127.0.0.1"
    port: int = 4002                          # 0: pick a free port (tests, parallel runs)
    seed: int = 42
    speed: float = 1.0                        # sim seconds per wall second
    start: datetime = DEFAULT_START           # sim time 0 on the calendar
    accounts: list[AccountConfig] = field(default_factory=lambda: [AccountConfig()])
    market: MarketConfig = field(default_factory=MarketConfig)
    event_log: Path | None = None             # JSONL session event log (None: in memory only)
    log_market_data: bool = True              # also log every streamed tick (large at high speeds)
    max_server_version: int = MAX_SERVER_VERSION
    market_data_lines: int = 100              # max concurrent reqMktData lines (error 101 above)
    commission_per_share: float = 0.005       # IBKR Pro fixed, USD stocks
    min_commission: float = 1.0
    faults: FaultStack | None = None          # None: the healthy-gateway defaults (pacing rules on)

    @property
    def account_ids(self) -> list[str]:
        return [a.account_id for a in self.accounts]
