"""IB Gateway's API settings that refuse requests: "Read-Only API".

Not a failure but a setting (Configure > Settings > API > Settings), applied where every
request passes, like the pacing rules. With Read-Only API checked, TWS refuses every request
that could change orders with 321 "... The API interface is currently in Read-Only mode."
(ib_insync #1, IBC #10, qtpylib #117, IBC #341 with IB Gateway 1037 in 2026), and the open-order
downloads with it, which is why ib_insync's ``connect(readonly=True)`` skips reqOpenOrders and
reqCompletedOrders.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..protocol.requests import Request
from .base import SessionView, Verdict
from .codes import READ_ONLY_API_TEXT
from .common import NamedFault

#: Requests Read-Only mode refuses: placeOrder, cancelOrder, exerciseOptions, reqGlobalCancel, and the
#: open / completed order downloads (which bind and report orders). The error carries the request's id
#: (the order id) or -1.
REFUSED_REQUESTS = frozenset({"placeOrder", "cancelOrder", "exerciseOptions", "reqGlobalCancel", "reqOpenOrders",
                              "reqAllOpenOrders", "reqAutoOpenOrders", "reqCompletedOrders"})


@dataclass(kw_only=True)
class ReadOnlyApi(NamedFault):
    """Read-Only API mode: order requests get 321 and are not processed; everything else is served."""

    type: Literal["read_only_api"] = "read_only_api"

    def on_request(self, session: SessionView, request: Request, now: float) -> Verdict | None:
        if request.name not in REFUSED_REQUESTS or not self.active(now):
            return None
        return Verdict(errors=[(request.req_id, 321, READ_ONLY_API_TEXT)], drop=True, fault=self.name)


__all__ = ["READ_ONLY_API_TEXT", "REFUSED_REQUESTS", "ReadOnlyApi"]
