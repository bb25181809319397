"""``prelive switchover``: run switchover.yml (mock stack -> paper stack), write SWITCHOVER.json.

The playbook does the work and restores the mock stack by itself when a paper check fails;
this module checks the target before Ansible starts, times the steps from the job events and
records the outcome. The stage 6 probe inside the playbook refreshes ACCOUNT_CONFIG.json.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.artifacts import atomic_write_json
from harness.drill.record import switchover_record
from harness.drill.rollback import check_target, inventory_vars
from harness.drill.runner import PlaybookRun, run_playbook

SWITCHOVER_FILE = "SWITCHOVER.json"


@dataclass
class SwitchoverOutcome:
    record: dict[str, Any]
    path: Path
    run: PlaybookRun


def run_switchover(inventory: str | Path = "paper", out_dir: Path = Path("."), *,
                   overrides: Mapping[str, Any] | None = None, allow_live: bool = False,
                   timeout_s: int = 900) -> SwitchoverOutcome:
    """Switch the handler to the inventory's (paper) stack and write SWITCHOVER.json into ``out_dir``."""
    values = inventory_vars(inventory, overrides)
    # the paper inventory reads its account from the env file inside Ansible; a plain value
    # (or an override) is checked here already
    check_target(values, allow_live)
    out_dir = out_dir.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    extravars = {**dict(overrides or {}), "drill_out_dir": str(out_dir), "allow_live_account": bool(allow_live)}
    run = run_playbook("switchover.yml", inventory, out_dir / ".ansible-runner" / "switchover",
                       extravars=extravars, timeout_s=timeout_s)
    record = switchover_record(run, str(inventory))
    path = atomic_write_json(out_dir / SWITCHOVER_FILE, record)
    return SwitchoverOutcome(record, path, run)
