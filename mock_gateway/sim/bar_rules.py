"""What the historical data service accepts: bar sizes, durations, limits, data types, as IB words them.

Pure functions over request text and times (epoch seconds); the handlers turn a
:class:`BarRuleError` into the error message with its code. Sources for each rule are in
``docs/fidelity.md`` ("Historical data").
"""
from __future__ import annotations

import re
from dataclasses import dataclass

HMDS = "Historical Market Data Service error message:"

#: The legal bar sizes in the order IB lists them in its error text, with their length in seconds
#: (1W and 1M are calendar weeks and months; the seconds only size the request).
LEGAL_BAR_SIZES: dict[str, float] = {
    "1 secs": 1, "5 secs": 5, "10 secs": 10, "15 secs": 15, "30 secs": 30,
    "1 min": 60, "2 mins": 120, "3 mins": 180, "5 mins": 300, "10 mins": 600, "15 mins": 900, "20 mins": 1200,
    "30 mins": 1800, "1 hour": 3600, "2 hours": 7200, "3 hours": 10800, "4 hours": 14400, "8 hours": 28800,
    "1 day": 86400, "1W": 7 * 86400, "1M": 30 * 86400,
}
#: Spellings IB accepts besides the listed ones.
BAR_SIZE_ALIASES = {"1 week": "1W", "1 month": "1M"}
BAR_SIZE_INVALID = ("Historical data bar size setting is invalid. Legal ones are: "
                    + ", ".join(LEGAL_BAR_SIZES))

DURATION_UNIT_S = {"S": 1, "D": 86400, "W": 7 * 86400, "M": 30 * 86400, "Y": 365 * 86400}
#: Largest count per unit before IB wants the next unit up, and its text.
DURATION_LIMITS = {
    "S": (86400, "Historical data requests for durations longer than 86400 seconds must be made in days."),
    "D": (365, "Historical data requests for durations longer than 365 days must be made in years."),
    "W": (52, "Historical data requests for durations longer than 52 weeks must be made in years."),
    "M": (12, "Historical data requests for durations longer than 12 months must be made in years."),
}
DURATION_INVALID = "Historical data requested duration is invalid."

#: IB's step-size table: the longest duration (seconds) served for bars of at most this size.
#: Seconds bars are held to it; minute and hour bars get at least BARS_CAP_INTRADAY bars' worth.
STEP_TABLE_S = ((1, 1800), (5, 3600), (10, 14400), (15, 14400), (30, 28800), (60, 86400), (120, 2 * 86400),
                (1200, 7 * 86400), (28800, 30 * 86400))
BARS_CAP_INTRADAY = 10_000
#: Bars of 30 s or less are only kept for the last six months.
SMALL_BAR_S = 30
SIX_MONTHS_S = 183 * 86400

#: whatToShow values served per sec type.
WHAT_BY_SEC_TYPE = {
    "STK": ("TRADES", "MIDPOINT", "BID", "ASK", "BID_ASK", "ADJUSTED_LAST", "HISTORICAL_VOLATILITY",
            "OPTION_IMPLIED_VOLATILITY"),
    "ETF": ("TRADES", "MIDPOINT", "BID", "ASK", "BID_ASK", "ADJUSTED_LAST"),
    "IND": ("TRADES", "HISTORICAL_VOLATILITY", "OPTION_IMPLIED_VOLATILITY"),
    "FUT": ("TRADES", "MIDPOINT", "BID", "ASK", "BID_ASK"),
    "OPT": ("TRADES", "MIDPOINT", "BID", "ASK", "BID_ASK"),
    "FOP": ("TRADES", "MIDPOINT", "BID", "ASK", "BID_ASK"),
    "CASH": ("MIDPOINT", "BID", "ASK", "BID_ASK"),
    "CRYPTO": ("TRADES", "MIDPOINT", "BID", "ASK", "BID_ASK", "AGGTRADES"),
}
#: How the HMDS names a data type in its texts.
WHAT_NAMES = {"TRADES": "Last", "MIDPOINT": "Midpoint", "BID": "Bid", "ASK": "Ask", "BID_ASK": "Bid_Ask",
              "ADJUSTED_LAST": "Adjusted_Last", "AGGTRADES": "AggTrades",
              "HISTORICAL_VOLATILITY": "HV", "OPTION_IMPLIED_VOLATILITY": "IV"}


class BarRuleError(ValueError):
    """A request the historical data service refuses: ``code`` (321 validation, 162 HMDS) and IB's text."""

    def __init__(self, code: int, text: str) -> None:
        super().__init__(text)
        self.code, self.text = code, text


@dataclass(frozen=True)
class BarSize:
    text: str          # the canonical spelling
    seconds: float

    @property
    def calendar(self) -> bool:
        """1W / 1M: grouped by calendar week or month."""
        return self.seconds > 86400


