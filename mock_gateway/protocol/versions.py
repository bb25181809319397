"""Server-version feature thresholds: the version from which a wire layout changes.

Encoders and parsers branch on these names (``sv >= SIZE_RULES``), never on a client's
identity, so a negotiated version between two known layouts gets exactly the fields the
clients' decoders expect at that version. Numbers from ibapi/server_versions.py and the
``serverVersion`` branches of ib_insync 0.9.86 / ib_async 2.1.0.
"""
from __future__ import annotations

#: Lowest version this mock speaks: every layout below is pinned from 157 up (ibapi 9.81's max).
MIN_SUPPORTED = 157
#: The text version protobuf payloads are converted through (the request and reply models are its
#: field lists) and ib_async 2.1.0's max.
MAX_TEXT = 178
#: Highest text-protocol version whose every layout this mock encodes: TWS API 10.30's last text layout
#: before the error time (194), the maximum of @stoqey/ib 1.6 (MAX_SUPPORTED_SERVER_VERSION), which a
#: real gateway negotiates with it.
MAX_TEXT_SERVED = 193
#: Lowest protobuf version this mock speaks: from here every request and reply it serves is protobuf
#: (the last request family switches at PROTOBUF_REST_MESSAGES_3), so no text layout of 194..212 is needed.
MIN_PROTOBUF_SUPPORTED = 213
#: The maximum of the current stable IB Gateway (10.45): TWS API 10.45.1's MAX_CLIENT_VER is
#: HEDGE_MAX_SIZE = 223 (ibapi-latest/ibapi-stable 10.45.1 server_versions.py); 224..226 came with 10.46+.
STABLE_GATEWAY_MAX = 223
#: Highest version this mock can encode.
MAX_SUPPORTED = STABLE_GATEWAY_MAX
#: What the gateway negotiates up to unless configured otherwise: the current stable IB Gateway.
DEFAULT_MAX_SERVER_VERSION = STABLE_GATEWAY_MAX

# -- below MIN_SUPPORTED, kept for the branches whose old form ibapi still reads
MARKET_CAP_PRICE = 131          # orderStatus: no version field, mktCapPrice at the end
SYNT_REALTIME_BARS = 124        # historicalData: no version field, no hasGaps
LAST_LIQUIDITY = 136            # execDetails: no version field, lastLiquidity at the end
# -- in the supported range
DURATION_PLACE = 158            # placeOrder tail: duration
DURATION = 159                  # openOrder tail: duration
POST_TO_ATS = 160               # placeOrder / openOrder: postToAts
AUTO_CANCEL_PARENT = 162        # placeOrder / openOrder: autoCancelParent
FRACTIONAL_SIZE_SUPPORT = 163   # contractData: suggestedSizeIncrement (only exactly at 163)
SIZE_RULES = 164                # contractData: no version / mdSizeMultiplier; minSize, sizeIncrement, suggested
ADVANCED_ORDER_REJECT = 166     # error: advancedOrderRejectJson; placeOrder: advancedErrorOverride
MANUAL_ORDER_TIME = 169         # placeOrder: manualOrderTime; cancelOrder: manualCancelOrderTime
PEGBEST_PEGMID_OFFSETS = 170    # placeOrder / openOrder / completedOrder: PEG BEST / PEG MID fields
BOND_ISSUERID = 176             # reqContractDetails: issuerId
FA_PROFILE_DESUPPORT = 177      # placeOrder / openOrder / completedOrder: no faProfile
PENDING_PRICE_REVISION = 178    # execDetails: pendingPriceRevision
# -- the text layouts of TWS API 10.2x/10.30 (ibapi server_versions.py; the same numbers in @stoqey/ib 1.6)
FUND_DATA_FIELDS = 179          # contractData: 17 fund fields, for secType FUND only
MANUAL_ORDER_TIME_EXERCISE_OPTIONS = 180   # exerciseOptions: manualOrderTime (not served here)
LAST_TRADE_DATE = 182           # contractData: lastTradeDate after lastTradeDateOrContractMonth
CUSTOMER_ACCOUNT = 183          # placeOrder / openOrder / completedOrder: customerAccount
PROFESSIONAL_CUSTOMER = 184     # placeOrder / openOrder / completedOrder: professionalCustomer
BOND_ACCRUED_INTEREST = 185     # openOrder: bondAccruedInterest
INELIGIBILITY_REASONS = 186     # contractData: ineligibility reasons (count, then id/description pairs)
RFQ_FIELDS = 187                # placeOrder: 2 RFQ fields, cancelOrder: 3 (only below UNDO_RFQ_FIELDS)
BOND_TRADING_HOURS = 188        # bondContractData: timeZoneId, tradingHours, liquidHours
INCLUDE_OVERNIGHT = 189         # placeOrder / openOrder: includeOvernight
UNDO_RFQ_FIELDS = 190           # the RFQ fields are gone again
CME_TAGGING_FIELDS = 192        # placeOrder: manualOrderIndicator; cancelOrder / reqGlobalCancel: no version
                                # field, then extOperator and manualOrderIndicator at the end
