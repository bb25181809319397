"""Atomic artifact writes: complete or absent, never half-written."""
from __future__ import annotations

import json
import os

import pytest

from harness.artifacts import (ArtifactError, atomic_write_bytes, atomic_write_json, atomic_write_metrics_csv,
                               load_artifact, read_metrics_csv, validate_artifact)


def test_atomic_write_replaces_the_file_and_leaves_no_temp_files(tmp_path):
    target = tmp_path / "A.json"
    atomic_write_json(target, {"schema": "x", "n": 1})
    atomic_write_json(target, {"schema": "x", "n": 2})
    assert json.loads(target.read_text())["n"] == 2
    assert os.listdir(tmp_path) == ["A.json"]


def test_a_failed_write_keeps_the_previous_artifact_intact(tmp_path):
    target = tmp_path / "A.json"
    atomic_write_json(target, {"n": 1})

    class Boom:
        def __str__(self):
            raise RuntimeError("serialisation failed half way")

    with pytest.raises(RuntimeError):
        atomic_write_json(target, {"n": Boom()})
    assert json.loads(target.read_text()) == {"n": 1}
    assert os.listdir(tmp_path) == ["A.json"]


def test_an_interrupted_write_never_exposes_a_partial_file(tmp_path, monkeypatch):
    target = tmp_path / "B.bin"

    def crash(*_):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_bytes(target, b"x" * 100_000)
    assert not target.exists() and os.listdir(tmp_path) == []


def test_json_artifacts_write_unknown_numbers_as_null(tmp_path):
    atomic_write_json(tmp_path / "m.json", {"p95": float("nan"), "inf": float("inf")})
    assert json.loads((tmp_path / "m.json").read_text()) == {"p95": None, "inf": None}


def test_metrics_csv_has_the_contract_header_and_true_false_empty_pass(tmp_path):
    path = atomic_write_metrics_csv(tmp_path / "M.csv", [("a", 1.5, "ms", "< 2", True), ("b", None, "s", "", None),
                                                        ("c", 3.0, "count", "== 0", False)])
    rows = read_metrics_csv(path)
    assert [(r["name"], r["value"], r["pass"]) for r in rows] == [("a", "1.5", "true"), ("b", "", ""),
                                                                 ("c", "3", "false")]


def test_load_artifact_rejects_a_document_missing_required_keys(tmp_path):
    (tmp_path / "K.json").write_text(json.dumps({"schema": "prelive/kill-switch/v1", "at": "now"}))
    with pytest.raises(ArtifactError, match="missing keys verified"):
        load_artifact(tmp_path / "K.json")


def _paper_log(**extra):
    return {"schema": "prelive/paper-trading-log/v1", "scenario": "s", "seed": 1, "speed": 1.0,
            "latency_clock": "sim", "started_at": "a", "ended_at": "b", "event_log": "e.jsonl",
            "event_log_sha256": "0" * 64, "trades": [], "errors": [], "disconnects": [], "metrics": {}, **extra}


@pytest.mark.parametrize("extra", [
    {}, {"backtest_event_log": None, "backtest_event_log_sha256": None},
    {"backtest_event_log": "baseline/events.jsonl", "backtest_event_log_sha256": "ab" * 32},
])
def test_a_paper_log_may_name_its_backtest_event_log(extra):
    validate_artifact(_paper_log(**extra))


@pytest.mark.parametrize(("extra", "message"), [
    ({"backtest_event_log": "baseline/events.jsonl"}, "needs backtest_event_log_sha256"),
    ({"backtest_event_log": "b.jsonl", "backtest_event_log_sha256": "not-a-digest"}, "64 hex digits"),
    ({"backtest_event_log": 5, "backtest_event_log_sha256": "ab" * 32}, "must be a path"),
])
def test_a_backtest_event_log_without_its_sha256_is_refused(extra, message):
    with pytest.raises(ArtifactError, match=message):
        validate_artifact(_paper_log(**extra))
