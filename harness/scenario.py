"""Scenario files: a pydantic model of one run, a YAML loader that refuses broken files up front.

A scenario fixes the seed, the clock speed and length, the market, the accounts, the handler
under test, the faults (``mock_gateway.faults.registry``), container faults for container
mode, and what the handler must survive. :func:`load_scenario` either returns a valid
:class:`Scenario` or raises :class:`ScenarioError` naming the file, the field path, what is
wrong and the line, before anything starts.
"""
from __future__ import annotations

import csv
import difflib
import math
import os
import re
import sys
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from mock_gateway.config import (
    AccountConfig,
    ExecutionConfig,
    GatewayConfig,
    MarketConfig,
    OpenOrderConfig,
    PositionConfig,
)
from mock_gateway.datafiles import env_data_dirs, resolve_data_file
from mock_gateway.faults.common import NamedFault
from mock_gateway.faults.connection import DailyRestart
from mock_gateway.faults.defaults import build_fault_stack
from mock_gateway.faults.registry import FAULT_TYPES, FaultSpec
from mock_gateway.sim.clock import DEFAULT_START

from .docker.faults import ACTIONS as CONTAINER_ACTION_NAMES
from .docker.faults import container_fault_problems
from .yaml_marks import YamlProblem, locate, parse


def _shipped_dir() -> Path:
    """Where the shipped scenario files are: PRELIVE_SCENARIOS_DIR, else the copy an installed
    wheel carries (``harness/shipped_scenarios``, see setup.py), else the repository's ``scenarios/``."""
    if os.environ.get("PRELIVE_SCENARIOS_DIR"):
        return Path(os.environ["PRELIVE_SCENARIOS_DIR"])
    packaged = Path(__file__).resolve().parent / "shipped_scenarios"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[1] / "scenarios"


#: Shipped scenario files (``prelive scenarios``); PRELIVE_SCENARIOS_DIR points elsewhere.
SCENARIOS_DIR = _shipped_dir()

REFERENCE_HANDLER = ["python", "-m", "harness.client"]
REPLAY_COLUMNS = ("symbol", "time", "open", "high", "low", "close", "volume")

Loc = tuple[str | int, ...]


# ---------------------------------------------------------------- errors
@dataclass(frozen=True)
class Problem:
    field: str | None      # e.g. "faults[2].schedule.every_s"; None for the file as a whole
    message: str
    line: int | None       # 1-based, where the YAML parser knows it

    def render(self, file: str) -> str:
        where = f"{file}:{self.line}" if self.line else file
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class ScenarioError(ValueError):
    """A scenario file that cannot run: every problem found, the first one in the attributes."""

    def __init__(self, file: str | os.PathLike[str], problems: list[Problem]) -> None:
        self.file = str(file)
        self.problems = problems
        first = problems[0]
        self.field, self.message, self.line = first.field, first.message, first.line
        super().__init__("\n".join(p.render(self.file) for p in problems))


# ---------------------------------------------------------------- model
Strict = ConfigDict(extra="forbid", allow_inf_nan=False)
PositiveFloat = Annotated[float, Field(gt=0)]
NonNegativeFloat = Annotated[float, Field(ge=0)]

# Bounds on what a scenario may ask for (untrusted input: a value outside them would hang the loop,
# never end, or crash the gateway). Generous for every real use; each error says the range.
MAX_SPEED = 10_000.0                    # sim seconds per wall second (a 6.5 h session in 2.3 s)
MIN_TICK_INTERVAL_S = 0.01              # IB streams stock ticks every ~250 ms
MAX_TICK_INTERVAL_S = 3600.0
MAX_TICKS_PER_WALL_S = 100_000.0        # speed / tick_interval_s: price steps per wall second per symbol
MAX_DURATION_S = 31 * 86_400.0          # a month of simulated time
MAX_SEED = 2**63 - 1
MAX_PRICE = 10_000_000.0                # above any listed price (BRK.A is under 1e6)
MAX_CASH = 1e12
MAX_ANNUAL_RATE = 10.0                  # drift and volatility, as fractions per year
MAX_CLIENT_ID = 2**31 - 1
MAX_GRACE_PERIOD_S = 3600.0
SpeedFloat = Annotated[float, Field(gt=0, le=MAX_SPEED)]
DurationFloat = Annotated[float, Field(gt=0, le=MAX_DURATION_S)]
TimeFloat = Annotated[float, Field(ge=0, le=MAX_DURATION_S)]
PriceFloat = Annotated[float, Field(gt=0, le=MAX_PRICE)]


