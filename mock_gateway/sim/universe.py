"""The contract universe beyond the core book: index members, large ETFs, indices, futures, crypto, option chains.

* Stocks: the S&P 500 and Nasdaq 100 members shipped by ``pytickersymbols`` (names, ISINs, primary
  exchange, industry), loaded on first need and cached for the process; IB's conIds where known,
  stable synthetic ones (from the symbol) otherwise.
* ETFs, indices (SPX, NDX, VIX, RUT, INDU), front CME-group futures months with their exchange's
  expiry rules and multipliers, crypto on PAXOS: small tables here.
* Option chains for any stock, ETF or index: made on demand from the listing rules (weeklies,
  third-Friday monthlies, strikes in price-dependent steps around the underlying).

Start prices and listing dates are IB's real ones for the names in the tables; other names get a
stable synthetic price level and listing date derived from the symbol (say so when it matters).
"""
from __future__ import annotations

import functools
import math
import zlib
from dataclasses import dataclass
from datetime import date, timedelta

#: IB conIds, start prices (round numbers near late-2025 levels) and listing dates of common names.
KNOWN_STOCKS: dict[str, tuple[int, float, str]] = {
    "AAPL": (265598, 230.0, "19801212"), "MSFT": (272093, 420.0, "19860313"), "IBM": (8314, 220.0, "19620102"),
    "MMM": (9720, 150.0, "19700102"), "AMZN": (3691937, 220.0, "19970515"), "TSLA": (76792991, 350.0, "20100629"),
    "META": (107113386, 600.0, "20120518"), "NVDA": (4815747, 180.0, "19990122"),
    "GOOGL": (208813719, 250.0, "20040819"), "GOOG": (208813720, 252.0, "20040819"),
    "NFLX": (15124833, 1100.0, "20020523"), "AMD": (4391, 160.0, "19800317"), "INTC": (270639, 25.0, "19800317"),
    # @stoqey/ib's live suite (historical-news.test.ts, run against a real TWS) names PLTR by conId 444857009
    "PLTR": (444857009, 180.0, "20200930"),
}
#: IB's conIds of listed options that public sources record (keyed by OCC local symbol); the rest are synthetic.
#: SPY 2028-12-15 750 C: @stoqey/ib's live suite (contract-details.test.ts) asserts 843630132 for it.
KNOWN_OPTION_CON_IDS: dict[str, int] = {"SPY   281215C00750000": 843630132}
#: (symbol, primary exchange, long name, conId or 0, start price, listing date)
ETFS = (
    ("SPY", "ARCA", "SPDR S&P 500 ETF TRUST", 756733, 590.0, "19930129"),
    ("QQQ", "NASDAQ", "INVESCO QQQ TRUST SERIES 1", 320227571, 510.0, "19990310"),
    ("IWM", "ARCA", "ISHARES RUSSELL 2000 ETF", 9579970, 225.0, "20000522"),
    ("DIA", "ARCA", "SPDR DOW JONES INDUSTRIAL AVERAGE ETF", 0, 430.0, "19980120"),
    ("VOO", "ARCA", "VANGUARD S&P 500 ETF", 0, 540.0, "20100907"),
    ("IVV", "ARCA", "ISHARES CORE S&P 500 ETF", 0, 590.0, "20000515"),
    ("VTI", "ARCA", "VANGUARD TOTAL STOCK MARKET ETF", 0, 290.0, "20010531"),
    ("EFA", "ARCA", "ISHARES MSCI EAFE ETF", 0, 80.0, "20010814"),
    ("EEM", "ARCA", "ISHARES MSCI EMERGING MARKETS ETF", 0, 45.0, "20030407"),
    ("GLD", "ARCA", "SPDR GOLD SHARES", 0, 240.0, "20041118"),
    ("SLV", "ARCA", "ISHARES SILVER TRUST", 0, 30.0, "20060428"),
    ("TLT", "NASDAQ", "ISHARES 20+ YEAR TREASURY BOND ETF", 0, 90.0, "20020726"),
    ("IEF", "NASDAQ", "ISHARES 7-10 YEAR TREASURY BOND ETF", 0, 95.0, "20020726"),
    ("HYG", "ARCA", "ISHARES IBOXX HIGH YIELD CORPORATE BOND ETF", 0, 80.0, "20070411"),
    ("LQD", "ARCA", "ISHARES IBOXX INVESTMENT GRADE CORPORATE BOND ETF", 0, 110.0, "20020726"),
    ("XLF", "ARCA", "FINANCIAL SELECT SECTOR SPDR FUND", 0, 50.0, "19981222"),
    ("XLE", "ARCA", "ENERGY SELECT SECTOR SPDR FUND", 0, 90.0, "19981222"),
    ("XLK", "ARCA", "TECHNOLOGY SELECT SECTOR SPDR FUND", 0, 240.0, "19981222"),
    ("XLV", "ARCA", "HEALTH CARE SELECT SECTOR SPDR FUND", 0, 140.0, "19981222"),
    ("XLY", "ARCA", "CONSUMER DISCRETIONARY SELECT SECTOR SPDR FUND", 0, 220.0, "19981222"),
    ("XLP", "ARCA", "CONSUMER STAPLES SELECT SECTOR SPDR FUND", 0, 80.0, "19981222"),
    ("XLI", "ARCA", "INDUSTRIAL SELECT SECTOR SPDR FUND", 0, 140.0, "19981222"),
    ("XLU", "ARCA", "UTILITIES SELECT SECTOR SPDR FUND", 0, 80.0, "19981222"),
    ("SMH", "NASDAQ", "VANECK SEMICONDUCTOR ETF", 0, 260.0, "20000505"),
    ("ARKK", "ARCA", "ARK INNOVATION ETF", 0, 60.0, "20141031"),
    ("VNQ", "ARCA", "VANGUARD REAL ESTATE ETF", 0, 90.0, "20040929"),
    ("AGG", "ARCA", "ISHARES CORE US AGGREGATE BOND ETF", 0, 100.0, "20030926"),
    ("BND", "NASDAQ", "VANGUARD TOTAL BOND MARKET ETF", 0, 73.0, "20070410"),
    ("GDX", "ARCA", "VANECK GOLD MINERS ETF", 0, 45.0, "20060522"),
    ("USO", "ARCA", "UNITED STATES OIL FUND LP", 0, 75.0, "20060410"),
    ("XBI", "ARCA", "SPDR S&P BIOTECH ETF", 0, 95.0, "20060206"),
    ("KRE", "ARCA", "SPDR S&P REGIONAL BANKING ETF", 0, 60.0, "20060622"),
)
#: (symbol, exchange, long name, conId, start level, listing date, min tick)
INDICES = (
    ("SPX", "CBOE", "S&P 500 Stock Index", 416904, 5900.0, "19820420", 0.01),
    ("NDX", "NASDAQ", "NASDAQ 100 Stock Index", 416843, 20800.0, "19850131", 0.01),
    ("VIX", "CBOE", "CBOE Volatility Index", 13455763, 17.0, "19900102", 0.01),
    ("RUT", "RUSSELL", "Russell 2000 Stock Index", 416888, 2250.0, "19870910", 0.01),
    ("INDU", "CME", "Dow Jones Industrial Average", 1935181, 43000.0, "19850101", 0.01),
    # the underlyings the E-mini futures name in underConId (IND on CME; their options are FOP, not OPT)
    ("ES", "CME", "E-mini S&P 500", 11004968, 5900.0, "19970909", 0.01),
    ("NQ", "CME", "E-mini NASDAQ 100", 11004958, 20800.0, "19990621", 0.01),
)
#: Exchanges whose indices have no listed OPT chain (options on them trade as FOP on the futures)
FUTURES_EXCHANGES = frozenset({"CME", "CBOT", "NYMEX", "COMEX", "GLOBEX"})
#: European indices as IB lists them: (symbol, exchange, currency, long name, start level, first day); IB's
#: conIds for them are not recorded in a public source here, so they get stable synthetic ones.
EUROPEAN_INDICES = (
    ("DAX", "EUREX", "EUR", "DAX Performance Index", 24000.0, "19880701"),
    ("ESTX50", "EUREX", "EUR", "Dow Jones Euro STOXX50", 5500.0, "19980226"),
    ("MDAX", "EUREX", "EUR", "MDAX Performance Index", 30000.0, "19960119"),
    ("TDXP", "EUREX", "EUR", "TecDAX Performance Index", 3700.0, "20030324"),
    ("CAC40", "MONEP", "EUR", "CAC 40 Index", 8000.0, "19871231"),
    ("EOE", "FTA", "EUR", "AEX Index", 950.0, "19830103"),
    ("IBEX35", "MEFFRV", "EUR", "IBEX 35 Index", 15000.0, "19920114"),
    ("SMI", "EBS", "CHF", "Swiss Market Index", 12500.0, "19880630"),
    ("Z", "ICEEU", "GBP", "FTSE 100 Index", 9500.0, "19840103"),
)
#: Where the members of pytickersymbols' European indices list at IB: (index, IB exchange, currency, Yahoo suffix).
EUROPEAN_LISTINGS = (
    ("DAX", "IBIS", "EUR", ".DE"), ("MDAX", "IBIS", "EUR", ".DE"), ("TecDAX", "IBIS", "EUR", ".DE"),
    ("SDAX", "IBIS", "EUR", ".DE"), ("CAC_40", "SBF", "EUR", ".PA"), ("CAC Mid 60", "SBF", "EUR", ".PA"),
    ("FTSE 100", "LSE", "GBP", ".L"), ("AEX", "AEB", "EUR", ".AS"), ("BEL 20", "ENEXT.BE", "EUR", ".BR"),
    ("IBEX 35", "BM", "EUR", ".MC"), ("Switzerland 20", "EBS", "CHF", ".SW"),
    ("OMX Stockholm 30", "SFB", "SEK", ".ST"), ("OMX Helsinki 25", "HEX", "EUR", ".HE"),
)


