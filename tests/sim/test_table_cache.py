"""The on-disk cache of calendar schedules and session tables: same answers, safe, bounded, crash-safe."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import date

import numpy as np
import pytest

from mock_gateway.sim import calendar, sessions, table_cache


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A private, empty cache dir and cold in-process caches (restored cold afterwards)."""
    monkeypatch.setenv("PRELIVE_CACHE", str(tmp_path))
    monkeypatch.delenv("PRELIVE_TABLE_CACHE", raising=False)
    _cold()
    yield tmp_path / "tables"
    _cold()


def _cold() -> None:
    for fn in (calendar._schedule, calendar._build, sessions._day_table):
        fn.cache_clear()


def test_a_cached_calendar_schedule_is_the_one_the_library_computes(cache):
    computed = calendar._compute("XNYS")
    assert calendar._build("XNYS") is not None and any(cache.iterdir())      # first: computed and stored
    calendar._build.cache_clear()
    loaded = calendar._build("XNYS")                                          # second: from disk
    for want, got in zip(computed, loaded):
        assert want.dtype == got.dtype and np.array_equal(want, got)


@pytest.mark.parametrize("sec_type", ["STK", "FUT"])
@pytest.mark.parametrize("rth", [False, True])
def test_a_cached_session_table_is_the_one_built_from_the_calendar(cache, sec_type, rth):
    rule = sessions.rule_for(sec_type)
    built = sessions._build_day_table(rule, rth)
    sessions._day_table(rule, rth)
    sessions._day_table.cache_clear()
    calendar._schedule.cache_clear()
    calendar._build.cache_clear()
    loaded = sessions._day_table(rule, rth)
    for field in ("opens", "closes", "trades", "unknown"):
        assert np.array_equal(getattr(built, field), getattr(loaded, field)), field


def test_regular_sessions_read_from_the_cache_match_the_library_day_by_day(cache):
    import exchange_calendars as xcals

    calendar.warm_up()                 # store
    _cold()
    schedule = xcals.get_calendar("XNYS", start="2024-01-01", end="2024-12-31").schedule
    for day, row in schedule.iterrows():
        want = (row["open"].timestamp(), row["close"].timestamp())
        assert calendar.regular_session("XNYS", day.date()) == want
    assert calendar.regular_session("XNYS", date(2024, 11, 28)) is None       # Thanksgiving
    assert calendar.regular_session("XNYS", date(2024, 7, 6)) is None         # a Saturday


def test_a_damaged_cache_file_is_rebuilt_not_trusted(cache):
    want = calendar._compute("XNYS")
    calendar._build("XNYS")
    for path in cache.iterdir():
        path.write_bytes(b"PK\x03\x04 not a table")
    calendar._build.cache_clear()
    assert all(np.array_equal(a, b) for a, b in zip(want, calendar._build("XNYS")))


def test_a_table_with_the_wrong_shape_is_a_miss(cache):
    key = calendar._cache_key("XNYS")
    table_cache.store(key, {"days": np.array([3, 2, 1]), "opens": np.zeros(3), "closes": np.ones(3)})
    assert table_cache.load(key) is not None
    assert calendar._valid(table_cache.load(key)) is None          # dates out of order: rebuilt


def test_a_pickled_object_is_never_loaded(cache):
    key = "hostile"
    table_cache.store(key, {"x": np.zeros(2)})
    (path,) = cache.iterdir()
    np.savez(path, __key__=np.array(f"{table_cache.FORMAT}:{key}"), x=np.array([object()], dtype=object))
    assert table_cache.load(key) is None


def test_a_file_stored_under_another_key_is_a_miss(cache):
    table_cache.store("a", {"x": np.zeros(2)})
    (path,) = cache.iterdir()
    path.rename(table_cache._path(cache, "b"))
    assert table_cache.load("b") is None


def test_an_oversized_file_is_ignored_without_reading_it(cache, monkeypatch):
    table_cache.store("big", {"x": np.zeros(1000)})
    monkeypatch.setattr(table_cache, "MAX_FILE_BYTES", 100)
    assert table_cache.load("big") is None


def test_the_cache_keeps_at_most_max_files(cache, monkeypatch):
    monkeypatch.setattr(table_cache, "MAX_FILES", 3)
    for i in range(6):
        table_cache.store(f"k{i}", {"x": np.full(2, i)})
        os.utime(table_cache._path(cache, f"k{i}"), (1000 + i, 1000 + i))
    assert len(list(cache.iterdir())) <= 4        # pruned to 3 before each store adds one
    assert table_cache.load("k5") is not None and table_cache.load("k0") is None


def test_a_write_that_fails_leaves_no_file_behind(cache, monkeypatch):
    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(table_cache.os, "replace", full_disk)
    table_cache.store("k", {"x": np.zeros(2)})
    assert list(cache.iterdir()) == []
    assert table_cache.load("k") is None


def test_an_unwritable_cache_dir_costs_only_the_build(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("PRELIVE_CACHE", str(blocker))
    table_cache.store("k", {"x": np.zeros(2)})
    assert table_cache.load("k") is None


def test_the_cache_can_be_turned_off(cache, monkeypatch):
    monkeypatch.setenv("PRELIVE_TABLE_CACHE", "off")
    table_cache.store("k", {"x": np.zeros(2)})
    assert not cache.exists() and table_cache.load("k") is None


def test_another_library_version_is_another_key(monkeypatch):
    key = calendar._cache_key("XNYS")
    monkeypatch.setattr(table_cache, "version_of", lambda name: "0.0-other")
    assert calendar._cache_key("XNYS") != key


def test_a_warm_process_builds_the_gateway_world_without_importing_the_calendar_library(cache):
    probe = ("import sys; from mock_gateway.sim import sessions; sessions.warm_up(); "
             "print('exchange_calendars' in sys.modules, 'pandas' in sys.modules)")
    env = {**os.environ, "PRELIVE_CACHE": str(cache.parent)}
    subprocess.run([sys.executable, "-c", probe], env=env, check=True, capture_output=True)       # fills it
    warm = subprocess.run([sys.executable, "-c", probe], env=env, check=True, capture_output=True, text=True)
    assert warm.stdout.split() == ["False", "False"]
