"""Merge the evidence of CI shards: their JUnit files into one, their summary.json files into one.

Each shard job of the generated workflow leaves ``junit/prelive-I.xml`` and
``runs/shard-I/summary.json``. The gates job merges them here instead of running the scenarios
again: one JUnit file (``junit-stages.xml``, gate 5) with every shard's test cases, failures and
errors kept as they were, and one summary across all scenarios whose verdict is the worst of them.

A merge is only as honest as its inputs, so it refuses rather than guesses: a file that is not a
JUnit report or a prelive summary, a scenario reported by two shards, a shard of ``i/n`` missing
from the inputs, or a file larger than :data:`MAX_INPUT_BYTES` is an :class:`EvidenceMergeError`
naming the file and what to do, and nothing is written. Both outputs are built in memory first
and then written atomically, so a failed merge never leaves half an output behind.
"""
from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .artifacts import atomic_write_json, atomic_write_text
from .ci_output import _EXIT_CODES, SUMMARY_SCHEMA, overall_verdict

MERGED_SUMMARY_SCHEMA = SUMMARY_SCHEMA
#: A shard's JUnit or summary is kilobytes; anything past this is not one (and would exhaust memory).
MAX_INPUT_BYTES = 64 << 20
_OUTCOME_TAGS = ("failure", "error", "skipped")
#: testsuites > testsuite > testcase > failure/properties > ...: JUnit writers nest a handful of levels.
MAX_XML_DEPTH = 32


class EvidenceMergeError(Exception):
    """A shard's evidence cannot be merged; the message names the file and what is wrong."""


@dataclass(frozen=True)
class JUnitCounts:
    tests: int
    failures: int
    errors: int
    skipped: int

    @property
    def passed(self) -> int:
        return self.tests - self.failures - self.errors - self.skipped


# ---------------------------------------------------------------------------- reading inputs
def _read_bounded(path: Path, what: str) -> bytes:
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise EvidenceMergeError(f"{path}: not a file; give the shard's {what}")
        if size > MAX_INPUT_BYTES:
            raise EvidenceMergeError(f"{path}: {size} bytes is larger than any shard's {what} "
                                     f"({MAX_INPUT_BYTES} bytes at most); is it the right file?")
        return path.read_bytes()
    except FileNotFoundError:
        raise EvidenceMergeError(f"{path}: no such file; did the shard job upload its {what}?") from None
    except OSError as exc:
        raise EvidenceMergeError(f"{path}: cannot read it ({exc.strerror or exc})") from None


def _junit_suites(path: Path) -> list[ET.Element]:
    """The ``<testsuite>`` elements of one JUnit file (``<testsuites>`` or a bare ``<testsuite>``)."""
    data = _read_bounded(path, "JUnit XML")
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise EvidenceMergeError(f"{path}: JUnit XML with a DOCTYPE or entities is refused (no JUnit writer "
                                 "emits one); regenerate it with prelive run --junit-xml or pytest --junitxml")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise EvidenceMergeError(f"{path}: not valid XML ({exc}); the shard job may have been killed while "
                                 "writing it: rerun that shard") from None
    depth = _depth(root)
    if depth > MAX_XML_DEPTH:
        raise EvidenceMergeError(f"{path}: elements nested more than {MAX_XML_DEPTH} deep; a JUnit report nests a few levels: "
                                 "regenerate it with prelive run --junit-xml "
                                 "or pytest --junitxml")
    if root.tag == "testsuite":
        suites = [root]
    elif root.tag == "testsuites":
        suites = root.findall("testsuite")
    else:
        raise EvidenceMergeError(f"{path}: not a JUnit report (root element <{root.tag}>, expected <testsuites> "
                                 "or <testsuite>)")
    for suite in suites:
        for case in suite.iter("testcase"):
            if not case.get("name"):
                raise EvidenceMergeError(f"{path}: a <testcase> has no name attribute")
    return suites


def _depth(root: ET.Element) -> int:
    """How deep elements nest, counted without recursion (the serializer recurses: a deep file would crash it)."""
    deepest, level = 0, [(root, 1)]
    while level:
        element, d = level.pop()
        deepest = max(deepest, d)
        if d <= MAX_XML_DEPTH:
            level.extend((child, d + 1) for child in element)
    return deepest


def _case_outcome(case: ET.Element) -> str:
    tags = {child.tag for child in case}
    return next((t for t in ("error", "failure", "skipped") if t in tags), "passed")


