"""Reference-data requests answered from the contract book: symbol search, option chains, market
rules, head timestamps, and the small lists TWS keeps (family codes, depth venues, SMART components).

Handlers here are rows of the one request table in :mod:`mock_gateway.handlers`.
"""
from __future__ import annotations

import functools
from collections import defaultdict
from datetime import date, datetime, time, timedelta, timezone
from collections.abc import Iterator
from typing import Any

from . import depth
from .protocol.kinds import ReplyKind
from .protocol import messages as m
from .protocol.fields import field_at, parse_int
from .protocol.requests import Request
from .replies import ReplyChannel
from .desks import Desks
from .errors import NoSecurityDefinition, RequestError
from .sim.bar_rules import listing_epoch
from .sim.contract_spec import MARKET_RULES, SMART_COMPONENTS, market_rule_ids_of
from .sim.contracts import ContractQuery, ContractSpec
from .sim import news
from .sim.history import sessions_cached
from .sim.market import HistoryError, session_rule
from .sim.sessions import SessionRule, hours_string
from .sim.universe_book import RULE_OF
from .streamed import Step


K = ReplyKind

#: How many descriptions reqMatchingSymbols returns at most (TWS: 16).
MAX_MATCHING_SYMBOLS = 16
#: How far back historical data reaches (the head timestamp), in years before the simulated start.
HISTORY_YEARS = 20
#: Venues TWS lists for market depth: the one table reqMktDepth serves from (mock_gateway.depth).
DEPTH_EXCHANGES = depth.DEPTH_EXCHANGES


_field = field_at

#: Contracts of the book read between two checks of the time budget (a whole chain is ~20,000).
_BOOK_STEP = 64

#: Days of sessions contractDetails lists from the simulated date (the real gateway lists about a week).
HOURS_DAYS = 7


class DetailsAt:
    """A contract's details with the tradingHours/liquidHours of the days from a simulated date; the rest its spec's."""

    __slots__ = ("_spec", "trading_hours", "liquid_hours")

    def __init__(self, spec: ContractSpec, trading_hours: str, liquid_hours: str) -> None:
        self._spec, self.trading_hours, self.liquid_hours = spec, trading_hours, liquid_hours

    def __getattr__(self, name: str) -> Any:
        return getattr(self._spec, name)


@functools.lru_cache(maxsize=256)
def _hours_from(rule: SessionRule, local_day: date) -> tuple[str, str]:
    start = datetime.combine(local_day, time(12), rule.zone())
    return hours_string(rule, start, HOURS_DAYS, rth=False), hours_string(rule, start, HOURS_DAYS, rth=True)


def details_at(spec: ContractSpec, now: datetime) -> ContractSpec | DetailsAt:
    """``spec``'s contract details as of the simulated time ``now``: the hours strings start at ``now``'s local date.

    IB writes tradingHours/liquidHours from the day of the request, so a run that crosses midnight
    (or a weekend, or a holiday) sees the sessions around the simulated date, not around its start.
    Contracts of a kind without a session rule (and without hours) keep what their spec has.
    """
    if spec.sec_type not in RULE_OF or not spec.trading_hours:
        return spec
    rule = session_rule(spec)
    trading, liquid = _hours_from(rule, now.astimezone(rule.zone()).date())
    return DetailsAt(spec, trading, liquid)


def contract_details_steps(g: Desks, sv: int, req_id: int, query: ContractQuery) -> Iterator[Step]:
    """reqContractDetails' replies, one contract at a time: a whole chain (SPX: ~20,000 contracts, 17 MB)
    is made, searched and encoded in steps, never held whole."""
    found = yield from g.world.contracts.match_steps(query)
    if not found:
        raise NoSecurityDefinition(req_id)
    now = g.clock.now_datetime()       # the hours strings start at the simulated date, as IB's start at today's
    for spec in found:
        yield m.contract_data(sv, req_id, spec, details_at(spec, now))
    yield m.contract_data_end(req_id)


