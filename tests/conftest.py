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


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        parts = Path(str(item.fspath)).resolve().relative_to(_TESTS).parts
        if parts and parts[0] in _SERIAL_FOLDERS:
            item.add_marker(pytest.mark.xdist_group("containers"))
    if getattr(config.option, "loadgroup", False):        # an xdist worker under --dist loadgroup
        for item in items:
            _suffix_group(item)


def _suffix_group(item: pytest.Item) -> None:
    """Give the item the "@group" node id suffix xdist's scheduler groups by. pytest-xdist 3.8 writes it to
    ``item._nodeid``, which pytest 9 no longer reads (the id lives in ``item._id``), so without this every
    xdist_group was ignored and container tests ran side by side on several workers (a module's container
    run twice at once, one stack's restart lost). Under pytest 8 there is no ``_id`` and xdist's own works."""
    names = sorted({str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
                    for mark in item.iter_markers("xdist_group")})
    node_id = getattr(item, "_id", None)
    if names and node_id is not None and "@" not in item.nodeid:
        item._id = type(node_id).parse(f"{item.nodeid}@{'_'.join(names)}")


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