@dataclass(frozen=True)
class FutureRoot:
    """A futures root: its exchange, multiplier, tick, which months list and how the last trade day falls."""

    symbol: str
    exchange: str
    multiplier: str
    long_name: str
    min_tick: float
    price: float
    months: str             # month numbers that list, e.g. "369C" -> Mar Jun Sep Dec (C = 12)
    expiry_rule: str        # "third_friday", "cl", "third_last_business", "zn", "6e"
    under_symbol: str
    under_sec_type: str
    under_con_id: int = 0
    con_id_base: int = 0    # 0: synthetic
    listed: int = 2         # how many front months are listed here


_Q = "369C"
FUTURE_ROOTS = (
    FutureRoot("ES", "CME", "50", "E-mini S&P 500", 0.25, 5900.0, _Q, "third_friday", "ES", "IND", 11004968,
               650_000_100),
    FutureRoot("NQ", "CME", "20", "E-mini NASDAQ 100", 0.25, 20800.0, _Q, "third_friday", "NQ", "IND", 11004958,
               650_000_200),
    FutureRoot("RTY", "CME", "50", "E-mini Russell 2000 Index", 0.1, 2250.0, _Q, "third_friday", "RTY", "IND"),
    FutureRoot("MES", "CME", "5", "Micro E-mini S&P 500 Stock Price Index", 0.25, 5900.0, _Q, "third_friday",
               "MES", "IND"),
    FutureRoot("MNQ", "CME", "2", "Micro E-mini Nasdaq-100 Index", 0.25, 20800.0, _Q, "third_friday", "MNQ", "IND"),
    FutureRoot("YM", "CBOT", "5", "Mini Sized Dow Jones Industrial Average $5", 1.0, 43000.0, _Q, "third_friday",
               "YM", "IND"),
    FutureRoot("CL", "NYMEX", "1000", "Light Sweet Crude Oil", 0.01, 70.0, "123456789ABC", "cl", "CL", "IND"),
    FutureRoot("GC", "COMEX", "100", "Gold", 0.1, 2600.0, "2468AC", "third_last_business", "GC", "IND"),
    FutureRoot("ZN", "CBOT", "1000", "10-Year T-Note", 0.015625, 110.0, _Q, "zn", "ZN", "IND"),
    FutureRoot("6E", "CME", "125000", "European Monetary Union Euro", 0.00005, 1.08, _Q, "6e", "EUR", "CASH"),
)
#: (symbol, conId, long name, start price, min tick, listing date)
CRYPTO = (
    ("BTC", 479624278, "Bitcoin", 95000.0, 0.25, "20210915"),
    ("ETH", 495512557, "Ethereum", 3500.0, 0.05, "20210915"),
    ("LTC", 495512563, "Litecoin", 100.0, 0.01, "20210915"),
    ("BCH", 495512552, "Bitcoin Cash", 450.0, 0.05, "20210915"),
)
#: (base, quote, conId or 0, long name, start price)
FX_MAJORS = (
    ("EUR", "USD", 12087792, "European Monetary Union Euro", 1.08),
    ("GBP", "USD", 12087797, "British pound", 1.27),
    ("USD", "JPY", 15016059, "US Dollar", 150.0),
    ("AUD", "USD", 14433401, "Australian dollar", 0.66),
    ("USD", "CAD", 15016062, "US Dollar", 1.38),
    ("USD", "CHF", 12087820, "US Dollar", 0.88),
    ("NZD", "USD", 39453441, "New Zealand dollar", 0.60),
    # IDEALPRO crosses and USD pairs a European or Asian book trades (IB's conIds not recorded here: synthetic)
    ("EUR", "GBP", 0, "European Monetary Union Euro", 0.86), ("EUR", "CHF", 0, "European Monetary Union Euro", 0.94),
    ("EUR", "JPY", 0, "European Monetary Union Euro", 162.0), ("GBP", "JPY", 0, "British pound", 190.0),
    ("EUR", "AUD", 0, "European Monetary Union Euro", 1.64), ("EUR", "CAD", 0, "European Monetary Union Euro", 1.50),
    ("EUR", "SEK", 0, "European Monetary Union Euro", 11.2), ("CHF", "JPY", 0, "Swiss franc", 172.0),
    ("AUD", "JPY", 0, "Australian dollar", 98.0), ("USD", "SEK", 0, "US Dollar", 10.4),
    ("USD", "NOK", 0, "US Dollar", 10.8), ("USD", "MXN", 0, "US Dollar", 18.5), ("USD", "HKD", 0, "US Dollar", 7.78),
    ("USD", "CNH", 0, "US Dollar", 7.2), ("USD", "SGD", 0, "US Dollar", 1.35),
)
MONTH_CODES = "FGHJKMNQUVXZ"
_EXCHANGE_BY_GOOGLE = {"NYSE": "NYSE", "NASDAQ": "NASDAQ", "NYSEARCA": "ARCA", "NYSEAMERICAN": "AMEX",
                       "BATS": "BATS", "CBOE": "BATS"}


