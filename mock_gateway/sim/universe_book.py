"""ContractSpecs for the universe's tables (:mod:`mock_gateway.sim.universe`): what contractData says of each."""
from __future__ import annotations

import functools
from collections.abc import Iterator
from datetime import date, datetime, timedelta

import numpy as np

from .contract_spec import (
    future_rule_id,
    _FUT_ORDER_TYPES,
    _FX_ORDER_TYPES,
    _OPT_ORDER_TYPES,
    _OPT_VENUES,
    _STOCK_ORDER_TYPES,
    _STOCK_VENUES,
    ContractSpec,
    occ_symbol,
)
from .pricing import CALENDAR_SECONDS_PER_YEAR, black_scholes, round_to_tick
from .sessions import EXCHANGE_SESSION_RULES, SESSION_RULES, SessionRule, expiry_epoch, hours_string
from .universe import (
    CRYPTO,
    DECEMBER_LEAPS,
    ETFS,
    EUROPEAN_INDICES,
    KNOWN_OPTION_CON_IDS,
    FUTURE_ROOTS,
    FUTURES_EXCHANGES,
    FX_MAJORS,
    INDICES,
    KNOWN_STOCKS,
    MONTH_CODES,
    chain_expiries,
    chain_strikes,
    strike_width,
    contract_months,
    european_members,
    index_members,
    liquid_us_stocks,
    synthetic_con_id,
    synthetic_listing,
    synthetic_price,
)

#: Which session rule a sec type trades under (indices and crypto borrow the closest one).
RULE_OF = {"STK": "STK", "ETF": "STK", "IND": "OPT", "OPT": "OPT", "FUT": "FUT", "CASH": "CASH", "CRYPTO": "CASH"}
#: Quarterly futures contango per quarter (next month over front month).
FUTURES_CARRY_PER_QUARTER = 0.01
#: A future's aggGroup: IB leaves it unset (Integer.MAX_VALUE) for futures and futures options, as
#: the contract details of CLZ3 and an ES option recorded in nautilus_trader's IB test kit show.
FUTURES_AGG_GROUP = 2147483647


#: A market rule id of the mock's own for stocks listed in Europe (IB's ids for their MiFID tick tables are not
#: public): reqMarketRule answers it from their min tick.
EUROPEAN_STOCK_RULE_ID = 90500


@functools.lru_cache(maxsize=64)
def _hours(sec_type: str, start: datetime, rth: bool) -> str:
    """tradingHours / liquidHours for a week from ``start``, worked out once per sec type (not per contract)."""
    return hours_string(SESSION_RULES[RULE_OF.get(sec_type, "STK")], start, 7, rth)


@functools.lru_cache(maxsize=64)
def _venue_hours(rule: SessionRule, start: datetime, rth: bool) -> str:
    """tradingHours / liquidHours of a European venue's rule for a week from ``start``."""
    return hours_string(rule, start, 7, rth)


def _price(prices: dict[str, float], default: float, *keys: str) -> float:
    upper = {k.upper(): v for k, v in prices.items()}
    for key in keys:
        if key.upper() in upper:
            return float(upper[key.upper()])
    return default


def stock_spec(start: datetime, prices: dict[str, float], symbol: str, primary: str, long_name: str, isin: str,
               industry: str, category: str, subcategory: str, stock_type: str, con_id: int, price: float,
               listing: str, trading_class: str = "") -> ContractSpec:
    venues = _STOCK_VENUES.split(",")
    trading_class = trading_class or ("NMS" if primary == "NASDAQ" else symbol)
    return ContractSpec(
        con_id=con_id, symbol=symbol, sec_type="STK", exchange="SMART", primary_exchange=primary, currency="USD",
        local_symbol=symbol, trading_class=trading_class, market_name=trading_class, min_tick=0.01,
        long_name=long_name, initial_price=_price(prices, price, symbol), order_types=_STOCK_ORDER_TYPES,
        valid_exchanges=_STOCK_VENUES, industry=industry, category=category, subcategory=subcategory,
        time_zone_id=SESSION_RULES["STK"].tz, trading_hours=_hours("STK", start, False),
        liquid_hours=_hours("STK", start, True), sec_ids=(("ISIN", isin),) if isin else (),
        market_rule_ids=",".join(["26"] * len(venues)), stock_type=stock_type, min_size=1.0, size_increment=1.0,
        suggested_size_increment=100.0, listing_date=listing)


