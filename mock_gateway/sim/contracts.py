"""The contracts the mock gateway knows, and IB-style contract lookup.

:class:`ContractBook.match` answers reqContractDetails (and qualifies the contract of every
order and market-data request) the way IB does: a conId alone identifies; otherwise the
given fields filter the universe, so an under-specified future or option query is ambiguous.
"""
from __future__ import annotations

import functools
import math
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from .clock import DEFAULT_START
from .contract_spec import ContractSpec, _num, occ_symbol
from .pricing import CALENDAR_SECONDS_PER_YEAR, black_scholes, round_to_tick
from .sessions import expiry_epoch

#: The 12 contract fields of the wire, in wire order (ibapi/client.py reqMktData: conId through tradingClass).
WIRE_CONTRACT_FIELDS = ("conId", "symbol", "secType", "lastTradeDateOrContractMonth", "strike", "right",
                        "multiplier", "exchange", "primaryExchange", "currency", "localSymbol", "tradingClass")

_RIGHTS = {"C": "C", "CALL": "C", "P": "P", "PUT": "P"}
#: Exchange names IB treats as the same venue.
_EXCHANGE_ALIASES = {"ISLAND": "NASDAQ", "GLOBEX": "CME", "NYSEARCA": "ARCA"}


def _norm_exchange(name: str) -> str:
    name = name.upper()
    return _EXCHANGE_ALIASES.get(name, name)


@dataclass(frozen=True)
class ContractQuery:
    """A contract as a client sends it: the 12 wire fields, empty (or 0) meaning unset."""

    con_id: int = 0
    symbol: str = ""
    sec_type: str = ""
    last_trade_date: str = ""
    strike: float = 0.0
    right: str = ""
    multiplier: str = ""
    exchange: str = ""
    primary_exchange: str = ""
    currency: str = ""
    local_symbol: str = ""
    trading_class: str = ""
    sec_id_type: str = ""          # reqContractDetails may look up by secId (e.g. ISIN) instead
    sec_id: str = ""

    @classmethod
    def from_wire(cls, fields: Sequence[str], sec_id_type: str = "", sec_id: str = "") -> ContractQuery:
        """From the 12 contract fields as they arrive on the wire (strings, in wire order)."""
        if len(fields) < 12:
            raise ValueError(f"a wire contract has 12 fields, got {len(fields)}")
        f = list(fields[:12])
        return cls(con_id=int(_num(f[0])), symbol=f[1], sec_type=f[2], last_trade_date=f[3],
                   strike=_num(f[4]), right=f[5], multiplier=f[6], exchange=f[7], primary_exchange=f[8],
                   currency=f[9], local_symbol=f[10], trading_class=f[11], sec_id_type=sec_id_type, sec_id=sec_id)

    @classmethod
    def from_dict(cls, d: Mapping[str, str]) -> ContractQuery:
        """From a dict keyed by the client libraries' attribute names (``protocol.orders.WireOrder.contract``)."""
        return cls.from_wire([d.get(k, "") for k in WIRE_CONTRACT_FIELDS], d.get("secIdType", ""), d.get("secId", ""))


