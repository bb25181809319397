"""Server-version feature thresholds: the version from which a wire layout changes.

Encoders and parsers branch on these names (``sv >= SIZE_RULES``), never on a client's
identity, so a negotiated version between two known layouts gets exactly the fields the
clients' decoders expect at that version. Numbers from ibapi/server_versions.py and the
``serverVersion`` branches of ib_insync 0.9.86 / ib_async 2.1.0.
"""
from __future__ import annotations

#: Lowest version this mock speaks: every layout below is pinned from 157 up (ibapi 9.81's max).
MIN_SUPPORTED = 157
#: Highest version this mock can encode (ib_async 2.1.0's max).
MAX_SUPPORTED = 178
#: What the gateway negotiates up to unless configured otherwise (ib_insync 0.9.86's MaxClientVersion
#: in ib_insync/client.py).
DEFAULT_MAX_SERVER_VERSION = 176

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


def negotiate(client_min: int, client_max: int, server_max: int) -> int | None:
    """The version to speak with a client offering ``client_min..client_max``, or None to refuse.

    As the real gateway: the highest version both sides know. None when that is below the
    client's own minimum or below what this mock can encode.
    """
    version = min(client_max, server_max, MAX_SUPPORTED)
    if version < client_min or version < MIN_SUPPORTED:
        return None
    return version
