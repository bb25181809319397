"""The faults a healthy real gateway has by default: its pacing rules."""
from __future__ import annotations

from typing import TYPE_CHECKING

from .base import FaultStack

if TYPE_CHECKING:
    from ..config import GatewayConfig


def default_fault_stack(config: GatewayConfig) -> FaultStack:
    """Faults active when no scenario is given (filled in by the faults work: pacing 100/162/101/420)."""
    return FaultStack([])