class ContractBook:
    """The universe of contracts, looked up like IB's contract details service.

    ``lazy`` (optional) yields more contracts, loaded the first time a lookup misses or the whole
    universe is listed; ``chains`` (optional) makes an underlying's option chain the first time an
    option on it is asked for. Gateway start stays cheap; the universe is still whole.
    """

    def __init__(self, specs: Iterable[ContractSpec], lazy: Callable[[], Iterable[ContractSpec]] | None = None,
                 chains: Callable[[ContractSpec], Iterable[ContractSpec]] | None = None) -> None:
        self._by_id: dict[int, ContractSpec] = {}
        self._by_symbol: dict[str, list[ContractSpec]] = {}
        self._lazy, self._chains = lazy, chains
        self._chained: set[int] = set()
        self._making: dict[int, Iterator[None]] = {}     # chains being made step by step (match_steps)
        self._lazy_loading: Iterator[None] | None = None  # the lazy universe being loaded step by step
        for spec in specs:
            self.add(spec)

    def add(self, spec: ContractSpec) -> None:
        """Add one contract (a scenario's own, or one made on demand); a conId is unique."""
        if spec.con_id in self._by_id:
            raise ValueError(f"duplicate conId {spec.con_id} ({spec.local_symbol})")
        self._by_id[spec.con_id] = spec
        for key in {spec.symbol.upper(), spec.local_symbol.upper().replace(" ", "")}:
            self._by_symbol.setdefault(key, []).append(spec)

    def load_all(self) -> None:
        """Load the whole universe now: a gateway serving for a long time does it before its first client,
        so no first lookup outside the core pays for reading the index tables (~60 ms of its loop)."""
        self._load_lazy()

    def load_all_steps(self) -> Iterator[None]:
        """:meth:`load_all` in small steps (yields between contracts), for a request that reads the whole book."""
        yield from self._load_lazy_steps()

    def _load_lazy(self) -> None:
        for _ in self._load_lazy_steps():
            pass

    def _load_lazy_steps(self) -> Iterator[None]:
        """Load the lazy part of the universe one contract at a time (yields between them); every caller that
        meets the load in progress advances the same one, and lookups see it whole once it ends."""
        if self._lazy_loading is None:
            lazy, self._lazy = self._lazy, None
            if lazy is None:
                return
            self._lazy_loading = self._add_lazy(lazy)
        for _ in self._lazy_loading:
            yield
        self._lazy_loading = None

    def _add_lazy(self, lazy: Callable[[], Iterable[ContractSpec]]) -> Iterator[None]:
        locals_known = {(s.local_symbol, s.currency) for s in self._by_id.values()}
        for spec in lazy():
            if spec.con_id not in self._by_id and (spec.local_symbol, spec.currency) not in locals_known:
                self.add(spec)
            yield

    def ensure_options(self, under: ContractSpec) -> None:
        """Make ``under``'s option chain if it has not been made yet."""
        for _ in self.ensure_options_steps(under):
            pass

    def ensure_options_steps(self, under: ContractSpec) -> Iterator[None]:
        """:meth:`ensure_options` one contract at a time (yields between them), so a caller may pause a long
        chain (SPX's ~20,000 contracts take a second) between steps. Chains are made once: callers that meet
        a chain in the making all advance the same one, and it counts as made only once it is whole."""
        if self._chains is None or under.con_id in self._chained or under.sec_type not in ("STK", "IND"):
            return
        making = self._making.get(under.con_id)
        if making is None:
            making = self._making[under.con_id] = self._add_chain(under)
        for _ in making:
            yield
        self._making.pop(under.con_id, None)
        self._chained.add(under.con_id)

    def _add_chain(self, under: ContractSpec) -> Iterator[None]:
        known = {s.local_symbol for s in self._by_symbol.get(under.symbol.upper(), ())}
        for spec in self._chains(under):
            if spec.local_symbol in known:
                continue
            while spec.con_id in self._by_id:        # a hash clash with another chain: the next free id
                spec = replace(spec, con_id=spec.con_id + 1)
            self.add(spec)
            yield

    @classmethod
    def default(cls, start: datetime = DEFAULT_START, initial_prices: Mapping[str, float] | None = None,
                symbols: Sequence[str] | None = None, volatility_annual: float = 0.25,
                extra: Sequence[Mapping] = ()) -> ContractBook:
        """The default universe dated around ``start`` (see :mod:`mock_gateway.sim.universe`).

        ``initial_prices`` overrides start prices by symbol or local symbol; ``symbols`` keeps only
        the contracts whose symbol or local symbol is listed (options follow their underlying).
        """
        from . import universe_book

        prices = dict(initial_prices or {})
        specs = default_universe(start, prices, volatility_annual)
        lazy = functools.partial(universe_book.member_specs, start, prices)
        chains = functools.partial(universe_book.option_chain, start, prices, volatility_annual)
        if symbols is not None:
            wanted = {s.upper() for s in symbols}
            keep = lambda s: bool({s.symbol, s.local_symbol, s.under_symbol} & wanted)  # noqa: E731
            specs = [s for s in specs if keep(s)]
            lazy_all = lazy
            lazy = lambda: [s for s in lazy_all() if keep(s)]  # noqa: E731
            chains_all = chains
            chains = lambda u: chains_all(u) if u.symbol in wanted else []  # noqa: E731
        book = cls(specs, lazy, chains)
        if extra:
            from .universe_book import extra_spec

            for item in extra:
                spec = extra_spec(start, dict(item))
                if book.match(ContractQuery(symbol=spec.symbol, sec_type=spec.sec_type, currency=spec.currency)):
                    raise ValueError(f"scenario contract {spec.symbol} {spec.sec_type} {spec.currency} is already "
                                     "in the universe; give it another symbol or drop it from market.contracts")
                book.add(spec)
        return book

    def __iter__(self) -> Iterator[ContractSpec]:
        self._load_lazy()
        return iter(list(self._by_id.values()))

    def __len__(self) -> int:
        self._load_lazy()
        return len(self._by_id)

    def get(self, con_id: int) -> ContractSpec | None:
        spec = self._by_id.get(con_id)
        if spec is None and (self._lazy is not None or self._lazy_loading is not None):
            self._load_lazy()
            spec = self._by_id.get(con_id)
        return spec

    def underlyings(self, symbol: str) -> list[ContractSpec]:
        """Stocks and indices named ``symbol`` (what option chains are made on)."""
        self._load_lazy() if not self._by_symbol.get(symbol.upper()) else None
        return [s for s in self._by_symbol.get(symbol.upper(), ()) if s.sec_type in ("STK", "IND")]

    def match(self, query: ContractQuery) -> list[ContractSpec]:
        """Every contract the query describes: 0 unknown (error 200), 1 qualified, more ambiguous."""
        steps = self.match_steps(query)
        while True:
            try:
                next(steps)
            except StopIteration as done:
                return done.value

    def match_steps(self, query: ContractQuery) -> Generator[None, None, list[ContractSpec]]:
        """:meth:`match` in small steps (yields between them; ``found = yield from book.match_steps(q)``): a
        whole option chain is made and searched without one long stretch of work."""
        if query.con_id:
            spec = self.get(query.con_id)
            return [spec] if spec is not None else []
        if query.sec_id and query.sec_id_type:
            self._load_lazy()
            wanted = (query.sec_id_type.upper(), query.sec_id.upper())
            return [s for s in self._by_id.values() if wanted in {(t.upper(), v.upper()) for t, v in s.sec_ids}]
        if not (query.symbol or query.local_symbol):
            return []
        key = (query.symbol or query.local_symbol).upper().replace(" ", "")
        if key not in self._by_symbol or self._lazy_loading is not None:
            yield from self._load_lazy_steps()
        if query.sec_type.upper() in ("OPT", "FOP") or (query.local_symbol and not query.symbol
                                                         and len(query.local_symbol) > 15):
            under_symbol = query.symbol or query.local_symbol[:6]
            for under in self.underlyings(under_symbol.strip()):
                yield from self.ensure_options_steps(under)
            key = (query.symbol or query.local_symbol).upper().replace(" ", "")
        found = []
        for i, spec in enumerate(list(self._by_symbol.get(key, ()))):
            directed = _matches(spec, query)
            if directed is not None:
                found.append(directed)
            if i % 64 == 63:
                yield
        return found