def _read_summary(path: Path) -> dict[str, Any]:
    if path.is_dir():
        path = path / "summary.json"
    data = _read_bounded(path, "summary.json")
    try:
        doc = json.loads(data)
    except RecursionError:
        raise EvidenceMergeError(f"{path}: JSON nested too deep to be a prelive run summary; give the "
                                 "summary.json that prelive run writes") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise EvidenceMergeError(f"{path}: not valid JSON ({exc}); rerun that shard") from None
    if not isinstance(doc, dict) or doc.get("schema") != SUMMARY_SCHEMA:
        found = doc.get("schema") if isinstance(doc, dict) else type(doc).__name__
        raise EvidenceMergeError(f"{path}: not a prelive run summary (schema {found!r}, expected "
                                 f"{SUMMARY_SCHEMA!r}); give the summary.json that prelive run writes")
    rows = doc.get("scenarios")
    if not isinstance(rows, list):
        raise EvidenceMergeError(f"{path}: \"scenarios\" must be a list")
    for i, row in enumerate(rows):
        if not isinstance(row, dict) or not isinstance(row.get("scenario"), str) or not row["scenario"]:
            raise EvidenceMergeError(f"{path}: scenarios[{i}] has no scenario name")
        if row.get("verdict") not in _EXIT_CODES:
            raise EvidenceMergeError(f"{path}: scenarios[{i}] ({row['scenario']}) has verdict "
                                     f"{row.get('verdict')!r}, expected one of {', '.join(_EXIT_CODES)}")
    shard = doc.get("shard")
    if shard is not None and _parse_shard(shard) is None:
        raise EvidenceMergeError(f"{path}: shard {shard!r} is not of the form i/n")
    doc["_path"] = path
    return doc


def _parse_shard(text: Any) -> tuple[int, int] | None:
    if not isinstance(text, str) or text.count("/") != 1:
        return None
    i, _, n = text.partition("/")
    if not (i.strip().isdigit() and n.strip().isdigit()):
        return None
    index, total = int(i), int(n)
    return (index, total) if 1 <= index <= total else None


# ---------------------------------------------------------------------------- merging
def merge_junit(paths: Sequence[Path], suite: str = "prelive") -> tuple[str, JUnitCounts]:
    """One JUnit document holding every input's test suites unchanged (failures and errors kept),
    with totals recomputed from the test cases, and the totals."""
    if not paths:
        raise EvidenceMergeError("no JUnit files to merge; give the shards' junit/prelive-*.xml")
    root = ET.Element("testsuites", name=suite)
    seen: dict[str, Path] = {}
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    total_s = 0.0
    for path in paths:
        for suite_el in _junit_suites(path):
            cases = list(suite_el.iter("testcase"))
            for case in cases:
                key = f"{case.get('classname', '')}::{case.get('name')}"
                if key in seen:
                    raise EvidenceMergeError(f"{path}: test {key} is also in {seen[key]}; two shards ran the same "
                                             "scenario (were they given different scenario lists?)")
                seen[key] = path
            outcomes = [_case_outcome(c) for c in cases]
            tally = {"tests": len(cases), "failures": outcomes.count("failure"), "errors": outcomes.count("error"),
                     "skipped": outcomes.count("skipped")}
            for k, v in tally.items():
                suite_el.set(k, str(v))
                counts[k] += v
            suite_el.set("file", str(path))
            try:
                suite_s = float(suite_el.get("time") or 0.0)
            except ValueError:
                suite_s = math.nan
            if not (math.isfinite(suite_s) and suite_s >= 0):
                raise EvidenceMergeError(f"{path}: testsuite time {suite_el.get('time')!r} is not a duration in "
                                         "seconds (a finite number, 0 or more)")
            total_s += suite_s
            root.append(suite_el)
    for k, v in counts.items():
        root.set(k, str(v))
    root.set("time", f"{total_s:.3f}")
    ET.indent(root)
    text = '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
    return text, JUnitCounts(**counts)


