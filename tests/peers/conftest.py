"""The peer-suite tests drive ib_insync / ib_async with their blocking API in the main thread."""
from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _main_thread_event_loop(main_thread_event_loop):
    """ib_insync's and ib_async's blocking APIs need a current event loop (tests/conftest.py)."""
    yield
