"""Hostile evidence for ``prelive gates``: an alias bomb, a deep nest, a duplicated key hiding a
second value: each is an evidence error naming the file (exit 2), in seconds, and nothing is written."""
from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "evidence"


def _alias_bomb() -> str:
    lines = ["schema: prelive/interface-map/v1", "external_inputs: &a [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append(f"x{i}: &{chr(97 + i)} [" + ", ".join([f"*{chr(96 + i)}"] * 9) + "]")
    lines.append("stages: *i")
    return "\n".join(lines) + "\n"


def _duplicated_key() -> str:
    text = (EXAMPLE / "INTERFACE_MAP.yaml").read_text()
    return text + "schema: prelive/interface-map/v1\n"     # the same key twice: which one did the signer read?


@pytest.mark.parametrize("name, text, naming", [
    ("INTERFACE_MAP.yaml", _alias_bomb(), "expands to more than"),
    ("INTERFACE_MAP.yaml", "[" * 50_000 + "]" * 50_000 + "\n", "nesting deeper"),
    ("INTERFACE_MAP.yaml", _duplicated_key(), "schema"),
    ("ROLLBACK_DRILL.json", "[" * 100_000 + "]" * 100_000, "nested too deep"),
    ("KILL_SWITCH.json", '{"a":' * 100_000 + "1" + "}" * 100_000, "nested too deep"),
])
def test_hostile_evidence_is_an_evidence_error_naming_the_file_and_nothing_is_written(tmp_path, name, text, naming):
    evidence = tmp_path / "evidence"
    shutil.copytree(EXAMPLE, evidence)
    (evidence / name).write_text(text)
    out = tmp_path / "out"
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "harness.cli", "gates", "--evidence", str(evidence), "--out",
                           str(out)], capture_output=True, text=True, timeout=120)
    assert time.monotonic() - started < 60
    assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-2000:]
    assert "Traceback" not in done.stderr and name in done.stderr and naming in done.stderr, done.stderr[-2000:]
    assert not out.exists() or not any(out.iterdir())


def test_an_evidence_file_larger_than_any_evidence_is_refused_unread(tmp_path):
    evidence = tmp_path / "evidence"
    shutil.copytree(EXAMPLE, evidence)
    huge = evidence / "junit-stages.xml"
    with open(huge, "wb") as fh:                 # sparse: 3 GB on paper, nothing on disk
        fh.truncate(3 * 1024 ** 3)
    out = tmp_path / "out"
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "harness.cli", "gates", "--evidence", str(evidence), "--out",
                           str(out)], capture_output=True, text=True, timeout=120)
    assert time.monotonic() - started < 60
    assert done.returncode == 2 and "junit-stages.xml" in done.stderr and "larger than any evidence file" in \
        done.stderr, done.stderr[-2000:]
