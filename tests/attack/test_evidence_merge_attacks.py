"""Attacks on ``prelive evidence merge`` with hostile shard files: each gets exit 2 and a message
naming the file, no traceback, and nothing written; a large but honest merge stays bounded."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def _merge(*args: str, timeout_s: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness.cli", "evidence", "merge", *args], capture_output=True,
                          text=True, timeout=timeout_s)


def _refused(done: subprocess.CompletedProcess, *outs: Path, naming: str) -> None:
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and naming in done.stderr, done.stderr
    assert "Nothing was written" in done.stderr
    for out in outs:
        assert not out.exists()
        assert not list(out.parent.glob(f".{out.name}.*"))     # no temporary file left either


def _suite(cases: str, attrs: str = "") -> str:
    return f'<?xml version="1.0"?><testsuites><testsuite name="prelive" {attrs}>{cases}</testsuite></testsuites>'


@pytest.mark.parametrize("name, data, naming", [
    ("deep.xml", _suite("<a>" * 200_000 + "</a>" * 200_000 + '<testcase name="x"/>'), "nested more than"),
    ("nan.xml", _suite('<testcase name="x"/>', 'time="nan"'), "not a duration"),
    ("inf.xml", _suite('<testcase name="x"/>', 'time="-inf"'), "not a duration"),
    ("negative.xml", _suite('<testcase name="x"/>', 'time="-5"'), "not a duration"),
])
def test_a_hostile_junit_shard_is_refused_by_name_and_nothing_is_written(tmp_path, name, data, naming):
    shard = tmp_path / name
    shard.write_text(data)
    out = tmp_path / "out" / "junit-stages.xml"
    _refused(_merge(str(shard), "--junit-xml", str(out)), out, naming=naming)


def test_an_entity_bomb_in_utf16_slips_past_no_byte_check_and_is_refused(tmp_path):
    entities = "".join(f'<!ENTITY e{i + 1} "' + f"&e{i};" * 10 + '">' for i in range(9))
    doc = (f'<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r [<!ENTITY e0 "{"a" * 100}">{entities}]>'
           '<testsuite name="x"><testcase name="&e9;"/></testsuite>')
    shard = tmp_path / "bomb.xml"
    shard.write_bytes(doc.encode("utf-16"))
    out = tmp_path / "junit-stages.xml"
    _refused(_merge(str(shard), "--junit-xml", str(out)), out, naming=str(shard))


def test_a_summary_nested_a_million_deep_is_refused_by_name(tmp_path):
    shard = tmp_path / "summary.json"
    shard.write_text('{"schema": "prelive.run-summary/1", "scenarios": ' + "[" * 1_000_000 + "]" * 1_000_000 + "}")
    out = tmp_path / "merged.json"
    _refused(_merge(str(shard), "--summary", str(out)), out, naming="nested too deep")


@pytest.mark.parametrize("make", ["fifo", "dev_zero", "dir_link"])
def test_a_shard_path_that_is_a_fifo_a_device_or_a_link_to_one_is_refused_without_hanging(tmp_path, make):
    shard = tmp_path / "shard.xml"
    if make == "fifo":
        os.mkfifo(shard)
    elif make == "dev_zero":
        shard.symlink_to("/dev/zero")
    else:
        shard.symlink_to(tmp_path)
    out = tmp_path / "junit-stages.xml"
    _refused(_merge(str(shard), "--junit-xml", str(out), timeout_s=20), out, naming=str(shard))


def test_a_summary_folder_symlinked_to_a_fifo_summary_is_refused_without_hanging(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.mkfifo(elsewhere / "summary.json")
    (tmp_path / "shard-1").symlink_to(elsewhere)
    out = tmp_path / "merged.json"
    _refused(_merge(str(tmp_path / "shard-1"), "--summary", str(out), timeout_s=20), out, naming="summary.json")


def test_a_hundred_thousand_testcases_merge_in_bounded_time(tmp_path):
    cases = "".join(f'<testcase classname="c" name="scenario_{i}" time="0.1"/>' for i in range(100_000))
    shard = tmp_path / "prelive-1.xml"
    shard.write_text(_suite(cases, 'time="1"'))
    out = tmp_path / "junit-stages.xml"
    done = _merge(str(shard), "--junit-xml", str(out), timeout_s=60)
    assert done.returncode == 0, done.stderr
    assert "100000 test(s)" in done.stdout
