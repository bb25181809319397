"""Install the Ansible collections the playbooks use, without Galaxy.

Galaxy is unreachable from CI machines, but the ``ansible`` wheel on PyPI bundles
community.docker (and its dependency community.library_inventory_filtering_v1). We download
that one wheel with pip, extract only the two collections (2.4 MB of a 54 MB wheel) and cache
them under ``~/.cache/prelive/collections``, which then goes on ``ANSIBLE_COLLECTIONS_PATH``.
Users who can reach Galaxy use ``ansible-galaxy collection install -r playbooks/requirements.yml``.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

#: The ``ansible`` release whose wheel we take the collections from (community.docker 4.8.5).
ANSIBLE_WHEEL_VERSION = "12.3.0"
#: Collections extracted from the wheel: what the playbooks use plus its dependencies.
BUNDLED_COLLECTIONS = ("community/docker", "community/library_inventory_filtering_v1")
#: Oldest community.docker the playbooks work with (docker_compose_v2, docker_container_copy_into).
MIN_COMMUNITY_DOCKER = (3, 6, 0)


class CollectionInstallError(RuntimeError):
    """The collections could not be installed; the message says what to do instead."""


def default_collections_dir() -> Path:
    cache = Path(os.environ.get("PRELIVE_CACHE_DIR") or Path.home() / ".cache" / "prelive")
    return cache / "collections"


def installed_version(collections_dir: Path, name: str = "community/docker") -> tuple[int, ...] | None:
    """Version of an installed collection, read from its MANIFEST.json (None if absent)."""
    manifest = collections_dir / "ansible_collections" / name / "MANIFEST.json"
    try:
        version = json.loads(manifest.read_text())["collection_info"]["version"]
    except (OSError, KeyError, ValueError):
        return None
    return tuple(int(part) for part in version.split(".")[:3] if part.isdigit())


def collections_ready(collections_dir: Path) -> bool:
    version = installed_version(collections_dir)
    return version is not None and version >= MIN_COMMUNITY_DOCKER and all(
        (collections_dir / "ansible_collections" / name / "MANIFEST.json").is_file()
        for name in BUNDLED_COLLECTIONS)


def _download_wheel(into: Path, version: str) -> Path:
    cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
           "--no-deps", "--only-binary=:all:", "--dest", str(into), f"ansible=={version}"]
    done = subprocess.run(cmd, capture_output=True, text=True)
    wheels = sorted(into.glob(f"ansible-{version}-*.whl"))
    if done.returncode != 0 or not wheels:
        raise CollectionInstallError(
            f"pip could not download ansible=={version} from the package index "
            f"(exit {done.returncode}): {done.stderr.strip()[-400:]}\n"
            "With Galaxy access: ansible-galaxy collection install -r playbooks/requirements.yml")
    return wheels[0]


def _extract(wheel: Path, into: Path) -> None:
    prefixes = tuple(f"ansible_collections/{name}/" for name in BUNDLED_COLLECTIONS)
    with zipfile.ZipFile(wheel) as archive:
        members = [m for m in archive.namelist() if m.startswith(prefixes)]
        if not members:
            raise CollectionInstallError(f"{wheel.name} holds none of {', '.join(BUNDLED_COLLECTIONS)}")
        archive.extractall(into, members)


def ensure_collections(collections_dir: Path | None = None,
                       ansible_version: str = ANSIBLE_WHEEL_VERSION) -> Path:
    """Return a collections path holding community.docker, installing it from PyPI if missing."""
    target = Path(collections_dir or default_collections_dir())
    if collections_ready(target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="prelive-collections-", dir=target.parent) as tmp:
        staging = Path(tmp) / "collections"
        _extract(_download_wheel(Path(tmp), ansible_version), staging)
        if not collections_ready(staging):
            raise CollectionInstallError(f"ansible=={ansible_version} bundles no usable community.docker")
        # swap in atomically so a concurrent reader never sees a half-extracted tree
        try:
            if target.exists():
                target.rename(Path(tmp) / "old")
            staging.rename(target)
        except OSError:
            if not collections_ready(target):  # not another process that got there first
                raise
    return target


def main() -> None:
    """``python -m harness.drill.collections [DIR]``: install and print the collections path."""
    print(ensure_collections(Path(sys.argv[1]) if len(sys.argv) > 1 else None))


if __name__ == "__main__":
    main()
