"""A small on-disk cache of numpy tables that are slow to build and never change for given inputs.

Why: every prelive process (a scenario run, a CLI call, a test worker) rebuilt the exchange
calendars (~0.5-1 s: importing ``exchange_calendars`` and computing 46 years of schedules). The
answer depends only on the library versions, so it is computed once per machine and kept under
the user's cache dir (``$PRELIVE_CACHE``, else ``$XDG_CACHE_HOME/prelive``, else
``~/.cache/prelive``), in ``tables/``.

Safe: arrays only (``allow_pickle=False``), a size cap read before loading (on the members too:
stored, never deflated, so a small file cannot inflate), files of the current user only, the full
key stored inside the file and compared, and the caller validates the arrays; anything unexpected is a miss
and the table is rebuilt. Crash-safe: written to a temporary file in the same directory and moved
into place atomically. Bounded: at most :data:`MAX_FILES` files of at most :data:`MAX_FILE_BYTES`.
A cache that cannot be read or written (read-only home) only costs the build.
``PRELIVE_TABLE_CACHE=off`` turns it off.
"""
from __future__ import annotations

import functools
import hashlib
import os
import re
import tempfile
import zipfile
from importlib import metadata
from pathlib import Path

import numpy as np

#: The files kept; the oldest beyond it are removed when a table is stored.
MAX_FILES = 64
#: A file larger than this is not a table of ours: it is ignored, never loaded.
MAX_FILE_BYTES = 4 * 1024 * 1024
#: Bump when the stored layout changes.
FORMAT = 1
_KEY_FIELD = "__key__"
#: The names this module gives its files: only these are ever loaded or pruned (a cache folder
#: pointed at someone else's files leaves them alone).
_TABLE_NAME = re.compile(r"[0-9a-f]{32}\.npz")
_TMP_NAME = re.compile(r"\.table-[A-Za-z0-9_]+\.npz\.tmp")


def _stored_uncompressed(path: Path) -> bool:
    """Whether ``path`` is a zip of stored (uncompressed) members within the size cap, as ``np.savez``
    writes. A deflated member is refused unread: 1.5 MB of deflated zeros is a 1.5 GB array."""
    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
        return (all(m.compress_type == zipfile.ZIP_STORED for m in members)
                and sum(m.file_size for m in members) <= MAX_FILE_BYTES)


def cache_dir() -> Path | None:
    """The directory tables live in, or None when the cache is turned off."""
    if os.environ.get("PRELIVE_TABLE_CACHE", "").lower() in {"off", "0", "no", "false"}:
        return None
    root = os.environ.get("PRELIVE_CACHE") or \
        str(Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "prelive")
    return Path(root) / "tables"


@functools.lru_cache(maxsize=32)
def version_of(distribution: str) -> str:
    """The installed version of ``distribution`` (without importing it), or "absent"."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "absent"


@functools.lru_cache(maxsize=32)
def zone_fingerprint(tz: str) -> str:
    """What a time zone's rules are read from: the first zone file on zoneinfo's search path (hashed),
    else the ``tzdata`` package's version. A tz database update is a different key."""
    import zoneinfo

    if tz and ".." not in tz and not tz.startswith("/"):
        for root in zoneinfo.TZPATH:
            candidate = Path(root) / tz
            try:
                if candidate.is_file():
                    return "file:" + hashlib.sha256(candidate.read_bytes()[:1_000_000]).hexdigest()[:16]
            except OSError:
                continue
    return "tzdata=" + version_of("tzdata")


def _path(directory: Path, key: str) -> Path:
    return directory / f"{hashlib.sha256(f'{FORMAT}:{key}'.encode()).hexdigest()[:32]}.npz"


def load(key: str) -> dict[str, np.ndarray] | None:
    """The arrays stored under ``key``, or None (absent, foreign, damaged, too large, cache off)."""
    directory = cache_dir()
    if directory is None:
        return None
    path = _path(directory, key)
    try:
        if not path.is_file():
            return None
        st = path.stat()
        # another user's file in a shared cache folder is not a table we wrote: never trusted
        if st.st_size > MAX_FILE_BYTES or st.st_uid != os.getuid() or not _stored_uncompressed(path):
            return None
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except Exception:       # a damaged or foreign file is a miss, whatever numpy raises for it
        return None
    stored_key = arrays.pop(_KEY_FIELD, None)
    if stored_key is None or stored_key.shape != () or str(stored_key) != f"{FORMAT}:{key}":
        return None
    return arrays


def store(key: str, arrays: dict[str, np.ndarray]) -> None:
    """Keep ``arrays`` under ``key``; silently nothing when the cache cannot be written."""
    directory = cache_dir()
    if directory is None or _KEY_FIELD in arrays:
        return
    tmp_name = None
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=".table-", suffix=".npz.tmp", dir=directory)
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **{_KEY_FIELD: np.array(f"{FORMAT}:{key}")}, **arrays)
            f.flush()
            os.fsync(f.fileno())
        if os.path.getsize(tmp_name) > MAX_FILE_BYTES:
            return
        os.replace(tmp_name, _path(directory, key))
        tmp_name = None
        _prune(directory)
    except OSError:
        return
    finally:
        if tmp_name is not None:
            try:
                os.unlink(tmp_name)
            except OSError:
                pass


def _prune(directory: Path) -> None:
    """Remove the oldest tables beyond MAX_FILES, and temporary files a crash left behind (over an hour old)."""
    import time

    try:
        entries = [(e.stat().st_mtime, Path(e.path)) for e in os.scandir(directory) if e.is_file(follow_symlinks=False)]
    except OSError:
        return
    now = time.time()
    tables = sorted(((m, p) for m, p in entries if _TABLE_NAME.fullmatch(p.name)), reverse=True)
    stale = [p for _, p in tables[MAX_FILES:]]
    stale += [p for m, p in entries if _TMP_NAME.fullmatch(p.name) and now - m > 3600]
    for path in stale:
        try:
            path.unlink()
        except OSError:
            pass


__all__ = ["FORMAT", "MAX_FILES", "MAX_FILE_BYTES", "cache_dir", "load", "store", "version_of", "zone_fingerprint"]
