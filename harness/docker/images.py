"""The prelive image: registry-free base, host-side wheelhouse, classic-builder build, all cached.

* base: ``local/python:3.11-slim`` from ``scripts/docker-images.sh --base-only`` (mmdebstrap +
  ``docker import``, saved as a zstd tarball in the cache, reloaded in ~2 s);
* wheelhouse: cp311 manylinux wheels of the project's dependencies, downloaded on the host (the
  host trusts the proxy's CA, containers do not) and keyed by the dependency list;
* build: a lean staged copy of the checkout, so the build context is small and the layer cache
  holds. An image whose ``prelive.source-sha`` label matches the staged sources is reused as is.
"""
from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from . import MANAGED_LABEL
from .engine import REPO_ROOT, DockerUnavailable, cache_dir

if TYPE_CHECKING:
    import docker

DEFAULT_BASE_IMAGE = "local/python:3.11-slim"
PRELIVE_IMAGE = os.environ.get("PRELIVE_IMAGE", "local/prelive:latest")
IMAGES_SCRIPT = REPO_ROOT / "scripts" / "docker-images.sh"
#: What goes into the build context, relative to the checkout.
CONTEXT_PATHS = ("pyproject.toml", "setup.py", "README.md", "mock_gateway", "harness", "scenarios", "compose/Dockerfile")
#: Wheels the offline build needs besides the dependencies: the project's build backend.
BUILD_REQUIREMENTS = ("setuptools>=68", "wheel")


class ImageBuildError(RuntimeError):
    """An image could not be built; the message carries the failing step's output."""


@dataclass(frozen=True)
class BuiltImage:
    tag: str
    image_id: str
    source_sha: str
    reused: bool
    seconds: float


def base_image_name() -> str:
    return os.environ.get("PRELIVE_BASE_IMAGE", DEFAULT_BASE_IMAGE)


def ensure_base_image(client: docker.DockerClient) -> str:
    """The base image tag; when it is missing, the images script builds (or reloads) the stand-in under it.

    A present image is used as it is, except the default tag, which must carry the current recipe
    label (the script rebuilds an outdated one).
    """
    import docker.errors

    name = base_image_name()
    try:
        image = client.images.get(name)
    except docker.errors.ImageNotFound:
        image = None
    if image is not None and (name != DEFAULT_BASE_IMAGE or image.labels.get("prelive.base-recipe") == _script_recipe()):
        return name
    proc = subprocess.run(["bash", str(IMAGES_SCRIPT), "--base-only"], capture_output=True, text=True,
                          env={**os.environ, "PRELIVE_CACHE": str(cache_dir()), "PRELIVE_BASE_IMAGE": name})
    if proc.returncode != 0:
        raise ImageBuildError(f"{IMAGES_SCRIPT} --base-only failed: {(proc.stderr or proc.stdout).strip()[-2000:]}")
    return name


def _script_recipe() -> str:
    """The recipe label the images script stamps (its RECIPE= line), to spot an outdated base."""
    for line in IMAGES_SCRIPT.read_text().splitlines():
        if line.startswith("RECIPE="):
            return line.split("=", 1)[1].split()[0]
    return ""


def project_dependencies(pyproject: Path = REPO_ROOT / "pyproject.toml") -> list[str]:
    with open(pyproject, "rb") as fh:
        return list(tomllib.load(fh)["project"]["dependencies"])


def ensure_wheelhouse(requirements: list[str] | None = None) -> Path:
    """A folder of cp311 wheels for the requirements, downloaded once per distinct list."""
    reqs = sorted(requirements if requirements is not None else project_dependencies()) + list(BUILD_REQUIREMENTS)
    key = hashlib.sha256(json.dumps([reqs, platform.machine()]).encode()).hexdigest()[:16]
    final = cache_dir() / f"wheelhouse-{key}"
    if (final / ".complete").is_file():
        return final
    # Download into a private folder and rename it into place: concurrent builds never see half a wheelhouse.
    wheelhouse = Path(tempfile.mkdtemp(prefix=f".wheelhouse-{key}-", dir=cache_dir()))
    arch = platform.machine()
    platforms = [f"manylinux_2_{n}_{arch}" for n in (36, 34, 31, 28, 27, 24, 17)] + [f"manylinux2014_{arch}"]
    download = [sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check", "--only-binary=:all:",
                "--implementation", "cp", "--python-version", "3.11", "--abi", "cp311",
                *[arg for p in platforms for arg in ("--platform", p)], "-d", str(wheelhouse), *reqs]
    proc = subprocess.run(download, capture_output=True, text=True)
    if proc.returncode != 0:
        # Some dependency has no wheel: build the missing ones on the host (bookworm, cp311 too).
        wheel = [sys.executable, "-m", "pip", "wheel", "-q", "--disable-pip-version-check", "-w", str(wheelhouse), *reqs]
        proc = subprocess.run(wheel, capture_output=True, text=True)
        if proc.returncode != 0:
            shutil.rmtree(wheelhouse, ignore_errors=True)
            raise ImageBuildError(f"cannot fetch wheels for the image: {_pip_errors(proc.stderr)}")
    (wheelhouse / ".complete").touch()
    shutil.rmtree(final, ignore_errors=True)     # an incomplete leftover of a killed run
    try:
        wheelhouse.rename(final)
    except OSError:                              # another process finished first: use its copy
        shutil.rmtree(wheelhouse, ignore_errors=True)
    return final


