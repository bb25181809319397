"""The order ledger: what the strategy asked for, what the gateway did, and what we hold.

The client's own record survives reconnects (ib_insync forgets every trade when a socket
drops), which is what makes orders idempotent: each intent carries a deterministic
``orderRef``; after a reconnect the ledger is reconciled against the open orders, completed
orders and executions the gateway reports, and only an intent the gateway never saw is sent
again. Fills are counted once per exec id, however many times they are reported.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum


class IntentState(str, Enum):
    PENDING = "pending"      # decided, not yet sent (disconnected, paused, or waiting for pacing)
    SENT = "sent"            # placeOrder written, no answer yet
    WORKING = "working"      # the gateway acknowledged it
    FILLED = "filled"
    DONE = "done"            # cancelled, rejected or inactive (maybe partly filled)
    DROPPED = "dropped"      # never reached the gateway and went stale, or refused by the kill switch


OPEN_STATES = frozenset({IntentState.PENDING, IntentState.SENT, IntentState.WORKING})
_DONE_STATUSES = {"Cancelled", "ApiCancelled", "Inactive"}


@dataclass
class Intent:
    ref: str
    symbol: str
    action: str              # BUY / SELL
    qty: float
    created_at: float        # client monotonic seconds, for staleness
    order_type: str = "MKT"
    lmt_price: float | None = None
    state: IntentState = IntentState.PENDING
    order_id: int | None = None
    filled: float = 0.0
    sends: int = 0
    note: str = ""
    position_at_decision: float = 0.0   # the position it was decided from: a rejection is of this order from there

    @property
    def sign(self) -> float:
        return 1.0 if self.action.upper() == "BUY" else -1.0

    @property
    def remaining(self) -> float:
        return max(0.0, self.qty - self.filled)


@dataclass
class Seen:
    """What the gateway reports about one order after a (re)connect."""

    ref: str
    order_id: int
    status: str
    filled: float = 0.0


@dataclass
class OrderLedger:
    client_id: int
    baseline_position: dict[str, float] = field(default_factory=dict)
    intents: dict[str, Intent] = field(default_factory=dict)
    by_order_id: dict[int, str] = field(default_factory=dict)
    exec_ids: set[str] = field(default_factory=set)
    fills_qty: dict[str, float] = field(default_factory=dict)   # symbol -> signed qty filled since baseline

    # ------------------------------------------------------------ intents
    def add(self, intent: Intent) -> bool:
        """Record a new intent; False if an intent with this ref exists already (idempotent submit)."""
        if intent.ref in self.intents:
            return False
        self.intents[intent.ref] = intent
        return True

    def get(self, ref: str) -> Intent | None:
        return self.intents.get(ref)

    def by_order(self, order_id: int) -> Intent | None:
        ref = self.by_order_id.get(order_id)
        return self.intents.get(ref) if ref is not None else None

    def mark_sent(self, ref: str, order_id: int) -> None:
        intent = self.intents[ref]
        intent.state, intent.order_id = IntentState.SENT, order_id
        intent.sends += 1
        self.by_order_id[order_id] = ref

    def on_status(self, order_id: int, status: str, filled: float | None = None, ref: str = "") -> None:
        intent = self.by_order(order_id) or (self.intents.get(ref) if ref else None)
        if intent is None or intent.state in (IntentState.FILLED, IntentState.DROPPED):
            return
        if filled is not None:
            intent.filled = max(intent.filled, filled)
        if status == "Filled" or intent.remaining <= 1e-9:
            intent.state = IntentState.FILLED
        elif status in _DONE_STATUSES:
            intent.state = IntentState.DONE
        elif status in ("PreSubmitted", "Submitted", "PendingSubmit", "ApiPending"):
            intent.state = IntentState.WORKING

    def on_reject(self, order_id: int, note: str) -> None:
        intent = self.by_order(order_id)
        if intent is not None and intent.state in OPEN_STATES:
            intent.state, intent.note = IntentState.DONE, note

    # ------------------------------------------------------------ fills and position
    def on_fill(self, exec_id: str, symbol: str, side: str, shares: float, order_id: int | None = None,
                ref: str = "", client_id: int | None = None) -> bool:
        """Count an execution once; only our own (our client id, or one of our refs). True if new."""
        if not exec_id or exec_id in self.exec_ids:
            return False
        intent = (self.intents.get(ref) if ref else None) or \
            (self.by_order(order_id) if order_id is not None and client_id == self.client_id else None)
        if intent is None and client_id != self.client_id:
            return False
        self.exec_ids.add(exec_id)
        sign = 1.0 if side.upper() in ("BOT", "BUY") else -1.0
        self.fills_qty[symbol] = self.fills_qty.get(symbol, 0.0) + sign * shares
        if intent is not None:
            intent.filled += shares
            if intent.remaining <= 1e-9:
                intent.state = IntentState.FILLED
            elif intent.state in (IntentState.SENT, IntentState.PENDING):
                intent.state = IntentState.WORKING
        return True

    def set_baseline(self, positions: dict[str, float], known_exec_ids: Iterable[str] = ()) -> None:
        """Start counting from the broker's positions; executions already in them are not counted again."""
        self.baseline_position = dict(positions)
        self.fills_qty.clear()
        self.exec_ids.update(known_exec_ids)

    def position(self, symbol: str) -> float:
        return self.baseline_position.get(symbol, 0.0) + self.fills_qty.get(symbol, 0.0)

    def in_flight(self, symbol: str) -> float:
        """Signed quantity still to execute for open intents of ``symbol``."""
        return sum(i.sign * i.remaining for i in self.intents.values()
                   if i.symbol == symbol and i.state in OPEN_STATES)

    def open_intents(self) -> list[Intent]:
        return [i for i in self.intents.values() if i.state in OPEN_STATES]

    # ------------------------------------------------------------ after a reconnect
    def reconcile(self, seen: Iterable[Seen], now: float, max_age_s: float) -> list[Intent]:
        """Adopt what the gateway knows; return the intents it never saw and that are still fresh.

        An intent marked SENT (or PENDING) whose ref and order id the gateway does not report was
        lost on the way: it is resent only if younger than ``max_age_s``, else dropped. An intent
        the gateway reports, or ever acknowledged, is never resent: that prevents duplicates.
        """
        by_ref = {s.ref: s for s in seen if s.ref}
        by_id = {s.order_id: s for s in seen}
        resend: list[Intent] = []
        for intent in list(self.intents.values()):
            if intent.state not in OPEN_STATES:
                continue
            report = by_ref.get(intent.ref) or (by_id.get(intent.order_id) if intent.order_id is not None else None)
            if report is not None:
                if intent.order_id != report.order_id:
                    self.by_order_id[report.order_id] = intent.ref
                    intent.order_id = report.order_id
                self.on_status(report.order_id, report.status, report.filled)
                if intent.state == IntentState.SENT:
                    intent.state = IntentState.WORKING
                continue
            if intent.state == IntentState.WORKING:
                # the gateway acknowledged it once, so it exists there: never send it again
                intent.state, intent.note = IntentState.DONE, "acknowledged, not reported after reconnect"
                continue
            if now - intent.created_at > max_age_s:
                intent.state, intent.note = IntentState.DROPPED, "stale after reconnect"
            else:
                intent.state = IntentState.PENDING
                resend.append(intent)
        return resend
