"""The handler runs on the scenario's clock (libfaketime): start, rate, sleeps, drift, CPU, --real-clock."""
from __future__ import annotations

import re
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from harness import metrics as M
from harness.faketime import FaketimeUnavailable, find_library
from harness.runner import RunOptions, run_scenario
from harness.scenario import load_scenario

pytestmark = [pytest.mark.timeout(120)]

HANDLERS = Path(__file__).resolve().parent / "handlers"
START = datetime(2026, 11, 24, 14, 30, tzinfo=timezone.utc)

try:
    find_library()
except FaketimeUnavailable as exc:  # scripts/test.sh installs it; say so rather than skip silently
    pytest.fail(f"{exc} (scripts/test.sh installs it)", pytrace=False)


def _scenario(tmp_path: Path, speed: float, duration_s: float):
    path = tmp_path / "clock.yaml"
    path.write_text(f"name: clock\ndescription: clock test\nspeed: {speed}\nduration_s: {duration_s}\n"
                    f"start: {START.isoformat()}\nhandler:\n  command: [python, {HANDLERS / 'clock_reader.py'}]\n"
                    "  grace_period_s: 2\n")
    return load_scenario(path)


def _readings(log: Path) -> dict[str, float]:
    out = {}
    for line in log.read_text().splitlines():
        m = re.match(r"clock (start|end) ([\d.]+)", line) or re.match(r"clock slept (\S+) ([\d.]+)", line)
        if m:
            out[m.group(1)] = float(m.group(2))
    return out


def test_the_handlers_wall_clock_starts_at_the_scenarios_start_and_its_sleeps_run_at_its_speed(tmp_path):
    scenario = _scenario(tmp_path, speed=50, duration_s=600)   # 12 s: time to start on a busy machine
    started = time.monotonic()
    outcome = run_scenario(scenario, RunOptions(out_dir=tmp_path / "out"))
    wall = time.monotonic() - started
    readings = _readings(outcome.session.handler_log)
    # it started within the first simulated seconds of the scenario (python's own start-up, times 50)
    assert 0 <= readings["start"] - START.timestamp() < 600, readings   # not today: start-up x 50 at most
    for what in ("time.sleep", "asyncio.sleep", "select"):
        assert 19.9 <= readings[what] < 25, (what, readings)   # 20 s by its clock
    assert readings["end"] - readings["start"] >= 60            # three 20 s sleeps ...
    assert wall < 40                                            # ... in seconds, not the 10 minutes they were


def test_the_handler_and_the_gateway_agree_on_the_clock_and_the_drift_is_logged(tmp_path):
    outcome = run_scenario(_scenario(tmp_path, speed=50, duration_s=300), RunOptions(out_dir=tmp_path / "out"))
    clock = outcome.session.clock.to_json()
    assert clock["mode"] == "faketime" and clock["drift_samples"] >= 2
    assert clock["drift_max_abs_s"] < 1.0          # sim seconds: 20 ms of real time at speed 50
    df = M.load_frame(outcome.session.event_log)
    drift_events = df[(df["dir"] == "sys") & (df["msg"] == "clock_drift")]
    assert len(drift_events) == clock["drift_samples"]
    assert clock["handler_cpu_s"] is not None and clock["handler_cpu_ms_per_sim_s"] >= 0


def test_real_clock_keeps_the_handler_on_real_time(tmp_path):
    outcome = run_scenario(_scenario(tmp_path, speed=50, duration_s=100),
                           RunOptions(out_dir=tmp_path / "out", real_clock=True))
    readings = _readings(outcome.session.handler_log)
    assert abs(readings["start"] - time.time()) < 120       # today's date, not the scenario's
    assert "time.sleep" not in readings                     # 20 real seconds had not passed in 2
    assert outcome.session.clock.mode == "real"


def test_without_libfaketime_the_run_is_a_setup_error_that_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PRELIVE_LIBFAKETIME", str(tmp_path / "missing.so"))
    outcome = run_scenario(_scenario(tmp_path, speed=50, duration_s=100), RunOptions(out_dir=tmp_path / "out"))
    assert outcome.verdict == "ERROR" and outcome.exit_code == 4
    assert "libfaketime" in outcome.error and "--real-clock" in outcome.error


def test_a_busy_handler_at_a_high_speed_is_warned_about(tmp_path):
    path = tmp_path / "busy.yaml"
    path.write_text("name: busy\ndescription: spins\nspeed: 200\nduration_s: 1200\nhandler:\n"
                    f"  command: [python, {HANDLERS / 'spinner.py'}]\n  grace_period_s: 1\n")
    outcome = run_scenario(load_scenario(path), RunOptions(out_dir=tmp_path / "out"))
    assert outcome.warnings and "lower --speed" in outcome.warnings[0]
    import json
    result = json.loads((outcome.run_dir / "RESULT.json").read_text())
    assert result["clock"]["warning"] and result["clock"]["handler_busy_share"] > 0.5


def test_a_statically_linked_handler_is_recognised_as_out_of_libfaketimes_reach(tmp_path):
    import struct

    from harness.faketime import is_static_executable

    def elf(with_interp: bool) -> Path:
        header = bytearray(64)
        header[:6] = b"\x7fELF\x02\x01"
        struct.pack_into("<Q", header, 32, 64)                # program headers right after the header
        struct.pack_into("<HH", header, 54, 56, 2)            # two entries of 56 bytes
        table = struct.pack("<I", 1) + bytes(52) + struct.pack("<I", 3 if with_interp else 1) + bytes(52)
        path = tmp_path / ("dynamic" if with_interp else "static")
        path.write_bytes(bytes(header) + table)
        return path

    assert is_static_executable(elf(with_interp=False))
    assert not is_static_executable(elf(with_interp=True))
    assert not is_static_executable(sys.executable)           # python: dynamically linked, faked fine
    assert not is_static_executable(HANDLERS / "clock_reader.py")
