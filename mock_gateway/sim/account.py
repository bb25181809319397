"""One account: cash per currency, positions at average cost, realized and unrealized PnL, margin and values.

Bookkeeping follows IB: a position's average cost includes the commissions that opened it, a
closing fill realizes (fill price - average cost) x quantity less its own commission (the
average-cost method). Cash is kept per currency: a stock fill moves the contract's currency,
a forex fill moves both legs (EUR.USD bought: EUR up, USD down), futures move no cash when
opened and pay their realized PnL into cash when reduced. Every figure reported in the base
currency converts each currency at the market's FX rate (``ExchangeRate``), so
NetLiquidation = sum over currencies of (cash + stock and option value + futures PnL) x rate.

A Reg T margin account lends against stock (50 % initial, 25 % maintenance); a cash account
lends nothing: it cannot short, pays for a buy in full, and a sale's proceeds settle T+1,
which is what the good-faith rule reads (a position bought with unsettled money may not be
sold before that money settles).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo
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


#: Cash-account requirements: a long stock or option is paid in full; nothing is lent.
CASH_ACCOUNT_RATES = {"STK": (1.0, 1.0), "OPT": (0.0, 0.0), "CASH": (0.0, 0.0)}
#: Approximate USD value of one unit of currencies the contract universe has no pair for.
STATIC_USD_RATES = {"USD": 1.0, "EUR": 1.08, "GBP": 1.27, "JPY": 0.0066, "CHF": 1.13, "CAD": 0.72, "AUD": 0.66,
                    "HKD": 0.128, "SGD": 0.74, "CNH": 0.138, "SEK": 0.095, "NOK": 0.093, "MXN": 0.055}
#: Business days until a trade's cash settles, by security type (US stocks and options T+1 since May 2024).
SETTLEMENT_DAYS = {"STK": 1, "OPT": 1, "CASH": 2}

#: The per-currency ledger rows of reqAccountUpdates, in the order IB sends them (nautilus_trader's
#: recorded account_values.json); ``$LEDGER`` summary tags are the same set.
LEDGER_TAGS = ("Currency", "CashBalance", "TotalCashBalance", "AccruedCash", "StockMarketValue", "OptionMarketValue",
               "FutureOptionValue", "FuturesPNL", "NetLiquidationByCurrency", "UnrealizedPnL", "RealizedPnL",
               "ExchangeRate", "FundValue", "NetDividend", "MutualFundValue", "MoneyMarketFundValue",
               "CorporateBondValue", "TBondValue", "TBillValue", "WarrantValue", "FxCashBalance", "AccountOrGroup",
               "RealCurrency", "IssuerOptionValue")
#: Account-level tags that IB repeats per segment (``-S`` securities, ``-C`` commodities) in reqAccountUpdates.
SEGMENTED_TAGS = ("AccruedCash", "AvailableFunds", "EquityWithLoanValue", "ExcessLiquidity", "FullAvailableFunds",
                  "FullExcessLiquidity", "FullInitMarginReq", "FullMaintMarginReq", "GrossPositionValue",
                  "InitMarginReq", "LookAheadAvailableFunds", "LookAheadExcessLiquidity", "LookAheadInitMarginReq",
                  "LookAheadMaintMarginReq", "MaintMarginReq", "NetLiquidation", "PreviousDayEquityWithLoanValue",
                  "RegTEquity", "RegTMargin", "SMA", "TotalCashValue")
#: reqAccountSummary tags (IB's AccountSummaryTags.AllTags) and the ones IB sends with no currency.
SUMMARY_TAGS = ("AccountType", "NetLiquidation", "TotalCashValue", "SettledCash", "AccruedCash", "BuyingPower",
                "EquityWithLoanValue", "PreviousDayEquityWithLoanValue", "GrossPositionValue", "RegTEquity",
                "RegTMargin", "SMA", "InitMarginReq", "MaintMarginReq", "AvailableFunds", "ExcessLiquidity", "Cushion",
                "FullInitMarginReq", "FullMaintMarginReq", "FullAvailableFunds", "FullExcessLiquidity",
                "LookAheadNextChange", "LookAheadInitMarginReq", "LookAheadMaintMarginReq", "LookAheadAvailableFunds",
                "LookAheadExcessLiquidity", "HighestSeverity", "DayTradesRemaining", "Leverage")
NO_CURRENCY_TAGS = frozenset({"AccountType", "Cushion", "LookAheadNextChange", "HighestSeverity", "DayTradesRemaining",
                              "DayTradesRemainingT+1", "DayTradesRemainingT+2", "DayTradesRemainingT+3",
                              "DayTradesRemainingT+4", "Leverage", "Leverage-S", "Leverage-C", "AccountCode",
                              "AccountReady", "NLVAndMarginInReview", "SegmentTitle-S", "SegmentTitle-C",
                              "TradingType-S", "WhatIfPMEnabled", "ColumnPrio-S", "ColumnPrio-C"})

Row = tuple[str, str, str]            # (tag, value text, currency)


def money(value: float, decimals: int = 2) -> str:
    """A money amount as IB prints it: fixed decimals, no -0.00."""
    text = f"{value:.{decimals}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def rate_text(value: float) -> str:
    """An exchange rate as IB prints it: '1.00' for the base currency, else up to 7 decimals."""
    if abs(value - 1.0) < 1e-12:
        return "1.00"
    return f"{value:.7f}".rstrip("0")


class CashAccountViolation(Exception):
    """An order a cash account may not take: (code, text) as IB rejects it."""

    def __init__(self, code: int, text: str) -> None:
        super().__init__(f"{code}: {text}")
        self.code, self.text = code, text


@dataclass
class _Settlement:
    settles_at_s: float
    currency: str
    amount: float                        # sale proceeds not yet settled


class Account:
    """Cash per currency, positions and PnL of one account, marked to the market on demand."""

    def __init__(self, config: AccountConfig, market: Market | None = None, account_type: str = "INDIVIDUAL") -> None:
        if config.account_type not in ("margin", "cash"):
            raise ValueError(f"account_type must be 'margin' or 'cash', got {config.account_type!r}")
        self.config = config
        self.account_id = config.account_id
        self.currency = config.base_currency
        self.market = market
        self.account_type = account_type          # the AccountType tag (INDIVIDUAL for a paper account)
        self.is_cash_account = config.account_type == "cash"
        self.segments: tuple[str, ...] = tuple(config.segments)
        self.cash_by_currency: dict[str, float] = {self.currency: float(config.cash)}
        for ccy, amount in config.cash_by_currency.items():
            self.cash_by_currency[ccy] = self.cash_by_currency.get(ccy, 0.0) + float(amount)
        self.realized_pnl = 0.0
        self.realized_by_currency: dict[str, float] = {}
        self.commissions_paid = 0.0
        self.positions_by_con_id: dict[int, Position] = {}
        self.realized_by_con_id: dict[int, float] = {}
        self._settlements: list[_Settlement] = []
        self._bought_unsettled: dict[int, tuple[float, float]] = {}   # conId -> (qty paid with unsettled cash, settles at)
        self.start_net_liquidation = self.net_liquidation() if market is not None else float(config.cash)
        self.previous_day_ewl = self.start_net_liquidation

    # ------------------------------------------------------------------ cash
    @property
    def cash(self) -> float:
        """Total cash in the base currency (every currency's balance at its exchange rate)."""
        return sum(amount * self.exchange_rate(ccy) for ccy, amount in self.cash_by_currency.items())

    def currencies(self) -> list[str]:
        """Currencies the account has cash or positions in: the base currency first, then alphabetical."""
        held = set(self.cash_by_currency) | {p.spec.currency for p in self.positions_by_con_id.values()}
        return [self.currency] + sorted(held - {self.currency})

    def exchange_rate(self, currency: str, market: Market | None = None) -> float:
        """Value of one unit of ``currency`` in the base currency, at the market's current FX prices."""
        if currency == self.currency:
            return 1.0
        return self._usd_rate(currency, market) / self._usd_rate(self.currency, market)

    def _usd_rate(self, currency: str, market: Market | None = None) -> float:
        if currency == "USD":
            return 1.0
        m = market or self.market
        if m is not None:
            for spec in m.contracts:
                if spec.sec_type != "CASH":
                    continue
                if spec.symbol == currency and spec.currency == "USD":
                    return m.price_at(spec.con_id, m.env.now)
                if spec.symbol == "USD" and spec.currency == currency:
                    return 1.0 / m.price_at(spec.con_id, m.env.now)
        if currency not in STATIC_USD_RATES:
            raise ValueError(f"no exchange rate for {currency!r}: the universe has no {currency}.USD pair "
                             f"(known: {', '.join(sorted(STATIC_USD_RATES))})")
        return STATIC_USD_RATES[currency]

    def _move_cash(self, currency: str, amount: float) -> None:
        self.cash_by_currency[currency] = self.cash_by_currency.get(currency, 0.0) + amount

    def settled_cash(self, now_s: float | None = None) -> float:
        """Cash in the base currency less sale proceeds that have not settled yet."""
        now = self._now() if now_s is None else now_s
        pending = sum(s.amount * self.exchange_rate(s.currency) for s in self._settlements if s.settles_at_s > now)
        return self.cash - pending

    def _now(self) -> float:
        return self.market.env.now if self.market is not None else 0.0

    def _settles_at(self, spec: ContractSpec, now_s: float) -> float:
        """Sim time the cash of a trade now settles: the start of the T+n business day (US/Eastern)."""
        days = SETTLEMENT_DAYS.get(spec.sec_type, 1)
        start = getattr(self.market, "start", None)
        if start is None:
            return now_s + 86400.0 * days
        zone = ZoneInfo("America/New_York")
        local = (start + timedelta(seconds=now_s)).astimezone(zone)
        day = local.date()
        while days:
            day += timedelta(days=1)
            if day.weekday() < 5:
                days -= 1
        settle = datetime(day.year, day.month, day.day, tzinfo=zone)
        return (settle - start).total_seconds()

    # ------------------------------------------------------------------ start state
    def seed_position(self, spec: ContractSpec, qty: float, avg_cost: float) -> None:
        """A position held at the start (IB's averageCost per unit x multiplier); cash is left as configured."""
        if qty == 0:
            return
        self.positions_by_con_id[spec.con_id] = Position(spec, float(qty), avg_cost / spec.multiplier_value)

    def mark_start(self) -> None:
        """Fix the start-of-day net liquidation (daily PnL's zero) once the start state is in."""
        self.start_net_liquidation = self.net_liquidation()
        self.previous_day_ewl = self.equity_with_loan()

    # ------------------------------------------------------------------ fills
    def check_order(self, spec: ContractSpec, side: str, qty: float, price: float, now_s: float) -> None:
        """Cash-account rules; raises CashAccountViolation with IB's code and text. A margin account passes."""
        if not self.is_cash_account:
            return
        buy = side.upper() in ("BUY", "BOT")
        held = self.position(spec.con_id)
        if spec.sec_type == "FUT":
            raise CashAccountViolation(201, "Order rejected - reason:Futures trading requires a margin account.")
        if not buy and qty > max(0.0, held) + 1e-9:
            raise CashAccountViolation(201, "Order rejected - reason:YOUR ORDER IS NOT ACCEPTED. SHORT SALES ARE "
                                            "NOT PERMITTED IN A CASH ACCOUNT.")
        if spec.sec_type == "CASH":
            return
        if buy:
            cost = qty * price * spec.multiplier_value * self.exchange_rate(spec.currency)
            available = self.cash
            if cost > available + 1e-6:
                raise CashAccountViolation(201, (
                    f"Order rejected - reason:YOUR ORDER IS NOT ACCEPTED. IN ORDER TO OBTAIN THE DESIRED POSITION "
                    f"YOUR EQUITY WITH LOAN VALUE [{self.equity_with_loan():.2f} {self.currency}] MUST EXCEED THE "
                    f"INITIAL MARGIN [{self.margin().initial + cost:.2f} {self.currency}]"))
            return
        unsettled_qty, settles_at = self._bought_unsettled.get(spec.con_id, (0.0, 0.0))
        free_qty = max(0.0, held - unsettled_qty)
        if now_s < settles_at and qty > free_qty + 1e-9:
            raise CashAccountViolation(201, (
                "Order rejected - reason:This order would result in a Good Faith Violation: the position was bought "
                "with unsettled funds and may not be sold before those funds settle (free riding is not permitted "
                "in a cash account)."))

    def apply_fill(self, spec: ContractSpec, side: str, qty: float, price: float, commission: float) -> FillResult:
        """Book one fill: ``side`` BUY/BOT or SELL/SLD, ``qty`` > 0 units at ``price`` in the contract's
        currency, ``commission`` in that currency too."""
        if qty <= 0:
            raise ValueError(f"fill quantity must be > 0, got {qty}")
        sign = 1.0 if side.upper() in ("BUY", "BOT") else -1.0
        mult = spec.multiplier_value
        ccy = spec.currency or self.currency
        now = self._now()
        settled_before = self.settled_cash(now) if self.is_cash_account and sign > 0 else 0.0
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
            self._move_cash(ccy, realized)
        elif spec.sec_type == "CASH":
            self._move_cash(spec.symbol, sign * qty)            # the base leg (EUR of EUR.USD)
            self._move_cash(ccy, -sign * qty * price - commission)
        else:
            self._move_cash(ccy, -sign * qty * price * mult - commission)
        if self.is_cash_account and spec.sec_type in SETTLEMENT_DAYS and spec.sec_type != "CASH":
            self._settle_bookkeeping(spec, sign, qty, price * mult * qty, ccy, settled_before, now)
        self.realized_pnl += realized * self.exchange_rate(ccy)
        self.realized_by_currency[ccy] = self.realized_by_currency.get(ccy, 0.0) + realized
        self.commissions_paid += commission
        self.realized_by_con_id[spec.con_id] = self.realized_by_con_id.get(spec.con_id, 0.0) + realized
        return FillResult(realized, closing)

    def _settle_bookkeeping(self, spec: ContractSpec, sign: float, qty: float, value: float, ccy: str,
                            settled_before: float, now: float) -> None:
        settles_at = self._settles_at(spec, now)
        if sign < 0:
            self._settlements.append(_Settlement(settles_at, ccy, value))
            unsettled_qty, at = self._bought_unsettled.get(spec.con_id, (0.0, 0.0))
            if unsettled_qty:
                self._bought_unsettled[spec.con_id] = (max(0.0, unsettled_qty - qty), at)
            return
        cost = value * self.exchange_rate(ccy)
        short_by = cost - max(0.0, settled_before)
        if short_by > 1e-9:   # paid partly with unsettled proceeds: that part may not be sold before they settle
            funded = min(qty, qty * short_by / cost)
            pending = [s.settles_at_s for s in self._settlements if s.settles_at_s > now]
            unsettled_qty, _ = self._bought_unsettled.get(spec.con_id, (0.0, 0.0))
            self._bought_unsettled[spec.con_id] = (unsettled_qty + funded, max(pending, default=now))

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
        """Unrealized PnL of every position, in the base currency."""
        return sum(item.unrealized_pnl * self.exchange_rate(item.spec.currency, market)
                   for item in self.portfolio(market))

    def pnl(self, market: Market | None = None) -> tuple[float, float, float]:
        """(daily, unrealized, realized) PnL in the base currency; daily is the change in net liquidation since sim 0."""
        net = self.net_liquidation(market)
        return net - self.start_net_liquidation, self.unrealized_pnl(market), self.realized_pnl

    def ledger(self, market: Market | None = None) -> dict[str, dict[str, float]]:
        """Per currency, in that currency: cash, stock / option value, futures PnL, unrealized PnL, net liquidation.

        Forex positions are conversions already in the cash balances, so they add no value of their own."""
        out = {ccy: {"cash": self.cash_by_currency.get(ccy, 0.0), "STK": 0.0, "OPT": 0.0, "FUT": 0.0,
                     "unrealized": 0.0} for ccy in self.currencies()}
        for item in self.portfolio(market):
            row = out.setdefault(item.spec.currency, {"cash": 0.0, "STK": 0.0, "OPT": 0.0, "FUT": 0.0,
                                                      "unrealized": 0.0})
            kind = item.spec.sec_type
            if kind == "FUT":
                row["FUT"] += item.unrealized_pnl
            elif kind != "CASH":
                row["OPT" if kind == "OPT" else "STK"] += item.market_value
            row["unrealized"] += item.unrealized_pnl
        for row in out.values():
            row["net"] = row["cash"] + row["STK"] + row["OPT"] + row["FUT"]
        return out

    def position_values(self, market: Market | None = None) -> dict[str, float]:
        """Market value by kind in the base currency: stock, option, futures PnL (forex lives in the cash)."""
        out = {"STK": 0.0, "OPT": 0.0, "CASH": 0.0, "FUT": 0.0}
        for ccy, row in self.ledger(market).items():
            rate = self.exchange_rate(ccy, market)
            for kind in ("STK", "OPT", "FUT"):
                out[kind] += row[kind] * rate
        return out

    def net_liquidation(self, market: Market | None = None) -> float:
        return sum(row["net"] * self.exchange_rate(ccy, market) for ccy, row in self.ledger(market).items())

    # ------------------------------------------------------------------ margin
    def margin(self, market: Market | None = None, extra: Mapping[int, float] | None = None) -> Margin:
        """Initial and maintenance margin (base currency) of the positions, plus ``extra`` signed quantities."""
        quantities = {con_id: p.qty for con_id, p in self.positions_by_con_id.items()}
        for con_id, q in (extra or {}).items():
            quantities[con_id] = quantities.get(con_id, 0.0) + q
        m = self._market(market)
        init = maint = 0.0
        for con_id, qty in quantities.items():
            if qty == 0:
                continue
            spec = m.contracts.get(con_id) or self.positions_by_con_id[con_id].spec
            if self.is_cash_account:
                i_rate, m_rate = CASH_ACCOUNT_RATES.get(spec.sec_type, (1.0, 1.0))
                value = abs(qty) * self.mark(spec, m) * spec.multiplier_value
                i, mm = i_rate * value, m_rate * value
            else:
                i, mm = position_margin(spec, qty, self.mark(spec, m), m)
            rate = self.exchange_rate(spec.currency, m)
            init += i * rate
            maint += mm * rate
        return Margin(init, maint)

    def equity_with_loan(self, market: Market | None = None) -> float:
        """Net liquidation less long option value (IB does not lend against options)."""
        long_options = sum(item.market_value * self.exchange_rate(item.spec.currency, market)
                           for item in self.portfolio(market) if item.spec.sec_type == "OPT" and item.position > 0)
        return self.net_liquidation(market) - long_options

    # ------------------------------------------------------------------ account values
    def values(self, market: Market | None = None) -> dict[str, tuple[float | str, str]]:
        """Account-level values by tag, as accountSummary reports them: (value, currency) in the base currency."""
        ccy = self.currency
        net = self.net_liquidation(market)
        by_kind = self.position_values(market)
        margin = self.margin(market)
        ewl = self.equity_with_loan(market)
        available = ewl - margin.initial
        excess = ewl - margin.maintenance
        gross = sum(abs(item.market_value) * self.exchange_rate(item.spec.currency, market)
                    for item in self.portfolio(market) if item.spec.sec_type not in ("FUT", "CASH"))
        unrealized = self.unrealized_pnl(market)
        cash = self.cash
        settled = self.settled_cash() if self.is_cash_account else cash
        buying_power = max(0.0, settled if self.is_cash_account else BUYING_POWER_MULTIPLE * excess)
        numbers = {
            "NetLiquidation": net, "TotalCashValue": cash, "CashBalance": cash, "SettledCash": settled,
            "AccruedCash": 0.0, "BuyingPower": buying_power,
            "AvailableFunds": available, "ExcessLiquidity": excess, "FullAvailableFunds": available,
            "FullExcessLiquidity": excess, "LookAheadAvailableFunds": available, "LookAheadExcessLiquidity": excess,
            "GrossPositionValue": gross, "EquityWithLoanValue": ewl, "PreviousDayEquityWithLoanValue":
            self.previous_day_ewl, "InitMarginReq": margin.initial,
            "MaintMarginReq": margin.maintenance, "FullInitMarginReq": margin.initial,
            "FullMaintMarginReq": margin.maintenance, "LookAheadInitMarginReq": margin.initial,
            "LookAheadMaintMarginReq": margin.maintenance, "RegTEquity": net, "RegTMargin": margin.initial,
            "SMA": max(0.0, net - margin.initial), "RealizedPnL": self.realized_pnl, "UnrealizedPnL": unrealized,
            "StockMarketValue": by_kind["STK"], "OptionMarketValue": by_kind["OPT"], "FuturesPNL": by_kind["FUT"],
            "NetLiquidationByCurrency": net,
        }
        out: dict[str, tuple[float | str, str]] = {k: (round(v, 2), ccy) for k, v in numbers.items()}
        out.update({"Cushion": (round(excess / net, 6) if net else 0.0, ""),
                    "Leverage": (round(gross / net, 2) if net else 0.0, ""),
                    "ExchangeRate": (1.0, ccy), "LookAheadNextChange": ("0", ""), "HighestSeverity": ("0", ""),
                    "DayTradesRemaining": ("-1", ""), "AccountCode": (self.account_id, ""),
                    "AccountType": (self.account_type, ""), "AccountReady": ("true", ""), "Currency": (ccy, ccy)})
        return out

    def ledger_rows(self, currency: str, market: Market | None = None) -> list[Row]:
        """The per-currency ledger rows for ``currency`` (a currency code, or 'BASE' for the base-currency total)."""
        ledger = self.ledger(market)
        if currency == "BASE":
            row = {k: sum(r[k] * self.exchange_rate(c, market) for c, r in ledger.items())
                   for k in ("cash", "STK", "OPT", "FUT", "unrealized", "net")}
            realized, rate, digits = self.realized_pnl, 1.0, 4
        else:   # IB prints a currency's own cash with 2 decimals, the BASE aggregate with 4
            row = ledger.get(currency) or {"cash": 0.0, "STK": 0.0, "OPT": 0.0, "FUT": 0.0, "unrealized": 0.0,
                                           "net": 0.0}
            realized, rate = self.realized_by_currency.get(currency, 0.0), self.exchange_rate(currency, market)
            digits = 2
        zero = money(0.0)
        values = {"Currency": currency, "CashBalance": money(row["cash"], digits),
                  "TotalCashBalance": money(row["cash"], digits), "AccruedCash": zero,
                  "StockMarketValue": money(row["STK"]), "OptionMarketValue": money(row["OPT"]),
                  "FutureOptionValue": zero, "FuturesPNL": money(row["FUT"]),
                  "NetLiquidationByCurrency": money(row["net"], 4), "UnrealizedPnL": money(row["unrealized"]),
                  "RealizedPnL": money(realized), "ExchangeRate": rate_text(rate), "FundValue": zero,
                  "NetDividend": zero, "MutualFundValue": zero, "MoneyMarketFundValue": zero,
                  "CorporateBondValue": zero, "TBondValue": zero, "TBillValue": zero, "WarrantValue": zero,
                  "FxCashBalance": zero, "AccountOrGroup": self.account_id, "RealCurrency": currency,
                  "IssuerOptionValue": zero}
        return [(tag, values[tag], currency) for tag in LEDGER_TAGS]

    def segment_values(self, segment: str, market: Market | None = None) -> dict[str, float]:
        """Account-level money values of one segment: 'S' securities (cash, stock, options), 'C' commodities (futures)."""
        m = self._market(market)
        futures = [p for p in self.positions() if p.spec.sec_type == "FUT"]
        if segment == "C":
            pnl = sum((self.mark(p.spec, m) - p.avg_price) * p.qty * p.spec.multiplier_value
                      * self.exchange_rate(p.spec.currency, m) for p in futures)
            init = maint = 0.0
            for p in futures:
                i, mm = position_margin(p.spec, p.qty, self.mark(p.spec, m), m)
                rate = self.exchange_rate(p.spec.currency, m)
                init, maint = init + i * rate, maint + mm * rate
            net = pnl
            cash = gross = 0.0
        else:
            total = self.values(m)
            margin_c = self.segment_values("C", m) if futures else {"InitMarginReq": 0.0, "MaintMarginReq": 0.0,
                                                                    "NetLiquidation": 0.0}
            net = float(total["NetLiquidation"][0]) - margin_c["NetLiquidation"]
            init = float(total["InitMarginReq"][0]) - margin_c["InitMarginReq"]
            maint = float(total["MaintMarginReq"][0]) - margin_c["MaintMarginReq"]
            cash, gross = self.cash, float(total["GrossPositionValue"][0])
        ewl = net - sum(it.market_value * self.exchange_rate(it.spec.currency, m) for it in self.portfolio(m)
                        if segment == "S" and it.spec.sec_type == "OPT" and it.position > 0)
        return {"AccruedCash": 0.0, "AvailableFunds": ewl - init, "EquityWithLoanValue": ewl,
                "ExcessLiquidity": ewl - maint, "FullAvailableFunds": ewl - init, "FullExcessLiquidity": ewl - maint,
                "FullInitMarginReq": init, "FullMaintMarginReq": maint, "GrossPositionValue": gross,
                "InitMarginReq": init, "LookAheadAvailableFunds": ewl - init, "LookAheadExcessLiquidity": ewl - maint,
                "LookAheadInitMarginReq": init, "LookAheadMaintMarginReq": maint, "MaintMarginReq": maint,
                "NetLiquidation": net, "PreviousDayEquityWithLoanValue": self.previous_day_ewl if segment == "S"
                else 0.0, "RegTEquity": net, "RegTMargin": init, "SMA": max(0.0, net - init),
                "TotalCashValue": cash}

    def update_rows(self, market: Market | None = None) -> list[Row]:
        """Every updateAccountValue row of reqAccountUpdates, in IB's alphabetical order: account-level values
        in the base currency with their segment twins, the per-currency ledger for each currency and BASE,
        and the tags IB sends with no currency."""
        m = self._market(market)
        ccy = self.currency
        values = self.values(m)
        rows: list[Row] = [("AccountCode", self.account_id, ""), ("AccountReady", "true", ""),
                           ("AccountType", self.account_type, "")]
        for c in ["BASE", *self.currencies()]:
            rows += [r for r in self.ledger_rows(c, m)]
        plain = ("AvailableFunds", "BuyingPower", "EquityWithLoanValue", "ExcessLiquidity", "FullAvailableFunds",
                 "FullExcessLiquidity", "FullInitMarginReq", "FullMaintMarginReq", "GrossPositionValue",
                 "InitMarginReq", "LookAheadAvailableFunds", "LookAheadExcessLiquidity", "LookAheadInitMarginReq",
                 "LookAheadMaintMarginReq", "MaintMarginReq", "NetLiquidation", "PreviousDayEquityWithLoanValue",
                 "RegTEquity", "RegTMargin", "SMA", "TotalCashValue")
        rows += [(tag, money(float(values[tag][0])), ccy) for tag in plain]
        for seg in self.segments:
            seg_values = self.segment_values(seg, m)
            rows += [(f"{tag}-{seg}", money(seg_values[tag]), ccy) for tag in SEGMENTED_TAGS]
            net = seg_values["NetLiquidation"]
            rows.append((f"Leverage-{seg}", money(seg_values["GrossPositionValue"] / net if net else 0.0), ""))
        rows += [("Cushion", str(values["Cushion"][0]), ""), ("DayTradesRemaining", "-1", ""),
                 ("DayTradesRemainingT+1", "-1", ""), ("DayTradesRemainingT+2", "-1", ""),
                 ("DayTradesRemainingT+3", "-1", ""), ("DayTradesRemainingT+4", "-1", ""),
                 ("LookAheadNextChange", "0", ""), ("NLVAndMarginInReview", "false", ""),
                 ("NetLiquidationUncertainty", "0.00", ccy), ("WhatIfPMEnabled", "true", "")]
        order = {tag: i for i, tag in enumerate(sorted({r[0] for r in rows}))}
        return sorted(rows, key=lambda r: (order[r[0]], r[2]))

    def summary_rows(self, tags: list[str], market: Market | None = None) -> list[Row]:
        """accountSummary rows for the requested tags; ``$LEDGER`` is the base-currency ledger,
        ``$LEDGER:CCY`` one currency's, ``$LEDGER:ALL`` every currency's and BASE."""
        m = self._market(market)
        values = self.values(m)
        rows: list[Row] = []
        for tag in tags:
            if tag.upper() == "$LEDGER":
                rows += self.ledger_rows("BASE", m)
            elif tag.upper() == "$LEDGER:ALL":
                for c in ["BASE", *self.currencies()]:
                    rows += self.ledger_rows(c, m)
            elif tag.upper().startswith("$LEDGER:"):
                rows += self.ledger_rows(tag.split(":", 1)[1].upper(), m)
            elif tag in values and tag in SUMMARY_TAGS:
                value, currency = values[tag]
                text = value if isinstance(value, str) else (str(value) if tag in ("Cushion", "Leverage")
                                                              else money(float(value)))
                rows.append((tag, text, "" if tag in NO_CURRENCY_TAGS else currency))
        return rows


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


__all__ = ["Account", "CashAccountViolation", "LEDGER_TAGS", "SUMMARY_TAGS", "FillResult", "Margin", "PortfolioItem", "Position", "MARGIN_RATES", "BUYING_POWER_MULTIPLE",
           "position_margin"]
