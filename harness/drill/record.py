"""ROLLBACK_DRILL.json and SWITCHOVER.json: what a playbook run proves, in the contract's shape.

Step timings come from the job events (harness.drill.events); what only the playbook knows
(which image it rolled back to, the kill switch record, the failure message) comes back
through ``set_stats``. Gate 8 reads ``passed``: every step ok, the kill switch verified, and
the recovery (kill switch start to verified state) under the threshold.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from .events import StepSpec, StepTiming, span_s, step_timings
from .runner import PlaybookRun

ROLLBACK_DRILL_SCHEMA = "prelive/rollback-drill/v1"
SWITCHOVER_SCHEMA = "prelive/switchover/v1"

#: The rollback procedure, in order, as rollback.yml tags its steps.
ROLLBACK_STEPS = (
    StepSpec("preflight: refuse a live account or port", "preflight"),
    StepSpec("kill switch: halt, cancel all, verify zero open orders", "kill_switch"),
    StepSpec("stop the current release", "stop_current"),
    StepSpec("start the previous release", "start_previous"),
    StepSpec("wait for the gateway API handshake", "wait_gateway"),
    StepSpec("verify reconciled state", "verify_state"),
    StepSpec("record the result", "record"),
)
#: Recovery is timed from the first to the last of these steps.
RECOVERY_WINDOW = ("kill_switch", "verify_state")

#: The switchover procedure, in order, as switchover.yml tags its steps.
SWITCHOVER_STEPS = (
    StepSpec("preflight: paper port, DU account, credentials present", "preflight"),
    StepSpec("stop the handler on the current target", "stop_current"),
    StepSpec("bring the paper stack up", "paper_up"),
    StepSpec("wait for the gateway API handshake", "wait_gateway"),
    StepSpec("stage 6 account probe", "probe"),
    StepSpec("verify the account", "verify"),
    StepSpec("record the result", "record"),
)
SWITCHOVER_WINDOW = ("stop_current", "verify")


@dataclass(frozen=True)
class Verdict:
    steps: list[StepTiming]
    failed_step: str | None
    window_s: float | None


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def judge(run: PlaybookRun, specs: Sequence[StepSpec], window: tuple[str, str], returned_key: str) -> Verdict:
    """Step timings, the first failed step (events first, then what the playbook said), the window."""
    steps = step_timings(run.tasks, specs)
    failed = next((s.tag for s in steps if s.result == "failed"), None)
    said = (run.returned.get(returned_key) or {}).get("failed_step")
    if failed is None and said:
        failed = said
    if failed is None and not run.ok:
        failed = next((s.tag for s in steps if s.result != "ok"), "unknown")
    return Verdict(steps, failed, span_s(steps, *window))


def _step_rows(steps: Sequence[StepTiming]) -> list[dict[str, Any]]:
    return [{"name": s.name, "tag": s.tag, "duration_s": s.duration_s, "result": s.result,
             "started_at": _iso(s.start), "finished_at": _iso(s.end), "failed_task": s.failed_task}
            for s in steps]


def _bounds(run: PlaybookRun) -> tuple[str | None, str | None]:
    if not run.tasks:
        return None, None
    return _iso(min(t.start for t in run.tasks)), _iso(max(t.end for t in run.tasks))


def rollback_record(run: PlaybookRun, target: str, threshold_s: float,
                    kill_switch_file: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The ROLLBACK_DRILL.json object for one run of rollback.yml."""
    verdict = judge(run, ROLLBACK_STEPS, RECOVERY_WINDOW, "rollback")
    said = run.returned.get("rollback") or {}
    kill_switch = said.get("kill_switch") or kill_switch_file or {}
    recovery = verdict.window_s
    passed = (verdict.failed_step is None and run.ok
              and all(s.result == "ok" for s in verdict.steps)
              and bool(kill_switch.get("verified")) and recovery is not None and recovery < threshold_s)
    started, finished = _bounds(run)
    return {
        "schema": ROLLBACK_DRILL_SCHEMA,
        "target": target,
        "started_at": started,
        "finished_at": finished,
        "steps": _step_rows(verdict.steps),
        "total_recovery_s": recovery,
        "threshold_s": threshold_s,
        "failed_step": verdict.failed_step,
        "failure": said.get("failure") or None,
        "kill_switch": {
            "engaged": bool(said.get("kill_switch_engaged", kill_switch.get("verified", False))),
            "verified": bool(kill_switch.get("verified", False)),
            "open_orders_after": kill_switch.get("open_orders_after"),
        },
        "rolled_back_from": said.get("rolled_back_from"),
        "rolled_back_to": said.get("rolled_back_to"),
        "expected_current": said.get("expected_current"),
        "handler_container": said.get("handler_container"),
        "playbook_wall_s": run.wall_s,
        "ansible_status": run.status,
        "passed": passed,
    }


def switchover_record(run: PlaybookRun, inventory: str) -> dict[str, Any]:
    """The SWITCHOVER.json object for one run of switchover.yml."""
    verdict = judge(run, SWITCHOVER_STEPS, SWITCHOVER_WINDOW, "switchover")
    said = run.returned.get("switchover") or {}
    started, finished = _bounds(run)
    passed = verdict.failed_step is None and run.ok and all(s.result == "ok" for s in verdict.steps)
    return {
        "schema": SWITCHOVER_SCHEMA,
        "inventory": inventory,
        "from_target": said.get("from_target"),
        "to_target": said.get("to_target"),
        "started_at": started,
        "finished_at": finished,
        "steps": _step_rows(verdict.steps),
        "switchover_s": verdict.window_s,
        "failed_step": verdict.failed_step,
        "failure": said.get("failure") or None,
        "restored": bool(said.get("restored", False)),
        "active_target": said.get("active_target"),
        "account": said.get("account"),
        "account_config": said.get("account_config"),
        "playbook_wall_s": run.wall_s,
        "ansible_status": run.status,
        "passed": passed,
    }