def _base_dir(info: ValidationInfo) -> Path | None:
    base = (info.context or {}).get("base_dir")
    return Path(base) if base is not None else None


def _replay_file(value: Path, info: ValidationInfo) -> Path:
    """Resolve inside the scenario's folder (untrusted input) and read the bars now, so a bad row stops the load."""
    from mock_gateway.sim.replay import ReplayError, read_bars

    path = resolve_data_file(value, info.context, "replay file")
    if not path.is_file():
        raise ValueError(f"replay file not found: {value}")
    try:
        bars = read_bars(path)
    except ReplayError as exc:
        raise ValueError(str(exc)) from None
    except (UnicodeDecodeError, csv.Error):
        raise ValueError(f"replay file {value} is not a UTF-8 CSV file") from None
    if not bars:
        raise ValueError(f"{value}: no bars (columns: {','.join(REPLAY_COLUMNS)})")
    return path


class MarketSpec(BaseModel):
    """GBM per symbol on a fixed grid, or bars replayed from a CSV."""

    model_config = Strict
    symbols: list[Annotated[str, Field(min_length=1)]] | None = None
    drift_annual: Annotated[float, Field(ge=-MAX_ANNUAL_RATE, le=MAX_ANNUAL_RATE)] = 0.0
    volatility_annual: Annotated[float, Field(ge=0, le=MAX_ANNUAL_RATE)] = 0.25
    tick_interval_s: Annotated[float, Field(ge=MIN_TICK_INTERVAL_S, le=MAX_TICK_INTERVAL_S)] = 0.25
    spread_ticks: Annotated[int, Field(ge=1, le=10_000)] = 1
    replay_csv: Annotated[Path, AfterValidator(_replay_file)] | None = None
    initial_prices: dict[str, PriceFloat] = Field(default_factory=dict)
    #: The account's market data permission (live, delayed-only, none), as IB answers reqMktData for it.
    data_permission: Literal["live", "delayed", "none"] = "live"
    #: Contracts of the scenario's own, added to the universe (a symbol already listed is an error).
    contracts: list[ExtraContractSpec] = Field(default_factory=list)
    #: Trading halts: the symbol (and its options and futures) stops trading for a while; tick 49 reports it.
    halts: Annotated[list[HaltSpec], Field(max_length=1000)] = Field(default_factory=list)
    #: Cash dividends by symbol (replacing the built-in table's row): what ADJUSTED_LAST bars adjust for.
    dividends: Annotated[dict[str, Annotated[list[DividendSpec], Field(max_length=400)]],
                         Field(max_length=1000)] = Field(default_factory=dict)
    #: Simulated headlines (BRFG market columns made from the simulated daily bars, marked simulated) for
    #: reqHistoricalNews / reqNewsArticle. Off (the default), the default providers publish none.
    simulated_news: bool = False


class DividendSpec(BaseModel):
    """One cash dividend: its ex-date and the amount per share in the contract's currency."""

    model_config = Strict
    ex_date: Annotated[str, Field(pattern=r"^\d{8}$")]
    amount: PositiveFloat


class HaltSpec(BaseModel):
    """A trading halt: no prints, the quote stands, orders are accepted and held until it ends."""

    model_config = Strict
    symbol: Annotated[str, Field(min_length=1, max_length=20)]
    start_s: Annotated[float, Field(ge=0, le=10 * 366 * 86400)]
    duration_s: Annotated[float, Field(gt=0, le=10 * 366 * 86400)] | None = None   # None: to the end of the run
    kind: Literal["general", "volatility"] = "general"


class ExtraContractSpec(BaseModel):
    """A contract the scenario adds: enough for contractData, quotes and bars."""

    model_config = Strict
    symbol: Annotated[str, Field(min_length=1, max_length=20)]
    sec_type: Literal["STK", "IND", "CASH", "CRYPTO"] = "STK"
    exchange: Annotated[str, Field(min_length=1, max_length=20)] = "SMART"
    primary_exchange: Annotated[str, Field(max_length=20)] = ""
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "USD"
    min_tick: Annotated[float, Field(ge=1e-8, le=MAX_PRICE)] = 0.01   # IB's smallest ticks are 1e-5..1e-8
    price: PriceFloat
    long_name: Annotated[str, Field(max_length=80)] = ""
    listing_date: Annotated[str, Field(pattern=r"^(\d{8})?$")] = ""


