"""Run one of prelive's playbooks through ansible-runner and collect what the records need.

ansible-runner gives us the job events (per-task timings), the final stats and the data the
playbook hands back with ``set_stats``; the private data dir lives in the run's output
folder, with older artifacts rotated away.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .collections import ensure_collections
from .events import TaskTiming, task_timings

#: The playbooks folder: ``playbooks/`` of a source checkout.
PLAYBOOKS_DIR = Path(__file__).resolve().parents[2] / "playbooks"
#: How many past runs' artifacts to keep in a private data dir.
KEEP_ARTIFACTS = 5


#: Environment variables whose values the runner's ``command`` artifact may keep; every other
#: value is redacted, because the operator's shell may hold credentials (TWS_PASSWORD ...).
_ENV_KEPT = ("PATH", "HOME", "PWD", "LANG", "LC_ALL", "VIRTUAL_ENV", "DOCKER_HOST", "PYTHONPATH")
_ENV_KEPT_PREFIXES = ("ANSIBLE_", "RUNNER_", "AWX_")


class PlaybookError(RuntimeError):
    """ansible-runner could not run the playbook at all (not: the playbook failed)."""


@dataclass
class PlaybookRun:
    playbook: str
    status: str                      # successful | failed | timeout | canceled
    rc: int
    wall_s: float
    tasks: list[TaskTiming]
    stats: dict[str, Any]            # playbook_on_stats (ok/failures/... per host)
    returned: dict[str, Any]         # what the playbook returned with set_stats
    artifact_dir: Path
    stdout_tail: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "successful" and self.rc == 0


def inventory_path(inventory: str | os.PathLike[str]) -> Path:
    """``mock``/``paper`` name a shipped inventory; anything else is a path."""
    candidate = PLAYBOOKS_DIR / "inventories" / str(inventory)
    path = candidate if str(inventory) in ("mock", "paper") else Path(inventory)
    if not path.exists():
        raise PlaybookError(f"inventory {inventory} not found (looked for {path})")
    return path.resolve()


def _ansible_playbook_binary() -> str:
    """ansible-playbook next to this interpreter (the venv), else the one on PATH."""
    beside = Path(sys.executable).parent / "ansible-playbook"
    found = str(beside) if beside.exists() else shutil.which("ansible-playbook")
    if not found:
        raise PlaybookError("ansible-playbook not found: install ansible-core into this environment "
                            "(pip install 'ansible-core>=2.16' ansible-runner)")
    return found


def redact_command_artifact(artifact_dir: Path) -> None:
    """Keep only harmless values of the environment ansible-runner wrote into ``<artifact>/command``."""
    path = artifact_dir / "command"
    try:
        command = json.loads(path.read_text())
    except (OSError, ValueError):
        return
    env = command.get("env") or {}
    command["env"] = {key: value if key in _ENV_KEPT or key.startswith(_ENV_KEPT_PREFIXES) else "<redacted>"
                      for key, value in env.items()}
    path.write_text(json.dumps(command))


def _returned_data(events: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    stats = next((e for e in reversed(events) if e.get("event") == "playbook_on_stats"), None)
    if stats is None:
        return {}, {}
    data = stats.get("event_data") or {}
    return data, dict(data.get("artifact_data") or {})


def run_playbook(playbook: str, inventory: str | os.PathLike[str], private_data_dir: Path,
                 extravars: Mapping[str, Any] | None = None, timeout_s: int | None = 600,
                 tags: str | None = None, verbosity: int = 0,
                 project_dir: Path = PLAYBOOKS_DIR, keep_artifacts: int = KEEP_ARTIFACTS) -> PlaybookRun:
    """Run ``<project_dir>/<playbook>`` against an inventory and return timings, stats and results."""
    import ansible_runner  # 70 ms; only the commands that run playbooks pay for it

    collections = ensure_collections()
    binary = _ansible_playbook_binary()
    private_data_dir.mkdir(parents=True, exist_ok=True)
    envvars = {
        "ANSIBLE_COLLECTIONS_PATH": os.pathsep.join(
            [str(collections), os.environ.get("ANSIBLE_COLLECTIONS_PATH", "")]).rstrip(os.pathsep),
        "ANSIBLE_CONFIG": str(PLAYBOOKS_DIR / "ansible.cfg"),
        # ansible-playbook and the modules it spawns must find this venv's tools (docker, prelive)
        "PATH": os.pathsep.join([str(Path(binary).parent), os.environ.get("PATH", "")]),
        "ANSIBLE_NOCOLOR": "1",
    }
    started = time.perf_counter()
    try:
        runner = ansible_runner.run(
            private_data_dir=str(private_data_dir), project_dir=str(project_dir), playbook=playbook,
            inventory=str(inventory_path(inventory)), extravars=dict(extravars or {}), envvars=envvars,
            quiet=True, rotate_artifacts=keep_artifacts, timeout=timeout_s, tags=tags,
            verbosity=verbosity or None, suppress_env_files=True)
    except Exception as exc:  # ansible-runner raises plain exceptions for config errors
        raise PlaybookError(f"ansible-runner could not start {playbook}: {exc}") from exc
    wall = time.perf_counter() - started
    redact_command_artifact(Path(runner.config.artifact_dir))
    events = list(runner.events)
    stats, returned = _returned_data(events)
    stdout = Path(runner.config.artifact_dir) / "stdout"
    tail = stdout.read_text(errors="replace").splitlines()[-40:] if stdout.exists() else []
    if runner.rc == 127 or (not events and runner.status == "failed"):
        raise PlaybookError(f"{playbook} did not run (rc {runner.rc}): " + "\n".join(tail[-10:]))
    return PlaybookRun(playbook=playbook, status=runner.status, rc=runner.rc, wall_s=round(wall, 3),
                       tasks=task_timings(events), stats=stats, returned=returned,
                       artifact_dir=Path(runner.config.artifact_dir), stdout_tail=tail)