def european_stock_spec(start: datetime, prices: dict[str, float], symbol: str, venue: str, currency: str,
                        long_name: str, isin: str, industry: str, category: str) -> ContractSpec:
    """A stock listed on a European venue: SMART-routed with the venue as primary exchange, in its currency,
    trading the venue's hours in its time zone."""
    rule = EXCHANGE_SESSION_RULES[venue]
    key = f"{symbol}@{venue}"
    return ContractSpec(
        con_id=synthetic_con_id("STK", key), symbol=symbol, sec_type="STK", exchange="SMART", primary_exchange=venue,
        currency=currency, local_symbol=symbol, trading_class=symbol, market_name=symbol, min_tick=0.01,
        long_name=long_name, initial_price=_price(prices, synthetic_price(key), f"{symbol}.{currency}", symbol),
        order_types=_STOCK_ORDER_TYPES, valid_exchanges=f"SMART,{venue}", industry=industry, category=category,
        subcategory=industry, time_zone_id=rule.tz, trading_hours=_venue_hours(rule, start, False),
        liquid_hours=_venue_hours(rule, start, True), sec_ids=(("ISIN", isin),) if isin else (),
        market_rule_ids=f"{EUROPEAN_STOCK_RULE_ID},{EUROPEAN_STOCK_RULE_ID}", stock_type="COMMON", min_size=1.0,
        size_increment=1.0, suggested_size_increment=1.0, bbo_exchange="", listing_date=synthetic_listing(key))


def european_index_specs(start: datetime, prices: dict[str, float]) -> list[ContractSpec]:
    """DAX, ESTX50, CAC40, AEX (EOE), IBEX35, SMI, FTSE 100 (Z)...: IND on IB's exchange, in local currency and hours."""
    out: list[ContractSpec] = []
    for symbol, exchange, currency, name, level, listing in EUROPEAN_INDICES:
        rule = EXCHANGE_SESSION_RULES[exchange]
        out.append(ContractSpec(
            con_id=synthetic_con_id("IND", f"{symbol}@{exchange}"), symbol=symbol, sec_type="IND", exchange=exchange,
            currency=currency, local_symbol=symbol, trading_class=symbol, market_name=symbol, min_tick=0.01,
            long_name=name, initial_price=_price(prices, level, symbol), valid_exchanges=exchange,
            time_zone_id=rule.tz, trading_hours=_venue_hours(rule, start, False),
            liquid_hours=_venue_hours(rule, start, True), market_rule_ids="110", listing_date=listing,
            bbo_exchange="", agg_group=2147483647, min_size=1.0, size_increment=1.0, suggested_size_increment=1.0))
    return out


def member_specs(start: datetime, prices: dict[str, float]) -> Iterator[ContractSpec]:
    """The lazily loaded part of the default universe: S&P 500 and Nasdaq 100 members, widely traded US
    listings outside them, and the members of the European indices on their own venues; made as they are
    read (a lookup that loads them can pause between them)."""
    us = {mem.symbol: mem for mem in liquid_us_stocks()}
    us.update({mem.symbol: mem for mem in index_members()})        # the index data wins for a name in both
    for mem in us.values():
        con_id, price, listing = KNOWN_STOCKS.get(mem.symbol, (0, 0.0, ""))
        yield stock_spec(start, prices, mem.symbol, mem.primary, mem.long_name, mem.isin, mem.industry,
                         mem.category, mem.industry, "COMMON", con_id or synthetic_con_id("STK", mem.symbol),
                         price or synthetic_price(mem.symbol), listing or synthetic_listing(mem.symbol))
    for mem in european_members():
        yield european_stock_spec(start, prices, mem.symbol, mem.primary, mem.currency, mem.long_name,
                                  mem.isin, mem.industry, mem.category)
    yield from european_index_specs(start, prices)


def fx_spec(start: datetime, prices: dict[str, float], base: str, quote: str, con_id: int, name: str, price: float,
            tick: float) -> ContractSpec:
    """A currency pair on IDEALPRO."""
    pair = f"{base}.{quote}"
    return ContractSpec(
        con_id=con_id, symbol=base, sec_type="CASH", exchange="IDEALPRO", currency=quote, local_symbol=pair,
        trading_class=pair, market_name=pair, min_tick=tick, long_name=name,
        initial_price=_price(prices, price, pair, base + quote), order_types=_FX_ORDER_TYPES,
        valid_exchanges="IDEALPRO", time_zone_id=SESSION_RULES["CASH"].tz,
        trading_hours=_hours("CASH", start, False), liquid_hours=_hours("CASH", start, True),
        market_rule_ids="239", agg_group=4, min_size=1.0, size_increment=1.0, suggested_size_increment=1.0,
        bbo_exchange="", listing_date="19900102")