def _matches(spec: ContractSpec, q: ContractQuery) -> ContractSpec | None:
    """The spec as the query would see it (exchange filled in), or None if it does not match."""
    if q.sec_type and q.sec_type.upper() != spec.sec_type:
        return None
    if q.symbol and q.symbol.upper() not in (spec.symbol, spec.local_symbol):
        return None
    if q.local_symbol and q.local_symbol.upper().replace(" ", "") != spec.local_symbol.replace(" ", ""):
        return None
    if q.currency and q.currency.upper() != spec.currency:
        return None
    if q.trading_class and q.trading_class.upper() != spec.trading_class:
        return None
    if q.last_trade_date:
        wanted = q.last_trade_date.replace("-", "").split()[0]
        if not (spec.last_trade_date.startswith(wanted) or spec.contract_month == wanted):
            return None
    if q.strike and not math.isclose(q.strike, spec.strike, rel_tol=0, abs_tol=1e-6):
        return None
    if q.right and q.right.strip() not in ("?", "0") and _RIGHTS.get(q.right.upper()) != spec.right:
        return None
    if q.multiplier and not math.isclose(_num(q.multiplier, -1.0), spec.multiplier_value):
        return None
    if q.primary_exchange and _norm_exchange(q.primary_exchange) != _norm_exchange(spec.primary_exchange or spec.exchange):
        return None
    if not q.exchange:
        return spec
    exchange = _norm_exchange(q.exchange)
    if exchange == _norm_exchange(spec.exchange):
        return spec
    venues = {_norm_exchange(v) for v in spec.valid_exchanges.split(",") if v}
    if exchange in venues:
        return replace(spec, exchange=q.exchange.upper())   # directed routing: IB echoes the venue asked
    return None


# ---------------------------------------------------------------------------------------------------------
# The default universe

@dataclass(frozen=True)
class _Stock:
    symbol: str
    con_id: int
    primary: str
    long_name: str
    isin: str
    price: float
    industry: str
    category: str
    subcategory: str
    stock_type: str = "COMMON"
    trading_class: str = ""