CME_TAGGING_FIELDS_IN_OPEN_ORDER = 193   # openOrder: extOperator, manualOrderIndicator


# -- protocol buffers (ibapi 10.50/10.51 server_versions.py; identical in both)
PROTOBUF = 201                      # binary 4-byte message ids both ways; id > 200 = protobuf; reqExecutions
ZERO_STRIKE = 202
PROTOBUF_PLACE_ORDER = 203          # placeOrder, cancelOrder, reqGlobalCancel
PROTOBUF_COMPLETED_ORDER = 204      # reqOpenOrders, reqAllOpenOrders, reqAutoOpenOrders, reqCompletedOrders
PROTOBUF_CONTRACT_DATA = 205        # reqContractDetails
PROTOBUF_MARKET_DATA = 206          # reqMktData, cancelMktData, reqMktDepth, cancelMktDepth, reqMarketDataType
PROTOBUF_ACCOUNTS_POSITIONS = 207   # account updates, managed accounts, positions, summary, multi
PROTOBUF_HISTORICAL_DATA = 208      # historical bars, real-time bars, head timestamp, histogram, ticks
PROTOBUF_NEWS_DATA = 209
PROTOBUF_SCAN_DATA = 210            # scanner, reqPnL, reqPnLSingle and their cancels
PROTOBUF_REST_MESSAGES_1 = 211      # FA, exerciseOptions, option calculations
PROTOBUF_REST_MESSAGES_2 = 212      # secDefOptParams, soft dollar tiers, family codes, matching symbols, ...
PROTOBUF_REST_MESSAGES_3 = 213      # reqIds, reqCurrentTime, startApi, setServerLogLevel, display groups, ...
CANCEL_CONTRACT_DATA = 215          # cancelContractData (protobuf only)
#: The protobuf id offset: a frame whose 4-byte id is above this carries protobuf message id - 200.
PROTOBUF_MSG_ID = 200

#: Request id -> the version from which the official client sends it as protobuf
#: (ibapi 10.51 common.py getServerVersionForMessage). Requests not listed stay text.
_PROTOBUF_FAMILIES: tuple[tuple[int, tuple[int, ...]], ...] = (
    (PROTOBUF, (7,)),
    (PROTOBUF_PLACE_ORDER, (3, 4, 58)),
    (PROTOBUF_COMPLETED_ORDER, (16, 15, 5, 99)),
    (PROTOBUF_CONTRACT_DATA, (9,)),
    (PROTOBUF_MARKET_DATA, (1, 2, 10, 11, 59)),
    (PROTOBUF_ACCOUNTS_POSITIONS, (6, 17, 61, 64, 62, 63, 74, 75, 76, 77)),
    (PROTOBUF_HISTORICAL_DATA, (20, 25, 50, 51, 87, 90, 88, 89, 96, 97, 98)),
    (PROTOBUF_NEWS_DATA, (12, 13, 84, 85, 86, 100, 101, 102, 103)),
    (PROTOBUF_SCAN_DATA, (24, 22, 23, 92, 93, 94, 95)),
    (PROTOBUF_REST_MESSAGES_1, (18, 19, 21, 54, 56, 55, 57)),
    (PROTOBUF_REST_MESSAGES_2, (78, 79, 80, 81, 83, 91, 104)),
    (PROTOBUF_REST_MESSAGES_3, (8, 49, 105, 71, 14, 65, 66, 67, 68, 69, 70, 82)),
)
REQUEST_PROTOBUF_SINCE: dict[int, int] = {msg_id: v for v, ids in _PROTOBUF_FAMILIES for msg_id in ids}


def supported(version: int) -> bool:
    """Whether this mock encodes every message it serves at ``version`` exactly as the real gateway."""
    return MIN_SUPPORTED <= version <= MAX_TEXT_SERVED or MIN_PROTOBUF_SUPPORTED <= version <= MAX_SUPPORTED


def negotiate(client_min: int, client_max: int, server_max: int) -> int | None:
    """The version to speak with a client offering ``client_min..client_max``, or None to refuse.

    As the real gateway: the highest version both sides know. When that falls in 194..212 (text
    layouts this mock does not encode), the highest supported version below it, still within the
    client's range. None when nothing at or above the client's minimum is supported.
    """
    version = min(client_max, server_max, MAX_SUPPORTED)
    if MAX_TEXT_SERVED < version < MIN_PROTOBUF_SUPPORTED:
        version = MAX_TEXT_SERVED
    if version < client_min or version < MIN_SUPPORTED:
        return None
    return version
