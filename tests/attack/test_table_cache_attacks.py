"""Attacks on the table cache (~/.cache/prelive/tables or $PRELIVE_CACHE): a poisoned file is a miss
that costs nothing, a cache folder pointed elsewhere has only prelive's own files removed, and two
processes storing at once leave a loadable table."""
from __future__ import annotations

import io
import os
import resource
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest

from mock_gateway.sim import table_cache


@pytest.fixture
def tables(tmp_path, monkeypatch):
    monkeypatch.setenv("PRELIVE_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("PRELIVE_TABLE_CACHE", raising=False)
    directory = table_cache.cache_dir()
    directory.mkdir(parents=True)
    return directory


def _npy(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


def _write_deflated_bomb(path, key: str, claimed_bytes: int) -> None:
    """A 'table' whose one member is ``claimed_bytes`` of deflated zeros (a zip bomb: ~1/1000 on disk)."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False,
                                                  "shape": (claimed_bytes // 8,)})
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("__key__.npy", _npy(np.array(f"{table_cache.FORMAT}:{key}")))
        with archive.open("days.npy", "w", force_zip64=True) as member:
            member.write(header.getvalue())
            chunk = b"\0" * (1 << 22)
            for _ in range(claimed_bytes // len(chunk)):
                member.write(chunk)


def test_a_small_deflated_cache_file_that_inflates_to_gigabytes_is_a_miss_read_without_inflating(tables):
    key = "calendar:XNYS:poisoned"
    path = table_cache._path(tables, key)
    _write_deflated_bomb(path, key, 400 << 20)
    assert path.stat().st_size < table_cache.MAX_FILE_BYTES          # passes the on-disk size cap
    before_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    assert table_cache.load(key) is None
    assert time.monotonic() - started < 1.0
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before_kb) / 1024
    assert grown_mb < 100, f"loading a poisoned cache file grew the peak RSS by {grown_mb:.0f} MB"


def test_a_truncated_cache_file_is_a_miss_and_the_next_store_replaces_it(tables):
    key = "calendar:XNYS:truncated"
    table_cache.store(key, {"days": np.arange(10)})
    path = table_cache._path(tables, key)
    path.write_bytes(path.read_bytes()[:100])
    assert table_cache.load(key) is None
    table_cache.store(key, {"days": np.arange(10)})
    assert np.array_equal(table_cache.load(key)["days"], np.arange(10))


def test_a_cache_folder_pointed_at_someone_elses_files_only_ever_removes_prelives_own(tmp_path, monkeypatch):
    theirs = tmp_path / "their_data"
    theirs.mkdir()
    for i in range(table_cache.MAX_FILES + 20):           # more .npz files than the cache keeps
        (theirs / f"sample_{i:03}.npz").write_bytes(b"their data")
        (theirs / f"sample_{i:03}.npz.tmp").write_bytes(b"their data")
        os.utime(theirs / f"sample_{i:03}.npz.tmp", (0, 0))     # "older than an hour"
    root = tmp_path / "cache"
    root.mkdir()
    (root / "tables").symlink_to(theirs)
    monkeypatch.setenv("PRELIVE_CACHE", str(root))
    monkeypatch.delenv("PRELIVE_TABLE_CACHE", raising=False)
    table_cache.store("calendar:XNYS:x", {"days": np.arange(3)})
    left = sorted(p.name for p in theirs.iterdir() if p.name.startswith("sample_"))
    assert len(left) == 2 * (table_cache.MAX_FILES + 20)


def test_a_cache_file_of_another_user_is_never_loaded(tables, monkeypatch):
    key = "calendar:XNYS:foreign"
    table_cache.store(key, {"days": np.arange(3)})
    assert table_cache.load(key) is not None
    monkeypatch.setattr(table_cache.os, "getuid", lambda: os.getuid() + 1)
    assert table_cache.load(key) is None


_WRITER = """
import sys, numpy as np
from mock_gateway.sim import table_cache
for _ in range(30):
    table_cache.store("calendar:race", {"days": np.arange(50_000) * int(sys.argv[1])})
"""


def test_two_processes_storing_the_same_table_at_once_leave_one_whole_table(tables):
    env = {**os.environ}
    procs = [subprocess.Popen([sys.executable, "-c", _WRITER, "1"], env=env),
             subprocess.Popen([sys.executable, "-c", _WRITER, "1"], env=env)]
    for proc in procs:
        assert proc.wait(timeout=60) == 0
    arrays = table_cache.load("calendar:race")
    assert arrays is not None and np.array_equal(arrays["days"], np.arange(50_000))
    assert not [p for p in tables.iterdir() if p.name.endswith(".tmp")]


def test_a_full_disk_costs_only_the_build(tables, monkeypatch):
    def no_space(*args, **kwargs):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(table_cache.np, "savez", no_space)
    table_cache.store("calendar:full", {"days": np.arange(3)})     # no exception
    assert table_cache.load("calendar:full") is None
    assert not list(tables.iterdir())                               # no temporary file left behind
