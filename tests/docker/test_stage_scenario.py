"""The gateway container's copy of a scenario: readable by its non-root user, every named file along
(no Docker needed)."""
from __future__ import annotations

import stat

import yaml

from harness.docker.stack import SCENARIO_MOUNT, _stage_scenario
from harness.scenario import load_scenario

SCENARIO = """\
# comment kept when nothing is rewritten
name: staged
description: a scenario with files next to it and elsewhere
duration_s: 60
faults:
  - type: latency
    kinds: [order_ack]
    distribution: {{kind: empirical, file: {samples}}}
"""


def make(tmp_path, samples_ref, samples_path):
    home = tmp_path / "private"
    (home / "data").mkdir(parents=True)
    samples_path.parent.mkdir(parents=True, exist_ok=True)
    samples_path.write_text("latency_ms\n12\n15\n40\n")
    path = home / "staged.yaml"
    path.write_text(SCENARIO.format(samples=samples_ref))
    home.chmod(0o700)
    return path


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_files_next_to_the_scenario_are_copied_to_the_same_relative_place(tmp_path):
    path = make(tmp_path, "data/ack.csv", tmp_path / "private" / "data" / "ack.csv")
    staged = _stage_scenario(tmp_path / "out", path, load_scenario(path))
    assert (staged / "data" / "ack.csv").read_text().startswith("latency_ms")
    assert (staged / "staged.yaml").read_text() == path.read_text()            # untouched: comments kept
    assert mode(staged) == 0o755 and mode(staged / "data") == 0o755 and mode(staged / "staged.yaml") == 0o644


def test_files_elsewhere_are_copied_in_and_the_path_rewritten(tmp_path):
    outside = tmp_path / "shared" / "ack.csv"
    path = make(tmp_path, str(outside), outside)
    staged = _stage_scenario(tmp_path / "out", path, load_scenario(path, data_dirs=[outside.parent]))
    raw = yaml.safe_load((staged / "staged.yaml").read_text())
    ref = raw["faults"][0]["distribution"]["file"]
    assert ref.startswith(f"{SCENARIO_MOUNT}/_files/") and ref.endswith("ack.csv")
    assert (staged / ref[len(SCENARIO_MOUNT) + 1:]).read_text() == outside.read_text()


def test_overrides_of_the_loaded_scenario_are_written_in(tmp_path):
    path = make(tmp_path, "data/ack.csv", tmp_path / "private" / "data" / "ack.csv")
    scenario = load_scenario(path).model_copy(update={"speed": 20.0, "duration_s": 30.0})
    staged = _stage_scenario(tmp_path / "out", path, scenario)
    raw = yaml.safe_load((staged / "staged.yaml").read_text())
    assert (raw["speed"], raw["duration_s"]) == (20.0, 30.0)


def test_a_file_the_scenario_does_not_read_is_never_copied(tmp_path):
    secret = tmp_path / "elsewhere" / "secret.env"
    secret.parent.mkdir()
    secret.write_text("TWS_PASSWORD=hunter2\n")
    path = make(tmp_path, "data/ack.csv", tmp_path / "private" / "data" / "ack.csv")
    text = path.read_text().replace("a scenario with files next to it and elsewhere", str(secret))
    path.write_text(text)   # a string that names a file the scenario never reads
    staged = _stage_scenario(tmp_path / "out", path, load_scenario(path))
    assert not (staged / "_files").exists()
    assert "hunter2" not in "".join(f.read_text() for f in staged.rglob("*") if f.is_file())
