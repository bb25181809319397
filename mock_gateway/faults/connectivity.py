"""Faults behind a socket that stays up: IB's servers unreachable (1100/1101/1102), data farms down."""
from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal

import simpy
from pydantic import Field

from .base import GatewayControl
from .codes import (
    CONNECTIVITY_LOST,
    HMDS_FARM_BROKEN,
    HMDS_FARM_OK,
    MARKET_FARM_BROKEN,
    MARKET_FARM_INACTIVE,
    MARKET_FARM_OK,
    RESTORED_DATA_LOST,
    RESTORED_DATA_MAINTAINED,
    TEXTS,
)
from .common import ScheduledFault


@dataclass(kw_only=True)
class ConnectivityLoss(ScheduledFault):
    """1100 at the start; no ticks during the outage; then 1102 (data maintained: ticks resume) or,
    with ``data_lost``, 1101: every market-data subscription is gone and ticks stay silent until
    the client subscribes again (ib_insync #256). ``repeat_every_s`` re-sends 1100 during the
    outage, as in the storms of the nightly reset (ib_async #6)."""

    type: Literal["connectivity_loss"] = "connectivity_loss"
    needs_duration: ClassVar[bool] = True
    data_lost: bool = False
    repeat_every_s: Annotated[float, Field(gt=0)] | None = None

    def begin(self, ctl: GatewayControl, duration_s: float) -> None:
        ctl.set_market_data_flowing(False)
        ctl.broadcast_error(CONNECTIVITY_LOST, TEXTS[CONNECTIVITY_LOST])
        if self.repeat_every_s is not None:
            ctl.env.process(self._storm(ctl, duration_s))

    def _storm(self, ctl: GatewayControl, duration_s: float) -> Generator[simpy.Event, Any, None]:
        elapsed = self.repeat_every_s or 0.0
        while elapsed < duration_s:
            yield ctl.env.timeout(self.repeat_every_s)
            ctl.broadcast_error(CONNECTIVITY_LOST, TEXTS[CONNECTIVITY_LOST])
            elapsed += self.repeat_every_s  # type: ignore[operator]

    def end(self, ctl: GatewayControl) -> None:
        if self.data_lost:
            ctl.clear_market_data_subscriptions()
            ctl.set_market_data_flowing(True)
            ctl.broadcast_error(RESTORED_DATA_LOST, TEXTS[RESTORED_DATA_LOST])
        else:
            ctl.set_market_data_flowing(True)
            ctl.broadcast_error(RESTORED_DATA_MAINTAINED, TEXTS[RESTORED_DATA_MAINTAINED])


_BROKEN = {"market": MARKET_FARM_BROKEN, "hmds": HMDS_FARM_BROKEN}
_OK = {"market": MARKET_FARM_OK, "hmds": HMDS_FARM_OK}


@dataclass(kw_only=True)
class FarmStatus(ScheduledFault):
    """A data farm reports broken (2103 market / 2105 HMDS) or, with ``inactive``, 2108; if the
    occurrence lasts, it reports OK again (2104 / 2106) at its end. Messages only: clients log
    2100-2199 as warnings, which is what a handler must tolerate."""

    type: Literal["farm_status"] = "farm_status"
    farm: Literal["market", "hmds"] = "market"
    inactive: bool = False

    def __post_init__(self) -> None:
        if self.inactive and self.farm != "market":
            raise ValueError("inactive (2108) applies to the market data farm only")
        super().__post_init__()

    def begin(self, ctl: GatewayControl, duration_s: float) -> None:
        code = MARKET_FARM_INACTIVE if self.inactive else _BROKEN[self.farm]
        ctl.broadcast_error(code, TEXTS[code])

    def end(self, ctl: GatewayControl) -> None:
        code = _OK[self.farm]
        ctl.broadcast_error(code, TEXTS[code])