def send_contract_details(g: Desks, s: ReplyChannel, req_id: int, query: ContractQuery) -> None:
    """Answer reqContractDetails, in slices between other sessions' work when the answer is long."""
    g.streams.send(s, K.CONTRACT_DATA, contract_details_steps(g, s.server_version, req_id, query), key=req_id,
                   on_failure=lambda: s.error(req_id, 321, "Error validating request.-'bI' : cause - internal "
                                                           "error in the mock gateway"))


def cancel_contract_data(g: Desks, s: ReplyChannel, r: Request) -> None:
    """cancelContractData (106): stops a contract-details answer still being sent; nothing more comes."""
    g.streams.cancel(s.conn_id, r.required_id())


def req_matching_symbols(g: Desks, s: ReplyChannel, r: Request) -> None:
    f = r.fields
    req_id, pattern = r.required_id(), _field(f, 2).strip().upper()
    g.streams.send(s, K.CONTRACT_DATA, _matching_symbols_steps(g, s.server_version, req_id, pattern),
                   key=("symbols", req_id))


def _matching_symbols_steps(g: Desks, sv: int, req_id: int, pattern: str) -> Iterator[Step]:
    """symbolSamples: stocks and currencies whose symbol starts with (or name holds) the pattern, with the
    kinds of derivatives listed on each; the whole book (options too) is read in steps."""
    derivatives: dict[int, set[str]] = defaultdict(set)
    listed: list[ContractSpec] = []
    for i, spec in enumerate(g.world.contracts):
        if spec.under_con_id:
            derivatives[spec.under_con_id].add(spec.sec_type)
        if spec.sec_type in ("STK", "CASH") and pattern and (
                spec.symbol.startswith(pattern) or pattern in spec.long_name.upper()):
            listed.append(spec)
        if i % _BOOK_STEP == _BOOK_STEP - 1:
            yield None
    # the exact symbol first (IB lists AMC before AMCR for "AMC"), then prefixes, then name matches; a home
    # (USD) listing before the same symbol abroad
    listed.sort(key=lambda spec: (spec.symbol != pattern, not spec.symbol.startswith(pattern), spec.currency != "USD",
                                  spec.symbol))
    descriptions = [m.ContractDescriptionFields(
        spec.con_id, spec.symbol, spec.sec_type, spec.primary_exchange or spec.exchange, spec.currency,
        sorted(derivatives.get(spec.con_id, ())), spec.long_name) for spec in listed[:MAX_MATCHING_SYMBOLS]]
    yield m.symbol_samples(sv, req_id, descriptions)


def req_sec_def_opt_params(g: Desks, s: ReplyChannel, r: Request) -> None:
    f = r.fields
    req_id, symbol, sec_type = r.required_id(), _field(f, 2).upper(), _field(f, 4).upper()
    under_con_id = parse_int(_field(f, 5)) or 0
    g.streams.send(s, K.CONTRACT_DATA, _sec_def_opt_params_steps(g, req_id, symbol, sec_type, under_con_id),
                   key=("secdef", req_id))


def _sec_def_opt_params_steps(g: Desks, req_id: int, symbol: str, sec_type: str, under_con_id: int) -> Iterator[Step]:
    """securityDefinitionOptionParameter per trading class and venue, then the end: the chains are made and
    the book read in steps (SPX's chain is ~20,000 contracts)."""
    book = g.world.contracts
    yield from book.load_all_steps()                   # the book is read whole below: its lazy part in steps
    under = book.get(under_con_id) if under_con_id else None
    for spec in [under] if under is not None else book.underlyings(symbol):
        yield from book.ensure_options_steps(spec)     # chains are made the first time they are asked for
    by_class: dict[tuple[str, str, int], list[ContractSpec]] = defaultdict(list)
    for i, spec in enumerate(book):
        if spec.sec_type in ("OPT", "FOP") \
                and (spec.under_con_id == under_con_id or (not under_con_id and spec.symbol == symbol)) \
                and (not sec_type or spec.under_sec_type == sec_type):
            by_class[(spec.trading_class, spec.multiplier, spec.under_con_id)].append(spec)
        if i % _BOOK_STEP == _BOOK_STEP - 1:
            yield None
    for (trading_class, multiplier, under_id), specs in sorted(by_class.items()):
        expirations = sorted({spec.last_trade_date for spec in specs})
        yield None
        strikes = sorted({spec.strike for spec in specs})
        yield None
        for exchange in dict.fromkeys(["SMART"] + specs[0].valid_exchanges.split(",")):
            if exchange:
                yield m.security_definition_option_parameter(req_id, exchange, under_id, trading_class,
                                                             multiplier, expirations, strikes)
    yield m.security_definition_option_parameter_end(req_id)


