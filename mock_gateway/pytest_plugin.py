"""pytest plugin (entry point ``prelive``): fixtures that start the mock gateway in-process.

``mock_gateway``: a running gateway (default config, ephemeral port) for one test.
``mock_gateway_factory(**config_overrides)``: start as many as a test needs; all stop at teardown.
Both give a :class:`mock_gateway.server.Gateway` (``host``, ``port``, ``event_log``, ``clock``,
``world``, ``call``) running on its own thread, so blocking clients (ib_insync's sync API, ibapi)
can be used directly in the test.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from .config import GatewayConfig
from .server import Gateway, GatewayThread


@pytest.fixture
def mock_gateway_factory() -> Iterator[Callable[..., Gateway]]:
    """Start gateways with ``GatewayConfig(**overrides)`` (port 0 unless given); stopped at teardown."""
    threads: list[GatewayThread] = []

    def start(**config_overrides: Any) -> Gateway:
        config_overrides.setdefault("port", 0)
        thread = GatewayThread(GatewayConfig(**config_overrides))
        gateway = thread.start()
        threads.append(thread)
        return gateway

    yield start
    for thread in reversed(threads):
        thread.stop()


@pytest.fixture
def mock_gateway(mock_gateway_factory: Callable[..., Gateway]) -> Gateway:
    """A running mock gateway with the default config on an ephemeral port."""
    return mock_gateway_factory()
