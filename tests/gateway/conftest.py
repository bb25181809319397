"""Helpers for the gateway tests: wait on client events instead of sleeping."""
from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest


@pytest.fixture(autouse=True)
def _main_thread_event_loop():
    """ib_insync's blocking API needs a current event loop in the main thread; asyncio.run() (in some
    tests and inside the CLI) leaves none behind, so give each test one."""
    policy = asyncio.get_event_loop_policy()
    try:
        loop = policy.get_event_loop()
        usable = not loop.is_closed()
    except RuntimeError:
        usable = False
    if not usable:
        policy.set_event_loop(policy.new_event_loop())
    yield


def wait_for(ib, predicate: Callable[[], bool], timeout_s: float = 5.0, what: str = "condition") -> None:
    """Run ib's event loop until ``predicate()`` holds; fail the test after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            pytest.fail(f"timed out after {timeout_s} s waiting for {what}")
        # short waits: ib_insync's waitOnUpdate can miss an update that lands as it starts listening
        ib.waitOnUpdate(timeout=min(remaining, 0.02))


def wait_thread(predicate: Callable[[], bool], timeout_s: float = 5.0, what: str = "condition") -> None:
    """Poll ``predicate`` from a test thread (for clients with their own threads, e.g. ibapi)."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.005)


def sys_events(gw, name: str) -> list[dict]:
    return [e for e in gw.call(lambda: list(gw.event_log.events)) if e["dir"] == "sys" and e["msg"] == name]


def out_messages(gw, name: str) -> list[dict]:
    return [e for e in gw.call(lambda: list(gw.event_log.events)) if e["dir"] == "out" and e["msg"] == name]
