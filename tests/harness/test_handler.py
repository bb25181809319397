"""Handler processes: environment, captured output, SIGTERM then SIGKILL, entry points."""
from __future__ import annotations

import sys
import textwrap

import pytest

from harness.handler import HandlerError, HandlerProcess, handler_argv, handler_env, parse_handler_option

pytestmark = pytest.mark.timeout(30)


def _script(tmp_path, body: str) -> list[str]:
    path = tmp_path / "h.py"
    path.write_text(textwrap.dedent(body))
    return [sys.executable, str(path)]


def _wait_for_text(path, text: str, timeout_s: float = 10.0) -> None:
    import time
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text():
            return
        time.sleep(0.02)
    raise AssertionError(f"{text!r} never appeared in {path}")


def test_handler_gets_the_ib_environment_and_its_output_is_captured(tmp_path):
    argv = _script(tmp_path, """
        import os, sys
        print("env", os.environ["IB_HOST"], os.environ["IB_PORT"], os.environ["IB_CLIENT_ID"],
              os.environ["IB_ACCOUNT"], os.environ["PRELIVE_KILL_FILE"], os.environ["EXTRA"])
        print("to stderr", file=sys.stderr)
    """)
    env = handler_env("127.0.0.1", 4555, 7, "DU1", tmp_path / "KILL", {"EXTRA": "x"})
    h = HandlerProcess(argv, env, tmp_path / "handler.log").start()
    result = h.stop() if h.proc.wait(10) is not None else None
    text = (tmp_path / "handler.log").read_text()
    assert f"env 127.0.0.1 4555 7 DU1 {tmp_path / 'KILL'} x" in text and "to stderr" in text
    assert result.how == "exited" and result.exit_code == 0


def test_stop_sends_sigterm_and_a_clean_handler_exits(tmp_path):
    argv = _script(tmp_path, """
        import signal, sys, time
        signal.signal(signal.SIGTERM, lambda *a: (print("got SIGTERM", flush=True), sys.exit(0)))
        print("ready", flush=True)
        time.sleep(60)
    """)
    h = HandlerProcess(argv, handler_env("h", 1, 1, "DU1", "k"), tmp_path / "handler.log", 5).start()
    _wait_for_text(tmp_path / "handler.log", "ready")
    result = h.stop()
    assert result.how == "terminated" and result.exit_code == 0
    assert "got SIGTERM" in (tmp_path / "handler.log").read_text()


def test_a_handler_ignoring_sigterm_is_killed_after_the_grace_period(tmp_path):
    argv = _script(tmp_path, """
        import signal, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("ready", flush=True)
        time.sleep(60)
    """)
    h = HandlerProcess(argv, handler_env("h", 1, 1, "DU1", "k"), tmp_path / "handler.log", 0.5).start()
    _wait_for_text(tmp_path / "handler.log", "ready")
    result = h.stop()
    assert result.how == "killed" and result.exit_code == -9 and result.stop_s >= 0.5


def test_an_entry_point_runs_in_its_own_process(tmp_path):
    (tmp_path / "myhandler.py").write_text(textwrap.dedent("""
        import os
        async def run():
            print("entry point for client", os.environ["IB_CLIENT_ID"], flush=True)
            return 3
    """))
    env = handler_env("h", 1, 42, "DU1", "k", {"PYTHONPATH": str(tmp_path)})
    h = HandlerProcess(handler_argv(entry_point="myhandler:run"), env, tmp_path / "handler.log").start()
    h.proc.wait(20)
    assert h.stop().exit_code == 3
    assert "entry point for client 42" in (tmp_path / "handler.log").read_text()


def test_handler_option_tells_entry_points_from_commands():
    assert parse_handler_option("pkg.mod:main") == (None, "pkg.mod:main")
    assert parse_handler_option("python -m harness.client") == ("python -m harness.client", None)
    assert parse_handler_option("C:/tools/h.exe --x") == ("C:/tools/h.exe --x", None)


def test_python_in_a_command_is_this_interpreter():
    assert handler_argv("python -m harness.client") == [sys.executable, "-m", "harness.client"]


@pytest.mark.parametrize("kwargs", [{}, {"command": ""}, {"entry_point": "nocolon"}, {"command": "x", "entry_point": "a:b"}])
def test_a_bad_handler_spec_is_a_clear_error(kwargs):
    with pytest.raises(HandlerError):
        handler_argv(**kwargs)


def test_a_missing_executable_is_a_clear_error(tmp_path):
    with pytest.raises(HandlerError, match="cannot start handler"):
        HandlerProcess([str(tmp_path / "nope")], {}, tmp_path / "h.log").start()
