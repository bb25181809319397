"""The faults a healthy real gateway has by default: its pacing rules (100, 162, 420, 101)."""
from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from .base import FaultStack
from .common import NamedFault
from .hist_pacing import HistoricalPacing, RealTimeBarsPacing
from .pacing import MarketDataLines, MessageRate

if TYPE_CHECKING:
    from ..config import GatewayConfig


def default_pacing_faults(config: GatewayConfig) -> list[NamedFault]:
    """IBKR's published limits with their default numbers; the market-data line limit from the config."""
    return [MessageRate(), HistoricalPacing(), RealTimeBarsPacing(),
            MarketDataLines(max_lines=config.market_data_lines)]


def build_fault_stack(config: GatewayConfig, faults: Iterable[NamedFault] = (), *,
                      default_pacing: bool = True) -> FaultStack:
    """The pacing defaults (a scenario fault of the same type replaces its default) plus ``faults``,
    each a fresh copy bound to the config's seed and start."""
    extra = list(faults)
    given = {f.type for f in extra}  # type: ignore[attr-defined]
    stack: list[NamedFault] = []
    if default_pacing:
        stack += [f for f in default_pacing_faults(config) if f.type not in given]  # type: ignore[attr-defined]
    stack += extra
    if getattr(config, "read_only_api", False) and "read_only_api" not in given:
        from .api_settings import ReadOnlyApi   # the API setting, applied where every request passes
        stack.append(ReadOnlyApi(name="read_only_api"))
    return FaultStack(f.bound(config.seed, config.start) for f in stack)


def default_fault_stack(config: GatewayConfig) -> FaultStack:
    """Faults active when no scenario is given: the real pacing rules."""
    return build_fault_stack(config)