#: Real conIds and ISINs; start prices are round numbers near late-2025 levels.
STOCKS = (
    _Stock("AAPL", 265598, "NASDAQ", "APPLE INC", "US0378331005", 230.0, "Technology", "Computers", "Computers",
           trading_class="NMS"),
    _Stock("MSFT", 272093, "NASDAQ", "MICROSOFT CORP", "US5949181045", 420.0, "Technology", "Software",
           "Applications Software", trading_class="NMS"),
    _Stock("SPY", 756733, "ARCA", "SPDR S&P 500 ETF TRUST", "US78462F1030", 590.0, "Funds", "Equity Fund",
           "Growth-Large Cap", "ETF"),
    _Stock("QQQ", 320227571, "NASDAQ", "INVESCO QQQ TRUST SERIES 1", "US46090E1038", 510.0, "Funds",
           "Equity Fund", "Growth-Large Cap", "ETF", trading_class="NMS"),
    _Stock("IBM", 8314, "NYSE", "INTL BUSINESS MACHINES CORP", "US4592001014", 220.0, "Technology", "Computers",
           "Computer Services"),
    # ib_insync's own test suite runs what-if on MMM
    _Stock("MMM", 9720, "NYSE", "3M CO", "US88579Y1010", 150.0, "Industrial", "Miscellaneous Manufactur",
           "Diversified Manufact Op"),
)
#: (base, quote, conId, long name, start price)
FOREX = (("EUR", "USD", 12087792, "European Monetary Union Euro", 1.08),
         ("GBP", "USD", 12087797, "British pound", 1.27))
#: (underlying symbol, strike step, conId base); strikes and expiries are generated around the start.
OPTIONS = (("AAPL", 5.0, 700_000_000), ("SPY", 5.0, 710_000_000))
#: Quarterly futures contango per quarter (next month over front month).
FUTURES_CARRY_PER_QUARTER = 0.01
_MONTH_CODES = "FGHJKMNQUVXZ"


def third_friday(year: int, month: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(4 - first.weekday()) % 7 + 14)


def quarterly_expiries(after: date, n: int) -> list[date]:
    """The next ``n`` quarterly (Mar/Jun/Sep/Dec) third-Friday expiries on or after ``after``."""
    out: list[date] = []
    year, month = after.year, after.month
    while len(out) < n:
        if month % 3 == 0 and third_friday(year, month) >= after:
            out.append(third_friday(year, month))
        month += 1
        if month > 12:
            year, month = year + 1, 1
    return out


def option_expiries(after: date) -> list[date]:
    """A weekly expiry (the next Friday after ``after``) and the next monthly third Friday a week or more later."""
    weekly = after + timedelta(days=(4 - after.weekday()) % 7 or 7)
    year, month = weekly.year, weekly.month
    while third_friday(year, month) < weekly + timedelta(days=7):
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return [weekly, third_friday(year, month)]


def _listing_date(symbol: str) -> str:
    from .universe import ETFS, KNOWN_STOCKS

    if symbol in KNOWN_STOCKS:
        return KNOWN_STOCKS[symbol][2]
    return next((e[5] for e in ETFS if e[0] == symbol), "")


def default_universe(start: datetime, initial_prices: dict[str, float], volatility_annual: float) -> list[ContractSpec]:
    """Every contract of the default universe, dated around ``start``."""
    from .universe_book import core_extras, fx_spec, option_spec, stock_spec   # the tables' one owner

    prices = {k.upper(): v for k, v in initial_prices.items()}
    specs: list[ContractSpec] = [
        stock_spec(start, prices, s.symbol, s.primary, s.long_name, s.isin, s.industry, s.category, s.subcategory,
                   s.stock_type, s.con_id, s.price, _listing_date(s.symbol), trading_class=s.trading_class)
        for s in STOCKS]
    specs += [fx_spec(start, prices, base, quote, con_id, name, price, 0.00005)
              for base, quote, con_id, name, price in FOREX]
    specs += core_extras(start, prices, {s.local_symbol for s in specs})
    by_symbol = {s.symbol: s for s in specs if s.sec_type == "STK"}
    for under, step, id_base in OPTIONS:
        stock = by_symbol[under]
        atm = round(stock.initial_price / step) * step
        n = 0
        for expiry in option_expiries(start.date()):
            years = (expiry_epoch(f"{expiry:%Y%m%d}", "OPT") - start.timestamp()) / CALENDAR_SECONDS_PER_YEAR
            for strike in (atm + step * j for j in range(-2, 3)):
                for right in ("C", "P"):
                    theo = float(black_scholes(stock.initial_price, strike, years, volatility_annual, right))
                    specs.append(option_spec(start, prices, stock, expiry, strike, right,
                                             max(0.01, round_to_tick(theo, 0.01)), id_base + n, under))
                    n += 1
    return specs


__all__ = ["ContractBook", "ContractQuery", "ContractSpec", "WIRE_CONTRACT_FIELDS", "default_universe",
           "occ_symbol", "option_expiries", "quarterly_expiries", "third_friday"]
