"""Reply latency per kind, from a session's request/reply pairs.

A request is paired with the first reply that answers it on the same connection: by its id
(orderId / reqId) where it has one, else (reqAccountUpdates, reqPositions) the first reply of
its kind. An error answering the request ends the pairing without a sample: an error is not the
data the kind's latency describes. Kinds are the mock's (:class:`ReplyKind`), so the samples
can drive the latency fault directly. Times are on the log's latency clock (sim seconds for a
mock log, wall seconds for a tap recording).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from mock_gateway.eventlog import Event
from mock_gateway.protocol.ids import REQUEST_IDS
from mock_gateway.protocol.kinds import ReplyKind
from mock_gateway.protocol.requests import spec_of

K = ReplyKind
#: The kinds a calibration measures ("other" replies are ids, clock, errors: not worth a distribution).
CALIBRATED_KINDS: tuple[ReplyKind, ...] = (K.ORDER_ACK, K.ORDER_FILL, K.MARKET_DATA, K.HISTORICAL_DATA,
                                           K.ACCOUNT_DATA, K.CONTRACT_DATA)
#: Replies that count as an answer of each kind.
REPLIES_OF_KIND: dict[ReplyKind, frozenset[str]] = {
    K.ORDER_ACK: frozenset({"openOrder", "orderStatus"}),
    K.ORDER_FILL: frozenset({"execDetails"}),
    K.MARKET_DATA: frozenset({"tickPrice", "tickSize", "tickString", "tickGeneric", "tickReqParams",
                              "marketDataType", "tickSnapshotEnd", "tickOptionComputation"}),
    K.HISTORICAL_DATA: frozenset({"historicalData", "historicalDataUpdate", "realtimeBar", "headTimestamp",
                                  "histogramData", "historicalTicks", "historicalTicksBidAsk",
                                  "historicalTicksLast", "historicalDataEnd"}),
    K.ACCOUNT_DATA: frozenset({"updateAccountValue", "updatePortfolio", "updateAccountTime", "accountDownloadEnd",
                               "position", "positionEnd", "accountSummary", "accountSummaryEnd", "pnl",
                               "pnlSingle", "positionMulti", "positionMultiEnd", "accountUpdateMulti",
                               "accountUpdateMultiEnd"}),
    K.CONTRACT_DATA: frozenset({"contractData", "contractDetailsEnd", "bondContractData", "symbolSamples",
                                "securityDefinitionOptionParameter", "securityDefinitionOptionParameterEnd"}),
}
#: Order requests whose answers are not an acknowledgement of a new order (cancels, downloads).
_ORDER_ACK_FROM = frozenset({"placeOrder"})


def latency_clock(events: list[Event]) -> str:
    """``"sim"`` when every wire message carries SimPy time (a mock log), else ``"wall"`` (a tap recording)."""
    wire = [e for e in events if e["dir"] != "sys"]
    return "sim" if wire and all(isinstance(e.get("sim"), (int, float)) for e in wire) else "wall"


def event_time_s(event: Event, clock: str) -> float | None:
    value = event.get(clock)
    return float(value) if isinstance(value, (int, float)) else None


@dataclass
class _Pending:
    kind: ReplyKind
    t_s: float
    req_id: int | None


@dataclass
class LatencySamples:
    """Milliseconds per kind, and how many requests of each kind went unanswered or answered an error."""

    clock: str
    samples_ms: dict[ReplyKind, list[float]] = field(default_factory=dict)
    unanswered: dict[ReplyKind, int] = field(default_factory=dict)
    errored: dict[ReplyKind, int] = field(default_factory=dict)


def _request_id(event: Event) -> int | None:
    attrs = event["attrs"]
    value = attrs.get("order_id") if event["msg"] in ("placeOrder", "cancelOrder") else attrs.get("req_id")
    return value if isinstance(value, int) else None


def _reply_id(event: Event) -> int | None:
    attrs = event["attrs"]
    if event["msg"] in ("openOrder", "orderStatus"):
        value = attrs.get("order_id")
    elif event["msg"] == "execDetails":
        value = attrs.get("order_id")
    else:
        value = attrs.get("req_id")
    return value if isinstance(value, int) and value >= 0 else None


def request_msg_id(event: Event) -> int | None:
    """The request's wire id: as logged, else by its name (hand-written or converted logs may lack it)."""
    msg_id = event.get("msg_id")
    return msg_id if isinstance(msg_id, int) else REQUEST_IDS.get(event["msg"])


def _kinds_asked(event: Event) -> list[ReplyKind]:
    msg_id = request_msg_id(event)
    if msg_id is None:
        return []
    kind = spec_of(msg_id).reply_kind
    if kind is K.ORDER_ACK:
        return [K.ORDER_ACK, K.ORDER_FILL] if event["msg"] in _ORDER_ACK_FROM else []
    return [kind] if kind in REPLIES_OF_KIND else []


def reply_latencies(events: Iterable[Event]) -> LatencySamples:
    """Pair each request with its first answer, per kind; pure over the events, in log order."""
    events = list(events)
    clock = latency_clock(events)
    result = LatencySamples(clock, {k: [] for k in CALIBRATED_KINDS})
    pending: dict[int, list[_Pending]] = {}  # per connection, oldest first
    for event in events:
        conn = event.get("conn")
        t = event_time_s(event, clock)
        if conn is None or t is None:
            continue
        if event["dir"] == "sys" and event["msg"] == "disconnect":
            for p in pending.pop(conn, []):
                result.unanswered[p.kind] = result.unanswered.get(p.kind, 0) + 1
            continue
        if event["dir"] == "in":
            for kind in _kinds_asked(event):
                pending.setdefault(conn, []).append(_Pending(kind, t, _request_id(event)))
            continue
        if event["dir"] != "out" or conn not in pending:
            continue
        reply_id = _reply_id(event)
        waiting = pending[conn]
        if event["msg"] == "error":
            code = event["attrs"].get("code")
            if reply_id is None or (isinstance(code, int) and 2100 <= code < 2200):
                continue  # a notice or warning, not an answer to one request
            for p in [p for p in waiting if p.req_id == reply_id]:
                result.errored[p.kind] = result.errored.get(p.kind, 0) + 1
                waiting.remove(p)
            continue
        for p in waiting:
            if event["msg"] not in REPLIES_OF_KIND[p.kind]:
                continue
            if p.req_id is not None and reply_id is not None and p.req_id != reply_id:
                continue
            if p.req_id is not None and reply_id is None and p.kind is not K.ACCOUNT_DATA:
                continue
            result.samples_ms[p.kind].append(round((t - p.t_s) * 1000.0, 3))
            waiting.remove(p)
            break
    for conn_pending in pending.values():
        for p in conn_pending:
            result.unanswered[p.kind] = result.unanswered.get(p.kind, 0) + 1
    return result
