"""What ``prelive run`` leaves for a CI system: JUnit XML, ``summary.json``, plain progress lines.

A CI log is not a terminal: a progress bar there prints nothing until the end. :class:`PlainProgress`
prints one line per event instead (scenario started, each fault as it acts, finished with its
verdict) and a status line whenever it has been quiet for ``quiet_s``. JUnit XML and the summary
are built from the runner's own outcomes (their verdict, first cause, metrics and wall time), so
every CI dashboard shows the same verdict the console does.
"""
from __future__ import annotations

import json
import re
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TextIO

from .artifacts import atomic_write_json, atomic_write_text

SUMMARY_SCHEMA = "prelive.run-summary/1"
#: Verdicts and exit codes as the runner gives them (``harness.expectations`` when present).
PASS, FAIL, NOT_EXERCISED, ERROR = "PASS", "FAIL", "NOT EXERCISED", "ERROR"
_EXIT_CODES = {PASS: 0, FAIL: 1, NOT_EXERCISED: 3, ERROR: 4}
_PRECEDENCE = (ERROR, FAIL, NOT_EXERCISED, PASS)
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


# ---------------------------------------------------------------------------- verdicts of outcomes
def outcome_verdict(outcome: Any) -> str:
    """The outcome's verdict; an older runner without verdicts gives PASS, FAIL or ERROR."""
    v = getattr(outcome, "verdict", None)
    if v in _EXIT_CODES and not (v == ERROR and not getattr(outcome, "error", None) and outcome.passed):
        return v
    if getattr(outcome, "error", None):
        return ERROR
    return PASS if outcome.passed else FAIL


def first_cause(outcome: Any) -> str | None:
    """One line naming why the scenario did not pass (None for a pass)."""
    v = outcome_verdict(outcome)
    if v == PASS:
        return None
    if getattr(outcome, "error", None):
        return f"setup error: {outcome.error}"
    if getattr(outcome, "cause", None):
        return str(outcome.cause)
    failed = list(getattr(outcome, "failed", []) or [])
    if failed:
        e = failed[0]
        return f"{e.kind} {e.name}: {e.detail}"
    reasons = list(getattr(outcome, "not_exercised", []) or [])
    if reasons:
        return f"not exercised: {reasons[0]}"
    return v.lower()


def overall_verdict(verdicts: Iterable[str]) -> str:
    seen = set(verdicts)
    return next((v for v in _PRECEDENCE if v in seen), PASS)


def _details(outcome: Any) -> list[str]:
    lines = []
    if getattr(outcome, "error", None):
        lines.append(f"setup error: {outcome.error}")
    if getattr(outcome, "cause", None):
        lines.append(f"first cause: {outcome.cause}")
    for e in getattr(outcome, "failed", []) or []:
        lines.append(f"{e.kind} {e.name}: {e.detail}")
    for reason in getattr(outcome, "not_exercised", []) or []:
        lines.append(f"not exercised: {reason}")
    for warning in getattr(outcome, "warnings", []) or []:
        lines.append(f"warning: {warning}")
    return lines


# ---------------------------------------------------------------------------- summary.json
def summary_document(outcomes: list[Any], *, shard: str | None = None, started_at: float | None = None) -> dict[str, Any]:
    """Every scenario's verdict, first cause, metrics and wall time, and the run's overall verdict."""
    rows = []
    for o in outcomes:
        v = outcome_verdict(o)
        rows.append({"scenario": o.scenario, "verdict": v, "exit_code": _EXIT_CODES[v], "first_cause": first_cause(o),
                     "details": _details(o), "wall_s": round(float(o.wall_s), 3), "run_dir": str(o.run_dir),
                     "metrics": dict(o.metrics or {})})
    overall = overall_verdict(r["verdict"] for r in rows)
    counts = {v: sum(r["verdict"] == v for r in rows) for v in (PASS, FAIL, NOT_EXERCISED, ERROR)}
    now = time.time()
    return {"schema": SUMMARY_SCHEMA, "verdict": overall, "exit_code": _EXIT_CODES[overall], "shard": shard,
            "counts": counts, "scenarios": rows,
            "started_at": _iso(started_at) if started_at else None, "ended_at": _iso(now),
            "wall_s": round(now - started_at, 3) if started_at else round(sum(r["wall_s"] for r in rows), 3)}


