"""The gateway's per-connection limits: 50 messages per second (error 100) and market-data lines (101)."""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Annotated, Literal

from pydantic import Field

from .base import GatewayControl, SessionView, Verdict
from .codes import MAX_RATE_EXCEEDED, MAX_TICKERS, TEXTS, max_rate_text
from ..protocol.requests import Request
from .common import NamedFault
from .windows import SlidingCount


@dataclass
class _RateState:
    window: SlidingCount
    violations: int = 0
    episode_until: float = float("-inf")
    dispatched: deque[float] = field(default_factory=deque)   # pace mode: when the last max_per_s were served


@dataclass(kw_only=True)
class MessageRate(NamedFault):
    """More than ``max_per_s`` client messages in a rolling second (sim time) is a violation.

    Like TWS with "Reject messages above maximum allowed message rate" checked: the excess
    messages are rejected, each violation (a second with excess) sends one error 100, and the
    ``disconnect_after``-th violation closes the session ("If the pacing limits are broken 3
    times, the API session will terminate"). ``disconnect_after: 0`` never disconnects.
    With ``reject_excess: false`` it is TWS with that box unchecked ("applying pacing"): nothing
    is refused and no error is sent; the excess waits and is served in arrival order at no more
    than ``max_per_s`` in any rolling window (a leaky bucket the size of the limit).

    Arrival times carry socket and scheduling jitter: a message ``window_s - jitter_s`` old has
    left the window, so a client pacing itself right at its limit (ib_insync sends its next 45
    exactly one second after the last 45) is not punished for a millisecond of delay.

    ``jitter_s`` is the real world's share (network and host, as at speed 1), in simulated seconds.
    Compressed time magnifies the machine's share: a ``host_jitter_real_s`` scheduling delay of the
    gateway's loop or of the client is that times the clock speed in simulated time (5 ms at speed 60
    is 0.3 s) and bunches a self-pacing client's messages as no real network would. The tolerance adds
    ``host_jitter_real_s * (speed - 1)`` (speed 1 is already covered), at most half the window:
    above that the run cannot tell pacing from bunching, and the loop-lag judge
    (harness.expectations) turns a pacing failure that coincides with the machine's lag into ERROR."""

    type: Literal["message_rate"] = "message_rate"
    max_per_s: Annotated[int, Field(ge=1)] = 50
    window_s: Annotated[float, Field(gt=0)] = 1.0
    disconnect_after: Annotated[int, Field(ge=0)] = 3
    reject_excess: bool = True
    jitter_s: Annotated[float, Field(ge=0)] = 0.02
    host_jitter_real_s: Annotated[float, Field(ge=0)] = 0.005

    _sessions: dict[int, _RateState] = field(init=False, default_factory=dict, repr=False)
    _speed: float = field(init=False, default=1.0, repr=False)

    def __post_init__(self) -> None:
        if self.jitter_s >= self.window_s:
            raise ValueError(f"jitter_s ({self.jitter_s}) must be below window_s ({self.window_s})")
        super().__post_init__()

    def install(self, ctl: GatewayControl) -> None:
        # the clock's speed turns the machine's real jitter into simulated seconds (1 without a clock)
        self._speed = float(getattr(getattr(ctl, "clock", None), "speed", 1.0))
        super().install(ctl)

    def tolerance_s(self, speed: float | None = None) -> float:
        """Sim seconds a message may arrive early and still count as outside the window: the network's
        jitter plus the machine's at ``speed`` (default: the gateway clock's), at most half the window."""
        at = self._speed if speed is None else speed
        return min(self.jitter_s + self.host_jitter_real_s * max(0.0, at - 1.0), self.window_s / 2)

    def on_request(self, session: SessionView, request: Request, now: float) -> Verdict | None:
        if not self.active(now):
            return None
        state = self._sessions.get(session.conn_id)
        if state is None:
            state = self._sessions[session.conn_id] = _RateState(SlidingCount(self.window_s - self.tolerance_s()))
        if not self.reject_excess:
            return self._pace(state, now)
        received = state.window.add(now)
        if received <= self.max_per_s:
            return None
        if now < state.episode_until:  # the same violation goes on: reject quietly
            return Verdict(drop=True, fault=self.name) if self.reject_excess else None
        state.violations += 1
        state.episode_until = now + self.window_s
        text = max_rate_text(self.max_per_s, received, state.violations)
        return Verdict(errors=[(-1, MAX_RATE_EXCEEDED, text)], drop=True,
                       disconnect=0 < self.disconnect_after <= state.violations, fault=self.name)

    def _pace(self, state: _RateState, now: float) -> Verdict | None:
        """Serve at once while under the limit; otherwise when the oldest of the last ``max_per_s``
        served leaves the window, and never before a message that came earlier."""
        served = state.dispatched
        at = now
        if served:
            at = max(at, served[-1])
        if len(served) >= self.max_per_s:
            at = max(at, served[-self.max_per_s] + self.window_s)   # its own times: no arrival jitter
        served.append(at)
        while len(served) > self.max_per_s:
            served.popleft()
        if at <= now:
            return None
        return Verdict(delay_s=at - now, fault=self.name)


@dataclass(kw_only=True)
class MarketDataLines(NamedFault):
    """A reqMktData beyond ``max_lines`` active subscriptions gets error 101 and no data."""

    type: Literal["market_data_lines"] = "market_data_lines"
    max_lines: Annotated[int, Field(ge=0)] = 100

    def on_request(self, session: SessionView, request: Request, now: float) -> Verdict | None:
        if request.name != "reqMktData" or not self.active(now) or session.market_data_lines < self.max_lines:
            return None
        return Verdict(errors=[(request.req_id, MAX_TICKERS, TEXTS[MAX_TICKERS])], drop=True,
                       fault=self.name)
