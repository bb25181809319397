"""A venv of its own for a client whose package would shadow the dev venv's (official ibapi 10.x, nautilus-ibapi).

Made on first use; pytest-xdist workers share it under a file lock, so one of them builds it.
"""
from __future__ import annotations

import fcntl
import subprocess
import sys
from pathlib import Path

import pytest


def pinned_python(venv: Path, requirement: str, probe_code: str) -> Path:
    """The interpreter of ``venv`` once ``probe_code`` runs there; else (re)made with ``requirement`` installed."""
    python = venv / "bin" / "python"
    with open(venv.with_name(venv.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if python.exists() and subprocess.run([str(python), "-c", probe_code], capture_output=True).returncode == 0:
            return python
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        done = subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", requirement],
                              capture_output=True, text=True)
    if done.returncode != 0:
        pytest.fail(f"could not install {requirement} into {venv} (needs the package index):\n{done.stderr[-2000:]}")
    return python
