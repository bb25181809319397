"""What the gates and the plots need from a session event log (mock_gateway.eventlog), in one pass."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from mock_gateway.eventlog import Event

#: error 100 is always pacing; 162 and 420 only when their text says so (they have other causes).
PACING_CODES = frozenset({100})
PACING_TEXT_CODES = frozenset({162, 420})
CONNECTIVITY_LOST_CODE = 1100

IncidentKind = Literal["pacing", "disconnect", "connectivity_lost"]


@dataclass(frozen=True)
class Incident:
    t_s: float
    kind: IncidentKind
    detail: str


@dataclass(frozen=True)
class SessionSeries:
    clock: Literal["sim", "wall"]
    requests_seen: frozenset[str]
    ack_latencies_ms: tuple[float, ...]
    equity: tuple[tuple[float, float], ...]  # (t_s, net liquidation) of the first account marked
    incidents: tuple[Incident, ...]
    duration_s: float


def summarize_events(events: Iterable[Event], clock: Literal["sim", "wall"] = "sim") -> SessionSeries:
    """Requests seen, order-ack latencies (placeOrder -> first openOrder/orderStatus), equity marks,
    pacing errors and disconnects, on a time axis from the first event (sim time when the log has it)."""
    requests: set[str] = set()
    placed_at: dict[tuple[int | None, int], float] = {}
    latencies_ms: list[float] = []
    equity: list[tuple[float, float]] = []
    incidents: list[Incident] = []
    equity_account: str | None = None
    first_wall: float | None = None
    t_s = 0.0
    for ev in events:
        if first_wall is None:
            first_wall = ev["wall"]
        t_s = ev["sim"] if clock == "sim" and ev.get("sim") is not None else ev["wall"] - first_wall
        attrs = ev.get("attrs") or {}
        direction, msg = ev["dir"], ev["msg"]
        if direction == "in":
            requests.add(msg)
            if msg == "placeOrder" and attrs.get("order_id") is not None:
                placed_at.setdefault((ev.get("conn"), attrs["order_id"]), t_s)
        elif direction == "out":
            if msg in ("openOrder", "orderStatus") and attrs.get("order_id") is not None:
                sent = placed_at.pop((ev.get("conn"), attrs["order_id"]), None)
                if sent is not None:
                    latencies_ms.append(1000.0 * (t_s - sent))
            elif msg == "error":
                incident = _error_incident(t_s, attrs)
                if incident:
                    incidents.append(incident)
        elif msg == "disconnect":
            incidents.append(Incident(t_s, "disconnect", str(attrs.get("reason", ""))))
        elif msg == "account_mark" and attrs.get("net_liquidation") is not None:
            equity_account = equity_account or attrs.get("account")
            if attrs.get("account") == equity_account:
                equity.append((t_s, float(attrs["net_liquidation"])))
    return SessionSeries(clock, frozenset(requests), tuple(latencies_ms), tuple(equity), tuple(incidents), t_s)


def _error_incident(t_s: float, attrs: dict) -> Incident | None:
    code, text = attrs.get("code"), str(attrs.get("text", ""))
    if code in PACING_CODES or (code in PACING_TEXT_CODES and "pacing" in text.lower()):
        return Incident(t_s, "pacing", f"{code} {text}".strip())
    if code == CONNECTIVITY_LOST_CODE:
        return Incident(t_s, "connectivity_lost", f"{code} {text}".strip())
    return None
