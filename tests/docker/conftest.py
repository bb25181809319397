"""Docker fixtures: the session gets a real engine or fails with the reason (never a silent skip).

``docker_client`` runs scripts/docker-engine.sh when no engine answers (installs docker.io and the
Compose v2 plugin if missing, starts dockerd); ``prelive_image`` builds or reuses the prelive image
from the registry-free base (cached under ~/.cache/prelive). Every object a test creates carries
``prelive.managed=true`` and a ``prelive.run=pytest-...`` label; the session removes those at the end.
"""
from __future__ import annotations

import secrets
import time

import pytest

from harness.docker import MANAGED_LABEL, RUN_LABEL

#: Run-label prefix of everything this test session creates (and cleans up).
SESSION_TAG = f"pytest-{secrets.token_hex(3)}"


def pytest_collection_modifyitems(items):
    for item in items:
        if "docker_client" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.docker)


@pytest.fixture(scope="session")
def docker_client():
    from harness.docker.engine import DockerUnavailable, ensure_engine

    started = time.monotonic()
    try:
        client = ensure_engine(install=True)
    except DockerUnavailable as exc:
        pytest.fail(f"container tests need a Docker engine and none could be started: {exc}", pytrace=False)
    print(f"\n[docker] engine ready in {time.monotonic() - started:.1f} s")
    yield client
    from harness.docker.cleanup import clean

    for run in {c.labels.get(RUN_LABEL) for c in client.containers.list(all=True, filters={"label": RUN_LABEL})} | {
            n.attrs.get("Labels", {}).get(RUN_LABEL) for n in client.networks.list(filters={"label": RUN_LABEL})}:
        if run and run.startswith(SESSION_TAG):
            clean(client, run)


@pytest.fixture(scope="session")
def prelive_image(docker_client) -> str:
    from harness.docker.images import PRELIVE_IMAGE, ImageBuildError, build_image

    try:
        built = build_image(docker_client, PRELIVE_IMAGE)
    except ImageBuildError as exc:
        pytest.fail(f"cannot build the prelive image: {exc}", pytrace=False)
    print(f"\n[docker] {built.tag} {'reused' if built.reused else 'built'} in {built.seconds:.1f} s")
    return built.tag


@pytest.fixture(scope="session")
def base_image(docker_client) -> str:
    from harness.docker.images import ImageBuildError, ensure_base_image

    started = time.monotonic()
    try:
        name = ensure_base_image(docker_client)
    except ImageBuildError as exc:
        pytest.fail(f"cannot provide the base image: {exc}", pytrace=False)
    print(f"\n[docker] base image {name} ready in {time.monotonic() - started:.1f} s")
    return name


@pytest.fixture(scope="session")
def session_tag() -> str:
    """Prefix of every run id this session uses (the session's clean-up removes their leftovers)."""
    return SESSION_TAG


@pytest.fixture
def run_labels() -> dict[str, str]:
    """Labels for one test's objects: managed + a run id unique to the test."""
    return {MANAGED_LABEL: "true", RUN_LABEL: f"{SESSION_TAG}-{secrets.token_hex(3)}"}