def synthetic_con_id(kind: str, key: str) -> int:
    """A stable conId for a contract IB's id of is not known here: 800M + a hash, by kind of contract."""
    base = {"STK": 800_000_000, "FUT": 860_000_000, "OPT": 1_000_000_000}.get(kind, 880_000_000)
    span = 1_000_000_000 if kind == "OPT" else 40_000_000
    return base + zlib.crc32(f"{kind}:{key}".encode()) % span


def synthetic_price(symbol: str) -> float:
    """A stable price level for a name with no known price: log-uniform between $15 and $600."""
    u = zlib.crc32(f"price:{symbol}".encode()) / 2 ** 32
    return round(15.0 * (40.0 ** u), 2)


def synthetic_listing(symbol: str) -> str:
    """A stable listing date between 1985 and 2015 for a name with no known one."""
    u = zlib.crc32(f"listed:{symbol}".encode())
    day = date(1985, 1, 2) + timedelta(days=u % (30 * 365))
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return f"{day:%Y%m%d}"


@dataclass(frozen=True)
class Member:
    """An index member as the dataset describes it."""

    symbol: str           # IB spelling (BRK B, not BRK.B)
    primary: str
    long_name: str
    industry: str
    category: str
    isin: str
    currency: str = "USD"


def _exchange_traded_as(text: str) -> str:
    """The listing venue named first in a 'traded as' line ('Nasdaq: META ...'), NYSE if none."""
    text = text.upper()
    found = [(text.find(k), v) for k, v in (("NASDAQ", "NASDAQ"), ("NYSE", "NYSE")) if k in text]
    return min(found)[1] if found else "NYSE"


