"""Parse one evidence file into a typed value, or raise :class:`EvidenceError` naming it and the fault."""
from __future__ import annotations

import csv
import io
import json
import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from harness import yaml_marks
from harness.artifacts import METRICS_CSV_HEADER as METRICS_HEADER

from .errors import EvidenceError

M = TypeVar("M", bound=BaseModel)
Outcome = Literal["passed", "failed", "error", "skipped"]


def text(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise EvidenceError(path, f"not UTF-8 text (byte {exc.start})") from None


def load_json(path: Path, data: bytes) -> Any:
    try:
        return json.loads(text(path, data))
    except json.JSONDecodeError as exc:
        raise EvidenceError(path, f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise EvidenceError(path, "JSON nested too deep to be evidence (thousands of levels)") from None


def load_yaml(path: Path, data: bytes) -> Any:
    """Untrusted YAML, bounded as a scenario is (size, depth, elements, aliases expanded): an alias
    bomb or a deep nest is refused before anything walks it."""
    try:
        return yaml_marks.parse(text(path, data))[0]
    except yaml_marks.YamlProblem as exc:
        where = f" (line {exc.line})" if exc.line else ""
        raise EvidenceError(path, f"not valid YAML{where}: {exc.message}") from None


def validate(model: type[M], path: Path, raw: Any) -> M:
    """``model`` from parsed JSON/YAML, with pydantic's complaints turned into one readable line."""
    if not isinstance(raw, dict):
        raise EvidenceError(path, f"expected a mapping at the top level, found {type(raw).__name__}")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or "<top>"
            if err["type"] == "literal_error" and err["loc"] and err["loc"][-1] == "schema":
                problems.append(f"schema: expected {err['ctx']['expected']}, found {err['input']!r}")
            elif err["type"] == "extra_forbidden":
                problems.append(f"{where}: unknown key")
            else:
                problems.append(f"{where}: {err['msg']}")
        raise EvidenceError(path, "; ".join(problems)) from None


def json_artifact(model: type[M], path: Path, data: bytes) -> M:
    return validate(model, path, load_json(path, data))


def yaml_artifact(model: type[M], path: Path, data: bytes) -> M:
    return validate(model, path, load_yaml(path, data))


def _xml_root(path: Path, data: bytes) -> ET.Element:
    try:
        return ET.fromstring(data)
    except ET.ParseError as exc:
        raise EvidenceError(path, f"not valid XML: {exc}") from None


# ----------------------------------------------------------------------------- Cobertura
@dataclass(frozen=True)
class CoverageReport:
    line_rate: float  # 0..1
    timestamp: datetime | None

    @property
    def line_pct(self) -> float:
        return 100.0 * self.line_rate


def coverage_xml(path: Path, data: bytes) -> CoverageReport:
    """A Cobertura report (``coverage xml``): the root's ``line-rate``."""
    root = _xml_root(path, data)
    if root.tag != "coverage":
        raise EvidenceError(path, f"not a Cobertura report: root element is <{root.tag}>, expected <coverage>")
    raw = root.get("line-rate")
    if raw is None:
        raise EvidenceError(path, "<coverage> has no line-rate attribute")
    try:
        line_rate = float(raw)
    except ValueError:
        raise EvidenceError(path, f"line-rate {raw!r} is not a number") from None
    if not 0.0 <= line_rate <= 1.0:
        raise EvidenceError(path, f"line-rate {line_rate} is outside 0..1")
    timestamp = None
    if (stamp := root.get("timestamp", "")).isdigit():
        timestamp = datetime.fromtimestamp(int(stamp) / 1000, UTC)  # Cobertura: epoch milliseconds
    return CoverageReport(line_rate, timestamp)


# ----------------------------------------------------------------------------- JUnit
@dataclass(frozen=True)
class TestCase:
    __test__ = False
    id: str  # "classname::name"
    outcome: Outcome


@dataclass(frozen=True)
class JUnitReport:
    cases: tuple[TestCase, ...]
    timestamp: datetime | None

    def count(self, outcome: Outcome) -> int:
        return sum(1 for c in self.cases if c.outcome == outcome)

    @property
    def total(self) -> int:
        return len(self.cases)

    @property
    def ran(self) -> int:
        return self.total - self.count("skipped")

    @property
    def failed_or_errored(self) -> int:
        return self.count("failed") + self.count("error")


def junit_xml(path: Path, data: bytes) -> JUnitReport:
    """Counts come from the ``<testcase>`` elements (pytest, Maven, Gradle all write them)."""
    root = _xml_root(path, data)
    if root.tag not in ("testsuites", "testsuite"):
        raise EvidenceError(path, f"not a JUnit report: root element is <{root.tag}>, "
                                  "expected <testsuites> or <testsuite>")
    cases = []
    for case in root.iter("testcase"):
        name = case.get("name")
        if not name:
            raise EvidenceError(path, "a <testcase> has no name attribute")
        child_tags = {child.tag for child in case}
        outcome: Outcome = ("error" if "error" in child_tags else "failed" if "failure" in child_tags
                            else "skipped" if "skipped" in child_tags else "passed")
        cases.append(TestCase(f"{case.get('classname', '')}::{name}", outcome))
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    timestamp = None
    if suite is not None and (stamp := suite.get("timestamp")):
        try:
            timestamp = datetime.fromisoformat(stamp)
        except ValueError:
            raise EvidenceError(path, f"testsuite timestamp {stamp!r} is not ISO 8601") from None
    return JUnitReport(tuple(cases), timestamp)


# ----------------------------------------------------------------------------- metrics CSV
@dataclass(frozen=True)
class MetricRow:
    name: str
    value: float | None  # None: the producer could not measure it
    unit: str
    target: str
    passed: bool | None


def metrics_csv(path: Path, data: bytes) -> dict[str, MetricRow]:
    """PAPER_TRADING_METRICS.csv (contracts §4): header ``name,value,unit,target,pass``."""
    rows = list(csv.reader(io.StringIO(text(path, data))))
    if not rows or tuple(h.strip() for h in rows[0]) != METRICS_HEADER:
        found = ",".join(rows[0]) if rows else "<empty file>"
        raise EvidenceError(path, f"header must be {','.join(METRICS_HEADER)}, found {found}")
    metrics: dict[str, MetricRow] = {}
    for line_no, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(METRICS_HEADER):
            raise EvidenceError(path, f"line {line_no}: expected {len(METRICS_HEADER)} columns, found {len(row)}")
        name, raw_value, unit, target, raw_pass = (cell.strip() for cell in row)
        if name in metrics:
            raise EvidenceError(path, f"line {line_no}: metric {name!r} appears twice")
        value: float | None = None
        if raw_value:
            try:
                value = float(raw_value)
            except ValueError:
                raise EvidenceError(path, f"line {line_no}: value {raw_value!r} of {name} is not a number") from None
            if math.isnan(value):
                value = None
        if raw_pass.lower() not in ("true", "false", ""):
            raise EvidenceError(path, f"line {line_no}: pass must be true, false or empty, found {raw_pass!r}")
        passed = None if not raw_pass else raw_pass.lower() == "true"
        metrics[name] = MetricRow(name, value, unit, target, passed)
    return metrics


# ----------------------------------------------------------------------------- fixtures
def fixture_problem(path: Path, data: bytes) -> str | None:
    """Why a fixture file is unusable, or None when it parses by its extension."""
    if not data.strip():
        return "empty"
    suffix = path.suffix.lower()
    try:
        if suffix == ".json":
            load_json(path, data)
        elif suffix == ".jsonl":
            for line_no, line in enumerate(text(path, data).splitlines(), start=1):
                if line.strip():
                    try:
                        json.loads(line)
                    except json.JSONDecodeError as exc:
                        return f"line {line_no} is not valid JSON: {exc.msg}"
        elif suffix in (".yaml", ".yml"):
            load_yaml(path, data)
        elif suffix == ".xml":
            _xml_root(path, data)
        elif suffix == ".csv":
            rows = [r for r in csv.reader(io.StringIO(text(path, data))) if r]
            widths = {len(r) for r in rows}
            if len(widths) > 1:
                return f"rows have different numbers of columns: {sorted(widths)}"
    except EvidenceError as exc:
        return exc.reason
    return None
