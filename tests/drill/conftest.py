"""Fixtures for the drill tests: the mock stack in containers, with two release tags of the handler.

The engine and image fixtures are the containers area's (tests/docker/conftest.py), loaded here so
both folders share one implementation: a Docker engine is started when none answers, and a test
that needs one fails with the reason instead of being skipped.
"""
from __future__ import annotations

import importlib.util
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "prelive_tests_docker_fixtures", Path(__file__).resolve().parents[1] / "docker" / "conftest.py")
_docker_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_docker_fixtures)
docker_client = _docker_fixtures.docker_client
prelive_image = _docker_fixtures.prelive_image
run_labels = _docker_fixtures.run_labels

FIXTURES = Path(__file__).parent / "fixtures"
#: The test's own API client id (resting orders, final checks); differs from the handler's (1)
#: and from the drill's (990, 991).
TEST_CLIENT_ID = 50


@dataclass
class DrillStack:
    """A running mock stack and what the drill needs to know about it."""

    stack: object                 # harness.docker.stack.Stack
    drill_id: str
    host: str
    port: int
    current_image: str
    previous_image: str

    @property
    def handler_container(self) -> str:
        return f"{self.stack.project}-handler-1"

    @property
    def gateway_container(self) -> str:
        return f"{self.stack.project}-ib-gateway-1"

    def overrides(self, **more: object) -> dict[str, object]:
        """Inventory overrides pointing the mock inventory at this stack."""
        return {"handler_container": self.handler_container, "gateway_container": self.gateway_container,
                "gateway_host": self.host, "gateway_port": self.port, "handler_image_current": self.current_image,
                "handler_image_previous": self.previous_image, "compose_project": self.stack.project,
                "drill_id": self.drill_id, **more}


def tag_image(client, source: str, target: str) -> str:
    repository, _, tag = target.rpartition(":")
    client.images.get(source).tag(repository, tag)
    return target


def start_mock_stack(docker_client, image: str, run_id: str, drill_id: str, publish: str = "127.0.0.1:",
                     project: str | None = None):
    from harness.docker.stack import MOCK_STACK, Stack

    stack = Stack(docker_client, project=project or f"prelive-drill-{drill_id}", run_id=run_id,
                  files=[MOCK_STACK, FIXTURES / "mock-drill.yml"],
                  env={"PRELIVE_GATEWAY_PUBLISH": publish, "PRELIVE_IMAGE": image,
                       "PRELIVE_HANDLER_IMAGE": image, "PRELIVE_DRILL_ID": drill_id})
    stack.up(timeout_s=120)
    return stack


@pytest.fixture
def drill_stack(docker_client, prelive_image, run_labels):
    """The mock stack running the handler's "current" release; "previous" is another tag of the image."""
    drill_id = secrets.token_hex(3)
    current = tag_image(docker_client, prelive_image, f"local/prelive:drill-{drill_id}-current")
    previous = tag_image(docker_client, prelive_image, f"local/prelive:drill-{drill_id}-previous")
    stack = None
    try:
        stack = start_mock_stack(docker_client, current, run_labels["prelive.run"], drill_id)
        host, port = stack.published_port()
        yield DrillStack(stack, drill_id, host, port, current, previous)
    finally:
        if stack is not None:
            stack.down()
        for tag in (current, previous):
            docker_client.images.remove(tag, noprune=True)


def wait_until(predicate, timeout_s: float = 15.0, interval_s: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval_s)
    return False