@functools.cache
def _ticker_data():
    """pytickersymbols' dataset, parsed once per process (the US and European members read the same one)."""
    from pytickersymbols import PyTickerSymbols

    return PyTickerSymbols()


@functools.cache
def index_members() -> tuple[Member, ...]:
    """S&P 500 and Nasdaq 100 members (deduplicated), loaded once per process from pytickersymbols."""
    data = _ticker_data()
    seen: dict[str, Member] = {}
    for index in ("S&P 500", "NASDAQ 100"):
        for stock in data.get_stocks_by_index(index):
            exchanges = [s.get("google", "") for s in stock.get("symbols", []) if s.get("currency") == "USD"]
            primary = next((_EXCHANGE_BY_GOOGLE.get(g.split(":")[0]) for g in exchanges if ":" in g), None) \
                or _exchange_traded_as(str((stock.get("metadata") or {}).get("traded_as", "")))
            symbol = str(stock.get("symbol", "")).upper().replace(".", " ").replace("-", " ").strip()
            if not symbol or symbol in seen:
                continue
            industries = list(stock.get("industries") or [])
            isins = list(stock.get("isins") or [])
            seen[symbol] = Member(symbol, primary, str(stock.get("name", symbol)).upper(),
                                  industries[-1] if industries else "", industries[0] if industries else "",
                                  next((i for i in isins if i.startswith("US")), isins[0] if isins else ""))
    return tuple(seen.values())


