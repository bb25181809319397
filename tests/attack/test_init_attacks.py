"""Attacks on ``prelive init`` writing into a repository: a symlink already in the repository never
takes a write outside it, a protected file is not replaced, and nothing is half-done."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def _init(repo: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness.cli", "init", "--handler", "python bot.py", "--dir",
                           str(repo), "--no-observe", "--scenarios", "baseline", *extra],
                          capture_output=True, text=True, timeout=60)


@pytest.fixture
def repo_and_outside(tmp_path):
    repo, outside = tmp_path / "repo", tmp_path / "outside"
    repo.mkdir()
    outside.mkdir()
    return repo, outside


@pytest.mark.parametrize("link", [".github", ".github/workflows", ".gitlab"])
@pytest.mark.parametrize("force", [False, True])
def test_a_symlinked_folder_on_the_way_never_takes_a_write_outside_the_repository(repo_and_outside, link, force):
    repo, outside = repo_and_outside
    (repo / link).parent.mkdir(parents=True, exist_ok=True)
    (repo / link).symlink_to(outside)
    done = _init(repo, *(["--force"] if force else []))
    assert done.returncode == 1 and "outside the repository" in done.stderr, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert not list(outside.rglob("*")), "init wrote outside the repository"
    assert not (repo / "GOVERNANCE.md").exists()              # refused before writing anything


def test_a_symlinked_governance_file_is_refused_and_with_force_replaced_inside_the_repository(repo_and_outside):
    repo, outside = repo_and_outside
    target = outside / "GOVERNANCE.md"
    target.write_text("theirs")
    (repo / "GOVERNANCE.md").symlink_to(target)
    done = _init(repo)
    assert done.returncode == 1 and "already exist" in done.stderr
    done = _init(repo, "--force")
    assert done.returncode == 0, done.stderr
    assert target.read_text() == "theirs"                     # the link was replaced, its target untouched
    assert not (repo / "GOVERNANCE.md").is_symlink()


def test_a_dangling_symlink_where_init_writes_counts_as_an_existing_file(repo_and_outside):
    repo, outside = repo_and_outside
    (repo / "GOVERNANCE.md").symlink_to(outside / "nothing-yet.md")
    done = _init(repo)
    assert done.returncode == 1 and "GOVERNANCE.md" in done.stderr and "already exist" in done.stderr
    assert not (outside / "nothing-yet.md").exists()


def test_force_does_not_replace_a_read_only_file(repo_and_outside):
    repo, _ = repo_and_outside
    governance = repo / "GOVERNANCE.md"
    governance.write_text("signed off by the board")
    governance.chmod(0o444)
    done = _init(repo, "--force")
    assert done.returncode == 1 and "read-only" in done.stderr, done.stdout + done.stderr
    assert governance.read_text() == "signed off by the board"


def test_a_huge_hostile_pyproject_is_not_read_by_init(repo_and_outside):
    repo, _ = repo_and_outside
    (repo / "pyproject.toml").write_text("[tool.prelive]\nhandler = " + "[" * 100_000 + "]" * 100_000 + "\n")
    done = _init(repo)
    assert done.returncode == 0, done.stderr
    assert (repo / ".github" / "workflows" / "prelive.yml").is_file()
