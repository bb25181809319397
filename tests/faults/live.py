"""A mock gateway with chosen faults in this event loop, and ib_insync clients to meet them."""
from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from ib_insync import IB

from mock_gateway.config import GatewayConfig
from mock_gateway.faults.common import NamedFault
from mock_gateway.faults.defaults import build_fault_stack
from mock_gateway.server import start_gateway


@contextlib.asynccontextmanager
async def gateway(*faults: NamedFault, default_pacing: bool = False, config: GatewayConfig | None = None,
                  **overrides: Any) -> AsyncIterator[Any]:
    """Faults as given (pacing defaults off unless asked for), port 0, in-memory event log."""
    config = config or GatewayConfig(port=0, **overrides)
    if config.faults is None:
        config.faults = build_fault_stack(config, faults, default_pacing=default_pacing)
    async with start_gateway(config) as gw:
        yield gw


async def connect(gw: Any, client_id: int = 1, timeout: float = 4, **kwargs: Any) -> IB:
    ib = IB()
    await ib.connectAsync(gw.host, gw.port, clientId=client_id, timeout=timeout, **kwargs)
    return ib


class Recorder:
    """Collects an ib_insync client's errorEvent and disconnectedEvent, and lets a test await them."""

    def __init__(self, ib: IB) -> None:
        self.errors: list[tuple[int, int, str]] = []
        self.disconnects = 0
        self._changed = asyncio.Event()
        ib.errorEvent += self._on_error
        ib.disconnectedEvent += self._on_disconnect

    def _on_error(self, req_id: int, code: int, text: str, contract: Any = None) -> None:
        self.errors.append((req_id, code, text))
        self._changed.set()

    def _on_disconnect(self) -> None:
        self.disconnects += 1
        self._changed.set()

    def codes(self) -> list[int]:
        return [code for _, code, _ in self.errors if not 2100 <= code < 2200 or code in (2103, 2105, 2108)]

    async def until(self, condition: Callable[[], bool], timeout: float = 5.0) -> None:
        async def wait() -> None:
            while not condition():
                self._changed.clear()
                await self._changed.wait()
        await asyncio.wait_for(wait(), timeout)


def events(gw: Any, direction: str | None = None, msg: str | None = None) -> list[dict[str, Any]]:
    return [e for e in gw.event_log.events
            if (direction is None or e["dir"] == direction) and (msg is None or e["msg"] == msg)]


def run_async(test: Callable[..., Awaitable[None]]) -> Callable[..., None]:
    """Run an ``async def`` test in a fresh event loop (the gateway and the client share it)."""
    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))
    return run


async def until_sim(gw: Any, t: float) -> None:
    """Wait until the gateway's clock has reached sim time ``t`` (whether or not an event fell due)."""
    while gw.clock.target() < t:
        await asyncio.sleep(0.01)


async def done(trade: Any, timeout: float = 5.0) -> None:
    """Wait until an ib_insync trade is Filled, Cancelled or Inactive."""
    async def wait() -> None:
        # a rejected order ends Inactive (201, then orderStatus Inactive), which ib_insync does not count as done
        while not (trade.isDone() or trade.orderStatus.status == "Inactive"):
            await trade.statusEvent
    await asyncio.wait_for(wait(), timeout)


async def round_trip_ms(ib: IB) -> float:
    """One reqCurrentTime as the client times it."""
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    await ib.reqCurrentTimeAsync()
    return (loop.time() - t0) * 1000