MarketSpec.model_rebuild()


Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
Symbol = Annotated[str, Field(min_length=1, max_length=40)]
SecType = Literal["", "STK", "OPT", "FUT", "CASH"]
Side = Literal["BUY", "SELL"]


def _known_currency(ccy: str) -> str:
    """A currency the account can convert to its base (a pair in the universe, or the static rate table)."""
    from mock_gateway.sim.account import STATIC_USD_RATES

    if ccy not in STATIC_USD_RATES:
        raise ValueError(f"no exchange rate for {ccy} (known: {', '.join(sorted(STATIC_USD_RATES))})")
    return ccy


Quantity = Annotated[float, Field(ge=-1e9, le=1e9, allow_inf_nan=False)]
Price = Annotated[float, Field(gt=0, le=1e9, allow_inf_nan=False)]


class PositionSpec(BaseModel):
    """A position held when the scenario starts; avg_cost is IB's averageCost (price x multiplier)."""

    model_config = Strict
    symbol: Symbol
    qty: Quantity
    avg_cost: Price
    sec_type: SecType = ""

    @field_validator("qty")
    @classmethod
    def _not_zero(cls, value: float) -> float:
        if value == 0:
            raise ValueError("qty is 0: leave the position out instead")
        return value


class OpenOrderSpec(BaseModel):
    """A working order left from an earlier session (GTC by default)."""

    model_config = Strict
    symbol: Symbol
    action: Side
    qty: Annotated[float, Field(gt=0, le=1e9, allow_inf_nan=False)]
    order_type: Literal["LMT", "STP", "STP LMT"] = "LMT"
    lmt_price: Price | None = None
    aux_price: Price | None = None
    tif: Literal["GTC", "DAY"] = "GTC"
    order_id: Annotated[int, Field(ge=1)] | None = None
    client_id: Annotated[int, Field(ge=0)] | None = None   # None: the handler's client id
    order_ref: str = ""
    sec_type: SecType = ""

    @model_validator(mode="after")
    def _prices(self) -> OpenOrderSpec:
        if self.order_type in ("LMT", "STP LMT") and self.lmt_price is None:
            raise ValueError(f"a {self.order_type} order needs lmt_price")
        if self.order_type in ("STP", "STP LMT") and self.aux_price is None:
            raise ValueError(f"a {self.order_type} order needs aux_price (the stop price)")
        return self


class ExecutionSpec(BaseModel):
    """A fill from earlier in the day (a record: the positions already hold it)."""

    model_config = Strict
    symbol: Symbol
    side: Side
    qty: Annotated[float, Field(gt=0, le=1e9, allow_inf_nan=False)]
    price: Price
    ago_s: Annotated[float, Field(gt=0, le=86_400)] = 3600.0
    order_id: Annotated[int, Field(ge=1)] | None = None
    client_id: Annotated[int, Field(ge=0)] | None = None   # None: the handler's client id
    order_ref: str = ""
    sec_type: SecType = ""


class AccountSpec(BaseModel):
    model_config = Strict
    id: Annotated[str, Field(pattern=r"^DU\w+$")] = "DU1234567"  # the mock simulates paper accounts
    cash: Annotated[float, Field(ge=0, le=MAX_CASH)] = 1_000_000.0
    base_currency: Currency = "USD"
    type: Literal["margin", "cash"] = "margin"            # Reg T margin, or a cash account (settlement rules)
    cash_by_currency: Annotated[dict[Currency, float], Field(max_length=20)] = Field(default_factory=dict)
    segments: list[Literal["S", "C"]] = Field(default_factory=lambda: ["S"])

    @field_validator("base_currency")
    @classmethod
    def _known_base(cls, value: str) -> str:
        return _known_currency(value)

    @field_validator("cash_by_currency")
    @classmethod
    def _known_currencies(cls, value: dict[str, float]) -> dict[str, float]:
        for ccy, amount in value.items():
            _known_currency(ccy)
            if not math.isfinite(amount) or abs(amount) > 1e12:
                raise ValueError(f"cash_by_currency.{ccy}: {amount} is not a balance the mock can hold (|x| <= 1e12)")
        return value
    positions: Annotated[list[PositionSpec], Field(max_length=500)] = Field(default_factory=list)
    open_orders: Annotated[list[OpenOrderSpec], Field(max_length=500)] = Field(default_factory=list)
    executions: Annotated[list[ExecutionSpec], Field(max_length=5000)] = Field(default_factory=list)

    def config(self, default_client_id: int) -> AccountConfig:
        """The gateway's account: start state included, client ids defaulting to the handler's."""
        cid = default_client_id
        return AccountConfig(
            self.id, self.cash, self.base_currency, account_type=self.type,
            cash_by_currency={k: v for k, v in self.cash_by_currency.items() if k != self.base_currency},
            positions=[PositionConfig(p.symbol, p.qty, p.avg_cost, p.sec_type) for p in self.positions],
            open_orders=[OpenOrderConfig(o.symbol, o.action, o.qty, o.order_type, o.lmt_price, o.aux_price, o.tif,
                                         o.order_id, cid if o.client_id is None else o.client_id, o.order_ref,
                                         o.sec_type) for o in self.open_orders],
            executions=[ExecutionConfig(e.symbol, e.side, e.qty, e.price, e.ago_s, e.order_id,
                                        cid if e.client_id is None else e.client_id, e.order_ref, e.sec_type)
                        for e in self.executions],
            segments=tuple(dict.fromkeys(self.segments)))


