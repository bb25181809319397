"""The current official Python client (ibapi-stable 10.50, ibapi-latest 10.51) in venvs of their own.

Both packages install a top-level ``ibapi`` module, as does ibapi 9.81 of the dev extra, so they
cannot share the test venv. ``scripts/test.sh`` creates ``.venv-ibapi-stable`` and
``.venv-ibapi-latest`` next to ``.venv``; when a test runs without them they are created here
from the package index (once; the pinned versions below). The tests talk to those interpreters
through ``ibapi10_agent.py`` (JSON on stdout).
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from pinned_venv import pinned_python

ROOT = Path(__file__).resolve().parents[2]
AGENT = Path(__file__).with_name("ibapi10_agent.py")
#: (distribution, pinned version, MAX_CLIENT_VER of that version)
OFFICIAL_CLIENTS = {"ibapi-stable": ("10.50.2", 226), "ibapi-latest": ("10.51.1", 226)}


def official_client_python(dist: str) -> Path:
    """The interpreter of a venv with ``dist`` at its pinned version (made on first use)."""
    version, _ = OFFICIAL_CLIENTS[dist]
    return pinned_python(ROOT / f".venv-{dist}", f"{dist}=={version}",
                         f"import importlib.metadata as m; assert m.version('{dist}') == '{version}'")


def run_agent(dist: str, *args: str, stdin: str | None = None, timeout_s: float = 120.0) -> str:
    done = subprocess.run([str(official_client_python(dist)), str(AGENT), *args], input=stdin, capture_output=True,
                          text=True, timeout=timeout_s)
    if done.returncode != 0:
        pytest.fail(f"{dist} agent {args[0]} failed:\n{done.stderr[-4000:]}")
    return done.stdout


def agent_json(dist: str, *args: str, stdin: str | None = None) -> object:
    return json.loads(run_agent(dist, *args, stdin=stdin))
