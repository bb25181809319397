"""The peer-suite tests drive ib_insync / ib_async with their blocking API in the main thread."""
from __future__ import annotations

import asyncio

import pytest


@pytest.fixture(autouse=True)
def _main_thread_event_loop():
    """ib_insync's and ib_async's blocking API need a current event loop in the main thread."""
    policy = asyncio.get_event_loop_policy()
    try:
        usable = not policy.get_event_loop().is_closed()
    except RuntimeError:
        usable = False
    if not usable:
        policy.set_event_loop(policy.new_event_loop())
    yield
