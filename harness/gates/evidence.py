"""Read the evidence directory once: hash every evidence file, parse the ones the gates read.

This is the I/O edge of the gate engine. A file that is absent leaves its part of the
evidence ``None`` (its gate conditions are PENDING); a file that is present but malformed
raises :class:`EvidenceError` before anything is written.
"""
from __future__ import annotations

import glob
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel

from harness.artifacts import sha256_file

from . import parsers
from .artifacts import AccountConfig, KillSwitch, PaperTradingLog, RollbackDrill, Signature, SignaturesFile
from .config import GatesConfig
from .errors import EvidenceError
from .interface_map import InterfaceMap
from .session import SessionSeries, equity_of_log, summarize_log

#: Files the gate engine writes; never part of the evidence set, wherever a glob reaches.
OUTPUT_NAMES = frozenset({"PRELIVE_VERIFICATION_LOG.json", "GO_LIVE_DECISION.md", "GO_LIVE_DECISION.html"})
FIXTURE_PREFIX = "fixture:"
T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class EvidenceFile:
    key: str  # config key ("account_config"), a required artifact path, or "fixture:<path>"
    path: Path
    label: str  # path as shown: relative to the evidence directory when inside it
    sha256: str | None  # None: absent
    modified_at: datetime | None

    @property
    def present(self) -> bool:
        return self.sha256 is not None


@dataclass(frozen=True)
class FileCheck:
    """A file that should be there and be usable: a required artifact or a fixture."""

    entry: str  # the config entry it came from: an artifact key or path, a fixture path or glob
    label: str
    present: bool
    valid: bool
    problem: str = ""


@dataclass(frozen=True)
class Evidence:
    root: Path
    files: dict[str, EvidenceFile]  # the evidence set (the digest covers exactly these)
    signatures_file: EvidenceFile
    artifacts: tuple[FileCheck, ...]
    fixtures: tuple[FileCheck, ...]
    coverage: parsers.CoverageReport | None = None
    unit_tests: parsers.JUnitReport | None = None
    stage_tests: parsers.JUnitReport | None = None
    interface_map: InterfaceMap | None = None
    governance_text: str | None = None
    account_config: AccountConfig | None = None
    paper_metrics: dict[str, parsers.MetricRow] | None = None
    paper_log: PaperTradingLog | None = None
    kill_switch: KillSwitch | None = None
    rollback_drill: RollbackDrill | None = None
    signatures: tuple[Signature, ...] = ()
    session: SessionSeries | None = None
    backtest_equity: tuple[tuple[float, float], ...] = ()  # (t_s, net liquidation) of the backtest run
    #: Things noticed while reading that the report lists under anomalies.
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def file_hashes(self) -> dict[str, str | None]:
        return {f.label: f.sha256 for f in self.files.values()}

    @property
    def digest(self) -> str:
        return evidence_digest(self.file_hashes)

    def file(self, key: str | None) -> EvidenceFile | None:
        """The evidence file behind a condition's ``evidence`` key (the signatures file included)."""
        if key == self.signatures_file.key:
            return self.signatures_file
        return self.files.get(key) if key else None

    def label(self, key: str | None) -> str | None:
        file = self.file(key)
        return file.label if file else key


