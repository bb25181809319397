"""Suite-wide collection rules.

Under pytest-xdist (``scripts/test.sh`` runs ``-n 3 --dist loadgroup``), every test that drives the
shared Docker engine (tests/docker, tests/drill) runs on one worker, one after another: they share
the engine, image builds and the host's published paper port 127.0.0.1:4002.
"""
from __future__ import annotations

from pathlib import Path

import pytest

_SERIAL_FOLDERS = {"docker", "drill"}
_TESTS = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        parts = Path(str(item.fspath)).resolve().relative_to(_TESTS).parts
        if parts and parts[0] in _SERIAL_FOLDERS:
            item.add_marker(pytest.mark.xdist_group("containers"))