class ApiSettingsSpec(BaseModel):
    """IB Gateway's API settings (Configure > Settings > API > Settings) the scenario runs with."""

    model_config = Strict
    read_only: bool = False                       # "Read-Only API": orders refused with 321
    master_client_id: Annotated[int, Field(ge=0)] | None = None   # "Master API client ID"
    pacing: Literal["reject", "pace"] = "reject"  # "Reject messages above maximum allowed message rate vs applying pacing"


class HandlerSpec(BaseModel):
    """The process under test (contracts §3); neither command nor entry_point: the reference handler."""

    model_config = Strict
    command: str | list[str] | None = None
    entry_point: Annotated[str, Field(pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")] | None = None
    client_id: Annotated[int, Field(ge=0, le=MAX_CLIENT_ID)] = 1
    env: dict[str, str] = Field(default_factory=dict)
    grace_period_s: Annotated[float, Field(ge=0, le=MAX_GRACE_PERIOD_S)] = 10.0

    @model_validator(mode="after")
    def _one_way_to_start(self) -> HandlerSpec:
        if self.command is not None and self.entry_point is not None:
            raise ValueError("give command or entry_point, not both")
        if self.command is None and self.entry_point is None:
            self.command = list(REFERENCE_HANDLER)
        if self.command is not None and not (self.command if isinstance(self.command, list)
                                             else self.command.strip()):
            raise ValueError("command is empty")
        return self

    def argv(self) -> list[str] | None:
        """The command as an argument list; a leading ``python`` is this interpreter."""
        if self.command is None:
            return None
        argv = self.command.split() if isinstance(self.command, str) else list(self.command)
        if argv and argv[0] in ("python", "python3"):
            argv[0] = sys.executable
        return argv


ContainerAction = Literal[CONTAINER_ACTION_NAMES]  # type: ignore[valid-type]  # one class each: harness.docker.faults


class ContainerFaultSpec(BaseModel):
    model_config = Strict
    action: ContainerAction
    at_s: TimeFloat
    duration_s: DurationFloat | None = None

    @model_validator(mode="after")
    def _executable(self) -> ContainerFaultSpec:
        problems = container_fault_problems(self.action, self.at_s, self.duration_s)
        if problems:
            raise ValueError("; ".join(problems))
        return self


class MetricBound(BaseModel):
    model_config = Strict
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _a_bound(self) -> MetricBound:
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is above max ({self.max})")
        return self


def known_metric(name: str) -> bool:
    """Metric names the harness computes (contracts §4, plus per-code pacing counts)."""
    from harness.metrics.report import METRIC_UNITS

    extras = {"duplicate_orders", "unrecovered_disconnects", "orders_placed", "pnl_final", "orders_held",
              "max_working_orders_per_contract"}
    return name in METRIC_UNITS or name in extras or re.fullmatch(r"pacing_violations_\d+", name) is not None


def _metric_name(name: str) -> str:
    if not known_metric(name):
        from harness.metrics.report import METRIC_UNITS

        close = difflib.get_close_matches(name, list(METRIC_UNITS), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(METRIC_UNITS)})"
        raise ValueError(f"unknown metric {name!r}{hint}")
    return name


class ExpectSpec(BaseModel):
    """What the handler must survive (error codes or event names) and which metrics must hold."""

    model_config = Strict
    survive: list[Annotated[int, Field(ge=0, le=99999)] | Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]] = \
        Field(default_factory=list)
    metrics: dict[Annotated[str, AfterValidator(_metric_name)], MetricBound] = Field(default_factory=dict)


