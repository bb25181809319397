"""One account: cash, positions at average cost, realized and unrealized PnL, margin and account values.

Bookkeeping follows IB: a position's average cost includes the commissions that opened it, a
closing fill realizes (fill price - average cost) x quantity less its own commission (the
average-cost method), and NetLiquidation = cash + the value of stock, option and forex
positions + the unrealized PnL of futures. Futures move no cash when opened: their realized
PnL (commissions included) is paid into cash when they are reduced.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .contracts import ContractSpec

if TYPE_CHECKING:   # config imports sim.clock, so sim modules import config only for types
    from ..config import AccountConfig
    from .market import Market

#: (initial, maintenance) margin as a fraction of position value: Reg T for stocks, SPAN-like for the rest.
MARGIN_RATES = {
    ("STK", "long"): (0.50, 0.25),
    ("STK", "short"): (0.50, 0.30),
    ("FUT", "long"): (0.06, 0.05),
    ("FUT", "short"): (0.06, 0.05),
    ("CASH", "long"): (0.03, 0.025),
    ("CASH", "short"): (0.03, 0.025),
    ("OPT", "long"): (0.0, 0.0),          # a bought option is paid in full: no margin beyond its price
    ("OPT", "short"): (0.20, 0.20),       # of the underlying's value, plus the option's value
}
#: Buying power of a Reg T margin account: four times excess liquidity (intraday).
BUYING_POWER_MULTIPLE = 4.0


@dataclass
class Position:
    """A position in one contract: signed quantity and IB's average price (commissions included)."""

    spec: ContractSpec
    qty: float = 0.0
    avg_price: float = 0.0               # per unit of price; avgCost on the wire is this x multiplier

    @property
    def avg_cost(self) -> float:
        """IB's averageCost: average price times the multiplier."""
        return self.avg_price * self.spec.multiplier_value


@dataclass(frozen=True)
class FillResult:
    """What one fill did to the account."""

    realized_pnl: float                  # 0 for a fill that only opened or added
    closed_qty: float                    # quantity that reduced an existing position


@dataclass(frozen=True)
class PortfolioItem:
    """One row of updatePortfolio."""

    spec: ContractSpec
    position: float
    market_price: float
    market_value: float
    average_cost: float
    unrealized_pnl: float
    realized_pnl: float
    account: str


@dataclass(frozen=True)
class Margin:
    initial: float
    maintenance: float


