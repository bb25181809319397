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

from harness.artifacts import complete_interrupted_set, sha256_file

from . import parsers
from .artifacts import AccountConfig, KillSwitch, PaperTradingLog, RollbackDrill, Signature, SignaturesFile
from .config import GatesConfig
from .errors import EvidenceError
from .interface_map import InterfaceMap
from .session import BacktestCosts, SessionSeries, backtest_costs_of_log, equity_of_log, summarize_log
from .signatures import config_sha256, same_role, signed_payload
from .sshsig import Verdict, VerdictKind, allowed_principals, verify_bytes

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
    #: SIGNATURES.json entries exactly as read (the bytes their signatures cover) and ssh-keygen's verdict on each.
    signature_entries: tuple[dict, ...] = ()
    signature_verdicts: tuple[Verdict, ...] = ()
    #: Roles the governance framework's allowed_signers names (principals), in file order.
    allowed_signer_roles: tuple[str, ...] = ()
    #: sha256 of the merged gates config the evidence is evaluated with (signatures bind to it).
    config_digest: str = ""
    #: Evidence files that do not match the sha256 another artifact records for them: gate 1 fails.
    integrity_problems: tuple[str, ...] = ()
    session: SessionSeries | None = None
    backtest_equity: tuple[tuple[float, float], ...] = ()  # (t_s, net liquidation) of the backtest run
    backtest_costs: BacktestCosts | None = None  # what the backtest's own log says it cost
    #: Things noticed while reading that the report lists under anomalies.
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def file_hashes(self) -> dict[str, str | None]:
        return {f.label: f.sha256 for f in self.files.values()}

    @property
    def digest(self) -> str:
        return evidence_digest(self.file_hashes)

    @property
    def gateway_kinds(self) -> dict[str, str]:
        """Which gateway made the stage 6 and stage 7 artifacts ("mock", "real"; absent when not recorded)."""
        kinds = {}
        for key, artifact in (("account_config", self.account_config), ("paper_log", self.paper_log)):
            gateway = getattr(artifact, "gateway", None) if artifact is not None else None
            if isinstance(gateway, dict) and isinstance(gateway.get("kind"), str):
                kinds[key] = gateway["kind"]
        return kinds

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


