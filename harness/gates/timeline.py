"""The run's timeline, from the times the artifacts record (file modification times as a fallback)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from .evidence import FIXTURE_PREFIX
from .verification import Verification


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    event: str
    source: str


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def build_timeline(v: Verification) -> tuple[TimelineEntry, ...]:
    ev = v.evidence
    entries: list[tuple[datetime | None, str, str]] = []
    timed: set[str] = set()

    def add(at: datetime | None, event: str, key: str) -> None:
        if at is not None:
            timed.add(key)
            entries.append((at, event, ev.label(key) or key))

    if ev.coverage:
        add(ev.coverage.timestamp, f"coverage measured: {ev.coverage.line_pct:.1f} % lines", "coverage")
    for key, what in (("unit_tests", "unit tests"), ("stage_tests", "stage tests")):
        report = getattr(ev, key)
        if report:
            add(report.timestamp, f"{what} run: {report.total} tests, {report.failed_or_errored} failed/errored", key)
    if acct := ev.account_config:
        add(acct.generated_at, f"account probed: {acct.account_id} ({acct.account_type}), "
                               f"connected={str(acct.connected).lower()}", "account_config")
    if log := ev.paper_log:
        add(log.started_at, f"paper session started (scenario {log.scenario or 'n/a'}, seed {log.seed})", "paper_log")
        add(log.ended_at, "paper session ended", "paper_log")
    if ks := ev.kill_switch:
        add(ks.at, f"kill switch engaged: verified={str(ks.verified).lower()}, "
                   f"open orders {ks.open_orders_before} -> {ks.open_orders_after}", "kill_switch")
    if drill := ev.rollback_drill:
        add(drill.started_at, f"rollback drill started (target {drill.target})", "rollback_drill")
        add(drill.finished_at, f"rollback drill finished: passed={str(drill.passed).lower()}, "
                               f"recovery {drill.total_recovery_s} s", "rollback_drill")
    for f in ev.files.values():
        if f.present and f.key not in timed and not f.key.startswith(FIXTURE_PREFIX):
            entries.append((f.modified_at, "file last modified", f.label))
    for state in v.signatures:
        sig = state.signature
        entries.append((sig.signed_at, f"{sig.decision} signed by {sig.role} ({sig.name})"
                        + ("" if state.current else f" [{state.status_text.split(':')[0]}]"), ev.signatures_file.label))
    entries.append((v.evaluated_at, f"gates evaluated: {v.decision.outcome.value}", "prelive gates"))
    return tuple(sorted((TimelineEntry(_utc(at), event, source) for at, event, source in entries if at),
                        key=lambda e: e.at))
