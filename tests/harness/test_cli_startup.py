"""``prelive --help`` and ``prelive version`` start fast: no heavy dependency is imported for them."""
from __future__ import annotations

import subprocess
import sys

import pytest

#: Imported by the commands that need them, never by the command registry.
HEAVY = {"pandas", "numpy", "simpy", "ib_insync", "ib_async", "ibapi", "docker", "ansible_runner"}


def _imported_top_level_modules(*args: str) -> set[str]:
    """Top-level packages a fresh interpreter imports for ``args`` (from -X importtime)."""
    run = subprocess.run([sys.executable, "-X", "importtime", *args], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr[-2000:]
    names = set()
    for line in run.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return names


def test_importing_the_cli_imports_no_heavy_dependency():
    imported = _imported_top_level_modules("-c", "import harness.cli")
    assert "harness" in imported and not imported & HEAVY


@pytest.mark.parametrize("args", [["--help"], ["version"], ["gates", "--help"], ["run", "--help"]])
def test_help_and_version_import_no_heavy_dependency(args):
    assert not _imported_top_level_modules("-m", "harness.cli", *args) & HEAVY
