"""Historical-data pacing (error 162) and real-time-bar pacing (error 420), IBKR's published rules.

A violation is any of: an identical request within ``identical_within_s`` (15 s); a 6th
request for the same contract, exchange and tick type within ``burst_window_s`` (2 s); more
than ``max_requests`` (60) in ``period_s`` (10 min). BID_ASK counts twice. The rules bind
bars of 30 s or less; larger bars are exempt unless ``max_bar_size_s`` is raised. Counted
in sim time across all sessions (the limit belongs to the login, not the socket).

Compressed time magnifies the machine's scheduling delays: ``host_jitter_real_s`` of real delay is
that times the clock speed in sim seconds, and bunches a client that paces itself right at a rule
(ib_insync's ``reqHistoricalData`` loops, a 10 s sleep between identical requests). Each window
is shortened by ``host_jitter_real_s * (speed - 1)``, at most half of it, as ``MessageRate`` does.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Annotated, Literal

from pydantic import Field

from .base import GatewayControl, SessionView, Verdict
from .codes import HIST_PACING, RT_BARS_INVALID, TEXTS
from ..protocol.requests import Request
from .common import NamedFault
from .windows import SlidingCount

_UNIT_S = {"sec": 1, "secs": 1, "min": 60, "mins": 60, "hour": 3600, "hours": 3600,
           "day": 86400, "days": 86400, "week": 604800, "weeks": 604800, "month": 2592000, "months": 2592000}


def bar_size_seconds(setting: str) -> float | None:
    """``"30 secs"`` -> 30.0; None for a setting this parser does not know."""
    m = re.fullmatch(r"\s*(\d+)\s+([a-z]+)\s*", setting.lower())
    if not m or m.group(2) not in _UNIT_S:
        return None
    return int(m.group(1)) * _UNIT_S[m.group(2)]


@dataclass
class PacingRules:
    """The three IBKR pacing rules over request keys; pure bookkeeping, no I/O.

    ``tolerance_s`` (sim seconds) shortens every window by that much, at most by half of it: a
    request that much early counts as on time."""

    max_requests: int
    period_s: float
    identical_within_s: float
    burst_max: int
    burst_window_s: float
    tolerance_s: float = 0.0
    period: SlidingCount = field(init=False)
    last_identical: dict[tuple[str, ...], float] = field(init=False, default_factory=dict)
    bursts: dict[tuple[str, ...], SlidingCount] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        if self.tolerance_s < 0:
            raise ValueError(f"tolerance_s ({self.tolerance_s}) must not be negative")
        self.period = SlidingCount(self.effective_window_s(self.period_s))

    def retune(self, tolerance_s: float) -> None:
        """A new tolerance for every window; the requests counted so far stay counted."""
        self.tolerance_s = tolerance_s
        self.period.window_s = self.effective_window_s(self.period_s)
        for burst in self.bursts.values():
            burst.window_s = self.effective_window_s(self.burst_window_s)

    def effective_window_s(self, window_s: float) -> float:
        """``window_s`` less the tolerance, never less than half of it."""
        return window_s - min(self.tolerance_s, window_s / 2)

    def check(self, identical_key: tuple[str, ...], contract_key: tuple[str, ...], weight: int,
              now: float) -> str | None:
        """The rule a request at ``now`` breaks, or None (then it is counted)."""
        last = self.last_identical.get(identical_key)
        if last is not None and now - last < self.effective_window_s(self.identical_within_s):
            return "identical"
        burst = self.bursts.get(contract_key)
        if burst is None:
            burst = self.bursts[contract_key] = SlidingCount(self.effective_window_s(self.burst_window_s))
        if burst.total(now) + weight > self.burst_max:
            return "burst"
        if self.period.total(now) + weight > self.max_requests:
            return "period"
        self.last_identical[identical_key] = now
        burst.add(now, weight)
        self.period.add(now, weight)
        return None


@dataclass(kw_only=True)
class _PacingFault(NamedFault):
    max_requests: Annotated[int, Field(ge=1)] = 60
    period_s: Annotated[float, Field(gt=0)] = 600.0
    identical_within_s: Annotated[float, Field(ge=0)] = 15.0
    burst_max: Annotated[int, Field(ge=1)] = 5
    burst_window_s: Annotated[float, Field(gt=0)] = 2.0
    bid_ask_weight: Annotated[int, Field(ge=1)] = 2
    host_jitter_real_s: Annotated[float, Field(ge=0)] = 0.005

    _rules: PacingRules = field(init=False, repr=False)
    _speed: float = field(init=False, default=1.0, repr=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        self._rules = self._new_rules()

    def _new_rules(self) -> PacingRules:
        return PacingRules(self.max_requests, self.period_s, self.identical_within_s,
                           self.burst_max, self.burst_window_s, tolerance_s=self.tolerance_s())

    def install(self, ctl: GatewayControl) -> None:
        # the clock's speed turns the machine's real jitter into simulated seconds (1 without a clock)
        speed = float(getattr(getattr(ctl, "clock", None), "speed", 1.0))
        if speed != self._speed:
            self._speed = speed
            self._rules.retune(self.tolerance_s())
        super().install(ctl)

    def tolerance_s(self, speed: float | None = None) -> float:
        """Sim seconds a request may come early: the machine's jitter at ``speed`` (default: the
        gateway clock's) beyond speed 1. Each rule caps it at half its own window."""
        at = self._speed if speed is None else speed
        return self.host_jitter_real_s * max(0.0, at - 1.0)

    def _violation(self, identical_key: tuple[str, ...], contract_key: tuple[str, ...], what_to_show: str,
                   now: float) -> str | None:
        weight = self.bid_ask_weight if what_to_show.upper() == "BID_ASK" else 1
        return self._rules.check(identical_key, contract_key, weight, now)


