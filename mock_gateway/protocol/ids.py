"""Message ids and names, both directions (from ibapi/message.py, names as the clients call them).

The request names come from the inbound table (:mod:`.requests`); the reply names live here."""
from __future__ import annotations

from .requests import REQUEST_NAMES   # the inbound table owns the names

#: server -> client
REPLY_NAMES: dict[int, str] = {
    1: "tickPrice",
    2: "tickSize",
    3: "orderStatus",
    4: "error",
    5: "openOrder",
    6: "updateAccountValue",
    7: "updatePortfolio",
    8: "updateAccountTime",
    9: "nextValidId",
    10: "contractData",
    11: "execDetails",
    12: "updateMktDepth",
    13: "updateMktDepthL2",
    14: "updateNewsBulletin",
    15: "managedAccounts",
    16: "receiveFA",
    17: "historicalData",
    18: "bondContractData",
    19: "scannerParameters",
    20: "scannerData",
    21: "tickOptionComputation",
    45: "tickGeneric",
    46: "tickString",
    47: "tickEfp",
    49: "currentTime",
    50: "realtimeBar",
    51: "fundamentalData",
    52: "contractDetailsEnd",
    53: "openOrderEnd",
    54: "accountDownloadEnd",
    55: "execDetailsEnd",
    56: "deltaNeutralValidation",
    57: "tickSnapshotEnd",
    58: "marketDataType",
    59: "commissionReport",
    61: "position",
    62: "positionEnd",
    63: "accountSummary",
    64: "accountSummaryEnd",
    65: "verifyMessageApi",
    66: "verifyCompleted",
    67: "displayGroupList",
    68: "displayGroupUpdated",
    69: "verifyAndAuthMessageApi",
    70: "verifyAndAuthCompleted",
    71: "positionMulti",
    72: "positionMultiEnd",
    73: "accountUpdateMulti",
    74: "accountUpdateMultiEnd",
    75: "securityDefinitionOptionParameter",
    76: "securityDefinitionOptionParameterEnd",
    77: "softDollarTiers",
    78: "familyCodes",
    79: "symbolSamples",
    80: "mktDepthExchanges",
    81: "tickReqParams",
    82: "smartComponents",
    83: "newsArticle",
    84: "tickNews",
    85: "newsProviders",
    86: "historicalNews",
    87: "historicalNewsEnd",
    88: "headTimestamp",
    89: "histogramData",
    90: "historicalDataUpdate",
    91: "rerouteMktDataReq",
    92: "rerouteMktDepthReq",
    93: "marketRule",
    94: "pnl",
    95: "pnlSingle",
    96: "historicalTicks",
    97: "historicalTicksBidAsk",
    98: "historicalTicksLast",
    99: "tickByTick",
    100: "orderBound",
    101: "completedOrder",
    102: "completedOrdersEnd",
    103: "replaceFaEnd",
    104: "wshMetaData",
    105: "wshEventData",
    106: "historicalSchedule",
    107: "userInfo",
    108: "historicalDataEnd",
    109: "currentTimeInMillis",
    110: "configResponse",
    111: "updateConfigResponse",
}

REQUEST_IDS: dict[str, int] = {v: k for k, v in REQUEST_NAMES.items()}
REPLY_IDS: dict[str, int] = {v: k for k, v in REPLY_NAMES.items()}


def request_name(msg_id: int) -> str:
    return REQUEST_NAMES.get(msg_id, f"unknown_{msg_id}")


def reply_name(msg_id: int) -> str:
    return REPLY_NAMES.get(msg_id, f"unknown_{msg_id}")


__all__ = ["REPLY_IDS", "REPLY_NAMES", "REQUEST_IDS", "REQUEST_NAMES", "reply_name", "request_name"]