def ib_symbol(yahoo: str, suffix: str, exchange: str) -> str:
    """IB's symbol of a European listing from its Yahoo ticker: the suffix dropped, a share class after a dot
    (``BT-A.L`` -> ``BT.A``), and on LSE a one- or two-letter ticker ending in a dot (``BP.``, ``RR.``) as IB spells it."""
    symbol = yahoo[: -len(suffix)] if yahoo.upper().endswith(suffix.upper()) else yahoo
    symbol = symbol.upper().replace("-", ".")
    if exchange == "LSE" and len(symbol) <= 2:
        symbol += "."
    return symbol


@functools.cache
def european_members() -> tuple[Member, ...]:
    """The members of the European indices pytickersymbols ships, each once per IB venue, in local currency."""
    data = _ticker_data()
    seen: dict[tuple[str, str], Member] = {}
    for index, exchange, currency, suffix in EUROPEAN_LISTINGS:
        for stock in data.get_stocks_by_index(index):
            tickers = [str(stock.get("symbol", ""))] + [str(t.get("yahoo", "")) for t in stock.get("symbols", [])]
            yahoo = next((t for t in tickers if t.upper().endswith(suffix.upper())), "")
            symbol = ib_symbol(yahoo, suffix, exchange) if yahoo else ""
            if not symbol or (symbol, exchange) in seen:
                continue
            industries = list(stock.get("industries") or [])
            isins = list(stock.get("isins") or [])
            seen[(symbol, exchange)] = Member(symbol, exchange, str(stock.get("name", symbol)).upper(),
                                              industries[-1] if industries else "",
                                              industries[0] if industries else "", isins[0] if isins else "",
                                              currency)
    return tuple(seen.values())