def stage_context(wheelhouse: Path | None, dest: Path | None = None) -> tuple[Path, str]:
    """Copy what the image needs into a fresh context folder; returns (folder, sha of the sources).

    Without ``dest`` the folder is a new temporary one (builds may run concurrently); the caller removes it.
    """
    if dest is None:
        dest = Path(tempfile.mkdtemp(prefix=".build-context-", dir=cache_dir()))
    else:
        shutil.rmtree(dest, ignore_errors=True)
        dest.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")
    for rel in CONTEXT_PATHS:
        src = REPO_ROOT / rel
        if src.is_dir():
            shutil.copytree(src, dest / rel, ignore=ignore)
        elif src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    shutil.copy2(REPO_ROOT / "compose" / ".dockerignore", dest / ".dockerignore")
    source_sha = _tree_sha(dest)
    if wheelhouse is not None:
        target = dest / "compose" / "wheelhouse"
        target.mkdir(parents=True)
        for whl in wheelhouse.glob("*.whl"):
            try:
                os.link(whl, target / whl.name)
            except OSError:
                shutil.copy2(whl, target / whl.name)
        source_sha = hashlib.sha256((source_sha + wheelhouse.name).encode()).hexdigest()
    return dest, source_sha


def build_image(client: docker.DockerClient, tag: str = PRELIVE_IMAGE, *, force: bool = False,
                offline: bool = True, log_path: Path | None = None) -> BuiltImage:
    """Build (or reuse) the prelive image from the checkout; ``offline`` installs from the wheelhouse only."""
    started = time.monotonic()
    base = ensure_base_image(client)
    wheelhouse = ensure_wheelhouse() if offline else None
    context, source_sha = stage_context(wheelhouse)
    try:
        return _build(client, tag, context, base, source_sha, force, log_path, started)
    finally:
        shutil.rmtree(context, ignore_errors=True)


def _build(client: docker.DockerClient, tag: str, context: Path, base: str, source_sha: str, force: bool,
           log_path: Path | None, started: float) -> BuiltImage:
    import docker.errors

    source_sha = hashlib.sha256(f"{source_sha}:{base}:{_image_id(client, base)}".encode()).hexdigest()
    if not force:
        try:
            existing = client.images.get(tag)
            if existing.labels.get("prelive.source-sha") == source_sha:
                return BuiltImage(tag, existing.id, source_sha, True, time.monotonic() - started)
        except docker.errors.ImageNotFound:
            pass
    log_path = log_path or cache_dir() / "image-build.log"
    lines: list[str] = []
    image_id = ""
    try:
        stream = client.api.build(path=str(context), dockerfile="compose/Dockerfile", tag=tag, rm=True, forcerm=True,
                                  pull=False, nocache=force, decode=True, buildargs={"BASE_IMAGE": base},
                                  labels={MANAGED_LABEL: "true", "prelive.source-sha": source_sha})
        for chunk in stream:
            if "stream" in chunk:
                lines.append(chunk["stream"])
                built = re.match(r"Successfully built ([0-9a-f]+)", chunk["stream"])
                if built:   # the classic builder names its result only here
                    image_id = client.images.get(built.group(1)).id
            if "error" in chunk:
                lines.append(chunk["error"])
                raise ImageBuildError(f"docker build of {tag} failed: {chunk['error'].strip()} (log: {log_path})")
    except docker.errors.APIError as exc:
        raise ImageBuildError(f"docker build of {tag} failed: {exc} (log: {log_path})") from exc
    finally:
        log_path.write_text("".join(lines))
    # The id this build produced (the tag may already point at a concurrent build's image).
    return BuiltImage(tag, image_id or client.images.get(tag).id, source_sha, False, time.monotonic() - started)


def _image_id(client: docker.DockerClient, name: str) -> str:
    return client.images.get(name).id


def _tree_sha(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _pip_errors(stderr: str) -> str:
    lines = [ln for ln in stderr.splitlines() if "is ignored" not in ln and ln.strip()]
    return "\n".join(lines[-15:]) or "pip failed without output"


def require_image(client: docker.DockerClient, tag: str) -> None:
    """Fail with the fix when an image the stack names is not present (nothing is ever pulled)."""
    import docker.errors

    try:
        client.images.get(tag)
    except docker.errors.ImageNotFound:
        raise DockerUnavailable(f"image {tag} is not present and no registry is reachable; build it with "
                                "`prelive docker build` (or docker build/load it yourself)") from None
