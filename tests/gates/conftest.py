"""Fixtures of the gate tests. (No __init__.py here: tests/harness is a package named like ours.)"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from evidence_kit import EXAMPLE, EvidenceKit


@pytest.fixture
def kit(tmp_path: Path) -> EvidenceKit:
    """A copy of examples/evidence: every gate condition passes, nobody has signed yet."""
    root = tmp_path / "evidence"
    shutil.copytree(EXAMPLE, root)
    return EvidenceKit(root)