@functools.cache
def liquid_us_stocks() -> tuple[Member, ...]:
    """Widely traded US listings outside the S&P 500 and Nasdaq 100 (``liquid_us_stocks.csv``: meme and retail
    favourites, large ADRs, recent listings), so that a handler trading AMC or NIO finds them as on IB."""
    import csv
    from importlib import resources

    text = resources.files(__package__).joinpath("liquid_us_stocks.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if line and not line.startswith("#"))
    return tuple(Member(r["symbol"].upper(), r["primary"].upper(), r["long_name"].upper(), r["industry"],
                        r["category"], r.get("isin", "")) for r in rows)


# ---------------------------------------------------------------------------------------------- expiries
def third_friday(year: int, month: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(4 - first.weekday()) % 7 + 14)


def _business_days_before(day: date, n: int) -> date:
    while n > 0:
        day -= timedelta(days=1)
        if day.weekday() < 5:
            n -= 1
    return day


def _last_business_day(year: int, month: int) -> date:
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return _business_days_before(nxt, 1)


def future_expiry(root: FutureRoot, year: int, month: int) -> date:
    """The last trading day of ``root``'s contract for (year, month), by its exchange's rule."""
    if root.expiry_rule == "third_friday":
        return third_friday(year, month)
    if root.expiry_rule == "cl":      # 3 business days before the 25th of the month before delivery
        the_25th = date(year - (month == 1), (month - 2) % 12 + 1, 25)
        return _business_days_before(the_25th, 3 if the_25th.weekday() < 5 else 4)
    if root.expiry_rule == "third_last_business":
        return _business_days_before(_last_business_day(year, month) + timedelta(days=1), 3)
    if root.expiry_rule == "zn":      # 7 business days before the last business day of the month
        return _business_days_before(_last_business_day(year, month), 7)
    if root.expiry_rule == "6e":      # 2 business days before the third Wednesday
        first = date(year, month, 1)
        third_wed = first + timedelta(days=(2 - first.weekday()) % 7 + 14)
        return _business_days_before(third_wed, 2)
    raise ValueError(f"unknown expiry rule {root.expiry_rule!r}")


def contract_months(root: FutureRoot, after: date, n: int) -> list[tuple[date, int, int]]:
    """(last trading day, year, month) of the next ``n`` contracts of ``root``."""
    listed = {int(c, 16) for c in root.months}
    out: list[tuple[date, int, int]] = []
    year, month = after.year, after.month
    while len(out) < n:
        if month in listed:
            expiry = future_expiry(root, year, month)
            if expiry >= after:
                out.append((expiry, year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


# ---------------------------------------------------------------------------------------------- options
def strike_step(price: float, index: bool) -> float:
    """Strike increments as the exchanges list them: finer for cheap names, 5 points for big indices."""
    if index:
        return 5.0 if price >= 1000 else 1.0
    if price < 25:
        return 0.5
    if price < 200:
        return 2.5
    return 5.0


#: Underlyings whose LEAPS also expire in December (Cboe lists December LEAPS on the S&P 500 and
#: the broad index ETFs besides the January cycle every equity option has).
DECEMBER_LEAPS = frozenset({"SPX", "NDX", "RUT", "SPY", "QQQ", "IWM", "DIA"})
#: How far out LEAPS are listed: OCC allows up to 39 months; the listed January (and December)
#: expiries reach about three years.
LEAPS_MONTHS = 37


def chain_expiries(after: date, weeklies: int = 4, december_leaps: bool = False) -> list[date]:
    """Weekly Friday expiries for the next weeks, then third-Friday monthlies for three months, then
    the quarterly months for a year, and LEAPS (January; also December when ``december_leaps``)
    about three years out."""
    out: set[date] = set()
    friday = after + timedelta(days=(4 - after.weekday()) % 7 or 7)
    for k in range(weeklies):
        out.add(friday + timedelta(days=7 * k))
    year, month = after.year, after.month
    for k in range(LEAPS_MONTHS):
        y, m = year + (month - 1 + k) // 12, (month - 1 + k) % 12 + 1
        expiry = third_friday(y, m)
        if expiry <= after:
            continue
        if k <= 3 or m in (3, 6, 9, 12) and k <= 12 or m == 1 or (december_leaps and m == 12):
            out.add(expiry)
    return sorted(out)


#: Strikes listed within this fraction of the spot for expiries up to a year out.
NEAR_STRIKE_WIDTH = 0.3
#: The widest band listed (LEAPS): strikes stay above zero.
MAX_STRIKE_WIDTH = 0.9


def strike_width(years_to_expiry: float) -> float:
    """How far around the spot strikes are listed: 30 % up to a year out, growing with the square root of the
    time beyond (the move a price makes grows so), as IB lists LEAPS: SPY's December chain three years out
    carries well over 92 strikes (the @stoqey/ib live suite's floor) where a one-month chain carries ~70."""
    return min(MAX_STRIKE_WIDTH, NEAR_STRIKE_WIDTH * max(1.0, math.sqrt(max(years_to_expiry, 0.0))))


def chain_strikes(price: float, index: bool, width: float = NEAR_STRIKE_WIDTH) -> list[float]:
    """Strikes on the exchange's step for ``price`` within ``width`` (a fraction) of it."""
    step = strike_step(price, index)
    lo, hi = price * (1 - width), price * (1 + width)
    k0 = int(lo // step) + 1
    out = []
    k = k0
    while k * step <= hi:
        out.append(round(k * step, 4))
        k += 1
    return out


__all__ = ["CRYPTO", "DECEMBER_LEAPS", "ETFS", "EUROPEAN_INDICES", "EUROPEAN_LISTINGS", "KNOWN_OPTION_CON_IDS",
           "european_members", "ib_symbol", "liquid_us_stocks", "FUTURES_EXCHANGES", "FUTURE_ROOTS", "FX_MAJORS", "INDICES",
           "KNOWN_STOCKS", "FutureRoot", "Member", "chain_expiries", "chain_strikes", "strike_width", "contract_months",
           "future_expiry", "index_members", "strike_step", "synthetic_con_id", "synthetic_listing",
           "synthetic_price", "third_friday"]