def evidence_digest(file_hashes: dict[str, str | None]) -> str:
    """sha256 over the sorted (file, sha256) pairs; an absent file counts as null, so adding it changes the digest."""
    canonical = json.dumps(sorted(file_hashes.items()), separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class _Reader:
    """Reads each file once, remembering its hash and timestamps."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files: dict[str, EvidenceFile] = {}
        self.data: dict[str, bytes] = {}

    def path_of(self, relative: str) -> Path:
        path = Path(relative)
        return path if path.is_absolute() else self.root / path

    def label_of(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    def read(self, key: str, path: Path) -> bytes | None:
        if key in self.files:
            return self.data.get(key)
        data: bytes | None = None
        modified_at = None
        if path.is_file():
            try:
                data = path.read_bytes()
                modified_at = datetime.fromtimestamp(path.stat().st_mtime, UTC)
            except OSError as exc:
                raise EvidenceError(path, f"cannot read: {exc.strerror or exc}") from None
        elif path.exists():
            raise EvidenceError(path, "is not a regular file")
        sha = hashlib.sha256(data).hexdigest() if data is not None else None
        self.files[key] = EvidenceFile(key, path, self.label_of(path), sha, modified_at)
        if data is not None:
            self.data[key] = data
        return data


def load_evidence(root: Path | str, config: GatesConfig, *, read_event_logs: bool = True) -> Evidence:
    """Everything the gates read from ``root``, parsed and hashed.

    ``read_event_logs=False`` skips the event logs PAPER_TRADING_LOG.json names (plots, observed
    operations): signing needs only the digest, and a long session's log is slow to read.
    """
    root = Path(root)
    if not root.is_dir():
        raise EvidenceError(root, "evidence directory does not exist")
    reader = _Reader(root)
    paths = config.evidence.files

    def parse(key: str, parser: Callable[[Path, bytes], T]) -> T | None:
        path = reader.path_of(getattr(paths, key))
        data = reader.read(key, path)
        return None if data is None else parser(path, data)

    def artifact(model: type[M]) -> Callable[[Path, bytes], M]:
        return lambda path, data: parsers.json_artifact(model, path, data)

    coverage = parse("coverage", parsers.coverage_xml)
    unit_tests = parse("unit_tests", parsers.junit_xml)
    stage_tests = parse("stage_tests", parsers.junit_xml)
    interface_map = parse("interface_map", lambda p, d: parsers.yaml_artifact(InterfaceMap, p, d))
    governance_text = parse("governance", parsers.text)
    account_config = parse("account_config", artifact(AccountConfig))
    paper_metrics = parse("paper_metrics", parsers.metrics_csv)
    paper_log = parse("paper_log", artifact(PaperTradingLog))
    kill_switch = parse("kill_switch", artifact(KillSwitch))
    rollback_drill = parse("rollback_drill", artifact(RollbackDrill))

    notes: list[str] = []
    invalid: dict[str, str] = {}
    session: SessionSeries | None = None
    backtest_equity: tuple[tuple[float, float], ...] = ()
    if paper_log is not None and read_event_logs:
        path = _find_log(reader, paper_log.event_log, "event log", notes)
        if path is not None:
            sha = sha256_file(path)
            if paper_log.event_log_sha256 and sha != paper_log.event_log_sha256:
                invalid["paper_log"] = (f"the event log {reader.label_of(path)} does not match event_log_sha256 "
                                        "(changed, or from another run)")
                notes.append(invalid["paper_log"])
            else:
                session = _measure(path, sha, summarize_log)
        backtest_path = _find_log(reader, paper_log.backtest_event_log, "backtest event log", notes)
        if backtest_path is not None:
            sha = sha256_file(backtest_path)
            if paper_log.backtest_event_log_sha256 and sha != paper_log.backtest_event_log_sha256:
                notes.append(f"the backtest event log {reader.label_of(backtest_path)} does not match "
                             "backtest_event_log_sha256 (changed, or from another run); the backtest curve is "
                             "left out")
            else:
                backtest_equity = _measure(backtest_path, sha, equity_of_log)

    # Signatures are bound to the digest, so they are read but kept out of the evidence set.
    signatures_file = parse("signatures", artifact(SignaturesFile))
    signatures_record = reader.files.pop("signatures")

    artifacts = tuple(_check_artifact(reader, entry, invalid) for entry in config.evidence.required_artifacts)
    fixtures = tuple(_check_fixtures(reader, config.evidence.fixtures, excluded=signatures_record.path))

    return Evidence(
        root=root, files=dict(reader.files), signatures_file=signatures_record, artifacts=artifacts,
        fixtures=fixtures, coverage=coverage, unit_tests=unit_tests, stage_tests=stage_tests,
        interface_map=interface_map, governance_text=governance_text, account_config=account_config,
        paper_metrics=paper_metrics, paper_log=paper_log, kill_switch=kill_switch,
        rollback_drill=rollback_drill, signatures=tuple(signatures_file.signatures) if signatures_file else (),
        session=session, backtest_equity=backtest_equity, notes=tuple(notes),
    )


def _find_log(reader: _Reader, reference: str | None, what: str, notes: list[str]) -> Path | None:
    """An event log named by PAPER_TRADING_LOG.json: as written, else beside the artifact, else by name."""
    if not reference:
        return None
    ref = Path(reference)
    for candidate in (ref, reader.files["paper_log"].path.parent / ref, reader.root / ref.name):
        if candidate.is_file():
            return candidate
    notes.append(f"the {what} {reference} named by PAPER_TRADING_LOG.json was not found; "
                 "the plots that need it are left out")
    return None


#: Measurements by (measure, content sha256): a log is measured once per process however often it
#: is read (a gates run then a sign in one process, a test suite over copies of one evidence set).
_MEASURED: dict[tuple[str, str], object] = {}


def _measure(path: Path, sha256: str, measure: Callable[[Path], T]) -> T:
    key = (measure.__name__, sha256)
    if key not in _MEASURED:
        if len(_MEASURED) >= 16:
            _MEASURED.clear()
        try:
            _MEASURED[key] = measure(path)
        except (KeyError, TypeError, ValueError) as exc:
            raise EvidenceError(path, f"not a prelive event log: {exc!r}") from None
    return _MEASURED[key]  # type: ignore[return-value]


def _check_artifact(reader: _Reader, entry: str, invalid: dict[str, str]) -> FileCheck:
    if entry in reader.files:  # a key of evidence.files, already read and parsed
        file = reader.files[entry]
        problem = invalid.get(entry, "")
        return FileCheck(entry, file.label, file.present, file.present and not problem, problem)
    path = reader.path_of(entry)
    data = reader.read(entry, path)
    if data is None:
        return FileCheck(entry, reader.label_of(path), False, False, "absent")
    problem = parsers.fixture_problem(path, data) or ""
    return FileCheck(entry, reader.label_of(path), True, not problem, problem)


def _check_fixtures(reader: _Reader, patterns: list[str], excluded: Path) -> list[FileCheck]:
    """Fixture files by pattern; a glob never picks up the signatures file or the engine's outputs."""
    checks = []
    for pattern in patterns:
        full = str(reader.path_of(pattern))
        if glob.has_magic(pattern):
            matches = sorted(Path(p) for p in glob.glob(full, recursive=True))
            matches = [p for p in matches
                       if p.is_file() and p.name not in OUTPUT_NAMES and p.resolve() != excluded.resolve()]
        else:
            matches = [Path(full)]
        for path in matches:
            label = reader.label_of(path)
            data = reader.read(FIXTURE_PREFIX + label, path)
            if data is None:
                checks.append(FileCheck(pattern, label, False, False, "listed but absent"))
            else:
                problem = parsers.fixture_problem(path, data)
                checks.append(FileCheck(pattern, label, True, problem is None, problem or ""))
    return checks
