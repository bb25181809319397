"""Every ``prelive`` command line the README shows parses, and the quick ones run.

A user copies these lines first; a README line that fails with "no such option" is the first
thing they meet. Parsing goes through the real command tree (options, types, required
arguments) without running the command; the quick, side-effect-free ones then really run.
"""
from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from harness.cli import app

ROOT = Path(__file__).resolve().parents[2]
QUICK = {"scenarios", "version"}   # commands that finish in seconds and write nothing


def readme_command_lines() -> list[str]:
    """``prelive ...`` lines inside the README's fenced code blocks, comments removed."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    lines = []
    for block in re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.S):
        for raw in block.splitlines():
            line = raw.strip()
            for part in re.split(r"\s*&&\s*", line):
                part = re.sub(r"^\S*/", "", part)          # .venv/bin/prelive -> prelive
                if part.startswith("prelive "):
                    words = shlex.split(part, comments=True)
                    if words[-1] == "&":                     # started in the background: the shell's, not ours
                        words.pop()
                    lines.append(shlex.join(words))
    return lines


def parse(argv: list[str]) -> str:
    """Parse argv through the command tree as the CLI would; returns the leaf command's name."""
    command = typer.main.get_command(app)
    ctx = command.make_context("prelive", list(argv))
    name = "prelive"
    while getattr(command, "commands", None):
        args = [*(getattr(ctx, "_protected_args", None) or getattr(ctx, "protected_args", None) or []), *ctx.args]
        if not args:
            break
        name, command, rest = command.resolve_command(ctx, args)
        ctx = command.make_context(name, rest, parent=ctx)
    return name


def test_the_readme_shows_commands() -> None:
    assert len(readme_command_lines()) >= 10


@pytest.mark.parametrize("line", readme_command_lines())
def test_a_readme_command_line_parses(line: str) -> None:
    argv = shlex.split(line)[1:]
    # shell globs; one that matches nothing stays as written, as in bash
    argv = [x for a in argv for x in ((sorted(str(p) for p in ROOT.glob(a)) or [a]) if "*" in a else [a])]
    parse(argv)


@pytest.mark.parametrize("line", readme_command_lines())
def test_a_readme_commands_help_lists_the_options_it_uses(line: str) -> None:
    argv = shlex.split(line)[1:]
    words = [a for a in argv if not a.startswith("-")]
    path = [w for w in words[:2] if w in _command_names()]
    shown = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert shown.exit_code == 0, shown.output
    for option in (a.split("=")[0] for a in argv if a.startswith("--")):
        assert option in shown.output, f"{option} is not in `prelive {' '.join(path)} --help`"


def _command_names() -> set[str]:
    root = typer.main.get_command(app)
    names = set(root.commands)
    for sub in root.commands.values():
        names |= set(getattr(sub, "commands", {}))
    return names


@pytest.mark.parametrize("line", [l for l in readme_command_lines() if shlex.split(l)[1] in QUICK])
def test_a_quick_readme_command_runs(line: str) -> None:
    done = subprocess.run([sys.executable, "-m", "harness.cli", *shlex.split(line)[1:]], capture_output=True,
                          text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_wrong_option_does_not_parse() -> None:
    """The check itself can fail: an option the command does not have is refused."""
    with pytest.raises(Exception, match="--junit"):
        parse(["run", "baseline", "--junit", "x.xml"])