class Account:
    """Cash, positions and PnL of one account, marked to the market on demand."""

    def __init__(self, config: AccountConfig, market: Market | None = None, account_type: str = "INDIVIDUAL") -> None:
        self.config = config
        self.account_id = config.account_id
        self.currency = config.base_currency
        self.market = market
        self.account_type = account_type
        self.cash = float(config.cash)
        self.start_net_liquidation = float(config.cash)
        self.realized_pnl = 0.0
        self.commissions_paid = 0.0
        self.positions_by_con_id: dict[int, Position] = {}
        self.realized_by_con_id: dict[int, float] = {}

    # ------------------------------------------------------------------ fills
    def apply_fill(self, spec: ContractSpec, side: str, qty: float, price: float, commission: float) -> FillResult:
        """Book one fill: ``side`` BUY/BOT or SELL/SLD, ``qty`` > 0 units at ``price``, ``commission`` in USD."""
        if qty <= 0:
            raise ValueError(f"fill quantity must be > 0, got {qty}")
        sign = 1.0 if side.upper() in ("BUY", "BOT") else -1.0
        mult = spec.multiplier_value
        pos = self.positions_by_con_id.setdefault(spec.con_id, Position(spec))
        closing = min(qty, abs(pos.qty)) if pos.qty * sign < 0 else 0.0
        opening = qty - closing
        close_commission = commission * closing / qty
        open_commission = commission - close_commission
        realized = 0.0
        if closing:
            # a sale realizes (price - avg); a buy-to-cover realizes (avg - price)
            realized = (price - pos.avg_price) * closing * mult * (-sign) - close_commission
            pos.qty += sign * closing
            if abs(pos.qty) < 1e-12:
                pos.qty, pos.avg_price = 0.0, 0.0
        if opening:
            unit_cost = price + sign * open_commission / (opening * mult)
            new_qty = pos.qty + sign * opening
            pos.avg_price = (pos.avg_price * pos.qty + unit_cost * sign * opening) / new_qty
            pos.qty = new_qty
        if spec.sec_type == "FUT":
            self.cash += realized
        else:
            self.cash -= sign * qty * price * mult + commission
        self.realized_pnl += realized
        self.commissions_paid += commission
        self.realized_by_con_id[spec.con_id] = self.realized_by_con_id.get(spec.con_id, 0.0) + realized
        return FillResult(realized, closing)

    # ------------------------------------------------------------------ marks
    def _market(self, market: Market | None) -> Market:
        m = market or self.market
        if m is None:
            raise ValueError("this account has no market to mark its positions to")
        return m

    def positions(self) -> list[Position]:
        """Open positions (non-zero quantity)."""
        return [p for p in self.positions_by_con_id.values() if p.qty != 0]

    def position(self, con_id: int) -> float:
        p = self.positions_by_con_id.get(con_id)
        return p.qty if p else 0.0

    def mark(self, spec: ContractSpec, market: Market | None = None) -> float:
        """The price positions are valued at: the last price at the current sim time."""
        return self._market(market).price_at(spec.con_id, self._market(market).env.now)

    def portfolio(self, market: Market | None = None) -> list[PortfolioItem]:
        """Every contract ever held (closed ones with position 0, as IB reports them in the session)."""
        items = []
        for con_id, pos in self.positions_by_con_id.items():
            price = self.mark(pos.spec, market)
            mult = pos.spec.multiplier_value
            items.append(PortfolioItem(pos.spec, pos.qty, price, pos.qty * price * mult, pos.avg_cost,
                                       (price - pos.avg_price) * pos.qty * mult, self.realized_by_con_id.get(con_id, 0.0),
                                       self.account_id))
        return items

    def unrealized_pnl(self, market: Market | None = None) -> float:
        return sum(item.unrealized_pnl for item in self.portfolio(market))

    def pnl(self, market: Market | None = None) -> tuple[float, float, float]:
        """(daily, unrealized, realized) PnL; daily is the change in net liquidation since sim 0."""
        net = self.net_liquidation(market)
        return net - self.start_net_liquidation, self.unrealized_pnl(market), self.realized_pnl

    def position_values(self, market: Market | None = None) -> dict[str, float]:
        """Market value by kind: stock, option, forex, and futures PnL."""
        out = {"STK": 0.0, "OPT": 0.0, "CASH": 0.0, "FUT": 0.0}
        for item in self.portfolio(market):
            kind = item.spec.sec_type if item.spec.sec_type in out else "STK"
            out[kind] += item.unrealized_pnl if kind == "FUT" else item.market_value
        return out

    def net_liquidation(self, market: Market | None = None) -> float:
        return self.cash + sum(self.position_values(market).values())

    # ------------------------------------------------------------------ margin
    def margin(self, market: Market | None = None, extra: Mapping[int, float] | None = None) -> Margin:
        """Initial and maintenance margin of the positions, plus ``extra`` signed quantities by conId."""
        quantities = {con_id: p.qty for con_id, p in self.positions_by_con_id.items()}
        for con_id, q in (extra or {}).items():
            quantities[con_id] = quantities.get(con_id, 0.0) + q
        m = self._market(market)
        init = maint = 0.0
        for con_id, qty in quantities.items():
            if qty == 0:
                continue
            spec = m.contracts.get(con_id) or self.positions_by_con_id[con_id].spec
            i, mm = position_margin(spec, qty, self.mark(spec, m), m)
            init += i
            maint += mm
        return Margin(init, maint)

    def equity_with_loan(self, market: Market | None = None) -> float:
        """Net liquidation less long option value (IB does not lend against options)."""
        long_options = sum(item.market_value for item in self.portfolio(market)
                           if item.spec.sec_type == "OPT" and item.position > 0)
        return self.net_liquidation(market) - long_options

    # ------------------------------------------------------------------ account values
    def values(self, market: Market | None = None) -> dict[str, tuple[float | str, str]]:
        """Account values by key, as updateAccountValue and accountSummary report them: (value, currency)."""
        ccy = self.currency
        net = self.net_liquidation(market)
        by_kind = self.position_values(market)
        margin = self.margin(market)
        ewl = self.equity_with_loan(market)
        available = ewl - margin.initial
        excess = ewl - margin.maintenance
        gross = sum(abs(item.market_value) for item in self.portfolio(market) if item.spec.sec_type != "FUT")
        unrealized = self.unrealized_pnl(market)
        numbers = {
            "NetLiquidation": net, "TotalCashValue": self.cash, "CashBalance": self.cash, "SettledCash": self.cash,
            "AccruedCash": 0.0, "BuyingPower": max(0.0, BUYING_POWER_MULTIPLE * excess),
            "AvailableFunds": available, "ExcessLiquidity": excess, "FullAvailableFunds": available,
            "FullExcessLiquidity": excess, "LookAheadAvailableFunds": available, "LookAheadExcessLiquidity": excess,
            "GrossPositionValue": gross, "EquityWithLoanValue": ewl, "InitMarginReq": margin.initial,
            "MaintMarginReq": margin.maintenance, "FullInitMarginReq": margin.initial,
            "FullMaintMarginReq": margin.maintenance, "LookAheadInitMarginReq": margin.initial,
            "LookAheadMaintMarginReq": margin.maintenance, "RegTEquity": net, "RegTMargin": margin.initial,
            "SMA": max(0.0, net - margin.initial), "Cushion": excess / net if net else 0.0,
            "Leverage": gross / net if net else 0.0, "RealizedPnL": self.realized_pnl, "UnrealizedPnL": unrealized,
            "StockMarketValue": by_kind["STK"], "OptionMarketValue": by_kind["OPT"], "FuturesPNL": by_kind["FUT"],
            "NetLiquidationByCurrency": net, "ExchangeRate": 1.0,
        }
        out: dict[str, tuple[float | str, str]] = {k: (round(v, 2) if k not in ("Cushion", "Leverage", "ExchangeRate")
                                                      else round(v, 6), ccy) for k, v in numbers.items()}
        out.update({"AccountCode": (self.account_id, ""), "AccountType": (self.account_type, ""),
                    "AccountReady": ("true", ""), "Currency": (ccy, ccy), "DayTradesRemaining": ("-1", ""),
                    "SegmentTitle": ("", "")})
        return out


def position_margin(spec: ContractSpec, qty: float, price: float, market: Market | None = None) -> tuple[float, float]:
    """(initial, maintenance) margin of ``qty`` of ``spec`` at ``price``."""
    side = "long" if qty > 0 else "short"
    init_rate, maint_rate = MARGIN_RATES.get((spec.sec_type, side), MARGIN_RATES[("STK", side)])
    value = abs(qty) * price * spec.multiplier_value
    if spec.sec_type == "OPT" and qty < 0:
        under_price = price
        if market is not None and spec.under_con_id:
            under_price = market.price_at(spec.under_con_id, market.env.now)
        under_value = abs(qty) * under_price * spec.multiplier_value
        return value + init_rate * under_value, value + maint_rate * under_value
    return init_rate * value, maint_rate * value


__all__ = ["Account", "FillResult", "Margin", "PortfolioItem", "Position", "MARGIN_RATES", "BUYING_POWER_MULTIPLE",
           "position_margin"]