def req_market_rule(g: Desks, s: ReplyChannel, r: Request) -> None:
    f = r.fields
    rule_id = r.int_field(1, "marketRuleId")
    increments = MARKET_RULES.get(rule_id)
    if increments is None:   # a rule only the mock's own contracts carry: their finest tick from zero
        ticks = {spec.min_tick for spec in g.world.contracts if rule_id in market_rule_ids_of(spec)}
        if not ticks:
            raise RequestError(-1, 321, f"Error validating request.-'cq' : cause - Unknown market rule id {rule_id}")
        increments = ((0.0, min(ticks)),)
    s.send(K.CONTRACT_DATA, [m.market_rule(rule_id, list(increments))])


def req_head_timestamp(g: Desks, s: ReplyChannel, r: Request) -> None:
    f = r.fields
    req_id = r.required_id()
    spec_query = ContractQuery.from_wire(f[2:14]) if len(f) >= 14 else None
    if spec_query is None:
        raise ValueError("reqHeadTimeStamp ends inside its contract")
    found = g.world.contracts.match(spec_query)
    if len(found) != 1:
        raise NoSecurityDefinition(req_id)
    head = g.clock.start - timedelta(days=365 * HISTORY_YEARS)
    spec = found[0]
    if spec.listing_date:        # history starts at the listing date's first session (09:30 New York for stocks)
        listed = listing_epoch(spec.listing_date)
        first = sessions_cached(session_rule(spec), listed, listed + 10 * 86400, rth=True)
        head = datetime.fromtimestamp(first[0][0] if first else listed, timezone.utc)
    format_date = parse_int(_field(f, 17)) or 1
    text = str(int(head.timestamp())) if format_date == 2 else head.strftime("%Y%m%d-%H:%M:%S")
    s.send(K.HISTORICAL_DATA, [m.head_timestamp(req_id, text)])


def req_family_codes(g: Desks, s: ReplyChannel, r: Request) -> None:
    s.send(K.OTHER, [m.family_codes([(account, "") for account in g.config.account_ids])])


def req_mkt_depth_exchanges(g: Desks, s: ReplyChannel, r: Request) -> None:
    s.send(K.OTHER, [m.mkt_depth_exchanges(DEPTH_EXCHANGES)])


def req_smart_components(g: Desks, s: ReplyChannel, r: Request) -> None:
    s.send(K.OTHER, [m.smart_components(r.required_id(), SMART_COMPONENTS)])


#: The API news services IBKR enables in every account by default (TWS API docs, "News"); the others
#: need API-specific subscriptions, which a paper login does not have.
DEFAULT_NEWS_PROVIDERS = (("BRFG", "Briefing.com General Market Columns"), ("BRFUPDN", "Briefing.com Analyst Actions"),
                          ("DJNL", "Dow Jones Newsletters"))


def req_news_providers(g: Desks, s: ReplyChannel, r: Request) -> None:
    s.send(K.OTHER, [m.news_providers(list(DEFAULT_NEWS_PROVIDERS))])


def _news_allowed(req_id: int, codes: list[str]) -> None:
    allowed = {code for code, _ in DEFAULT_NEWS_PROVIDERS}
    if not codes or not set(codes) <= allowed:
        raise RequestError(req_id, 10276, "News feed is not allowed")


