"""Faults behind a socket that stays up: IB's servers unreachable (1100/1101/1102, 2110), data farms down.

The order of messages follows real gateway logs: an outage is 1100 (repeated while it lasts,
IBC #251 2024), optionally announced by 2110 and followed by the farms reporting broken;
the restore is one 1102 that lists the farms ("All data farms are connected: usfarm; ushmds;
secdefnj." or the connected and the not-connected ones, IBC #143 2021, Lean IB #169 2025),
then each farm that broke reports OK again. 1101 means the data was lost: market and account
subscriptions must be made again (IB's message-code table).
"""
from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, Literal

import simpy
from pydantic import Field

from .base import GatewayControl
from .codes import (
    CONNECTIVITY_LOST,
    DEFAULT_FARMS,
    FARM_CODES,
    FARM_KIND,
    RESTORED_DATA_LOST,
    RESTORED_DATA_MAINTAINED,
    SERVER_LINK_BROKEN,
    TEXTS,
    farm_text,
    restored_text,
)
from .common import ScheduledFault
from .schedule import Period

FarmName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9]{1,15}$")]


def _farm_kind(farm: str) -> str:
    kind = FARM_KIND.get(farm)
    if kind is None:
        raise ValueError(f"unknown farm {farm!r} (known: {', '.join(sorted(FARM_KIND))})")
    return kind


def _account_ready(ctl: GatewayControl, ready: bool) -> None:
    """AccountReady "false" while the server resets (TWS API, reqAccountUpdates), where the gateway has it."""
    setter = getattr(ctl, "set_account_ready", None)
    if setter is not None:
        setter(ready)


@dataclass(kw_only=True)
class ConnectivityLoss(ScheduledFault):
    """1100 at the start; no ticks during the outage; then 1102 (data maintained: ticks resume) or,
    with ``data_lost``, 1101: every market-data and account subscription is gone and stays silent
    until the client subscribes again (ib_insync #256). ``repeat_every_s`` re-sends 1100 during the
    outage, as in the storms of the nightly reset (ib_async #6). ``server_notice`` sends 2110 first;
    ``farms_break`` has every farm report broken after the 1100 and OK after the 1102;
    ``farms_not_restored`` are listed as not connected in the 1102 and report OK only
    ``farms_back_after_s`` later."""

    type: Literal["connectivity_loss"] = "connectivity_loss"
    needs_duration: ClassVar[bool] = True
    data_lost: bool = False
    repeat_every_s: Period | None = None
    server_notice: bool = False
    farms: Annotated[list[FarmName], Field(min_length=1, max_length=20)] = field(
        default_factory=lambda: list(DEFAULT_FARMS))
    farms_break: bool = False
    farms_not_restored: Annotated[list[FarmName], Field(max_length=20)] = field(default_factory=list)
    farms_back_after_s: Annotated[float, Field(gt=0)] = 30.0

    def __post_init__(self) -> None:
        for farm in [*self.farms, *self.farms_not_restored]:
            _farm_kind(farm)
        missing = [f for f in self.farms_not_restored if f not in self.farms]
        if missing:
            raise ValueError(f"farms_not_restored names farms not in farms: {', '.join(missing)}")
        if self.data_lost and self.farms_not_restored:
            raise ValueError("farms_not_restored is listed by 1102 only; with data_lost the restore is 1101")
        super().__post_init__()

    def begin(self, ctl: GatewayControl, duration_s: float) -> None:
        ctl.set_market_data_flowing(False)
        _account_ready(ctl, False)
        if self.server_notice:
            ctl.broadcast_error(SERVER_LINK_BROKEN, TEXTS[SERVER_LINK_BROKEN])
        ctl.broadcast_error(CONNECTIVITY_LOST, TEXTS[CONNECTIVITY_LOST])
        if self.farms_break:
            for farm in self.farms:
                ctl.broadcast_error(FARM_CODES[_farm_kind(farm)][0], farm_text(FARM_CODES[_farm_kind(farm)][0], farm))
        if self.repeat_every_s is not None:
            self.spawn(ctl, self._storm(ctl, duration_s))

    def _storm(self, ctl: GatewayControl, duration_s: float) -> Generator[simpy.Event, Any, None]:
        elapsed = self.repeat_every_s or 0.0
        while elapsed < duration_s:
            yield ctl.env.timeout(self.repeat_every_s)
            ctl.broadcast_error(CONNECTIVITY_LOST, TEXTS[CONNECTIVITY_LOST])
            elapsed += self.repeat_every_s  # type: ignore[operator]

    def end(self, ctl: GatewayControl) -> None:
        connected = [f for f in self.farms if f not in self.farms_not_restored]
        _account_ready(ctl, True)
        if self.data_lost:
            ctl.clear_market_data_subscriptions()
            clear_accounts = getattr(ctl, "clear_account_subscriptions", None)
            if clear_accounts is not None:
                clear_accounts()
            ctl.set_market_data_flowing(True)
            ctl.broadcast_error(RESTORED_DATA_LOST, restored_text(True, connected, []))
        else:
            ctl.set_market_data_flowing(True)
            ctl.broadcast_error(RESTORED_DATA_MAINTAINED, restored_text(False, connected, self.farms_not_restored))
        if self.farms_break:
            self._farms_ok(ctl, connected)
        if self.farms_not_restored:
            self.spawn(ctl, self._late_farms(ctl))

    @staticmethod
    def _farms_ok(ctl: GatewayControl, farms: list[str]) -> None:
        for farm in farms:
            code = FARM_CODES[_farm_kind(farm)][1]
            ctl.broadcast_error(code, farm_text(code, farm))

    def _late_farms(self, ctl: GatewayControl) -> Generator[simpy.Event, Any, None]:
        yield ctl.env.timeout(self.farms_back_after_s)
        self._farms_ok(ctl, list(self.farms_not_restored))


@dataclass(kw_only=True)
class FarmStatus(ScheduledFault):
    """A data farm reports broken (2103 market / 2105 HMDS / 2157 sec-def) or, with ``inactive``,
    2108 / 2107; if the occurrence lasts, it reports OK again (2104 / 2106 / 2158) at its end.
    Messages only: clients log 2100-2199 as warnings, which is what a handler must tolerate."""

    type: Literal["farm_status"] = "farm_status"
    farm: Literal["market", "hmds", "secdef"] = "market"
    farm_name: FarmName | None = None          # default: usfarm / ushmds / secdefnj
    inactive: bool = False

    def __post_init__(self) -> None:
        if self.inactive and self.farm == "secdef":
            raise ValueError("inactive (2107 / 2108) applies to the market data and HMDS farms only")
        if self.farm_name is not None and _farm_kind(self.farm_name) != self.farm:
            raise ValueError(f"farm_name {self.farm_name!r} is a {_farm_kind(self.farm_name)} farm, not {self.farm}")
        super().__post_init__()

    @property
    def _name(self) -> str:
        return self.farm_name or {"market": "usfarm", "hmds": "ushmds", "secdef": "secdefnj"}[self.farm]

    def begin(self, ctl: GatewayControl, duration_s: float) -> None:
        broken, _, inactive = FARM_CODES[self.farm]
        code = inactive if self.inactive and inactive is not None else broken
        ctl.broadcast_error(code, farm_text(code, self._name))

    def end(self, ctl: GatewayControl) -> None:
        code = FARM_CODES[self.farm][1]
        ctl.broadcast_error(code, farm_text(code, self._name))
