"""What an outbound message is, for per-kind latency: a protocol fact the faults and the session share."""
from __future__ import annotations

from enum import Enum


class ReplyKind(str, Enum):
    """What an outbound message is, for per-kind latency."""

    ORDER_ACK = "order_ack"            # openOrder / orderStatus up to Submitted
    ORDER_FILL = "order_fill"          # execDetails, orderStatus Filled, commissionReport
    MARKET_DATA = "market_data"        # ticks, tickReqParams, marketDataType
    HISTORICAL_DATA = "historical_data"  # historicalData, historicalDataUpdate, realtimeBar
    ACCOUNT_DATA = "account_data"      # account values, portfolio, positions, summary, pnl
    CONTRACT_DATA = "contract_data"    # contractData / contractDetailsEnd
    OTHER = "other"                    # currentTime, errors, ids, ...


__all__ = ["ReplyKind"]
