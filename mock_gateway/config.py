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

#: The highest server version the mock negotiates by default: the current stable IB Gateway
#: (protocol/versions.py DEFAULT_MAX_SERVER_VERSION = STABLE_GATEWAY_MAX, 223; docs/fidelity.md).
MAX_SERVER_VERSION = DEFAULT_MAX_SERVER_VERSION
#: "Each TWS session can receive up to 32 different client applications simultaneously"
#: (interactivebrokers.github.io/tws-api/connection.html).
MAX_API_CLIENTS = 32
#: Wall seconds a client may take to send its hello, and again its startApi once the hello is
#: answered (every client library sends both at once; ib_insync gives up after 4 s itself).
HANDSHAKE_TIMEOUT_S = 10.0
#: Wall seconds one frame may stay half-sent before the session is closed (a frame is at most
#: 16 MiB; a slow sender of a real message finishes in milliseconds).
FRAME_TIMEOUT_S = 30.0
#: The lowest a client may ask for (ibapi 9.81 asks for 100..157).
MIN_SERVER_VERSION = 100


@dataclass
class PositionConfig:
    """A position the account holds when the scenario starts (bought on an earlier day)."""

    symbol: str                               # a symbol or local symbol of the universe (AAPL, EUR.USD, ESZ6)
    qty: float                                # signed: negative is short
    avg_cost: float                           # IB's averageCost: average price (commissions in) x multiplier
    sec_type: str = ""                        # '' = whichever kind the symbol names


@dataclass
class OpenOrderConfig:
    """A working order left from an earlier session (a GTC order from "yesterday")."""

    symbol: str
    action: str                               # BUY / SELL
    qty: float
    order_type: str = "LMT"
    lmt_price: float | None = None
    aux_price: float | None = None
    tif: str = "GTC"
    order_id: int | None = None               # None: numbered after the client's earlier ids
    client_id: int = 1                        # the API client that placed it
    order_ref: str = ""
    sec_type: str = ""


@dataclass
class ExecutionConfig:
    """A fill from earlier in the trading day: listed by reqExecutions, already in the positions."""

    symbol: str
    side: str                                 # BUY / SELL (BOT / SLD)
    qty: float
    price: float
    ago_s: float = 3600.0                     # how long before the scenario start it filled
    order_id: int | None = None
    client_id: int = 1
    order_ref: str = ""
    sec_type: str = ""


@dataclass
class AccountConfig:
    account_id: str = "DU1234567"
    cash: float = 1_000_000.0                 # cash in the base currency
    base_currency: str = "USD"
    account_type: str = "margin"              # "margin" (Reg T) or "cash" (no margin, settlement rules)
    cash_by_currency: dict[str, float] = field(default_factory=dict)   # other currencies' balances
    positions: list[PositionConfig] = field(default_factory=list)
    open_orders: list[OpenOrderConfig] = field(default_factory=list)
    executions: list[ExecutionConfig] = field(default_factory=list)
    segments: tuple[str, ...] = ("S",)        # account-value segment rows: S securities, C commodities


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
    #: Trading halts: dicts with symbol, start_s (sim s), duration_s (None: to the end), kind ("general" or
    #: "volatility"); see mock_gateway.sim.halts. The stock, its options and futures stop trading, tick 49 says so.
    halts: list[dict] = field(default_factory=list)
    #: Cash dividends by symbol: [{ex_date: "YYYYMMDD", amount}], replacing the built-in table's row
    #: (mock_gateway.sim.corporate_actions); ADJUSTED_LAST bars are adjusted for them.
    dividends: dict[str, list[dict]] = field(default_factory=dict)
    #: Simulated headlines and articles from the default news providers (BRFG market columns made from the
    #: simulated daily bars, each marked simulated; mock_gateway.sim.news). Off: none, the mock has no real feed.
    simulated_news: bool = False


@dataclass
class GatewayConfig:
    host: str = "127.0.0.1"
    port: int = 4002                          # 0: pick a free port (tests, parallel runs)
    seed: int = 42
    speed: float = 1.0                        # sim seconds per wall second
    start: datetime = DEFAULT_START           # sim time 0 on the calendar
    accounts: list[AccountConfig] = field(default_factory=lambda: [AccountConfig()])
    market: MarketConfig = field(default_factory=MarketConfig)
    event_log: Path | None = None             # JSONL session event log (None: a temporary file)
    log_market_data: bool = True              # also log every streamed tick (large at high speeds)
    max_server_version: int = MAX_SERVER_VERSION
    market_data_lines: int = 100              # max concurrent reqMktData lines (error 101 above)
    commission_per_share: float = 0.005       # IBKR Pro fixed, USD stocks
    min_commission: float = 1.0
    faults: FaultStack | None = None          # None: the healthy-gateway defaults (pacing rules on)
    read_only_api: bool = False               # API setting "Read-Only API": orders refused with 321
    master_client_id: int | None = None       # API setting "Master API client ID": sees every client's orders
    max_account_summaries: int = 2            # reqAccountSummary subscriptions at once (IB: 2; the third gets 322)
    max_clients: int = MAX_API_CLIENTS        # open API connections; the next one is closed at once
    handshake_timeout_s: float = HANDSHAKE_TIMEOUT_S   # wall s a client may take for its hello, then startApi
    frame_timeout_s: float = FRAME_TIMEOUT_S  # wall s one frame may stay half-sent
    control: str | None = None                # HOST:PORT of the HTTP fault-control API (None: off)
    control_token: str | None = field(default=None, repr=False)   # bearer token; required off loopback

    @property
    def account_ids(self) -> list[str]:
        return [a.account_id for a in self.accounts]
