"""Mock-recorded sessions shared by the calibrate/diff tests (recorded once per module: CPU is shared)."""
from __future__ import annotations

import asyncio

import pytest


@pytest.fixture(autouse=True)
def _main_thread_event_loop():
    """ib_insync needs a current event loop in the main thread; give each test one if none is usable."""
    policy = asyncio.get_event_loop_policy()
    try:
        usable = not policy.get_event_loop().is_closed()
    except RuntimeError:
        usable = False
    if not usable:
        policy.set_event_loop(policy.new_event_loop())
    yield
