"""Historical-data pacing (error 162) and real-time-bar pacing (error 420), IBKR's published rules.

A violation is any of: an identical request within ``identical_within_s`` (15 s); a 6th
request for the same contract, exchange and tick type within ``burst_window_s`` (2 s); more
than ``max_requests`` (60) in ``period_s`` (10 min). BID_ASK counts twice. The rules bind
bars of 30 s or less; larger bars are exempt unless ``max_bar_size_s`` is raised. Counted
in sim time across all sessions (the limit belongs to the login, not the socket).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Annotated, Literal

from pydantic import Field

from .base import SessionView, Verdict
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
    """The three IBKR pacing rules over request keys; pure bookkeeping, no I/O."""

    max_requests: int
    period_s: float
    identical_within_s: float
    burst_max: int
    burst_window_s: float
    period: SlidingCount = field(init=False)
    last_identical: dict[tuple[str, ...], float] = field(init=False, default_factory=dict)
    bursts: dict[tuple[str, ...], SlidingCount] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.period = SlidingCount(self.period_s)

    def check(self, identical_key: tuple[str, ...], contract_key: tuple[str, ...], weight: int,
              now: float) -> str | None:
        """The rule a request at ``now`` breaks, or None (then it is counted)."""
        last = self.last_identical.get(identical_key)
        if last is not None and now - last < self.identical_within_s:
            return "identical"
        burst = self.bursts.get(contract_key)
        if burst is None:
            burst = self.bursts[contract_key] = SlidingCount(self.burst_window_s)
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

    _rules: PacingRules = field(init=False, repr=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        self._rules = PacingRules(self.max_requests, self.period_s, self.identical_within_s,
                                  self.burst_max, self.burst_window_s)

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