def write_summary(path: Path, outcomes: list[Any], **kwargs: Any) -> Path:
    return atomic_write_json(path, summary_document(outcomes, **kwargs))


def _iso(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, timezone.utc).isoformat(timespec="seconds")


# ---------------------------------------------------------------------------- JUnit XML
def _clean(text: Any) -> str:
    return _XML_INVALID.sub("\ufffd", str(text))


def junit_xml(outcomes: list[Any], suite: str = "prelive") -> str:
    """JUnit XML: one testcase per scenario. FAIL and NOT EXERCISED are failures (a run that proves
    nothing about a fault is not a pass); ERROR is an error. The message is the first cause."""
    cases, failures, errors = [], 0, 0
    total_s = 0.0
    for o in outcomes:
        v = outcome_verdict(o)
        total_s += float(o.wall_s)
        case = ET.Element("testcase", classname=f"{suite}.scenarios", name=_clean(o.scenario),
                          time=f"{float(o.wall_s):.3f}")
        if v != PASS:
            tag = "error" if v == ERROR else "failure"
            failures += tag == "failure"
            errors += tag == "error"
            node = ET.SubElement(case, tag, message=_clean(f"{v}: {first_cause(o)}"), type=v)
            node.text = _clean("\n".join(_details(o)) or v)
        out = ET.SubElement(case, "system-out")
        metrics = {k: v for k, v in (o.metrics or {}).items() if isinstance(v, (int, float, str, bool)) or v is None}
        out.text = _clean(f"verdict: {v}\nrun directory: {o.run_dir}\nmetrics: "
                          + json.dumps(metrics, default=str, sort_keys=True))
        cases.append(case)
    suites = ET.Element("testsuites", name=suite, tests=str(len(cases)), failures=str(failures), errors=str(errors),
                        time=f"{total_s:.3f}")
    ts = ET.SubElement(suites, "testsuite", name=suite, tests=str(len(cases)), failures=str(failures),
                       errors=str(errors), skipped="0", time=f"{total_s:.3f}", timestamp=_iso(time.time()))
    ts.extend(cases)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def write_junit(path: Path, outcomes: list[Any]) -> Path:
    return atomic_write_text(path, junit_xml(outcomes))


