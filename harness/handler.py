"""Start, signal and stop the handler under test: any process, or a Python entry point in its own process.

The handler gets ``IB_HOST, IB_PORT, IB_CLIENT_ID, IB_ACCOUNT, PRELIVE_KILL_FILE`` in its
environment (contracts §5), writes stdout and stderr to one file, and is stopped with SIGTERM,
then SIGKILL after the grace period. It runs in its own process group (children are signalled
too) and, on Linux, dies with the harness: a killed harness leaves no handler trading on.

``python -m harness.handler pkg.module:function`` is how an entry point runs: the function is
called with no arguments (a coroutine function is run with asyncio); an int it returns is the
exit code.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import importlib
import inspect
import os
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


class HandlerError(Exception):
    """The handler could not be started (bad command, unknown entry point)."""


def handler_argv(command: str | list[str] | None = None, entry_point: str | None = None) -> list[str]:
    """The argument list for a command line or a ``package.module:function`` entry point."""
    if (command is None) == (entry_point is None):
        raise HandlerError("give exactly one of a handler command or a Python entry point")
    if entry_point is not None:
        module, sep, func = entry_point.partition(":")
        if not sep or not module or not func.isidentifier():
            raise HandlerError(f"entry point {entry_point!r} must look like package.module:function")
        return [sys.executable, "-m", "harness.handler", entry_point]
    argv = shlex.split(command) if isinstance(command, str) else list(command or [])
    if not argv:
        raise HandlerError("the handler command is empty")
    if argv[0] in ("python", "python3"):
        argv[0] = sys.executable  # the harness's interpreter, with the project installed
    return argv


def parse_handler_option(text: str) -> tuple[str | None, str | None]:
    """``--handler`` value -> (command, entry_point): ``pkg.mod:func`` is an entry point, anything else a command."""
    text = text.strip()
    if not text:
        raise HandlerError("--handler is empty")
    if " " not in text and ":" in text and all(part.replace(".", "").replace("_", "").isalnum()
                                               for part in text.split(":", 1)):
        return None, text
    return text, None


def handler_env(host: str, port: int, client_id: int, account: str, kill_file: Path | str,
                extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(extra or {})
    env.update({"IB_HOST": host, "IB_PORT": str(port), "IB_CLIENT_ID": str(client_id), "IB_ACCOUNT": account,
                "PRELIVE_KILL_FILE": str(kill_file), "PYTHONUNBUFFERED": "1"})
    env.pop("PRELIVE_ALLOW_LIVE", None)  # a handler run is a mock run: no live override leaks in (harness.safety)
    return env


_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # runs in the child between fork and exec
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except Exception:
        pass


@dataclass
class StopResult:
    exit_code: int | None
    how: str                # "exited" (before stop), "terminated" (SIGTERM), "killed" (SIGKILL after grace)
    stop_s: float           # wall seconds the stop took


class HandlerProcess:
    """One handler process with its output captured to ``log_path``."""

    def __init__(self, argv: list[str], env: dict[str, str], log_path: Path, grace_period_s: float = 10.0,
                 cwd: Path | None = None) -> None:
        self.argv = argv
        self.env = env
        self.log_path = Path(log_path)
        self.grace_period_s = grace_period_s
        self.cwd = cwd
        self.proc: subprocess.Popen[bytes] | None = None
        self.exited_early: int | None = None

    def start(self) -> HandlerProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        out = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(self.argv, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, cwd=self.cwd, start_new_session=True,
                                         preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None)
        except OSError as exc:
            raise HandlerError(f"cannot start handler {shlex.join(self.argv)}: {exc.strerror or exc}") from None
        finally:
            out.close()
        return self

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def poll(self) -> int | None:
        return self.proc.poll() if self.proc else None

    def send_signal(self, sig: int) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)

    def _signal_group(self, sig: int) -> None:
        assert self.proc is not None
        try:
            os.killpg(self.proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def stop(self) -> StopResult:
        """SIGTERM (to its process group), then SIGKILL after the grace period."""
        assert self.proc is not None, "handler was never started"
        t0 = time.monotonic()
        code = self.proc.poll()
        if code is not None:
            self._signal_group(signal.SIGKILL)  # leftovers of a handler that exited on its own
            return StopResult(code, "exited", 0.0)
        self._signal_group(signal.SIGTERM)
        try:
            code = self.proc.wait(self.grace_period_s)
            how = "terminated"
        except subprocess.TimeoutExpired:
            self._signal_group(signal.SIGKILL)
            code = self.proc.wait()
            how = "killed"
        self._signal_group(signal.SIGKILL)
        return StopResult(code, how, time.monotonic() - t0)


def run_entry_point(spec: str) -> int:
    """Import ``package.module:function`` and run it; its int result is the exit code."""
    module_name, _, func_name = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        print(f"harness.handler: cannot import {module_name!r}: {exc}", file=sys.stderr)
        return 2
    func = getattr(module, func_name, None)
    if not callable(func):
        print(f"harness.handler: {module_name} has no callable {func_name!r}", file=sys.stderr)
        return 2
    result = func()
    if inspect.isawaitable(result):
        import asyncio

        async def _await(): return await result  # noqa: E704
        result = asyncio.run(_await())
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: python -m harness.handler package.module:function", file=sys.stderr)
        sys.exit(2)
    sys.exit(run_entry_point(sys.argv[1]))