def core_extras(start: datetime, prices: dict[str, float], have: set[str]) -> list[ContractSpec]:
    """ETFs, indices, FX majors, futures and crypto not already in ``have`` (local symbols)."""
    out: list[ContractSpec] = []
    for symbol, primary, name, con_id, price, listing in ETFS:
        if symbol not in have:
            out.append(stock_spec(start, prices, symbol, primary, name, "", "Funds", "Equity Fund", "ETF", "ETF",
                                  con_id or synthetic_con_id("STK", symbol), price, listing))
    for symbol, exchange, name, con_id, level, listing, tick in INDICES:
        out.append(ContractSpec(
            con_id=con_id, symbol=symbol, sec_type="IND", exchange=exchange, currency="USD", local_symbol=symbol,
            trading_class=symbol, market_name=symbol, min_tick=tick, long_name=name,
            initial_price=_price(prices, level, symbol), valid_exchanges=exchange,
            time_zone_id=SESSION_RULES["OPT"].tz, trading_hours=_hours("IND", start, False),
            liquid_hours=_hours("IND", start, True), market_rule_ids="110", listing_date=listing, bbo_exchange="",
            agg_group=2147483647, min_size=1.0, size_increment=1.0, suggested_size_increment=1.0))
    for base, quote, con_id, name, price in FX_MAJORS:
        pair = f"{base}.{quote}"
        if pair in have:
            continue
        out.append(fx_spec(start, prices, base, quote, con_id or synthetic_con_id("CASH", pair), name, price,
                           0.005 if quote == "JPY" else 0.00005))
    for root in FUTURE_ROOTS:
        front = _price(prices, root.price, root.symbol)
        for k, (expiry, year, month) in enumerate(contract_months(root, start.date(), root.listed)):
            local = f"{root.symbol}{MONTH_CODES[month - 1]}{year % 10}"
            if local in have:
                continue
            carry = (1 + FUTURES_CARRY_PER_QUARTER) ** k if root.under_sec_type == "IND" else 1.0
            con_id = root.con_id_base + k if root.con_id_base else synthetic_con_id("FUT", local)
            out.append(ContractSpec(
                con_id=con_id, symbol=root.symbol, sec_type="FUT", exchange=root.exchange, currency="USD",
                local_symbol=local, trading_class=root.symbol, market_name=root.symbol, min_tick=root.min_tick,
                long_name=root.long_name,
                initial_price=_price(prices, round_to_tick(front * carry, root.min_tick), local),
                last_trade_date=f"{expiry:%Y%m%d}", multiplier=root.multiplier, contract_month=f"{year}{month:02d}",
                order_types=_FUT_ORDER_TYPES, valid_exchanges=root.exchange, under_con_id=root.under_con_id,
                time_zone_id=SESSION_RULES["FUT"].tz, trading_hours=_hours("FUT", start, False),
                liquid_hours=_hours("FUT", start, True), agg_group=FUTURES_AGG_GROUP, under_symbol=root.under_symbol,
                under_sec_type=root.under_sec_type, market_rule_ids=str(future_rule_id(root.min_tick)), real_expiration_date=f"{expiry:%Y%m%d}",
                min_size=1.0, size_increment=1.0, suggested_size_increment=1.0, bbo_exchange="",
                listing_date=f"{expiry - timedelta(days=455):%Y%m%d}"))
    for symbol, con_id, name, price, tick, listing in CRYPTO:
        out.append(ContractSpec(
            con_id=con_id, symbol=symbol, sec_type="CRYPTO", exchange="PAXOS", currency="USD",
            local_symbol=f"{symbol}.USD", trading_class=symbol, market_name=f"{symbol}.USD", min_tick=tick,
            long_name=name, initial_price=_price(prices, price, symbol, f"{symbol}.USD"),
            order_types="ADJUST,ALERT,ALLOC,AVGCOST,BASKET,COND,CONDORDER,DAY,DEACT,DEACTDIS,DEACTEOD,GAT,GTC,IOC,"
                        "LIT,LMT,MIT,MKT,NONALGO,OCA,STP,STPLMT,WHATIF",
            valid_exchanges="PAXOS", time_zone_id=SESSION_RULES["CASH"].tz,
            trading_hours=_hours("CRYPTO", start, False), liquid_hours=_hours("CRYPTO", start, True),
            market_rule_ids="239", min_size=0.0001, size_increment=0.0001, suggested_size_increment=0.0001,
            bbo_exchange="", listing_date=listing))
    return out


