"""nautilus_trader's Interactive Brokers adapter in a venv of its own (``.venv-nautilus``).

``nautilus_trader[ib]`` pins its own build of the official client (``nautilus-ibapi``, a top-level
``ibapi`` 10.30 that would replace ibapi 9.81 of the dev extra), so it cannot share the test venv.
``scripts/test.sh`` creates ``.venv-nautilus`` next to ``.venv``; when a test runs without it, it is
made here from the package index (once; the pinned version below; 15 to 35 s,
``benchmarks/nautilus_bench.py``). The tests drive it through ``nautilus_agent.py`` (JSON on stdout).
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from pinned_venv import pinned_python

ROOT = Path(__file__).resolve().parents[2]
AGENT = Path(__file__).with_name("nautilus_agent.py")
#: The release the adapter tests pin (Python 3.11 is its last supported interpreter line).
NAUTILUS_VERSION = "1.221.0"
VENV = ROOT / ".venv-nautilus"


def nautilus_python() -> Path:
    """The interpreter of a venv with nautilus_trader[ib] at its pinned version (made on first use)."""
    return pinned_python(VENV, f"nautilus_trader[ib]=={NAUTILUS_VERSION}",
                         f"import importlib.metadata as m; assert m.version('nautilus_trader') == '{NAUTILUS_VERSION}'; "
                         "import nautilus_trader.adapters.interactive_brokers.factories")


def run_agent(port: int, account: str, seconds: float, *, env: dict[str, str] | None = None) -> dict:
    """Run a TradingNode against ``port`` for ``seconds``; what it saw, as the agent's JSON."""
    done = subprocess.run([str(nautilus_python()), str(AGENT), str(port), account, str(seconds)],
                          capture_output=True, text=True, timeout=seconds + 90,
                          env={**os.environ, **(env or {})}, cwd=ROOT)
    if done.returncode != 0 or not done.stdout.strip():
        pytest.fail(f"nautilus agent failed (exit {done.returncode}):\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])