@dataclass(frozen=True)
class Duration:
    count: int
    unit: str

    @property
    def seconds(self) -> float:
        return float(self.count * DURATION_UNIT_S[self.unit])


def parse_bar_size(text: str) -> BarSize:
    """A bar size as IB spells it ('1 secs', '5 mins', '1 hour', '1W' ...); anything else is 321."""
    canon = " ".join(text.split())
    for legal in LEGAL_BAR_SIZES:
        if canon == legal or (canon.lower() == legal.lower() and not legal[-1].isupper()):
            return BarSize(legal, LEGAL_BAR_SIZES[legal])
    alias = BAR_SIZE_ALIASES.get(canon.lower())
    if alias is not None:
        return BarSize(alias, LEGAL_BAR_SIZES[alias])
    raise BarRuleError(321, BAR_SIZE_INVALID)


_DURATION = re.compile(r"\s*(\d+) ([SDWMY])\s*")


def parse_duration(text: str) -> Duration:
    """'<integer> <unit>' with unit S, D, W, M or Y; longer than a unit's limit must use the next (321)."""
    match = _DURATION.fullmatch(text)
    if not match or int(match.group(1)) <= 0:
        raise BarRuleError(321, DURATION_INVALID)
    count, unit = int(match.group(1)), match.group(2)
    limit = DURATION_LIMITS.get(unit)
    if limit is not None and count > limit[0]:
        raise BarRuleError(321, limit[1])
    return Duration(count, unit)


def max_duration_s(bar: BarSize) -> float:
    """The longest duration served for this bar size (HMDS 'Time length exceed max.' beyond it)."""
    if bar.seconds >= 86400:
        return float("inf")
    for size_s, longest_s in STEP_TABLE_S:
        if bar.seconds <= size_s:
            return longest_s if bar.seconds < 60 else max(longest_s, bar.seconds * BARS_CAP_INTRADAY)
    return bar.seconds * BARS_CAP_INTRADAY


def listing_epoch(listing_date: str) -> float:
    """Epoch seconds of midnight UTC on a YYYYMMDD listing date (no bar starts before it)."""
    from datetime import datetime, timezone

    return datetime.strptime(listing_date[:8], "%Y%m%d").replace(tzinfo=timezone.utc).timestamp()


def no_data_text(symbol: str, exchange: str, what: str) -> str:
    return f"{HMDS}HMDS query returned no data: {symbol}@{exchange} {WHAT_NAMES.get(what, what.title())}"


def check_window(bar: BarSize, duration: Duration, what: str, sec_type: str, symbol: str, exchange: str,
                 end_epoch: float, now_epoch: float, listed_epoch: float | None) -> None:
    """Refuse (162) what the HMDS refuses for this contract and window; returns quietly if it is served."""
    allowed = WHAT_BY_SEC_TYPE.get(sec_type, WHAT_BY_SEC_TYPE["STK"])
    if what not in allowed:
        if what in WHAT_NAMES:
            bar_word = f"{int(bar.seconds)}" if bar.seconds < 86400 else "1d"
            raise BarRuleError(162, f"{HMDS}No historical market data for {symbol}/{sec_type}@{exchange} "
                                    f"{WHAT_NAMES[what]} {bar_word}")
        raise BarRuleError(321, f"Error validating request.-'bP' : cause - Invalid whatToShow value {what}. "
                                f"Valid values are {', '.join(allowed)}")
    if duration.seconds > max_duration_s(bar):
        raise BarRuleError(162, f"{HMDS}Time length exceed max.")
    start_epoch = end_epoch - duration.seconds
    if bar.seconds <= SMALL_BAR_S and start_epoch < now_epoch - SIX_MONTHS_S:
        raise BarRuleError(162, no_data_text(symbol, exchange, what))
    if listed_epoch is not None and end_epoch <= listed_epoch:
        raise BarRuleError(162, no_data_text(symbol, exchange, what))


__all__ = ["BAR_SIZE_INVALID", "BarRuleError", "BarSize", "Duration", "HMDS", "LEGAL_BAR_SIZES", "check_window",
           "max_duration_s", "no_data_text", "parse_bar_size", "parse_duration"]


#: ADJUSTED_LAST's own refusals (real gateway texts, 321, quoted in public client code and logs).
ADJUSTED_LAST_END_DATE = "End date not supported with adjusted last"
ADJUSTED_LAST_MULTI_DAY = "Multi day bar size not supported with adjusted last"


def check_adjusted_last(what: str, has_end_date: bool, bar: BarSize) -> None:
    """ADJUSTED_LAST is served only up to now (no endDateTime) and for bars of a day or less: 321 otherwise."""
    if what != "ADJUSTED_LAST":
        return
    if has_end_date:
        raise BarRuleError(321, ADJUSTED_LAST_END_DATE)
    if bar.calendar:
        raise BarRuleError(321, ADJUSTED_LAST_MULTI_DAY)