def extra_spec(start: datetime, item: dict) -> ContractSpec:
    """A scenario's own contract (MarketConfig.extra_contracts): a stable synthetic conId from its symbol."""
    symbol = str(item["symbol"]).upper()
    sec_type = str(item.get("sec_type", "STK")).upper()
    currency = str(item.get("currency", "USD")).upper()
    local = f"{symbol}.{currency}" if sec_type in ("CASH", "CRYPTO") else symbol
    rule = RULE_OF.get(sec_type, "STK")
    return ContractSpec(
        con_id=synthetic_con_id(f"X{sec_type}", f"{local}@{item.get('exchange', 'SMART')}"), symbol=symbol,
        sec_type=sec_type, exchange=str(item.get("exchange", "SMART")).upper(), currency=currency,
        local_symbol=local, trading_class=symbol, market_name=symbol, min_tick=float(item.get("min_tick", 0.01)),
        long_name=str(item.get("long_name") or symbol), initial_price=float(item["price"]),
        primary_exchange=str(item.get("primary_exchange", "")).upper(),
        order_types=_STOCK_ORDER_TYPES if sec_type == "STK" else _FX_ORDER_TYPES,
        valid_exchanges=str(item.get("exchange", "SMART")).upper(), time_zone_id=SESSION_RULES[rule].tz,
        trading_hours=_hours(sec_type, start, False), liquid_hours=_hours(sec_type, start, True),
        market_rule_ids="26", listing_date=str(item.get("listing_date", "")))


def option_spec(start: datetime, prices: dict[str, float], under: ContractSpec, expiry: date, strike: float,
                right: str, value: float, con_id: int, trading_class: str, venues: str = _OPT_VENUES,
                min_tick: float = 0.01) -> ContractSpec:
    """One listed option on ``under``; ``value`` is its theoretical price (a scenario's price for it wins)."""
    ltd = f"{expiry:%Y%m%d}"
    local = occ_symbol(under.symbol, expiry, right, strike)
    return ContractSpec(
        con_id=con_id, symbol=under.symbol, sec_type="OPT", exchange="SMART", currency="USD", local_symbol=local,
        trading_class=trading_class, market_name=trading_class, min_tick=min_tick, long_name=under.long_name,
        initial_price=_price(prices, value, local), last_trade_date=ltd, strike=strike, right=right,
        multiplier="100", contract_month=f"{expiry:%Y%m}", order_types=_OPT_ORDER_TYPES,
        # no industry / category / subcategory on an option (TSLA 230120C100 in nautilus_trader's IB test kit)
        valid_exchanges=venues, under_con_id=under.con_id, time_zone_id=SESSION_RULES["OPT"].tz,
        trading_hours=_hours("OPT", start, False), liquid_hours=_hours("OPT", start, True), agg_group=2,
        under_symbol=under.symbol, under_sec_type=under.sec_type,
        market_rule_ids=",".join(["32"] * len(venues.split(","))), real_expiration_date=ltd,
        min_size=1.0, size_increment=1.0, suggested_size_increment=1.0,
        listing_date=f"{max(expiry - timedelta(days=270), date(2000, 1, 3)):%Y%m%d}")


def option_chain(start: datetime, prices: dict[str, float], volatility_annual: float,
                 under: ContractSpec) -> Iterator[ContractSpec]:
    """Every option listed on ``under`` (a stock, ETF or index) around ``start``, by the listing rules: made
    one contract at a time as they are read (SPX lists ~20,000, a second's work), so a reader can pause."""
    index = under.sec_type == "IND"
    if index and under.exchange in FUTURES_EXCHANGES:
        return                        # options on CME's indices are options on the futures (FOP)
    if under.currency != "USD":
        return                        # European options (EUREX, ICEEU, MEFF...) list by other rules: not modelled
    spot = under.initial_price
    if not chain_strikes(spot, index):
        return
    venues = "CBOE,CBOE2" if index else _OPT_VENUES
    for expiry in chain_expiries(start.date(), december_leaps=under.symbol in DECEMBER_LEAPS):   # conIds: see
        # ContractBook.add (a clash gets the next free id)
        ltd = f"{expiry:%Y%m%d}"
        years = (expiry_epoch(ltd, "OPT") - start.timestamp()) / CALENDAR_SECONDS_PER_YEAR
        strikes = np.array(chain_strikes(spot, index, strike_width(years)))   # LEAPS list a wider band
        weekly = expiry.day > 21 or expiry.day < 15 or expiry.weekday() != 4
        trading_class = (f"{under.symbol}W" if weekly and index else under.symbol)
        for right in ("C", "P"):
            theo = np.maximum(0.01, np.round(black_scholes(spot, strikes, years, volatility_annual, right), 2))
            for strike, value in zip(strikes.tolist(), theo.tolist()):
                local = occ_symbol(under.symbol, expiry, right, strike)
                yield option_spec(start, prices, under, expiry, strike, right, value,
                                  KNOWN_OPTION_CON_IDS.get(local) or synthetic_con_id("OPT", local),
                                  trading_class, venues, 0.05 if index else 0.01)


__all__ = ["EUROPEAN_STOCK_RULE_ID", "FUTURES_CARRY_PER_QUARTER", "RULE_OF", "core_extras", "european_index_specs", "european_stock_spec",
           "extra_spec", "fx_spec",
           "member_specs", "option_chain", "option_spec", "stock_spec"]