class Scenario(BaseModel):
    """One run: world, clock, handler, faults and expectations. Times are sim seconds."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True, allow_inf_nan=False)
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][\w.-]*$")]
    description: Annotated[str, Field(min_length=1)]
    seed: Annotated[int, Field(ge=0, le=MAX_SEED)] = 42
    speed: SpeedFloat = 1.0
    duration_s: DurationFloat
    start: datetime | None = None
    market: MarketSpec = Field(default_factory=MarketSpec)
    accounts: Annotated[list[AccountSpec], Field(min_length=1)] = Field(default_factory=lambda: [AccountSpec()])
    market_data_lines: Annotated[int, Field(ge=1, le=10_000)] = 100
    default_pacing: bool = True
    log_market_data: bool = True
    #: Emulate an older gateway exactly: the highest API version it negotiates (157..193 text,
    #: 213..223 protobuf); None is the current stable IB Gateway (223).
    max_server_version: int | None = None
    #: Serve the HTTP fault-control API on HOST:PORT while the run goes on (off when None); the token, if
    #: any, comes from PRELIVE_CONTROL_TOKEN, never from the file. Off loopback it needs that token.
    control_api: str | None = None
    handler: HandlerSpec = Field(default_factory=HandlerSpec)
    api: ApiSettingsSpec = Field(default_factory=ApiSettingsSpec)
    faults: list[FaultSpec] = Field(default_factory=list)  # type: ignore[valid-type]
    container_faults: list[ContainerFaultSpec] = Field(default_factory=list)
    expect: ExpectSpec = Field(default_factory=ExpectSpec)
    source: Path | None = Field(default=None, exclude=True)

    @field_validator("max_server_version")
    @classmethod
    def _emulated_version(cls, value: int | None) -> int | None:
        from mock_gateway.protocol.versions import (
            MAX_SUPPORTED, MAX_TEXT_SERVED, MIN_PROTOBUF_SUPPORTED, MIN_SUPPORTED, supported,
        )

        if value is not None and not supported(value):
            raise ValueError(f"{value} is not a version this gateway emulates exactly: use {MIN_SUPPORTED}..{MAX_TEXT_SERVED} "
                             f"(text protocol) or {MIN_PROTOBUF_SUPPORTED}..{MAX_SUPPORTED} (protobuf)")
        return value

    @field_validator("control_api")
    @classmethod
    def _control_address(cls, value: str | None) -> str | None:
        if value is not None:
            from mock_gateway.faults.http_api import parse_address

            parse_address(value)   # its ValueError says what an address looks like
        return value

    @field_validator("start")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("start needs a time zone, e.g. 2026-11-24T14:30:00Z")
        return value

    @property
    def start_at(self) -> datetime:
        return self.start or DEFAULT_START

    def check(self) -> list[tuple[Loc, str]]:
        """Problems no single field shows: faults that never act, names that collide."""
        problems: list[tuple[Loc, str]] = []
        problems += _bounds_problems(self)
        ids = [a.id for a in self.accounts]
        for i, acct in enumerate(ids):
            if acct in ids[:i]:
                problems.append((("accounts", i, "id"), f"account {acct!r} is listed twice"))
        problems += self._start_state_problems()
        names: dict[str, int] = {}
        for i, fault in enumerate(self.faults):
            if fault.name in names:
                problems.append((("faults", i, "name"), f"two faults are named {fault.name!r} (faults[{names[fault.name]}]"
                                 "); give this one a name: of its own (names key the event log and the random streams)"))
            names.setdefault(fault.name, i)
            problems += [(("faults", i, *loc), msg) for loc, msg in self._fault_timing(fault)]
        for i, cf in enumerate(self.container_faults):
            if cf.at_s >= self.duration_s:
                problems.append((("container_faults", i, "at_s"),
                                 f"at {cf.at_s:g} s is not before the end of the scenario (duration_s {self.duration_s:g})"))
        return problems

    def _start_state_problems(self) -> list[tuple[Loc, str]]:
        """Start-state entries must name contracts of the universe; a cash account holds nothing short."""
        if not any(a.positions or a.open_orders or a.executions for a in self.accounts):
            return []
        from mock_gateway.sim.contracts import ContractBook
        from mock_gateway.sim.initial_state import InitialStateError, resolve_symbol

        m = self.market
        book = ContractBook.default(self.start_at, m.initial_prices, m.symbols, m.volatility_annual)
        problems: list[tuple[Loc, str]] = []
        for i, acct in enumerate(self.accounts):
            for kind in ("positions", "open_orders", "executions"):
                for j, entry in enumerate(getattr(acct, kind)):
                    try:
                        resolve_symbol(book, entry.symbol, entry.sec_type)
                    except InitialStateError as exc:
                        problems.append((("accounts", i, kind, j, "symbol"), str(exc).removeprefix("start state: ")))
            if acct.type == "cash":
                for j, pos in enumerate(acct.positions):
                    if pos.qty < 0:
                        problems.append((("accounts", i, "positions", j, "qty"),
                                         "a cash account cannot hold a short position (use type: margin)"))
        return problems

    def _fault_timing(self, fault: NamedFault) -> list[tuple[Loc, str]]:
        if isinstance(fault, DailyRestart):
            first = next(iter(fault.bound(self.seed, self.start_at).occurrences()))[0]
            if first >= self.duration_s:
                return [(("time",), f"{fault.time} {fault.timezone} does not come within the scenario "
                                    f"(start {self.start_at.isoformat()}, duration_s {self.duration_s:g})")]
            return []
        sched = fault.schedule
        if sched is not None and sched.first_start_s >= self.duration_s:
            field_name = next(k for k in ("at_s", "from_s", "start_s") if getattr(sched, k) is not None)
            return [(("schedule", field_name), f"starts at {sched.first_start_s:g} s, not before the end of the "
                                               f"scenario (duration_s {self.duration_s:g}): the fault would never act")]
        return []

    def gateway_config(self, port: int = 0, event_log: str | os.PathLike[str] | None = None,
                       **overrides: Any) -> GatewayConfig:
        """The mock gateway for this scenario: world, clock, and a fresh FaultStack (defaults + faults).

        ``overrides`` replace GatewayConfig fields, e.g. ``speed`` to run a long scenario faster."""
        problems = self.check()
        if problems:
            raise ScenarioError(self.source or self.name, [Problem(_dotted(loc), msg, None) for loc, msg in problems])
        m = self.market
        config = GatewayConfig(
            port=port, seed=self.seed, speed=self.speed, start=self.start_at,
            accounts=[a.config(self.handler.client_id) for a in self.accounts],
            market=MarketConfig(symbols=m.symbols, drift_annual=m.drift_annual, volatility_annual=m.volatility_annual,
                                tick_interval_s=m.tick_interval_s, spread_ticks=m.spread_ticks,
                                replay_csv=m.replay_csv, initial_prices=dict(m.initial_prices),
                                data_permission=m.data_permission,
                                extra_contracts=[c.model_dump() for c in m.contracts],
                                halts=[h.model_dump() for h in m.halts],
                                dividends={k: [d.model_dump() for d in v] for k, v in m.dividends.items()},
                                simulated_news=m.simulated_news),
            event_log=Path(event_log) if event_log is not None else None,
            log_market_data=self.log_market_data, market_data_lines=self.market_data_lines,
            read_only_api=self.api.read_only, master_client_id=self.api.master_client_id,
        )
        if self.max_server_version is not None:
            config.max_server_version = self.max_server_version
        if self.control_api is not None:
            from mock_gateway.faults.http_api import TOKEN_ENV, ControlApiConfigError, check_bind, parse_address

            config.control, config.control_token = self.control_api, os.environ.get(TOKEN_ENV) or None
            try:
                check_bind(parse_address(self.control_api)[0], config.control_token)
            except ControlApiConfigError as exc:
                raise ScenarioError(self.source or self.name, [Problem("control_api", str(exc), None)]) from None
        for key, value in overrides.items():
            if not hasattr(config, key):
                raise TypeError(f"GatewayConfig has no field {key!r}")
            setattr(config, key, value)
        faults = list(self.faults)
        if self.api.pacing == "pace" and not any(getattr(f, "type", "") == "message_rate" for f in faults):
            from mock_gateway.faults.pacing import MessageRate
            faults.append(MessageRate(name="api_pacing", reject_excess=False))
        config.faults = build_fault_stack(config, faults, default_pacing=self.default_pacing)
        return config


def _bounds_problems(scenario: Scenario) -> list[tuple[Loc, str]]:
    """Limits no single field shows: the tick rate the clock asks for, and every number in the
    faults (dataclasses the model holds) finite."""
    problems: list[tuple[Loc, str]] = []
    rate = scenario.speed / scenario.market.tick_interval_s
    if rate > MAX_TICKS_PER_WALL_S:
        problems.append((("market", "tick_interval_s"),
                         f"{scenario.market.tick_interval_s:g} s at speed {scenario.speed:g} is {rate:g} price steps "
                         f"per wall second per symbol; at most {MAX_TICKS_PER_WALL_S:g} (raise tick_interval_s "
                         f"or lower speed)"))
    for i, fault in enumerate(scenario.faults):
        for loc, value in _numbers(fault, ()):
            if isinstance(value, float) and not math.isfinite(value):
                problems.append((("faults", i, *loc), f"must be a finite number, not {value}"))
            elif abs(value) > 1e15:
                problems.append((("faults", i, *loc), "is out of range (at most 1e15)"))
    return problems


def _numbers(obj: Any, loc: Loc, depth: int = 0) -> list[tuple[Loc, float | int]]:
    """Every int/float inside a fault (dataclass fields, lists, dicts), with its loc."""
    if depth > 8:
        return []
    if isinstance(obj, bool):
        return []
    if isinstance(obj, (int, float)):
        return [(loc, obj)]
    out: list[tuple[Loc, float | int]] = []
    if hasattr(obj, "__dataclass_fields__"):
        for f in fields(obj):
            if f.init:
                out += _numbers(getattr(obj, f.name, None), (*loc, f.name), depth + 1)
    elif isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            out += _numbers(getattr(obj, name, None), (*loc, name), depth + 1)
    elif isinstance(obj, (list, tuple)):
        for j, item in enumerate(obj):
            out += _numbers(item, (*loc, j), depth + 1)
    elif isinstance(obj, dict):
        for key, item in obj.items():
            out += _numbers(item, (*loc, str(key)), depth + 1)
    return out


def _dotted(loc: Loc) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else (f".{p}" if i else p) for i, p in enumerate(loc))


# ---------------------------------------------------------------- loading
def _vocabulary() -> list[str]:
    """Every field name a scenario may use, to suggest the one a typo meant."""
    words: set[str] = set()
    for model in (Scenario, MarketSpec, AccountSpec, HandlerSpec, ContainerFaultSpec, MetricBound, ExpectSpec,
                  PositionSpec, OpenOrderSpec, ExecutionSpec, ApiSettingsSpec):
        words |= set(model.model_fields)
    from mock_gateway.faults import distributions, schedule
    for cls in (*FAULT_TYPES.values(), schedule.Schedule, distributions.Fixed, distributions.Uniform,
                distributions.Normal, distributions.LogNormal, distributions.Empirical):
        words |= {f.name for f in fields(cls) if f.init}
    return sorted(words - {"source"})


def _message(error: dict[str, Any]) -> str:
    kind, msg = error["type"], error["msg"]
    if kind in ("extra_forbidden", "unexpected_keyword_argument"):
        field_name = str(error["loc"][-1])
        close = difflib.get_close_matches(field_name, _vocabulary(), n=1, cutoff=0.75)
        return "unknown field" + (f" (did you mean {close[0]!r}?)" if close else "")
    if kind in ("missing", "missing_keyword_only_argument", "missing_argument"):
        return f"missing required field {error['loc'][-1]!r}"
    ctx = {k: str(v).replace("'", "") for k, v in error.get("ctx", {}).items()}
    if kind == "union_tag_invalid":
        return f"unknown {ctx.get('discriminator', 'type')} {ctx.get('tag')!r}; " \
               f"expected one of: {ctx.get('expected_tags', '')}"
    if kind == "union_tag_not_found":
        return f"needs a {ctx.get('discriminator', 'type')}: field"
    return msg.removeprefix("Value error, ")


def _missing_field_loc(error: dict[str, Any]) -> Loc:
    """A missing field is reported where its parent mapping is."""
    loc = tuple(error["loc"])
    if error["type"] in ("missing", "missing_keyword_only_argument", "missing_argument"):
        return loc[:-1]
    return loc


def load_scenario(path: str | os.PathLike[str], overrides: dict[str, str] | None = None,
                  data_dirs: list[str | os.PathLike[str]] | None = None) -> Scenario:
    """Read and validate a scenario file (a path, or the name of a shipped scenario).

    The file is untrusted: at most ``MAX_YAML_BYTES``, files it names resolve inside its folder or one
    of ``data_dirs`` (default: ``PRELIVE_DATA_DIRS``), and every number is bounded.
    ``overrides`` (``prelive run --set key=value``, ``--symbols``): dotted paths into the file's
    mapping (``seed``, ``market.symbols``, ``faults.0.max_per_s``, ``handler.env.MY_VAR``), each
    value read as YAML (``7``, ``[AAPL, MSFT]``, ``true``), set before validation, so an adapted
    scenario is checked exactly like a written one."""
    file = find_scenario(path)
    try:
        text = _read_bounded(file)
    except OSError as e:
        raise ScenarioError(file, [Problem(None, f"cannot read the file: {e.strerror or e}", None)]) from None
    except UnicodeDecodeError as e:
        raise ScenarioError(file, [Problem(None, f"not UTF-8 text ({e.reason} at byte {e.start})", None)]) from None
    try:
        data, root = parse(text)
    except YamlProblem as e:
        raise ScenarioError(file, [Problem(None, f"not valid YAML: {e.message}", e.line)]) from None
    if not isinstance(data, dict):
        raise ScenarioError(file, [Problem(None, "a scenario is a YAML mapping (name:, description:, duration_s:, ...)",
                                           root.start_mark.line + 1 if root is not None else None)])
    data.setdefault("name", file.stem)
    for key, text in (overrides or {}).items():
        try:
            _set_dotted(data, key, text)
        except (KeyError, IndexError, TypeError, ValueError) as e:
            raise ScenarioError(file, [Problem(f"--set {key}", str(e).strip("'\""), None)]) from None
    try:
        dirs = [Path(d) for d in data_dirs] if data_dirs is not None else env_data_dirs()
        scenario = Scenario.model_validate(data, context={"base_dir": file.parent, "data_dirs": dirs})
    except ValidationError as e:
        problems = []
        for err in e.errors():
            field_path, line = locate(root, _missing_field_loc(err))
            missing = err["type"].startswith("missing")
            problems.append(Problem((f"{field_path}.{err['loc'][-1]}" if field_path else str(err["loc"][-1]))
                                    if missing else (field_path or None), _message(err), line))
        raise ScenarioError(file, problems) from None
    scenario.source = file
    problems = []
    for loc, msg in scenario.check():
        field_path, line = locate(root, loc)
        problems.append(Problem(field_path, msg, line))
    if problems:
        raise ScenarioError(file, problems)
    return scenario


def _read_bounded(file: Path) -> str:
    """The text of a regular file of at most ``MAX_YAML_BYTES`` (never read past the limit)."""
    from .yaml_marks import MAX_YAML_BYTES

    if file.exists() and not file.is_file():
        raise ScenarioError(file, [Problem(None, "not a regular file", None)])
    with open(file, "rb") as fh:
        data = fh.read(MAX_YAML_BYTES + 1)
    if len(data) > MAX_YAML_BYTES:
        raise ScenarioError(file, [Problem(None, f"the file is larger than {MAX_YAML_BYTES} bytes; a scenario "
                                                 f"is a short YAML file", None)])
    return data.decode("utf-8")
def _set_dotted(data: dict[str, Any], key: str, text: str) -> None:
    import yaml

    parts = [p for p in key.split(".")]
    if not key or any(not p for p in parts):
        raise ValueError(f"{key!r} is not a dotted path such as seed, market.symbols or faults.0.max_per_s")
    try:
        value = yaml.safe_load(text) if text.strip() else text
    except yaml.YAMLError:
        value = text
    if parts[:2] == ["handler", "env"]:
        value = text    # environment values are strings as written
    node: Any = data
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise IndexError(f"{'.'.join(parts[:i]) or 'the scenario'} has {len(node)} entries; "
                                 f"{part!r} is not one of 0..{len(node) - 1}")
            if last:
                node[int(part)] = value
            else:
                node = node[int(part)]
        elif isinstance(node, dict):
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
        else:
            raise TypeError(f"{'.'.join(parts[:i])} is a value, not a mapping or list; cannot set {key}")


def apply_overrides(scenario: Scenario, overrides: dict[str, str]) -> Scenario:
    """The scenario re-read from its file with ``overrides`` applied (see :func:`load_scenario`)."""
    if not overrides:
        return scenario
    if scenario.source is None:
        raise ScenarioError(scenario.name, [Problem(None, "--set needs the scenario's file", None)])
    return load_scenario(scenario.source, overrides)


def shipped_scenarios() -> list[Path]:
    return sorted(SCENARIOS_DIR.glob("*.yaml"))


def find_scenario(name_or_path: str | os.PathLike[str]) -> Path:
    """A path as given, or a shipped scenario by name (``baseline`` -> scenarios/baseline.yaml)."""
    path = Path(name_or_path)
    if path.exists() or path.suffix or os.sep in str(name_or_path):
        return path
    shipped = SCENARIOS_DIR / f"{path.name}.yaml"
    return shipped if shipped.exists() else path