def merge_summaries(paths: Sequence[Path], expect_shards: int | None = None) -> dict[str, Any]:
    """One summary across every shard's scenarios: rows kept as each shard wrote them (their run
    directory pointed at where it is now), counts and the overall verdict recomputed.

    ``expect_shards``: the matrix size; every shard 1..n must be among the inputs (a shard job
    that died before writing its summary is missing evidence, not a pass). Without it, the shards'
    own ``i/n`` labels must still agree on n and cover 1..n."""
    if not paths:
        raise EvidenceMergeError("no summaries to merge; give the shards' run folders or summary.json files")
    docs = [_read_summary(Path(p)) for p in paths]
    labelled = {}
    for doc in docs:
        parsed = _parse_shard(doc.get("shard"))
        if parsed is None:
            continue
        if parsed in labelled:
            raise EvidenceMergeError(f"{doc['_path']}: shard {doc['shard']} is also {labelled[parsed]['_path']}")
        labelled[parsed] = doc
    totals = {n for _, n in labelled}
    if expect_shards is not None:
        totals.add(expect_shards)
    if len(totals) > 1:
        raise EvidenceMergeError(f"the summaries come from matrices of different sizes ({', '.join(map(str, sorted(totals)))} "
                                 "shards); merge one run's shards")
    if totals:
        [n] = totals
        missing = [f"{i}/{n}" for i in range(1, n + 1) if (i, n) not in labelled]
        if missing:
            raise EvidenceMergeError(f"shard {', '.join(missing)} is missing from the inputs: its job failed before "
                                     "writing runs/shard-I/summary.json, or its artifact was not downloaded. Rerun it; "
                                     "a missing shard is missing evidence, not a pass")
    rows: list[dict[str, Any]] = []
    owner: dict[str, Path] = {}
    shards = []
    for doc in docs:
        path: Path = doc["_path"]
        for row in doc["scenarios"]:
            name = row["scenario"]
            if name in owner:
                raise EvidenceMergeError(f"{path}: scenario {name} is also in {owner[name]}; two shards ran it")
            owner[name] = path
            row = dict(row)
            here = path.parent / Path(str(row.get("run_dir", ""))).name
            if row.get("run_dir") and here.is_dir():
                row["run_dir"] = str(here)
            row["shard"] = doc.get("shard")
            rows.append(row)
        shards.append({"summary": str(path), "shard": doc.get("shard"), "verdict": doc.get("verdict"),
                       "scenarios": len(doc["scenarios"]), "wall_s": doc.get("wall_s")})
    overall = overall_verdict(r["verdict"] for r in rows)
    counts = {v: sum(r["verdict"] == v for r in rows) for v in _EXIT_CODES}
    starts = [d["started_at"] for d in docs if isinstance(d.get("started_at"), str)]
    ends = [d["ended_at"] for d in docs if isinstance(d.get("ended_at"), str)]
    walls = [float(d["wall_s"]) for d in docs if isinstance(d.get("wall_s"), (int, float))]
    return {"schema": MERGED_SUMMARY_SCHEMA, "verdict": overall, "exit_code": _EXIT_CODES[overall], "shard": None,
            "merged_from": shards, "counts": counts, "scenarios": rows,
            "started_at": min(starts) if starts else None, "ended_at": max(ends) if ends else None,
            "wall_s": max(walls) if walls else 0.0, "shard_wall_s_total": round(sum(walls), 3)}


@dataclass(frozen=True)
class MergeResult:
    written: list[Path]
    junit: JUnitCounts | None
    summary: dict[str, Any] | None


def merge_evidence(junit_inputs: Sequence[Path], summary_inputs: Sequence[Path], *, junit_out: Path | None,
                   summary_out: Path | None, expect_shards: int | None = None) -> MergeResult:
    """Build both merged outputs, check they agree, then write them (each atomically)."""
    junit_text = counts = summary = None
    if junit_out is not None:
        junit_text, counts = merge_junit(junit_inputs)
    elif junit_inputs:
        raise EvidenceMergeError("JUnit files were given but no --junit-xml output")
    if summary_out is not None:
        summary = merge_summaries(summary_inputs, expect_shards)
    elif summary_inputs:
        raise EvidenceMergeError("summaries were given but no --summary output")
    if counts is not None and summary is not None and counts.tests != len(summary["scenarios"]):
        raise EvidenceMergeError(f"the JUnit files hold {counts.tests} test(s) but the summaries "
                                 f"{len(summary['scenarios'])} scenario(s); give the JUnit and the runs of the same shards")
    written = []
    if junit_text is not None and junit_out is not None:
        written.append(atomic_write_text(junit_out, junit_text))
    if summary is not None and summary_out is not None:
        written.append(atomic_write_json(summary_out, summary))
    return MergeResult(written, counts, summary)


def split_inputs(inputs: Sequence[Path]) -> tuple[list[Path], list[Path]]:
    """JUnit files (``*.xml``) and summaries (a run folder or a ``*.json`` file), in the order given."""
    junit, summaries = [], []
    for p in inputs:
        if p.suffix.lower() == ".xml":
            junit.append(p)
        elif p.is_dir() or p.suffix.lower() == ".json":
            summaries.append(p)
        elif not p.exists():
            raise EvidenceMergeError(f"{p}: no such file or folder")
        else:
            raise EvidenceMergeError(f"{p}: neither a JUnit file (.xml) nor a run folder or summary (.json)")
    return junit, summaries
