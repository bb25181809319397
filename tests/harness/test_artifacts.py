"""Atomic artifact writes: complete or absent, never half-written."""
from __future__ import annotations

import json
import os

import pytest

from harness.artifacts import (ArtifactError, atomic_write_bytes, atomic_write_json, atomic_write_metrics_csv,
                               load_artifact, read_metrics_csv)


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