def _day_moves(g: Desks, spec: ContractSpec, start: datetime | None, end: datetime | None,
               total: int) -> list[news.DayMove]:
    """The contract's trading days in (start, end] (the newest ``total`` at most), from the daily bars history serves."""
    now = g.clock.start + timedelta(seconds=g.world.env.now)
    end = min(end or now, now)
    span = timedelta(days=int(min(total, news.MAX_HEADLINES) * 1.5) + 10)   # enough trading days, bounded
    start = max(start or end - span, end - span)
    if start >= end:
        return []
    epoch0 = g.clock.start.timestamp()
    what = "MIDPOINT" if spec.sec_type == "CASH" else "TRADES"
    try:
        bars = g.world.market.bars(spec.con_id, end.timestamp() - epoch0, (end - start).total_seconds() + 5 * 86400,
                                   86400.0, what, use_rth=True)
    except (HistoryError, ValueError):
        return []
    rule = session_rule(spec)
    moves, previous = [], None
    for bar in bars:
        local = datetime.fromtimestamp(epoch0 + bar.time_s, rule.zone())
        close_at = datetime.combine(local.date(), rule.liquid[1], rule.zone())
        if previous is not None and start < close_at <= end:
            moves.append(news.DayMove(local.date(), close_at.timestamp(), bar.close, previous))
        previous = bar.close
    return moves


def req_historical_news(g: Desks, s: ReplyChannel, r: Request) -> None:
    """Headlines of the default providers: none unless the scenario turns on simulated news (the simulated
    market has no real feed; ``market.simulated_news`` writes BRFG columns from its daily bars, marked
    simulated); other providers are not allowed (10276), as for an account without their API subscription."""
    req_id = r.required_id()
    codes = [code for code in field_at(r.fields, 3).split("+") if code]
    _news_allowed(req_id, codes)
    con_id = r.int_field(2, "conId")
    spec = g.world.contracts.get(con_id)
    if spec is None:
        raise RequestError(req_id, 200, "No security definition has been found for the request")
    if not getattr(g.world.market.config, "simulated_news", False):
        s.send(K.OTHER, [m.historical_news_end(req_id, False)])
        return
    try:
        start, end = news.parse_news_time(field_at(r.fields, 4)), news.parse_news_time(field_at(r.fields, 5))
    except ValueError as exc:
        raise RequestError(req_id, 321, f"Error validating request.-'bX' : cause - {exc}") from None
    total = parse_int(field_at(r.fields, 6)) or 0
    rows, has_more = news.headlines(codes, con_id, spec.symbol, _day_moves(g, spec, start, end, total), total)
    s.send(K.OTHER, [m.historical_news(req_id, row.time, row.provider, row.article_id, row.headline) for row in rows]
           + [m.historical_news_end(req_id, has_more)])


def req_news_article(g: Desks, s: ReplyChannel, r: Request) -> None:
    """An article of the default providers: the simulated market's own (``market.simulated_news``), read back from
    its id; any other id, or news not turned on, gets IB's 10276 as for a feed the account does not have."""
    req_id = r.required_id()
    provider, text_id = field_at(r.fields, 2).strip(), field_at(r.fields, 3)
    _news_allowed(req_id, [provider])
    parsed = news.parse_article_id(text_id) if getattr(g.world.market.config, "simulated_news", False) else None
    spec = g.world.contracts.get(parsed[1]) if parsed is not None and parsed[0] == provider else None
    if parsed is None or spec is None:
        raise RequestError(req_id, 10276, "News feed is not allowed")
    day = parsed[2]
    rule = session_rule(spec)
    end = datetime.combine(day, rule.liquid[1], rule.zone()) + timedelta(minutes=1)
    moves = [mv for mv in _day_moves(g, spec, end - timedelta(days=10), end, 10) if mv.day == day]
    if not moves:
        raise RequestError(req_id, 10276, "News feed is not allowed")
    s.send(K.OTHER, [m.news_article(req_id, 0, news.article_text(spec.symbol, spec.long_name, spec.currency,
                                                                  moves[0]))])


def req_user_info(g: Desks, s: ReplyChannel, r: Request) -> None:
    # an IBKR account has no white-branding partner: the id is empty
    s.send(K.OTHER, [m.user_info(r.required_id(), "")])


def req_soft_dollar_tiers(g: Desks, s: ReplyChannel, r: Request) -> None:
    s.send(K.OTHER, [m.soft_dollar_tiers(r.required_id(), [])])
