"""``prelive drill``: run rollback.yml, time it from the job events, write ROLLBACK_DRILL.json."""
from __future__ import annotations

import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from harness.artifacts import atomic_write_json
from harness.safety import check_paper_target

from .record import rollback_record
from .runner import PlaybookRun, inventory_path, run_playbook

DEFAULT_THRESHOLD_S = 30.0
ROLLBACK_DRILL_FILE = "ROLLBACK_DRILL.json"
KILL_SWITCH_FILE = "KILL_SWITCH.json"


@dataclass
class DrillOutcome:
    record: dict[str, Any]
    path: Path
    run: PlaybookRun


def inventory_vars(inventory: str | Path, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The inventory's plain variables (group_vars/all.yml) with the caller's overrides on top.

    Only used to check the target before Ansible starts; templated values stay unrendered.
    """
    path = inventory_path(inventory)
    group_vars = (path if path.is_dir() else path.parent) / "group_vars" / "all.yml"
    values = yaml.safe_load(group_vars.read_text()) if group_vars.is_file() else {}
    return {**(values or {}), **dict(overrides or {})}


def check_target(values: Mapping[str, Any], allow_live: bool) -> None:
    """The live interlock, before any playbook runs (the playbooks check again themselves)."""
    port, account = values.get("gateway_port"), values.get("account")
    plain_port = int(port) if isinstance(port, int) or (isinstance(port, str) and port.isdigit()) else None
    plain_account = account if isinstance(account, str) and "{{" not in account else None
    check_paper_target(plain_port, [plain_account] if plain_account else None, allow_live=allow_live)


def new_drill_id() -> str:
    """Labels the containers a drill creates (``prelive.drill=<id>``) and names the run in its record."""
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(2)


def run_drill(inventory: str | Path = "mock", out_dir: Path = Path("."), *,
              overrides: Mapping[str, Any] | None = None, threshold_s: float | None = None,
              allow_live: bool = False, timeout_s: int = 600) -> DrillOutcome:
    """Run the rollback drill against an inventory and write ROLLBACK_DRILL.json into ``out_dir``."""
    values = inventory_vars(inventory, overrides)
    check_target(values, allow_live)
    out_dir = out_dir.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    # the kill switch step reads KILL_SWITCH.json back; an old one must not pass for this drill's
    (out_dir / KILL_SWITCH_FILE).unlink(missing_ok=True)
    threshold = float(threshold_s if threshold_s is not None
                      else values.get("recovery_threshold_s", DEFAULT_THRESHOLD_S))
    extravars = {"drill_id": new_drill_id(), **dict(overrides or {}), "drill_out_dir": str(out_dir),
                 "allow_live_account": bool(allow_live), "recovery_threshold_s": threshold}
    run = run_playbook("rollback.yml", inventory, out_dir / ".ansible-runner" / "rollback",
                       extravars=extravars, timeout_s=timeout_s)
    kill_switch_file = _read_json(out_dir / KILL_SWITCH_FILE)
    record = rollback_record(run, str(values.get("drill_target", inventory)), threshold, kill_switch_file)
    record["drill_id"] = extravars["drill_id"]
    path = atomic_write_json(out_dir / ROLLBACK_DRILL_FILE, record)
    returned_kill_switch = (run.returned.get("rollback") or {}).get("kill_switch")
    if kill_switch_file is None and returned_kill_switch:
        atomic_write_json(out_dir / KILL_SWITCH_FILE, returned_kill_switch)
    return DrillOutcome(record, path, run)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None
