"""Per-task and per-step timings from ansible-runner job events.

Every ``runner_on_ok|failed|skipped|unreachable`` event carries ``event_data.start``, ``end``
and ``duration`` for one task on one host, so the drill needs no timing plugin. The playbooks
name each task ``<step tag> | <what it does>``; a step's time is its first task's start to its
last task's end, which counts Ansible's own overhead between the tasks (that is recovery time
too).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

Result = Literal["ok", "failed", "skipped", "unreachable"]
StepResult = Literal["ok", "failed", "skipped"]

_OUTCOMES = {"runner_on_ok": "ok", "runner_on_failed": "failed",
             "runner_on_skipped": "skipped", "runner_on_unreachable": "unreachable"}
#: Separates the step tag from the action in a task name.
STEP_SEPARATOR = " | "


@dataclass(frozen=True)
class TaskTiming:
    name: str
    step: str | None
    action: str
    host: str
    result: Result
    start: datetime
    end: datetime
    duration_s: float
    ignored: bool = False          # failed, but ``ignore_errors`` let the play go on


@dataclass(frozen=True)
class StepSpec:
    """One step of a procedure as the record lists it: human name and the tag its tasks carry."""

    name: str
    tag: str


@dataclass(frozen=True)
class StepTiming:
    name: str
    tag: str
    result: StepResult
    duration_s: float
    start: datetime | None
    end: datetime | None
    tasks: int
    failed_task: str | None = None


def step_of(task_name: str) -> str | None:
    """The step tag a task belongs to (``"kill_switch | engage ..." -> "kill_switch"``)."""
    head, sep, _ = task_name.partition(STEP_SEPARATOR)
    return head.strip() if sep else None


def _when(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if not value:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def task_timings(events: Iterable[Mapping[str, Any]]) -> list[TaskTiming]:
    """One entry per finished task and host, in the order the events were emitted."""
    timings: list[TaskTiming] = []
    for event in sorted(events, key=lambda e: e.get("counter", 0)):
        outcome = _OUTCOMES.get(event.get("event", ""))
        data = event.get("event_data") or {}
        start, end = _when(data.get("start")), _when(data.get("end"))
        if outcome is None or start is None or end is None:
            continue
        name = str(data.get("task") or data.get("task_action") or "")
        timings.append(TaskTiming(
            name=name, step=step_of(name), action=str(data.get("task_action") or ""),
            host=str(data.get("host") or ""), result=outcome,  # type: ignore[arg-type]
            start=start, end=end, duration_s=float(data.get("duration") or (end - start).total_seconds()),
            ignored=bool(data.get("ignore_errors"))))
    return timings


def step_timings(tasks: Sequence[TaskTiming], steps: Sequence[StepSpec]) -> list[StepTiming]:
    """Fold task timings into the procedure's steps.

    A step failed if one of its tasks failed (and was not ignored); it was skipped if none of
    its tasks ran (never reached, or every task skipped by a condition or a tag).
    """
    result: list[StepTiming] = []
    for spec in steps:
        own = [t for t in tasks if t.step == spec.tag]
        ran = [t for t in own if t.result != "skipped"]
        failed = next((t for t in own if t.result in ("failed", "unreachable") and not t.ignored), None)
        if not own:
            result.append(StepTiming(spec.name, spec.tag, "skipped", 0.0, None, None, 0))
            continue
        start = min(t.start for t in own)
        end = max(t.end for t in own)
        status: StepResult = "failed" if failed else ("ok" if ran else "skipped")
        result.append(StepTiming(spec.name, spec.tag, status, round((end - start).total_seconds(), 3),
                                 start, end, len(own), failed.name if failed else None))
    return result


def span_s(steps: Sequence[StepTiming], first_tag: str, last_tag: str) -> float | None:
    """Wall seconds from the start of step ``first_tag`` to the end of the last step up to ``last_tag``.

    None when ``first_tag`` never ran. When the procedure stopped early, the span ends with the
    last step that ran: the time spent before the failure.
    """
    tags = [s.tag for s in steps]
    window = steps[tags.index(first_tag): tags.index(last_tag) + 1]
    started = [s for s in window if s.start is not None]
    if not started or window[0].start is None:
        return None
    return round((max(s.end for s in started if s.end) - window[0].start).total_seconds(), 3)
