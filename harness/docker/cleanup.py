"""Remove what prelive left in the engine, by label, and nothing else.

Everything prelive creates carries ``prelive.managed=true`` and, per run, ``prelive.run=<id>``.
Another tool (the Ansible drills) may share the daemon, so selection is by label only: never by
name, never a prune of unlabelled objects.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import MANAGED_LABEL, RUN_LABEL

if TYPE_CHECKING:
    import docker


@dataclass
class Removed:
    containers: list[str] = field(default_factory=list)
    networks: list[str] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.containers) + len(self.networks) + len(self.volumes) + len(self.images)


def label_filter(run_id: str | None = None) -> list[str]:
    """Docker label filters: every managed object, or one run's."""
    return [f"{RUN_LABEL}={run_id}"] if run_id else [f"{MANAGED_LABEL}=true"]


def leftovers(client: docker.DockerClient, run_id: str | None = None) -> Removed:
    """What :func:`clean` would remove (names), without removing it."""
    labels = label_filter(run_id)
    return Removed(
        containers=[c.name for c in client.containers.list(all=True, filters={"label": labels})],
        networks=[n.name for n in client.networks.list(filters={"label": labels})],
        volumes=[v.name for v in client.volumes.list(filters={"label": labels})],
    )


def clean(client: docker.DockerClient, run_id: str | None = None, *, images: bool = False) -> Removed:
    """Remove containers, then networks and volumes carrying the labels; images only if asked."""
    import docker.errors

    labels = label_filter(run_id)
    removed = Removed()
    for container in client.containers.list(all=True, filters={"label": labels}):
        try:
            if container.status == "paused":
                container.unpause()
            container.remove(force=True, v=True)
            removed.containers.append(container.name)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as exc:
            removed.errors.append(f"container {container.name}: {exc.explanation or exc}")
    for network in client.networks.list(filters={"label": labels}):
        try:
            network.remove()  # still in use by an unlabelled container: reported, not forced
            removed.networks.append(network.name)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as exc:
            removed.errors.append(f"network {network.name}: {exc.explanation or exc}")
    for volume in client.volumes.list(filters={"label": labels}):
        try:
            volume.remove(force=True)
            removed.volumes.append(volume.name)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as exc:
            removed.errors.append(f"volume {volume.name}: {exc.explanation or exc}")
    if images and run_id is None:
        for image in client.images.list(filters={"label": labels}):
            tag = image.tags[0] if image.tags else image.short_id
            try:
                client.images.remove(image.id, force=True)
                removed.images.append(tag)
            except docker.errors.NotFound:
                pass
            except docker.errors.APIError as exc:
                removed.errors.append(f"image {tag}: {exc.explanation or exc}")
    return removed
