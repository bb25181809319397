"""Fixtures for the SimPy world: no sockets, the SimPy environment is run directly."""
from __future__ import annotations

import pytest

from mock_gateway.sim import World

from .support import Recorder, make_world


@pytest.fixture
def world() -> World:
    return make_world()


@pytest.fixture
def recorder(world: World) -> Recorder:
    return Recorder(world)
