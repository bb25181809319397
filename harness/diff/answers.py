"""What answered each client request in an event log, and how two such answers differ.

Pure functions. A request's answer is every reply on its connection that carries its id
(orderId / reqId), up to the next request reusing that id; a request without an id (reqPositions,
reqAccountUpdates, reqCurrentTime) is answered by the id-less replies of its reply kind until the
next id-less request of that kind, so a replay whose timing drifts still pairs them alike.
Connectivity and farm notices (11xx, 21xx) answer no request: the calibration compares those
as a pattern, not per request. Prices, times and exchange-assigned ids are left out of the
comparison: they come from a different market and a different day.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from mock_gateway.eventlog import Event
from mock_gateway.protocol.kinds import ReplyKind
from mock_gateway.protocol.requests import spec_of

from harness.calibrate.latency import REPLIES_OF_KIND, request_msg_id

_KIND_OF_REPLY = {name: kind for kind, names in REPLIES_OF_KIND.items() for name in names}
#: Id-less replies and the id-less request that asked for them (more precise than the reply kind).
_REQUEST_OF_REPLY = {
    "position": "reqPositions", "positionEnd": "reqPositions",
    "updateAccountValue": "reqAccountUpdates", "updatePortfolio": "reqAccountUpdates",
    "updateAccountTime": "reqAccountUpdates", "accountDownloadEnd": "reqAccountUpdates",
    "currentTime": "reqCurrentTime", "nextValidId": "reqIds", "managedAccounts": "reqManagedAccts",
    "completedOrder": "reqCompletedOrders", "completedOrdersEnd": "reqCompletedOrders",
}

#: Attributes compared per reply name (the ones a handler's logic depends on; prices aside).
COMPARED_ATTRS: dict[str, tuple[str, ...]] = {
    "openOrder": ("symbol", "action", "total_qty", "order_type"),
    "orderStatus": ("filled", "remaining"),
    "execDetails": ("symbol", "side", "shares", "account"),
    "position": ("account", "symbol", "position"),
    "updatePortfolio": ("symbol", "position", "account"),
    "accountSummary": ("account", "tag", "currency"),
    "historicalData": ("bar_count",),
    "tickPrice": ("tick_type",),
    "tickSize": ("tick_type",),
}
#: Replies that are streams or session-level: present/absent is compared, never their count.
_IDS_OF = {"placeOrder": "order_id", "cancelOrder": "order_id"}
_ORDER_REPLIES = frozenset({"openOrder", "orderStatus", "execDetails"})
#: Replies compared by their last value only (how the order ended).
_FINAL_ONLY = frozenset({"orderStatus"})
_SKIP_REQUESTS = frozenset({"handshake", "startApi"})


def _is_notice(event: Event) -> bool:
    code = event["attrs"].get("code")
    return event["msg"] == "error" and isinstance(code, int) and (1100 <= code <= 1102 or 2100 <= code < 2200)


def _reply_id(event: Event) -> int | None:
    attrs = event["attrs"]
    value = attrs.get("order_id") if event["msg"] in _ORDER_REPLIES else attrs.get("req_id")
    return value if isinstance(value, int) and value >= 0 else None


def _request_id(event: Event) -> int | None:
    value = event["attrs"].get(_IDS_OF.get(event["msg"], "req_id"))
    return value if isinstance(value, int) and value >= 0 else None


@dataclass
class Answer:
    """One client request and what answered it."""

    conn_index: int                 # 0 = the session's first connection, in connect order
    index: int                      # the request's position among its connection's requests
    request: str
    req_id: int | None
    replies: list[Event] = field(default_factory=list)

    @property
    def key(self) -> tuple[int, int]:
        return self.conn_index, self.index

    def names(self) -> list[str]:
        return sorted({e["msg"] for e in self.replies if e["msg"] != "error"})

    def order_statuses(self) -> list[str]:
        out: list[str] = []
        for e in self.replies:
            if e["msg"] == "orderStatus":
                status = str(e["attrs"].get("status", ""))
                if not out or out[-1] != status:
                    out.append(status)
        return out

    def errors(self) -> list[tuple[int, str]]:
        return [(e["attrs"].get("code"), str(e["attrs"].get("text", ""))) for e in self.replies if e["msg"] == "error"]

    def compared_values(self, name: str) -> set[tuple[Any, ...]]:
        """The distinct values of the compared attributes over every reply of ``name`` (order and count aside:
        streams and multi-row answers arrive in a different interleaving on every run)."""
        keys = COMPARED_ATTRS.get(name, ())
        if name in _FINAL_ONLY:   # intermediate statuses are compared as the status sequence
            last = [e for e in self.replies if e["msg"] == name][-1:]
            return {tuple(e["attrs"].get(k) for k in keys) for e in last}
        return {tuple(e["attrs"].get(k) for k in keys) for e in self.replies if e["msg"] == name} if keys else set()


def answers_of(events: Iterable[Event]) -> list[Answer]:
    """Every client request of the log (handshake aside) with the replies that answered it."""
    conn_index: dict[int, int] = {}
    counts: dict[int, int] = {}
    answers: list[Answer] = []
    by_id: dict[tuple[int, int], Answer] = {}          # (conn, id) -> the latest request with that id
    last_plain: dict[tuple[int, object], Answer] = {}   # (conn, request name or reply kind) -> latest id-less request
    for e in events:
        conn = e.get("conn")
        if not isinstance(conn, int):
            continue
        if e["dir"] == "sys" and e["msg"] == "connect":
            conn_index.setdefault(conn, len(conn_index))
            continue
        if e["dir"] == "in":
            if e["msg"] in _SKIP_REQUESTS:
                conn_index.setdefault(conn, len(conn_index))
                continue
            conn_index.setdefault(conn, len(conn_index))
            answer = Answer(conn_index[conn], counts.get(conn, 0), e["msg"], _request_id(e))
            counts[conn] = answer.index + 1
            answers.append(answer)
            if answer.req_id is not None:
                by_id[(conn, answer.req_id)] = answer
            else:
                msg_id = request_msg_id(e)
                kind = spec_of(msg_id).reply_kind if msg_id is not None else ReplyKind.OTHER
                last_plain[(conn, kind)] = answer
                last_plain[(conn, e["msg"])] = answer
            continue
        if e["dir"] != "out" or _is_notice(e):
            continue
        rid = _reply_id(e)
        if rid is not None:
            target = by_id.get((conn, rid))
        else:
            target = last_plain.get((conn, _REQUEST_OF_REPLY[e["msg"]])) if e["msg"] in _REQUEST_OF_REPLY \
                else last_plain.get((conn, _KIND_OF_REPLY.get(e["msg"], ReplyKind.OTHER)))
        if target is not None:
            target.replies.append(e)
    return answers


@dataclass
class Difference:
    category: str        # missing_message | extra_message | order_status | error | field | missing_request
    request: str
    conn_index: int
    index: int
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"category": self.category, "request": self.request, "connection": self.conn_index,
                "request_index": self.index, "detail": self.detail}


def compare_answers(recorded: Answer, replayed: Answer | None) -> list[Difference]:
    """The differences that matter between the recorded answer to a request and the mock's."""
    def diff(category: str, detail: str) -> Difference:
        return Difference(category, recorded.request, recorded.conn_index, recorded.index, detail)

    if replayed is None:
        return [diff("missing_request", "the replay never reached this request (the mock closed the connection?)")]
    out: list[Difference] = []
    want, got = set(recorded.names()), set(replayed.names())
    for name in sorted(want - got):
        out.append(diff("missing_message", f"the mock sent no {name}"))
    for name in sorted(got - want):
        out.append(diff("extra_message", f"the mock sent {name}, the session had none"))
    if recorded.order_statuses() != replayed.order_statuses():
        out.append(diff("order_status", f"order status {' -> '.join(recorded.order_statuses()) or '(none)'} recorded, "
                                        f"{' -> '.join(replayed.order_statuses()) or '(none)'} from the mock"))
    rec_err, rep_err = recorded.errors(), replayed.errors()
    if [c for c, _ in rec_err] != [c for c, _ in rep_err]:
        out.append(diff("error", f"error codes {[c for c, _ in rec_err]} recorded, {[c for c, _ in rep_err]} from the mock"))
    else:
        for (code, t1), (_, t2) in zip(rec_err, rep_err):
            if t1 != t2:
                out.append(diff("error", f"error {code} text {t1!r} recorded, {t2!r} from the mock"))
    for name in sorted(want & got):
        a, b = recorded.compared_values(name), replayed.compared_values(name)
        if a != b:
            keys = ", ".join(COMPARED_ATTRS[name])
            out.append(diff("field", f"{name} ({keys}): {sorted(a - b, key=str)[:3]} recorded only, "
                                     f"{sorted(b - a, key=str)[:3]} from the mock only"))
    return out


@dataclass
class FidelityReport:
    requests: int
    alike: int
    differences: list[Difference]
    by_request: dict[str, dict[str, int]]    # request name -> {"total": n, "alike": m}

    @property
    def fidelity(self) -> float:
        return self.alike / self.requests if self.requests else 1.0

    def as_dict(self) -> dict[str, Any]:
        return {"requests": self.requests, "alike": self.alike, "fidelity": round(self.fidelity, 6),
                "by_request": self.by_request, "differences": [d.as_dict() for d in self.differences]}


def compare_sessions(recorded: list[Event], replayed: list[Event]) -> FidelityReport:
    """Request by request: the session's answers against the mock's, matched by connection and position."""
    mine = answers_of(recorded)
    theirs = {a.key: a for a in answers_of(replayed)}
    diffs: list[Difference] = []
    alike = 0
    by_request: dict[str, dict[str, int]] = {}
    for answer in mine:
        found = compare_answers(answer, theirs.get(answer.key))
        row = by_request.setdefault(answer.request, {"total": 0, "alike": 0})
        row["total"] += 1
        if not found:
            alike += 1
            row["alike"] += 1
        diffs += found
    return FidelityReport(len(mine), alike, diffs, by_request)
