"""Faults on the socket itself: drops, restarts, stalled handshakes, a session that lingers."""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, Field

from .base import AcceptAction, GatewayControl
from .common import NamedFault, ScheduledFault


@dataclass(kw_only=True)
class Disconnect(ScheduledFault):
    """Close every client socket at each occurrence (ib_insync: disconnectedEvent, no errorEvent)."""

    type: Literal["disconnect"] = "disconnect"

    def begin(self, ctl: GatewayControl, duration_s: float) -> None:
        ctl.drop_all_sessions(f"fault:{self.name}")


@dataclass(kw_only=True)
class GatewayRestart(ScheduledFault):
    """Drop every socket and close the listener for the occurrence's length (a client's connect gets
    ECONNREFUSED, as from a restarting gateway), then listen again on the same port."""

    type: Literal["gateway_restart"] = "gateway_restart"
    needs_duration: ClassVar[bool] = True

    _down: bool = field(init=False, default=False, repr=False)

    def begin(self, ctl: GatewayControl, duration_s: float) -> None:
        self._down = True
        ctl.refuse_connections(True)
        ctl.drop_all_sessions(f"fault:{self.name}")

    def end(self, ctl: GatewayControl) -> None:
        self._down = False
        ctl.refuse_connections(False)

    def on_accept(self, now: float) -> AcceptAction | None:
        # a socket that slipped in while the listener was closing is turned away too
        return AcceptAction.REFUSE if self._down else None


def _hh_mm(value: str) -> str:
    m = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", value.strip())
    if not m:
        raise ValueError(f"time must be HH:MM (24 h), got {value!r}")
    return f"{int(m.group(1)):02d}:{m.group(2)}"


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r} (use an IANA name like America/New_York)") from None
    return value


Weekday = Literal["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(kw_only=True)
class DailyRestart(GatewayRestart):
    """The gateway's daily restart (IB Gateway's "Auto restart" time, IBC ``AutoRestartTime``): every
    socket dropped and the port closed for ``duration_s`` at ``time`` local to ``timezone`` each
    simulated day, then back without a login (IB: auto-restart runs "from Sunday to Sunday
    without re-authenticating"). On ``reauth_day`` (Sunday by default; None: never) the restart
    needs a fresh login (IB: "it will be necessary to again enter security credentials"; IBC's
    ``ColdRestartTime`` runs on Sundays): the gateway stays down until the login comes
    ``login_after_s`` later, or for the rest of the run when that is unset (a held-down gateway)."""

    type: Literal["daily_restart"] = "daily_restart"  # type: ignore[assignment]
    needs_schedule: ClassVar[bool] = False
    needs_duration: ClassVar[bool] = False

    time: Annotated[str, AfterValidator(_hh_mm)] = "23:45"
    timezone: Annotated[str, AfterValidator(_zone)] = "America/New_York"
    duration_s: Annotated[float, Field(gt=0)] = 120.0
    reauth_day: Weekday | None = "Sunday"
    login_after_s: Annotated[float, Field(gt=0)] | None = None

    sim_start: datetime | None = field(init=False, default=None, repr=False)

    def __post_init__(self) -> None:
        if self.schedule is not None:
            raise ValueError("daily_restart is scheduled by time and timezone; drop schedule")
        self.time, self.timezone = _hh_mm(self.time), _zone(self.timezone)
        super().__post_init__()

    def bound(self, seed: int, start: datetime) -> DailyRestart:
        copy = dataclasses.replace(self, seed=self.seed if self.seed is not None else seed)
        copy.sim_start = start
        return copy

    def occurrences(self) -> Iterator[tuple[float, float]]:
        """(start, end) sim seconds of each restart; a re-authentication day's end is the login (inf: none)."""
        if self.sim_start is None:
            raise RuntimeError("daily_restart needs the simulation start: build it via bound(seed, start)")
        zone = ZoneInfo(self.timezone)
        hour, minute = map(int, self.time.split(":"))
        local_start = self.sim_start.astimezone(zone)
        day = local_start.date()
        while True:
            at = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
            offset = (at - self.sim_start).total_seconds()
            if offset >= 0:
                if self.reauth_day is not None and _WEEKDAYS[day.weekday()] == self.reauth_day:
                    down = self.login_after_s if self.login_after_s is not None else float("inf")
                    yield offset, offset + down
                    if down == float("inf"):
                        return
                else:
                    yield offset, offset + self.duration_s
            day += timedelta(days=1)

    def begin(self, ctl: GatewayControl, duration_s: float) -> None:
        if duration_s != self.duration_s:   # the weekly restart: down until someone logs in
            ctl.log_fault(self.name, phase="reauth_required",
                          login_after_s=None if duration_s == float("inf") else duration_s)
        super().begin(ctl, duration_s)


@dataclass(kw_only=True)
class HandshakeStall(NamedFault):
    """Accept the TCP connection but never finish the API handshake (API disabled, an "accept
    connection?" prompt, a wedged gateway). ``no_reply``: the version hello is never answered;
    ``no_start``: the hello is answered but nextValidId/managedAccounts never come. Stalls the
    first ``connections`` accepted while active (all of them when unset)."""

    type: Literal["handshake_stall"] = "handshake_stall"
    mode: Literal["no_reply", "no_start"] = "no_reply"
    connections: Annotated[int, Field(ge=1)] | None = None

    _stalled: int = field(init=False, default=0, repr=False)

    def on_accept(self, now: float) -> AcceptAction | None:
        if not self.active(now) or (self.connections is not None and self._stalled >= self.connections):
            return None
        self._stalled += 1
        return AcceptAction.STALL_HANDSHAKE if self.mode == "no_reply" else AcceptAction.STALL_START


@dataclass(kw_only=True)
class LingerAfterClose(NamedFault):
    """A closed session keeps its client id for ``linger_s`` sim seconds, so a fast reconnect with
    the same id gets error 326 and is closed (ib_insync #376: disconnect() is not synchronous)."""

    type: Literal["linger_after_close"] = "linger_after_close"
    linger_s: Annotated[float, Field(gt=0)] = 5.0

    def linger_after_close(self, client_id: int, now: float) -> float:
        return self.linger_s if self.active(now) else 0.0
