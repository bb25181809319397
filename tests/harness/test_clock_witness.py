"""The witness that reads a handler's faked clock from beside it (container mode's drift sampling).

``python -m harness.faketime witness`` runs on the real clock, finds the handler's clock variables in
its /proc environ and answers each newline with the handler's wall and monotonic time and the real
time of the reading. Here the "container" is this machine: the handler is a process on a shared
faked clock, the witness is told its pid.
"""
from __future__ import annotations

import subprocess
import sys
import time

import pytest

from harness.faketime import ClockReference, SharedClock, find_library, handler_clock_env

pytestmark = [pytest.mark.timeout(60)]

SPEED = 50.0
START_EPOCH = 1_795_000_000.0


@pytest.fixture
def handler():
    """A process on the scenario's clock (sim 0 is now), as `harness.faketime exec` starts one."""
    ref = ClockReference.from_wall(START_EPOCH, SPEED, time.time())
    with SharedClock(ref) as shared:
        env = {"PATH": "/usr/bin:/bin", **shared.env(find_library())}
        proc = subprocess.Popen([sys.executable, "-S", "-c", "import time; time.sleep(600)"], env=env)
        try:
            yield proc, ref
        finally:
            proc.kill()
            proc.wait()


def _witness(pid: int) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "harness.faketime", "witness", "--pid", str(pid), "5"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_the_witness_reads_the_handlers_clock_and_the_real_time_of_the_reading(handler):
    proc, ref = handler
    witness = _witness(proc.pid)
    try:
        for _ in range(3):
            time.sleep(0.2)
            witness.stdin.write("\n")
            witness.stdin.flush()
            wall, mono, at_wall = (float(v) for v in witness.stdout.readline().split())
            at_mono = time.monotonic() - (time.time() - at_wall)
            expected = ref.epoch_at(at_mono)
            assert abs(mono - expected) < 0.05 * SPEED     # within 50 ms of real time
            assert abs(wall - expected) < 0.05 * SPEED
            assert abs(at_wall - time.time()) < 1.0           # the reading's time is real, not faked
    finally:
        witness.stdin.close()
        assert witness.wait(10) == 0


def test_the_handlers_clock_variables_are_found_in_its_environment(handler):
    proc, _ = handler
    env = handler_clock_env(pid=proc.pid)
    assert env is not None and "libfaketime" in env["LD_PRELOAD"] and env["FAKETIME"].endswith(f"x{SPEED:g}")
    assert env["FAKETIME_SHARED"]


def test_a_witness_with_no_handler_on_a_faked_clock_says_so(tmp_path):
    plain = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        out = subprocess.run([sys.executable, "-m", "harness.faketime", "witness", "--pid", str(plain.pid), "0.3"],
                             input="\n", capture_output=True, text=True, timeout=30)
    finally:
        plain.kill()
        plain.wait()
    assert out.returncode == 3 and "no process on a shared faked clock" in out.stderr
