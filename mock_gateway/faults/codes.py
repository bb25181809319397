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
HMDS_FARM_INACTIVE = 2107
MARKET_FARM_INACTIVE = 2108
SERVER_LINK_BROKEN = 2110
SECDEF_FARM_BROKEN = 2157
SECDEF_FARM_OK = 2158
READ_ONLY_API_TEXT = "Error validating request.-'bN' : cause - The API interface is currently in Read-Only mode."
ACCOUNT_SUMMARY_LIMIT_TEXT = "Maximum number of account summary requests exceeded; desubscribe to previous request first"

#: Connectivity texts follow the newest real logs, which say "IBKR" where older builds said "IB"
#: (ib_async #6, 2024; Lean.Brokerages.InteractiveBrokers #169, 2025).
TEXTS: dict[int, str] = {
    MAX_TICKERS: "Max number of tickers has been reached",
    HIST_PACING: "Historical Market Data Service error message:Historical data request pacing violation",
    RT_BARS_INVALID: "Invalid Real-time Query:Historical data request pacing violation",
    CONNECTIVITY_LOST: "Connectivity between IBKR and Trader Workstation has been lost.",
    RESTORED_DATA_LOST: "Connectivity between IBKR and Trader Workstation has been restored - data lost.",
    RESTORED_DATA_MAINTAINED: "Connectivity between IBKR and Trader Workstation has been restored - data maintained.",
    MARKET_FARM_BROKEN: "Market data farm connection is broken:usfarm",
    MARKET_FARM_OK: "Market data farm connection is OK:usfarm",
    HMDS_FARM_BROKEN: "HMDS data farm connection is broken:ushmds",
    HMDS_FARM_OK: "HMDS data farm connection is OK:ushmds",
    HMDS_FARM_INACTIVE: "HMDS data farm connection is inactive but should be available upon demand.ushmds",
    MARKET_FARM_INACTIVE: "Market data farm connection is inactive but should be available upon demand.usfarm",
    SERVER_LINK_BROKEN: "Connectivity between Trader Workstation and server is broken. It will be restored automatically.",
    SECDEF_FARM_BROKEN: "Sec-def data farm connection is broken:secdefnj",
    SECDEF_FARM_OK: "Sec-def data farm connection is OK:secdefnj",
}

#: The data farms a US paper login connects to (the farm names in 2104/2106/2158 and in 1102's list).
DEFAULT_FARMS = ("usfarm", "ushmds", "secdefnj")
#: Which farm kind each farm name is: market data, historical data (HMDS), security definitions.
FARM_KIND = {"usfarm": "market", "cashfarm": "market", "usfuture": "market", "eufarm": "market", "eufarmnj": "market",
             "usopt": "market", "ushmds": "hmds", "cashhmds": "hmds", "euhmds": "hmds", "secdefnj": "secdef",
             "secdefil": "secdef", "secdefeu": "secdef"}
#: (broken, OK, inactive) codes per farm kind; secdef has no inactive state.
FARM_CODES = {"market": (MARKET_FARM_BROKEN, MARKET_FARM_OK, MARKET_FARM_INACTIVE),
              "hmds": (HMDS_FARM_BROKEN, HMDS_FARM_OK, HMDS_FARM_INACTIVE),
              "secdef": (SECDEF_FARM_BROKEN, SECDEF_FARM_OK, None)}


def farm_text(code: int, farm: str) -> str:
    """A farm status message for a named farm: TWS appends the farm's name to the fixed text."""
    kind = {MARKET_FARM_BROKEN: "Market data farm connection is broken:", MARKET_FARM_OK:
            "Market data farm connection is OK:", HMDS_FARM_BROKEN: "HMDS data farm connection is broken:",
            HMDS_FARM_OK: "HMDS data farm connection is OK:", SECDEF_FARM_BROKEN: "Sec-def data farm connection is "
            "broken:", SECDEF_FARM_OK: "Sec-def data farm connection is OK:", MARKET_FARM_INACTIVE:
            "Market data farm connection is inactive but should be available upon demand.", HMDS_FARM_INACTIVE:
            "HMDS data farm connection is inactive but should be available upon demand."}[code]
    return kind + farm


def restored_text(data_lost: bool, connected: list[str] | tuple[str, ...], not_connected: list[str] | tuple[str, ...]
                  ) -> str:
    """1101 / 1102 as current builds word them: 1102 lists the farms (every one connected, or the
    connected and the not-connected ones: IBC #143 2021, IBC #251 2024, Lean IB #169 2025)."""
    if data_lost:
        return TEXTS[RESTORED_DATA_LOST]
    head = TEXTS[RESTORED_DATA_MAINTAINED]
    if not not_connected:
        return f"{head} All data farms are connected: {'; '.join(connected)}."
    return (f"{head} The following farms are connected: {'; '.join(connected)}. "
            f"The following farms are not connected: {'; '.join(not_connected)}.")

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
