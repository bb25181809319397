"""Name a decoded message and pull out the few attributes metrics need.

Requests are decoded by the inbound table (:mod:`.requests`); this names replies the same way.
Used for every event-log line, by the gateway and the tap alike, so the metrics read the
same ``attrs`` whether a run was simulated or recorded from a real paper gateway. Only
fixed-position fields are read (no walking of optional groups), so it works at every
negotiated version and never raises on a short or odd message.
"""
from __future__ import annotations

from collections.abc import Callable

from .fields import field_at, float_or_none, int_or_none
from .ids import reply_name
from .requests import decode_request, msg_id_of

Attrs = dict[str, object]


def _get(fields: list[str], i: int) -> str:
    return field_at(fields, i)


def _int(fields: list[str], i: int) -> int | None:
    return int_or_none(fields, i)


def _float(fields: list[str], i: int) -> float | None:
    return float_or_none(fields, i)


# ---------------------------------------------------------------- server -> client
def _exec_details(f: list[str]) -> Attrs:
    return {
        "req_id": _int(f, 1), "order_id": _int(f, 2), "con_id": _int(f, 3), "symbol": _get(f, 4),
        "sec_type": _get(f, 5), "exec_id": _get(f, 14), "time": _get(f, 15), "account": _get(f, 16),
        "side": _get(f, 18), "shares": _float(f, 19), "price": _float(f, 20), "perm_id": _int(f, 21),
        "client_id": _int(f, 22), "cum_qty": _float(f, 24), "avg_price": _float(f, 25),
    }


_REPLIES: dict[str, Callable[[list[str]], Attrs]] = {
    "error": lambda f: {"req_id": _int(f, 2), "code": _int(f, 3), "text": _get(f, 4)},
    "orderStatus": lambda f: {
        "order_id": _int(f, 1), "status": _get(f, 2), "filled": _float(f, 3), "remaining": _float(f, 4),
        "avg_fill_price": _float(f, 5), "perm_id": _int(f, 6), "last_fill_price": _float(f, 8),
        "client_id": _int(f, 9)},
    "openOrder": lambda f: {
        "order_id": _int(f, 1), "con_id": _int(f, 2), "symbol": _get(f, 3), "action": _get(f, 13),
        "total_qty": _float(f, 14), "order_type": _get(f, 15), "client_id": _int(f, 24), "perm_id": _int(f, 25)},
    "execDetails": _exec_details,
    "commissionReport": lambda f: {"exec_id": _get(f, 2), "commission": _float(f, 3), "currency": _get(f, 4),
                                   "realized_pnl": _float(f, 5)},
    "nextValidId": lambda f: {"order_id": _int(f, 2)},
    "managedAccounts": lambda f: {"accounts": _get(f, 2)},
    "tickPrice": lambda f: {"req_id": _int(f, 2), "tick_type": _int(f, 3), "price": _float(f, 4),
                            "size": _float(f, 5)},
    "tickSize": lambda f: {"req_id": _int(f, 2), "tick_type": _int(f, 3), "size": _float(f, 4)},
    "historicalData": lambda f: {"req_id": _int(f, 1), "bar_count": _int(f, 4)},
    "historicalDataUpdate": lambda f: {"req_id": _int(f, 1), "date": _get(f, 3), "close": _float(f, 5)},
    "realtimeBar": lambda f: {"req_id": _int(f, 2), "time": _int(f, 3), "close": _float(f, 7)},
    "currentTime": lambda f: {"time": _int(f, 2)},
    "pnl": lambda f: {"req_id": _int(f, 1), "daily_pnl": _float(f, 2), "unrealized_pnl": _float(f, 3),
                      "realized_pnl": _float(f, 4)},
    "accountSummary": lambda f: {"req_id": _int(f, 2), "account": _get(f, 3), "tag": _get(f, 4),
                                 "value": _get(f, 5), "currency": _get(f, 6)},
    "updateAccountValue": lambda f: {"key": _get(f, 2), "value": _get(f, 3), "currency": _get(f, 4),
                                     "account": _get(f, 5)},
    "position": lambda f: {"account": _get(f, 2), "con_id": _int(f, 3), "symbol": _get(f, 4),
                           "position": _float(f, 14), "avg_cost": _float(f, 15)},
    "updatePortfolio": lambda f: {"con_id": _int(f, 2), "symbol": _get(f, 3), "position": _float(f, 13),
                                  "market_price": _float(f, 14), "market_value": _float(f, 15),
                                  "avg_cost": _float(f, 16), "unrealized_pnl": _float(f, 17),
                                  "realized_pnl": _float(f, 18), "account": _get(f, 19)},
    "contractData": lambda f: {"req_id": _int(f, 1)},
    "contractDetailsEnd": lambda f: {"req_id": _int(f, 2)},
    "execDetailsEnd": lambda f: {"req_id": _int(f, 2)},
    "accountSummaryEnd": lambda f: {"req_id": _int(f, 2)},
}


def describe_request(fields: list[str]) -> tuple[str, Attrs]:
    """(name, attrs) of a client -> server message (the inbound table's attribute reader)."""
    request = decode_request(fields)
    return request.name, dict(request.attrs)


def describe_reply(fields: list[str]) -> tuple[str, Attrs]:
    """(name, attrs) of a server -> client message."""
    name = reply_name(msg_id_of(fields))
    return name, _safe(_REPLIES.get(name), fields)


def _safe(fn: Callable[[list[str]], Attrs] | None, fields: list[str]) -> Attrs:
    if fn is None:
        return {}
    try:
        return fn(fields)
    except Exception:  # a describer must never take a session down
        return {}


__all__ = ["describe_reply", "describe_request", "msg_id_of"]
