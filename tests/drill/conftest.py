"""Fixtures for the drill tests: the mock stack in containers, with two release tags of the handler.

The engine and image fixtures are the containers area's (tests/docker/conftest.py), loaded here so
both folders share one implementation: a Docker engine is started when none answers, and a test
that needs one fails with the reason instead of being skipped.
"""
from __future__ import annotations

import asyncio
import importlib.util
import secrets
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from drill_support import DrillStack, start_mock_stack, tag_image  # noqa: E402

_spec = importlib.util.spec_from_file_location(
    "prelive_tests_docker_fixtures", Path(__file__).resolve().parents[1] / "docker" / "conftest.py")
_docker_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_docker_fixtures)
docker_client = _docker_fixtures.docker_client
prelive_image = _docker_fixtures.prelive_image
run_labels = _docker_fixtures.run_labels


@pytest.fixture(autouse=True)
def _a_current_event_loop():
    """ib_insync's blocking calls (the tests' own client) use the thread's current loop, which an
    earlier test's ``asyncio.run`` leaves unset: give each test one."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield
    asyncio.set_event_loop(None)
    loop.close()


@pytest.fixture
def drill_stack(docker_client, prelive_image, run_labels):
    """The mock stack running the handler's "current" release; "previous" is another tag of the image."""
    drill_id = secrets.token_hex(3)
    current = tag_image(docker_client, prelive_image, f"local/prelive:drill-{drill_id}-current")
    previous = tag_image(docker_client, prelive_image, f"local/prelive:drill-{drill_id}-previous")
    stack = None
    try:
        stack = start_mock_stack(docker_client, prelive_image, run_labels["prelive.run"], drill_id,
                                 handler_image=current)
        host, port = stack.published_port()
        yield DrillStack(stack, drill_id, host, port, current, previous)
    finally:
        if stack is not None:
            stack.down()
        for tag in (current, previous):
            docker_client.images.remove(tag, noprune=True)