@dataclass(kw_only=True)
class HistoricalPacing(_PacingFault):
    """reqHistoricalData breaking a pacing rule gets error 162, or with ``mode: silent`` no answer
    at all (ib_insync's reqHistoricalData then times out and returns an empty list)."""

    type: Literal["historical_pacing"] = "historical_pacing"
    mode: Literal["error", "silent"] = "error"
    max_bar_size_s: Annotated[float, Field(gt=0)] = 30.0

    def on_request(self, session: SessionView, request: Request, now: float) -> Verdict | None:
        fields = request.fields
        if request.name != "reqHistoricalData" or len(fields) < 20 or not self.active(now):
            return None
        # [20, reqId, contract 2-13, includeExpired, end, barSize, duration, useRTH, whatToShow, ...]
        bar_s = bar_size_seconds(fields[16])
        if bar_s is not None and bar_s > self.max_bar_size_s:
            return None
        rule = self._violation(tuple(fields[2:]), (*fields[2:14], fields[19]), fields[19], now)
        if rule is None:
            return None
        errors = [] if self.mode == "silent" else [(request.req_id, HIST_PACING, TEXTS[HIST_PACING])]
        return Verdict(errors=errors, drop=True, fault=f"{self.name}:{rule}")


@dataclass(kw_only=True)
class RealTimeBarsPacing(_PacingFault):
    """reqRealTimeBars shares the historical pacing rules; a violation gets error 420."""

    type: Literal["realtime_bars_pacing"] = "realtime_bars_pacing"

    def on_request(self, session: SessionView, request: Request, now: float) -> Verdict | None:
        fields = request.fields
        if request.name != "reqRealTimeBars" or len(fields) < 17 or not self.active(now):
            return None
        # [50, 3, reqId, contract 3-14, barSize, whatToShow, useRTH, options]
        rule = self._violation(tuple(fields[3:]), (*fields[3:15], fields[16]), fields[16], now)
        if rule is None:
            return None
        return Verdict(errors=[(request.req_id, RT_BARS_INVALID, TEXTS[RT_BARS_INVALID])], drop=True,
                       fault=f"{self.name}:{rule}")

