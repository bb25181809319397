"""A mock IB Gateway speaking the real TWS API socket protocol, with a SimPy world behind it.

In-process: ``async with start_gateway(GatewayConfig(port=0)) as gw`` or
``with GatewayThread(GatewayConfig(port=0)) as gw``; from the shell: ``prelive gateway``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["Gateway", "GatewayConfig", "GatewayThread", "AccountConfig", "MarketConfig", "start_gateway",
           "__version__"]

if TYPE_CHECKING:
    from .config import AccountConfig, GatewayConfig, MarketConfig
    from .server import Gateway, GatewayThread, start_gateway


def __getattr__(name: str) -> Any:
    # lazy: importing mock_gateway.protocol (the tap, the harness) must not pull in the server and SimPy world
    if name in ("Gateway", "GatewayThread", "start_gateway"):
        from . import server
        return getattr(server, name)
    if name in ("GatewayConfig", "AccountConfig", "MarketConfig"):
        from . import config
        return getattr(config, name)
    raise AttributeError(f"module 'mock_gateway' has no attribute {name!r}")
