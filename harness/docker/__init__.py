"""Container mode: Docker engine, images, Compose stacks and container faults.

Nothing here is imported by the in-process mode, so prelive keeps working without Docker.
The submodules import the Docker SDK lazily where they can; import them directly.
"""
from __future__ import annotations

#: Every image, container, network and volume prelive creates carries this label.
MANAGED_LABEL = "prelive.managed"
#: Per-run label: ``prelive.run=<run id>`` (also the Compose project name).
RUN_LABEL = "prelive.run"
