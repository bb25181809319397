"""Reach the Docker engine, or say exactly how to get one.

Container mode needs a running engine and the Compose v2 CLI plugin. ``scripts/docker-engine.sh``
installs and starts both on a Debian host; :func:`ensure_engine` can run it (tests and CI do).
"""
from __future__ import annotations

import os
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import docker

#: The repository checkout this package runs from (scripts/ and compose/ live there).
REPO_ROOT = Path(__file__).resolve().parents[2]
ENGINE_SCRIPT = REPO_ROOT / "scripts" / "docker-engine.sh"
HOW_TO_START = (
    f"start one with `sudo bash {ENGINE_SCRIPT}` (installs docker.io and the Compose v2 plugin "
    "if missing, then starts dockerd), or point DOCKER_HOST at a running engine"
)


class DockerUnavailable(RuntimeError):
    """No usable Docker engine or Compose v2; the message says how to get one."""


def cache_dir() -> Path:
    """Where images, wheelhouses and logs are cached between runs on one machine."""
    path = Path(os.environ.get("PRELIVE_CACHE", Path.home() / ".cache" / "prelive"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def connect(timeout_s: float = 60.0) -> docker.DockerClient:
    """A Docker SDK client for a running engine, or :class:`DockerUnavailable` with the fix."""
    try:
        import docker
    except ImportError as exc:  # pragma: no cover - docker is a hard dependency
        raise DockerUnavailable(f"the Docker SDK is not installed ({exc}); pip install 'docker>=7'") from exc
    try:
        client = docker.from_env(timeout=int(timeout_s))
        client.ping()
    except Exception as exc:  # the SDK raises DockerException, requests errors, FileNotFoundError...
        where = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
        raise DockerUnavailable(f"no Docker engine reachable at {where} ({_short(exc)}); {HOW_TO_START}") from exc
    return client


def compose_command() -> list[str]:
    """The argv prefix of Compose v2 (``docker compose``); v1 lacks what the stacks use."""
    docker_cli = shutil.which("docker")
    if docker_cli is None:
        raise DockerUnavailable(f"the docker CLI is not on PATH; {HOW_TO_START}")
    version = _compose_version(docker_cli)
    if not version.lstrip("v").startswith("2."):
        found = f"found {version!r}" if version else "not installed"
        raise DockerUnavailable(f"Compose v2 (`docker compose`) is {found}; {HOW_TO_START}")
    return [docker_cli, "compose"]


@lru_cache(maxsize=4)
def _compose_version(docker_cli: str) -> str:
    proc = subprocess.run([docker_cli, "compose", "version", "--short"], capture_output=True, text=True)
    return proc.stdout.strip() if proc.returncode == 0 else ""


def ensure_engine(install: bool = False) -> docker.DockerClient:
    """A client for a running engine with Compose v2; with ``install`` run the engine script first if needed."""
    try:
        client = connect()
        compose_command()
        return client
    except DockerUnavailable:
        if not install:
            raise
    run_engine_script()
    _compose_version.cache_clear()
    client = connect()
    compose_command()
    return client


def run_engine_script() -> str:
    """Run ``scripts/docker-engine.sh``; its output, or :class:`DockerUnavailable` with the reason."""
    if not ENGINE_SCRIPT.is_file():
        raise DockerUnavailable(f"{ENGINE_SCRIPT} is missing (container mode needs a prelive checkout)")
    proc = subprocess.run(["bash", str(ENGINE_SCRIPT)], capture_output=True, text=True)
    if proc.returncode != 0:
        detail = (proc.stderr.strip() or proc.stdout.strip())[-2000:]
        raise DockerUnavailable(f"{ENGINE_SCRIPT} failed (exit {proc.returncode}): {detail}")
    return proc.stdout


def _short(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) < 300 else text[:300] + "..."
