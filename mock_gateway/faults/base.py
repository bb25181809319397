"""The contract between the gateway and its faults.

A fault is a small named object with a few parameters (Toxiproxy's model). The gateway asks
the :class:`FaultStack` at a handful of points; each hook has a neutral default, so a fault
overrides only the hooks its story needs and knows nothing about the other faults. Scheduled
faults (disconnect at t, restart, connectivity loss) start SimPy processes in
:meth:`Fault.install` and act through the :class:`GatewayControl` the server hands them.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol

import simpy

from ..protocol.kinds import ReplyKind
from ..protocol.requests import Request


class AcceptAction(str, Enum):
    """What the server does with a freshly accepted socket."""

    SERVE = "serve"
    REFUSE = "refuse"                  # close at once (gateway down / restarting)
    STALL_HANDSHAKE = "stall_handshake"  # read the hello, never answer it
    STALL_START = "stall_start"        # answer the hello, never send nextValidId / managedAccounts


class SessionView(Protocol):
    """What a fault may read of one client session."""

    conn_id: int
    client_id: int | None
    server_version: int
    market_data_lines: int             # active reqMktData subscriptions of this session


class OrderView(Protocol):
    """What a fault may read of an order being placed."""

    order_id: int
    symbol: str
    action: str                        # BUY / SELL
    total_qty: float
    order_type: str                    # MKT / LMT / STP ...


@dataclass
class Verdict:
    """A fault's decision on one inbound request."""

    errors: list[tuple[int, int, str]] = field(default_factory=list)  # (reqId, code, text) to send
    drop: bool = False                 # do not process the request
    disconnect: bool = False           # close the session after the errors are written
    fault: str | None = None           # name logged on the request's event-log line
    delay_s: float = 0.0               # process the request this many sim seconds later (paced), in order

    def merge(self, other: Verdict) -> Verdict:
        names = [n for n in (self.fault, other.fault) if n]
        return Verdict(self.errors + other.errors, self.drop or other.drop,
                       self.disconnect or other.disconnect, ",".join(names) or None, max(self.delay_s, other.delay_s))


@dataclass
class OrderEffect:
    """How faults alter one order's life in the matching engine."""

    reject: tuple[int, str] | None = None      # (code, text), e.g. (201, "Order rejected - reason: ...")
    fill_fractions: Sequence[float] | None = None  # partial fills, e.g. (0.3, 0.3, 0.4) of total qty
    fill_interval_s: float = 0.0               # sim seconds between partial fills
    slippage_ticks: float = 0.0                # adverse price move on each fill, in min ticks
    fill_delay_s: float = 0.0                  # sim seconds added before the (first) fill
    fault: str | None = None

    def merge(self, other: OrderEffect) -> OrderEffect:
        names = [n for n in (self.fault, other.fault) if n]
        return OrderEffect(
            reject=self.reject or other.reject,
            fill_fractions=self.fill_fractions or other.fill_fractions,
            fill_interval_s=max(self.fill_interval_s, other.fill_interval_s),
            slippage_ticks=self.slippage_ticks + other.slippage_ticks,
            fill_delay_s=self.fill_delay_s + other.fill_delay_s,
            fault=",".join(names) or None,
        )


class GatewayControl(Protocol):
    """What the server offers to scheduled faults. Implemented by the gateway server."""

    env: simpy.Environment

    def drop_all_sessions(self, reason: str) -> None: ...
    def refuse_connections(self, refusing: bool) -> None: ...  # close / re-open the listener (ECONNREFUSED)
    def broadcast_error(self, code: int, text: str) -> None: ...  # error(-1, code, text) to every session
    def set_market_data_flowing(self, flowing: bool) -> None: ...
    def clear_market_data_subscriptions(self) -> None: ...  # 1101: subscriptions lost, client must resubscribe
    def log_fault(self, name: str, **attrs: Any) -> None: ...  # a "fault" sys event in the event log


class Fault:
    """Base class: every hook is neutral. Subclasses set ``name`` and override what they need."""

    name: str = "fault"

    def install(self, ctl: GatewayControl) -> None:
        """Start scheduled behaviour (SimPy processes on ``ctl.env``)."""

    def uninstall(self, ctl: GatewayControl) -> None:
        """Removed while the gateway runs: stop what :meth:`install` started and restore what it set."""

    def on_accept(self, now: float) -> AcceptAction | None:
        return None

    def on_request(self, session: SessionView, request: Request, now: float) -> Verdict | None:
        """Judge one decoded request before it is served (``request.name``, ``.req_id``, ``.attrs``)."""
        return None

    def reply_delay(self, kind: ReplyKind, now: float) -> float:
        """Extra sim seconds before replies of ``kind`` are written."""
        return 0.0

    def suppress_reply(self, session: SessionView, name: str, now: float) -> bool:
        """True: never send this reply (e.g. a startup ``positionEnd`` that never comes)."""
        return False

    def linger_after_close(self, client_id: int, now: float) -> float:
        """Sim seconds the client id stays registered after its socket closed (326 on a fast reconnect)."""
        return 0.0

    def on_order(self, order: OrderView, now: float) -> OrderEffect | None:
        return None


class FaultStack:
    """Several faults acting at once; each hook combines the faults' answers."""

    def __init__(self, faults: Iterable[Fault] = ()) -> None:
        self.faults: list[Fault] = list(faults)

    def install(self, ctl: GatewayControl) -> None:
        for f in self.faults:
            f.install(ctl)

    def on_accept(self, now: float) -> tuple[AcceptAction, str | None]:
        for f in self.faults:
            action = f.on_accept(now)
            if action is not None and action != AcceptAction.SERVE:
                return action, f.name
        return AcceptAction.SERVE, None

    def on_request(self, session: SessionView, request: Request, now: float) -> Verdict | None:
        verdict: Verdict | None = None
        for f in self.faults:
            v = f.on_request(session, request, now)
            if v is not None:
                verdict = v if verdict is None else verdict.merge(v)
        return verdict

    def reply_delay(self, kind: ReplyKind, now: float) -> tuple[float, str | None]:
        total, names = 0.0, []
        for f in self.faults:
            d = f.reply_delay(kind, now)
            if d > 0:
                total += d
                names.append(f.name)
        return total, ",".join(names) or None

    def suppress_reply(self, session: SessionView, name: str, now: float) -> str | None:
        for f in self.faults:
            if f.suppress_reply(session, name, now):
                return f.name
        return None

    def linger_after_close(self, client_id: int, now: float) -> float:
        return max((f.linger_after_close(client_id, now) for f in self.faults), default=0.0)

    def linger_fault(self, client_id: int, now: float) -> tuple[float, str | None]:
        """The longest linger and the fault that set it, so the 326 it causes can name it in the log."""
        best, name = 0.0, None
        for f in self.faults:
            s = f.linger_after_close(client_id, now)
            if s > best:
                best, name = s, f.name
        return best, name

    def on_order(self, order: OrderView, now: float) -> OrderEffect | None:
        effect: OrderEffect | None = None
        for f in self.faults:
            e = f.on_order(order, now)
            if e is not None:
                effect = e if effect is None else effect.merge(e)
        return effect
