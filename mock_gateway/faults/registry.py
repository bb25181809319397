"""Every fault type by its scenario-file name, and the tagged union the scenario loader validates."""
from __future__ import annotations

from typing import Annotated, Union

from pydantic import Field

from .api_settings import ReadOnlyApi
from .common import NamedFault
from .connection import DailyRestart, Disconnect, GatewayRestart, HandshakeStall, LingerAfterClose
from .connectivity import ConnectivityLoss, FarmStatus
from .hist_pacing import HistoricalPacing, RealTimeBarsPacing
from .latency import Latency
from .orders import DelayedFills, OrderReject, PartialFills, Slippage
from .pacing import MarketDataLines, MessageRate
from .replies import SuppressReply

_CLASSES: tuple[type[NamedFault], ...] = (
    Latency, MessageRate, HistoricalPacing, RealTimeBarsPacing, MarketDataLines,
    Disconnect, GatewayRestart, DailyRestart, HandshakeStall, LingerAfterClose,
    ConnectivityLoss, FarmStatus, OrderReject, PartialFills, Slippage, DelayedFills, SuppressReply, ReadOnlyApi,
)


def type_name(cls: type[NamedFault]) -> str:
    return cls.__dataclass_fields__["type"].default  # type: ignore[attr-defined, no-any-return]


FAULT_TYPES: dict[str, type[NamedFault]] = {type_name(c): c for c in _CLASSES}

#: One entry of a scenario's ``faults`` list: ``{type: <name>, ...params, schedule: {...}}``.
FaultSpec = Annotated[Union[_CLASSES], Field(discriminator="type")]  # type: ignore[valid-type]
