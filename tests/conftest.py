"""Suite-wide collection rules.

Under pytest-xdist (``scripts/test.sh`` runs ``-n 3 --dist loadgroup``), every test that drives the
shared Docker engine (tests/docker, tests/drill) runs on one worker, one after another: they share
the engine, image builds and the host's published paper port 127.0.0.1:4002.
"""
from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

_SERIAL_FOLDERS = {"docker", "drill"}
_TESTS = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        parts = Path(str(item.fspath)).resolve().relative_to(_TESTS).parts
        if parts and parts[0] in _SERIAL_FOLDERS:
            item.add_marker(pytest.mark.xdist_group("containers"))


@pytest.fixture
def main_thread_event_loop():
    """A usable current event loop in the main thread, for ib_insync's and ib_async's blocking APIs (an
    ``asyncio.run`` of an earlier test leaves none behind). Folders that drive them request it autouse."""
    policy = asyncio.get_event_loop_policy()
    try:
        usable = not policy.get_event_loop().is_closed()
    except RuntimeError:
        usable = False
    if not usable:
        policy.set_event_loop(policy.new_event_loop())
    yield
