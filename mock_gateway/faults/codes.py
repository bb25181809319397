"""Error codes and texts as the real gateway sends them (the TWS API "Message Codes" page and ibapi/errors.py; docs/fidelity.md).

Clients act on the code only; the texts follow current TWS builds so logs and handler
messages look like the real thing.
"""
from __future__ import annotations

MAX_RATE_EXCEEDED = 100
MAX_TICKERS = 101
HIST_PACING = 162
ORDER_REJECTED = 201
RT_BARS_INVALID = 420
CONNECTIVITY_LOST = 1100
RESTORED_DATA_LOST = 1101
RESTORED_DATA_MAINTAINED = 1102
MARKET_FARM_BROKEN = 2103
MARKET_FARM_OK = 2104
HMDS_FARM_BROKEN = 2105
HMDS_FARM_OK = 2106
MARKET_FARM_INACTIVE = 2108

TEXTS: dict[int, str] = {
    MAX_TICKERS: "Max number of tickers has been reached",
    HIST_PACING: "Historical Market Data Service error message:Historical data request pacing violation",
    RT_BARS_INVALID: "Invalid Real-time Query:Historical data request pacing violation",
    CONNECTIVITY_LOST: "Connectivity between IB and Trader Workstation has been lost.",
    RESTORED_DATA_LOST: "Connectivity between IB and Trader Workstation has been restored - data lost.",
    RESTORED_DATA_MAINTAINED: "Connectivity between IB and Trader Workstation has been restored - data maintained.",
    MARKET_FARM_BROKEN: "Market data farm connection is broken:usfarm",
    MARKET_FARM_OK: "Market data farm connection is OK:usfarm",
    HMDS_FARM_BROKEN: "HMDS data farm connection is broken:ushmds",
    HMDS_FARM_OK: "HMDS data farm connection is OK:ushmds",
    MARKET_FARM_INACTIVE: "Market data farm connection is inactive but should be available upon demand.usfarm",
}

#: A margin rejection, the most common 201 a paper account sees.
DEFAULT_REJECT_REASON = (
    "YOUR ORDER IS NOT ACCEPTED. IN ORDER TO OBTAIN THE DESIRED POSITION YOUR EQUITY WITH LOAN VALUE "
    "[0.00 USD] MUST EXCEED THE INITIAL MARGIN [5000.00 USD]"
)


def max_rate_text(max_per_s: int, received: int, violation: int) -> str:
    """Error 100 as TWS words it: limit, messages received in the second, running violation count."""
    return f"Max rate of messages per second has been exceeded:max={max_per_s} rec={received} ({violation})"


def order_rejected_text(reason: str) -> str:
    return f"Order rejected - reason:{reason}"