# ---------------------------------------------------------------------------- plain progress
class PlainProgress:
    """Progress as plain lines for a log: a runner progress callback plus a watcher thread.

    The watcher follows each running scenario's ``events.jsonl`` for faults as they act (a fault's
    own event, or the first message a fault acted on, then at most one line per fault per
    ``quiet_s``), notices ``RESULT.json`` (the verdict) and prints a status line whenever
    nothing was printed for ``quiet_s``.
    """

    def __init__(self, out_dir: Path, names: list[str], stream: TextIO | None = None, quiet_s: float = 10.0,
                 poll_s: float = 1.0) -> None:
        self.out_dir, self.names = Path(out_dir), list(names)
        self.stream = stream or sys.stdout
        self.quiet_s, self.poll_s = quiet_s, poll_s
        self._lock = threading.Lock()
        self._started: dict[str, float] = {}
        self._started_wall: dict[str, float] = {}
        self._fraction: dict[str, float] = {}
        self._phase: dict[str, str] = {}
        self._finished: set[str] = set()
        self._offsets: dict[str, int] = {}
        self._fault_seen: dict[tuple[str, str], float] = {}
        self._fault_counts: dict[tuple[str, str], int] = {}
        self._last_line = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="prelive-progress", daemon=True)

    # -- the runner's callback: (scenario name, fraction 0..1, phase)
    def __call__(self, name: str, fraction: float, phase: str) -> None:
        with self._lock:
            if name not in self._started:
                self._started[name] = time.monotonic()
                self._started_wall[name] = time.time()
                self._line(f"{name}: started")
            self._fraction[name] = fraction
            if phase != self._phase.get(name) and phase not in ("run", "queued"):
                self._line(f"{name}: {phase}")
            self._phase[name] = phase

    def __enter__(self) -> PlainProgress:
        self._line(f"prelive run: {len(self.names)} scenario(s): {', '.join(self.names)}")
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def finished(self, outcomes: list[Any]) -> None:
        """A final line for each scenario whose verdict the watcher did not print yet."""
        with self._lock:
            for o in outcomes:
                if o.scenario not in self._finished:
                    self._finish_line(o.scenario, outcome_verdict(o), first_cause(o), float(o.wall_s))

    def _line(self, text: str) -> None:
        stamp = datetime.now(timezone.utc).strftime("%H:%M:%S")
        self.stream.write(f"[{stamp}] {text}\n")
        self.stream.flush()
        self._last_line = time.monotonic()

    def _finish_line(self, name: str, verdict: str, cause: str | None, wall_s: float) -> None:
        self._finished.add(name)
        self._line(f"{name}: finished {verdict} in {wall_s:.0f} s" + (f": {cause}" if cause else ""))

    def _watch(self) -> None:
        while not self._stop.wait(self.poll_s):
            with self._lock:
                running = [n for n in self._started if n not in self._finished]
                for name in running:
                    self._read_faults(name)
                    self._read_result(name)
                if time.monotonic() - self._last_line >= self.quiet_s:
                    running = [n for n in self._started if n not in self._finished]
                    if not running:
                        self._line("waiting for the next scenario to start")
                    for name in running:
                        self._line(f"{name}: running, {100 * self._fraction.get(name, 0.0):.0f} % of its sim time, "
                                   f"{time.monotonic() - self._started[name]:.0f} s wall")

    def _read_result(self, name: str) -> None:
        path = self.out_dir / name / "RESULT.json"
        try:
            if path.stat().st_mtime < self._started_wall[name] - 1:
                return   # an earlier run's result (the runner removes it as it starts; be sure)
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        verdict = doc.get("verdict") or (PASS if doc.get("passed") else FAIL)
        failed = [e for e in doc.get("expectations", []) if not e.get("passed", True)]
        unexercised = doc.get("not_exercised") or []
        cause = doc.get("cause") or (f"{failed[0].get('kind')} {failed[0].get('name')}: {failed[0].get('detail')}"
                                     if failed else (f"not exercised: {unexercised[0]}" if unexercised else None))
        self._finish_line(name, verdict, None if verdict == PASS else cause, float(doc.get("wall_s") or 0.0))

    def _read_faults(self, name: str) -> None:
        path = self.out_dir / name / "events.jsonl"
        try:
            size = path.stat().st_size
        except OSError:
            return
        offset = self._offsets.get(name, 0)
        if size < offset:
            offset = 0   # a new log replaced an old one
        if size == offset:
            return
        with path.open("rb") as fh:
            fh.seek(offset)
            chunk = fh.read(min(size - offset, 16 << 20))
        end = chunk.rfind(b"\n")
        if end < 0:
            return
        self._offsets[name] = offset + end + 1
        for raw in chunk[: end + 1].splitlines():
            if b'"fault":null' in raw and b'"msg":"gateway_' not in raw:
                continue
            try:
                event = json.loads(raw)
            except ValueError:
                continue
            self._fault_event(name, event)

    def _fault_event(self, name: str, event: dict[str, Any]) -> None:
        sim = event.get("sim")
        at = f"sim {sim:.0f} s" if isinstance(sim, (int, float)) else "now"
        msg, fault = event.get("msg"), event.get("fault")
        if event.get("dir") == "sys" and msg in ("gateway_down", "gateway_up"):
            self._line(f"{name}: {msg.replace('_', ' ')} at {at}")
            return
        if not fault:
            return
        key = (name, str(fault))
        self._fault_counts[key] = self._fault_counts.get(key, 0) + 1
        last = self._fault_seen.get(key)
        now = time.monotonic()
        if event.get("dir") == "sys" and msg == "fault":
            attrs = {k: v for k, v in (event.get("attrs") or {}).items() if k != "fields"}
            detail = ", ".join(f"{k}={v}" for k, v in list(attrs.items())[:4])
            if last is None or now - last >= 1.0:
                self._fault_seen[key] = now
                self._line(f"{name}: fault {fault} acted at {at}" + (f" ({detail})" if detail else ""))
            return
        if last is None or now - last >= self.quiet_s:
            self._fault_seen[key] = now
            self._line(f"{name}: fault {fault} acted on {msg} at {at} ({self._fault_counts[key]} so far)")
