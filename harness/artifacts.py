"""Atomic artifact writes: every artifact on disk is either complete or absent.

A killed harness must never leave a half-written JSON or CSV that a later gate reads as
evidence, so each write goes to a temp file in the same directory, is fsynced, and is
renamed over the target (rename is atomic on POSIX within one filesystem); the directory
is fsynced too so the rename itself survives a crash.
"""
from __future__ import annotations

import csv
import fcntl
import hashlib
import io
import json
import math
import os
import re
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ACCOUNT_CONFIG_SCHEMA = "prelive/account-config/v1"
PAPER_TRADING_LOG_SCHEMA = "prelive/paper-trading-log/v1"
KILL_SWITCH_SCHEMA = "prelive/kill-switch/v1"
SCENARIO_RESULT_SCHEMA = "prelive/scenario-result/v1"

METRICS_CSV_HEADER = ("name", "value", "unit", "target", "pass")


class ArtifactError(Exception):
    """An artifact could not be written or does not match its schema."""


def utc_now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` so that readers see the old file, nothing, or all of ``data``."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_dir(target.parent)
    return target


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def _json_safe(value: Any) -> Any:
    """NaN and infinities are not JSON; an unknown number is written as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return _json_safe(value.item())
    return value


def artifact_json_bytes(obj: Any) -> bytes:
    """A JSON artifact's bytes: indented, NaN and infinities as null."""
    return (json.dumps(_json_safe(obj), indent=2, sort_keys=False, allow_nan=False, default=str) + "\n").encode()


def atomic_write_json(path: str | os.PathLike[str], obj: Any) -> Path:
    return atomic_write_bytes(path, artifact_json_bytes(obj))


def format_metric_value(value: float | int | None) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer() and abs(value) < 1e15):
        return str(int(value))
    return f"{value:.6g}"


def atomic_write_metrics_csv(path: str | os.PathLike[str], rows: Iterable[Sequence[Any]]) -> Path:
    """``PAPER_TRADING_METRICS.csv``: header ``name,value,unit,target,pass``; pass is true/false/empty."""
    return atomic_write_bytes(path, metrics_csv_bytes(rows))


def metrics_csv_bytes(rows: Iterable[Sequence[Any]]) -> bytes:
    """The bytes of a metrics CSV (see :func:`atomic_write_metrics_csv`)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(METRICS_CSV_HEADER)
    for name, value, unit, target, passed in rows:
        writer.writerow([name, format_metric_value(value), unit, target,
                         "" if passed is None else ("true" if passed else "false")])
    return buf.getvalue().encode("utf-8")


def read_metrics_csv(path: str | os.PathLike[str]) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        if tuple(reader.fieldnames or ()) != METRICS_CSV_HEADER:
            raise ArtifactError(f"{path}: header must be {','.join(METRICS_CSV_HEADER)}, got {reader.fieldnames}")
        return list(reader)


def sha256_file(path: str | os.PathLike[str]) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ---------------------------------------------------------------- schema checks (used by tests and readers)
_REQUIRED: dict[str, tuple[str, ...]] = {
    ACCOUNT_CONFIG_SCHEMA: ("generated_at", "connected", "account_id", "account_type", "base_currency",
                            "buying_power", "net_liquidation", "available_funds", "permissions",
                            "permission_mismatch", "server_version", "connection_time", "gateway"),
    PAPER_TRADING_LOG_SCHEMA: ("scenario", "seed", "speed", "latency_clock", "started_at", "ended_at",
                               "event_log", "event_log_sha256", "trades", "errors", "disconnects", "metrics"),
    KILL_SWITCH_SCHEMA: ("at", "verified", "open_orders_before", "open_orders_after", "cancelled",
                         "flattened", "target"),
    SCENARIO_RESULT_SCHEMA: ("scenario", "passed", "metrics", "expectations", "event_log"),
}


#: Optional event-log references (contracts §4, additive): when one is given (not null), it is a
#: non-empty path and ``<key>_sha256`` beside it is the log's sha256.
_OPTIONAL_LOGS: dict[str, tuple[str, ...]] = {
    PAPER_TRADING_LOG_SCHEMA: ("backtest_event_log",),
}
_SHA256 = re.compile(r"[0-9a-f]{64}")


def validate_artifact(obj: Mapping[str, Any]) -> None:
    """Raise :class:`ArtifactError` unless ``obj`` carries its schema tag and every required key."""
    schema = obj.get("schema")
    if schema not in _REQUIRED:
        raise ArtifactError(f"unknown or missing schema tag {schema!r}")
    missing = [k for k in _REQUIRED[schema] if k not in obj]
    if missing:
        raise ArtifactError(f"{schema}: missing keys {', '.join(missing)}")
    for key in _OPTIONAL_LOGS.get(schema, ()):
        path, sha = obj.get(key), obj.get(f"{key}_sha256")
        if path is None:
            continue
        if not isinstance(path, str) or not path:
            raise ArtifactError(f"{schema}: {key} must be a path to an event log, got {path!r}")
        if not isinstance(sha, str) or not _SHA256.fullmatch(sha):
            raise ArtifactError(f"{schema}: {key} needs {key}_sha256, the log's sha256 (64 hex digits), got {sha!r}")


def load_artifact(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and validate a JSON artifact."""
    try:
        obj = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"{path}: {exc}") from exc
    validate_artifact(obj)
    return obj


# ---------------------------------------------------------------- artifact sets (several files, one switch)
#: Journal of a set switch in progress: its presence after a crash means "the staged set is complete, finish it".
SET_JOURNAL = ".prelive-artifact-set.json"
SET_LOCK = ".prelive-artifact-set.lock"
_SET_JOURNAL_SCHEMA = "prelive/artifact-set-journal/v1"


def _plain_name(name: object) -> bool:
    return isinstance(name, str) and bool(name) and name == Path(name).name and name not in (".", "..")


def complete_interrupted_set(directory: str | os.PathLike[str]) -> bool:
    """Finish a set switch a killed writer committed but did not complete; True if there was one.

    The journal is written (atomically) only once every staged file is complete and fsynced, so
    rolling forward is always safe. Without a journal nothing is pending: staged temp files of an
    uncommitted write are ignored (the previous set stands) and removed by the next writer.
    """
    directory = Path(directory)
    journal = directory / SET_JOURNAL
    try:
        doc = json.loads(journal.read_text())
    except FileNotFoundError:
        return False
    except (OSError, ValueError):
        journal.unlink(missing_ok=True)   # cannot be ours half-written (it is renamed into place)
        return False
    renames = doc.get("renames", []) if isinstance(doc, dict) and doc.get("schema") == _SET_JOURNAL_SCHEMA else []
    for pair in renames:
        if not (isinstance(pair, list) and len(pair) == 2 and all(_plain_name(p) for p in pair)
                and pair[0].startswith(".") and pair[0].endswith(".tmp")):
            continue   # a journal never names anything outside this directory or other than our temp files
        staged, target = directory / pair[0], directory / pair[1]
        if staged.is_file():
            os.replace(staged, target)
    _fsync_dir(directory)
    journal.unlink(missing_ok=True)
    _fsync_dir(directory)
    return True


def write_artifact_set(directory: str | os.PathLike[str], contents: Mapping[str, bytes]) -> list[Path]:
    """Replace the files ``contents`` names (plain names in ``directory``) as one set.

    Kill the process at any moment and a reader (after :func:`complete_interrupted_set`, which
    the gate engine runs) finds either every old file or every new one, never a mix: every file
    is staged and fsynced, then a journal listing the renames is put in place (the commit
    point), then the files are renamed and the journal removed.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for name in contents:
        if not _plain_name(name) or name in (SET_JOURNAL, SET_LOCK):
            raise ArtifactError(f"artifact set member {name!r} must be a plain file name")
    with _directory_lock(directory):   # one writer at a time per directory
        written = _write_set_locked(directory, contents)
        if (directory / EVENT_LOGS_DIR).is_dir():
            _prune_locked(directory, EventLogRetention(), time.time())
        return written


@contextmanager
def _directory_lock(directory: Path) -> Iterator[None]:
    """The artifact directory's writer lock: set switches, event-log copies and pruning never interleave."""
    with open(directory / SET_LOCK, "a") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        yield


def _write_set_locked(directory: Path, contents: Mapping[str, bytes]) -> list[Path]:
    complete_interrupted_set(directory)
    for name in contents:   # temp files of an earlier write that never committed
        for stray in directory.glob(f".{name}.*.tmp"):
            stray.unlink(missing_ok=True)
    staged: list[tuple[str, str]] = []
    try:
        for name, data in contents.items():
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
            staged.append((Path(tmp).name, name))
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o644)
        _fsync_dir(directory)
        atomic_write_bytes(directory / SET_JOURNAL, json.dumps(
            {"schema": _SET_JOURNAL_SCHEMA, "renames": [list(p) for p in staged]}).encode())
    except BaseException:
        for tmp, _ in staged:
            (directory / tmp).unlink(missing_ok=True)
        raise
    complete_interrupted_set(directory)
    return [directory / name for name in contents]


def preserve_event_log(source: str | os.PathLike[str], directory: str | os.PathLike[str], kind: str) -> tuple[str, str]:
    """Copy an event log into ``directory/event-logs/`` under a name of its own (kind + content hash).

    Returns (path relative to ``directory``, sha256). A later run writes a new name, so it never
    replaces the log an earlier artifact points to; the copy is complete before its name appears.
    """
    source, directory = Path(source), Path(directory)
    folder = directory / EVENT_LOGS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{kind}.", suffix=".tmp", dir=folder)
    digest = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
            for chunk in iter(lambda: src.read(1 << 20), b""):
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)
        sha = digest.hexdigest()
        relative = f"{EVENT_LOGS_DIR}/{kind}-{sha[:24]}.jsonl"
        with _directory_lock(directory):   # a pruner never sees the name before its fresh mtime
            os.replace(tmp, directory / relative)   # same content under the same name: nothing changes for readers
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(folder)
    return relative, sha


# ---------------------------------------------------------------- pruning old event-log copies
EVENT_LOGS_DIR = "event-logs"
#: The names preserve_event_log gives (``<kind>-<24 hex>.jsonl``); nothing else in event-logs/ is ever pruned.
_EVENT_LOG_NAME = re.compile(rb"[A-Za-z0-9_]{1,64}-[0-9a-f]{24}\.jsonl")
_STRAY_COPY = re.compile(r"\.[A-Za-z0-9_]{1,64}\..*\.tmp")
_SCAN_CHUNK = 1 << 20


@dataclass(frozen=True)
class EventLogRetention:
    """How many event-log copies that no artifact names are kept; the ones an artifact names always are.

    An unnamed copy goes when it is older than ``max_age_s``, or beyond the ``keep_unnamed``
    newest, or (oldest first) while all copies together exceed ``max_total_bytes``. A copy younger
    than ``grace_s`` is never pruned: it may belong to a run about to commit the set that names it.
    """
    keep_unnamed: int = 5
    max_age_s: float = 30 * 86_400.0
    max_total_bytes: int = 2 * 1024 ** 3
    grace_s: float = 3_600.0


@dataclass(frozen=True)
class PruneResult:
    removed: tuple[str, ...]          # names under event-logs/
    named: tuple[str, ...]            # kept because a current artifact names them
    kept: tuple[str, ...]             # unnamed, kept by the policy
    freed_bytes: int
    total_bytes: int                  # of the copies left


def named_event_logs(directory: str | os.PathLike[str]) -> set[str]:
    """File names of event-log copies the artifacts in ``directory`` name (any ``*.json`` at its top level).

    Read as bytes, in chunks: an artifact of any size (or not valid JSON) still protects what it names.
    """
    names: set[str] = set()
    for artifact in Path(directory).glob("*.json"):
        try:
            with open(artifact, "rb") as fh:
                tail = b""
                for chunk in iter(lambda: fh.read(_SCAN_CHUNK), b""):
                    block = tail + chunk
                    names.update(m.group(0).decode("ascii") for m in _EVENT_LOG_NAME.finditer(block))
                    tail = block[-96:]
        except OSError:
            continue
    return names


def prune_event_logs(directory: str | os.PathLike[str], retention: EventLogRetention = EventLogRetention(),
                     now: float | None = None) -> PruneResult:
    """Remove old copies in ``directory/event-logs/`` that no current artifact names, by ``retention``.

    Runs under the directory's writer lock after finishing any interrupted set switch, so the
    artifacts it reads are the committed set. Each removal is one unlink: a kill at any moment
    leaves every named copy in place (a complete set stays complete) and some old copies unremoved.
    """
    directory = Path(directory)
    if not (directory / EVENT_LOGS_DIR).is_dir():
        return PruneResult((), (), (), 0, 0)
    with _directory_lock(directory):
        return _prune_locked(directory, retention, time.time() if now is None else now)


def _prune_locked(directory: Path, retention: EventLogRetention, now: float) -> PruneResult:
    complete_interrupted_set(directory)
    named_set = named_event_logs(directory)
    folder = directory / EVENT_LOGS_DIR
    copies: list[tuple[float, int, str]] = []   # (mtime, size, name)
    removed: list[str] = []
    freed = 0
    for entry in os.scandir(folder):
        if not entry.is_file(follow_symlinks=False):
            continue
        st = entry.stat(follow_symlinks=False)
        if _EVENT_LOG_NAME.fullmatch(entry.name.encode("utf-8", "replace")):
            copies.append((st.st_mtime, st.st_size, entry.name))
        elif _STRAY_COPY.fullmatch(entry.name) and now - st.st_mtime > retention.grace_s:
            _unlink(folder / entry.name)   # a copy a killed run never finished
            removed.append(entry.name)
            freed += st.st_size
    named = [c for c in copies if c[2] in named_set]
    unnamed = sorted((c for c in copies if c[2] not in named_set), reverse=True)   # newest first
    keep: list[tuple[float, int, str]] = []
    drop: list[tuple[float, int, str]] = []
    for rank, copy in enumerate(unnamed):
        age = now - copy[0]
        if age <= retention.grace_s:
            keep.append(copy)
        elif rank >= retention.keep_unnamed or age > retention.max_age_s:
            drop.append(copy)
        else:
            keep.append(copy)
    total = sum(c[1] for c in named) + sum(c[1] for c in keep)
    for copy in sorted(keep):   # oldest first, while over the size budget
        if total <= retention.max_total_bytes:
            break
        if now - copy[0] > retention.grace_s:
            keep.remove(copy)
            drop.append(copy)
            total -= copy[1]
    for _, size, name in drop:
        _unlink(folder / name)
        removed.append(name)
        freed += size
    if removed:
        _fsync_dir(folder)
    return PruneResult(tuple(removed), tuple(sorted(c[2] for c in named)), tuple(sorted(c[2] for c in keep)),
                       freed, total)


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