#: An artifact, a JUnit report or a fixture is kilobytes to megabytes; reading a larger file whole
#: (a 20 GB file named as junit-stages.xml) would exhaust the machine. Event logs are streamed, not read here.
MAX_EVIDENCE_FILE_BYTES = 512 * 1024 * 1024


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
                size = path.stat().st_size
                if size > MAX_EVIDENCE_FILE_BYTES:
                    raise EvidenceError(path, f"is {size} bytes, larger than any evidence file "
                                              f"({MAX_EVIDENCE_FILE_BYTES} bytes at most are read); is it the right file?")
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

    ``read_event_logs=False`` hashes the event logs PAPER_TRADING_LOG.json names (they are in the
    evidence set) without measuring them for the plots and observed operations.
    """
    root = Path(root)
    if not root.is_dir():
        raise EvidenceError(root, "evidence directory does not exist")
    # a `prelive paper` killed while switching its artifact set leaves a journal: finish the switch first
    try:
        complete_interrupted_set(root)
    except OSError:
        pass   # a read-only copy: an unfinished switch then shows as an integrity failure
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
    allowed_text = parse("allowed_signers", parsers.text)
    account_config = parse("account_config", artifact(AccountConfig))
    paper_metrics = parse("paper_metrics", parsers.metrics_csv)
    paper_log = parse("paper_log", artifact(PaperTradingLog))
    kill_switch = parse("kill_switch", artifact(KillSwitch))
    rollback_drill = parse("rollback_drill", artifact(RollbackDrill))

    notes: list[str] = []
    integrity: list[str] = []
    session: SessionSeries | None = None
    backtest_equity: tuple[tuple[float, float], ...] = ()
    backtest_costs: BacktestCosts | None = None
    if paper_log is not None:
        path = _event_log(reader, "event_log", paper_log.event_log, paper_log.event_log_sha256, "event log",
                          integrity)
        if path is not None and read_event_logs:
            session = _measure(path, reader.files["event_log"].sha256 or "", summarize_log)
        backtest_path = _event_log(reader, "backtest_event_log", paper_log.backtest_event_log,
                                   paper_log.backtest_event_log_sha256, "backtest event log", integrity)
        if backtest_path is not None and read_event_logs:
            backtest_sha = reader.files["backtest_event_log"].sha256 or ""
            backtest_equity = _measure(backtest_path, backtest_sha, equity_of_log)
            backtest_costs = _measure(backtest_path, backtest_sha, backtest_costs_of_log)
        metrics_sha = getattr(paper_log, "metrics_csv_sha256", None)
        metrics_file = reader.files.get("paper_metrics")
        if isinstance(metrics_sha, str) and metrics_file is not None and metrics_file.sha256 != metrics_sha:
            integrity.append(f"{metrics_file.label} does not match metrics_csv_sha256 in "
                             f"{reader.files['paper_log'].label} (the two come from different runs, or one was edited)")

    # Signatures are bound to the digest, so they are read but kept out of the evidence set.
    signatures_file = parse("signatures", artifact(SignaturesFile))
    signatures_record = reader.files.pop("signatures")
    entries = _raw_entries(reader.data.pop("signatures", None))
    signatures = tuple(signatures_file.signatures) if signatures_file else ()
    allowed = reader.files["allowed_signers"]
    pinned = config.gates.go_live.allowed_signers_sha256
    if pinned and allowed.sha256 != pinned:
        why = (f"{allowed.label} is not the pinned governance key list (gates.go_live.allowed_signers_sha256 "
               f"{pinned[:16]}..., found {(allowed.sha256 or 'absent')[:16]})")
        verdicts = tuple(Verdict(VerdictKind.UNVERIFIABLE, why) for _ in entries)
    else:
        allowed_path = allowed.path if allowed_text is not None else None
        # verified as the role the config names (its spelling): a pattern admitting "risk officer"
        # must not count for "Risk Officer" unless it matches that name too
        roles = config.gates.go_live.required_signers
        verdicts = tuple(_verdict(entry, next((r for r in roles if same_role(r, sig.role)), sig.role),
                                  allowed_path, allowed.sha256)
                         for entry, sig in zip(entries, signatures, strict=True))

    artifacts = tuple(_check_artifact(reader, entry, {}) for entry in config.evidence.required_artifacts)
    fixtures = tuple(_check_fixtures(reader, config.evidence.fixtures, excluded=signatures_record.path))

    return Evidence(
        root=root, files=dict(reader.files), signatures_file=signatures_record, artifacts=artifacts,
        fixtures=fixtures, coverage=coverage, unit_tests=unit_tests, stage_tests=stage_tests,
        interface_map=interface_map, governance_text=governance_text, account_config=account_config,
        paper_metrics=paper_metrics, paper_log=paper_log, kill_switch=kill_switch,
        rollback_drill=rollback_drill, signatures=signatures, signature_entries=entries,
        signature_verdicts=verdicts, allowed_signer_roles=tuple(allowed_principals(allowed_text or "", names_only=True)),
        config_digest=config_sha256(config.model_dump(mode="json", exclude={"sources"})),
        integrity_problems=tuple(integrity),
        session=session, backtest_equity=backtest_equity, backtest_costs=backtest_costs, notes=tuple(notes),
    )


def _raw_entries(data: bytes | None) -> tuple[dict, ...]:
    """SIGNATURES.json entries as plain JSON (already validated by the model), for their signed bytes."""
    if data is None:
        return ()
    return tuple(json.loads(data).get("signatures", []))


#: ssh-keygen verdicts by (signed bytes, signature, allowed_signers sha256): verified once per process.
_VERDICTS: dict[tuple[str, str, str | None, str, str], Verdict] = {}


def _verdict(entry: dict, role: str, allowed_signers: Path | None, allowed_sha: str | None) -> Verdict:
    payload = signed_payload(entry)
    armored = entry.get("signature")
    key = (hashlib.sha256(payload).hexdigest(), str(armored), allowed_sha, str(allowed_signers), role)
    if key not in _VERDICTS:
        if len(_VERDICTS) >= 256:
            _VERDICTS.clear()
        _VERDICTS[key] = verify_bytes(payload, armored if isinstance(armored, str) else None, allowed_signers,
                                      role, same_role)
    return _VERDICTS[key]


def _event_log(reader: _Reader, key: str, reference: str | None, expected_sha: str | None, what: str,
               integrity: list[str]) -> Path | None:
    """Hash an event log PAPER_TRADING_LOG.json names into the evidence set; its path when it matches.

    A log that is named but absent, or whose sha256 is not the one recorded, is an integrity
    failure (gate 1), not a smaller coverage.
    """
    if not reference:
        return None
    path = _find_log(reader, reference)
    if path is None:
        integrity.append(f"the {what} {reference} named by PAPER_TRADING_LOG.json was not found")
        return None
    sha = sha256_file(path)
    reader.files[key] = EvidenceFile(key, path, reader.label_of(path), sha,
                                     datetime.fromtimestamp(path.stat().st_mtime, UTC))
    if expected_sha and sha != expected_sha:
        integrity.append(f"the {what} {reader.label_of(path)} does not match its sha256 in PAPER_TRADING_LOG.json "
                         "(changed, or from another run)")
        return None
    return path


def _find_log(reader: _Reader, reference: str) -> Path | None:
    """An event log named by PAPER_TRADING_LOG.json: as written, else beside the artifact, else by name."""
    ref = Path(reference)
    for candidate in (ref, reader.files["paper_log"].path.parent / ref, reader.root / ref.name):
        if candidate.is_file():
            return candidate
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
