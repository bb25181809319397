"""The built wheel is complete: a plain install lists and runs the shipped scenarios.

Users install prelive from its wheel in their own CI; the repository's ``scenarios/`` folder is
not there, so the wheel must carry the scenario files and their data files.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # built from a snapshot of the tree: setuptools writes build/ and *.egg-info into the folder it builds, and
    # other workers' editable installs and venvs change the live checkout meanwhile
    source = tmp_path_factory.mktemp("source") / "prelive"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv*", "node_modules", "build", "dist", "*.egg-info", "__pycache__", "*.lock", "prelive-runs",
        ".hypothesis", ".pytest_cache"))
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(source)],
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    [built] = out.glob("prelive-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel installed by pip, its dependencies from the package index (pip's
    cache makes a repeat quick): what a user's CI job does."""
    env_dir = tmp_path_factory.mktemp("venv")
    venv.EnvBuilder(with_pip=True).create(env_dir)
    done = subprocess.run([str(env_dir / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                           str(wheel)], env=_env(), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return env_dir


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PRELIVE_", "PYTHONPATH"))}
    return env


def test_the_wheel_carries_every_shipped_scenario_and_its_data_files(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for f in (ROOT / "scenarios").rglob("*"):
        if f.is_file() and f.suffix in (".yaml", ".csv", ".md"):
            assert f"harness/shipped_scenarios/{f.relative_to(ROOT / 'scenarios').as_posix()}" in names


def test_an_installed_wheel_lists_the_shipped_scenarios(installed: Path, tmp_path: Path) -> None:
    where = subprocess.run([str(installed / "bin" / "python"), "-c", "import harness; print(harness.__file__)"],
                           cwd=tmp_path, env=_env(), capture_output=True, text=True, check=True).stdout
    assert str(installed) in where, "the test must run the installed copy, not the repository"
    listed = subprocess.run([str(installed / "bin" / "prelive"), "scenarios"], cwd=tmp_path, env=_env(),
                            capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0, listed.stderr
    names = {line.split()[0] for line in listed.stdout.splitlines() if line.strip()}
    assert {p.stem for p in (ROOT / "scenarios").glob("*.yaml")} <= names


def test_an_installed_wheel_runs_the_baseline_scenario_with_its_latency_data(installed: Path, tmp_path: Path) -> None:
    out = tmp_path / "runs"
    done = subprocess.run([str(installed / "bin" / "prelive"), "run", "baseline", "--duration", "60", "--speed", "20",
                           "--no-baseline", "--out", str(out)], cwd=tmp_path, env=_env(),
                          capture_output=True, text=True, timeout=120)
    result = json.loads((out / "baseline" / "RESULT.json").read_text())
    assert result["scenario"] == "baseline", done.stderr
    assert "shipped_scenarios" in result["source"]
    assert done.returncode in (0, 1, 3), done.stdout + done.stderr   # a verdict, not a usage or setup error


# ---------------------------------------------------------------------------- the user's path end to end
BOT = '''"""A small ib_async bot: connects (and reconnects), watches AAPL, buys one share a minute."""
import asyncio
import os

from ib_async import IB, MarketOrder, Stock


async def session(ib: IB) -> None:
    await ib.connectAsync(os.environ.get("IB_HOST", "127.0.0.1"), int(os.environ.get("IB_PORT", "4002")),
                          int(os.environ.get("IB_CLIENT_ID", "1")), timeout=10)
    [aapl] = await ib.qualifyContractsAsync(Stock("AAPL", "SMART", "USD"))
    ib.reqMktData(aapl)
    await ib.reqPositionsAsync()
    since_order_s = 0
    while ib.isConnected():
        await asyncio.sleep(5)
        since_order_s += 5
        if ib.isConnected() and since_order_s >= 60:
            since_order_s = 0
            ib.placeOrder(aapl, MarketOrder("BUY", 1))


async def main() -> None:
    ib = IB()
    while True:
        try:
            await session(ib)
        except Exception as exc:  # a dropped connection surfaces as many kinds
            print(f"bot: {exc!r}; reconnecting", flush=True)
        ib.disconnect()
        await asyncio.sleep(2)


if __name__ == "__main__":
    asyncio.run(main())
'''
UNIT_TEST = '''import ast
from pathlib import Path


def test_the_bot_parses():
    ast.parse(Path(__file__).resolve().parents[1].joinpath("bot.py").read_text())
'''
#: Short shipped scenarios the bot above passes (about 6, 10 and 20 s of wall time).
USER_SCENARIOS = ("handshake_stall", "latency_spike", "disconnect_flap")


def _bash(script: str, cwd: Path, env: dict[str, str], timeout_s: float = 600) -> subprocess.CompletedProcess:
    """A run: step as GitHub's runner runs it (bash --noprofile --norc -eo pipefail)."""
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout_s)


def _run_step(step: dict, shard: int | None) -> str:
    script = step["run"]
    if shard is not None:
        script = script.replace("${{ matrix.shard }}", str(shard))
    assert "${{" not in script, f"an expression this local run cannot evaluate: {script}"
    return script


def test_the_generated_workflow_runs_locally_from_a_pip_installed_wheel(wheel: Path, tmp_path: Path) -> None:
    """A new user's path: pip install the wheel into a fresh venv, `prelive init` in an empty git repo
    with a small ib_async bot, then every step of the generated workflow that needs no CI service,
    job by job in clean checkouts (install, each shard's run, the merge, the unit tests, the gates),
    with the artifact upload and download done as the actions do; then pytest's scenario tests."""
    import shutil
    import time
    import xml.etree.ElementTree as ET

    import yaml

    started = time.monotonic()
    py_dir = tmp_path / "python"            # actions/setup-python: a clean interpreter with pip
    venv.EnvBuilder(with_pip=True).create(py_dir)
    env = {**_env(), "PATH": f"{py_dir / 'bin'}:/usr/local/bin:/usr/bin:/bin"}
    env.pop("VIRTUAL_ENV", None)

    repo = tmp_path / "repo"                # the user's repository
    (repo / "tests").mkdir(parents=True)
    (repo / "bot.py").write_text(BOT)
    (repo / "tests" / "test_bot.py").write_text(UNIT_TEST)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)

    # The install step as a user's CI runs it, here once to get `prelive init` (the jobs run it again).
    install = f"{wheel} ib_async==2.1.0"
    done = _bash(f"python -m pip install -q --disable-pip-version-check {install}", repo, env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (py_dir / "bin" / "prelive").exists()
    shipped = Path(subprocess.check_output([str(py_dir / "bin" / "python"), "-c",
                                            "import harness.scenario as s; print(s.SCENARIOS_DIR)"],
                                           cwd=repo, env=env, text=True).strip())
    assert str(py_dir) in str(shipped), "the scenarios must come from the installed wheel"
    (repo / "scenarios").mkdir()
    for name in USER_SCENARIOS:
        shutil.copy(shipped / f"{name}.yaml", repo / "scenarios" / f"{name}.yaml")

    done = _bash(f'prelive init --handler "python bot.py" --install "{install}" --observe-s 40', repo, env)
    assert done.returncode == 0, done.stdout + done.stderr
    subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True)
    workflow = yaml.safe_load((repo / ".github" / "workflows" / "prelive.yml").read_text())
    wf_env = {k: str(v) for k, v in workflow["env"].items()}
    assert wf_env["PRELIVE_SCENARIOS"] == "scenarios/*.yaml"
    job_env = {**env, **wf_env, "CI": "true"}

    # The scenario job, once per matrix entry, each in a clean checkout; its upload kept per shard.
    shard_job = workflow["jobs"]["scenarios"]
    artifacts = tmp_path / "artifacts"
    shard_wall_s = {}
    for shard in shard_job["strategy"]["matrix"]["shard"]:
        checkout = tmp_path / f"job-scenarios-{shard}"
        shutil.copytree(repo, checkout, ignore=shutil.ignore_patterns(".git"))
        t0 = time.monotonic()
        for step in shard_job["steps"]:
            if "run" in step:
                done = _bash(_run_step(step, shard), checkout, job_env)
                assert done.returncode == 0, f"{step.get('name')} (shard {shard}):\n{done.stdout}\n{done.stderr}"
            elif step["uses"].startswith("actions/upload-artifact"):
                name = step["with"]["name"].replace("${{ matrix.shard }}", str(shard))
                for rel in step["with"]["path"].split():
                    if (checkout / rel).exists():
                        shutil.copytree(checkout / rel, artifacts / name / rel)
        shard_wall_s[shard] = time.monotonic() - t0

    # The gates job: a clean checkout, the artifacts downloaded (merge-multiple: one tree), its steps.
    gates_job = workflow["jobs"]["gates"]
    checkout = tmp_path / "job-gates"
    shutil.copytree(repo, checkout, ignore=shutil.ignore_patterns(".git"))
    outputs = {}
    for step in gates_job["steps"]:
        if "run" in step:
            done = _bash(_run_step(step, None), checkout, job_env)
            outputs[step["name"]] = done
            if step["name"] == "Gates":
                assert done.returncode in (0, 10, 20, 21), done.stdout + done.stderr   # a decision, not an error
            else:
                assert done.returncode == 0, f"{step['name']}:\n{done.stdout}\n{done.stderr}"
        elif step["uses"].startswith("actions/download-artifact"):
            target = checkout / step["with"]["path"]
            for art in sorted(artifacts.glob(step["with"]["pattern"])):
                shutil.copytree(art, target, dirs_exist_ok=True)

    stages = ET.parse(checkout / "junit-stages.xml").getroot()
    assert sorted(c.get("name") for c in stages.iter("testcase")) == sorted(USER_SCENARIOS)
    assert stages.get("failures") == "0" and stages.get("errors") == "0", ET.tostring(stages, encoding="unicode")
    summary = json.loads((checkout / "prelive-summary.json").read_text())
    assert summary["verdict"] == "PASS" and len(summary["merged_from"]) == 4
    assert (checkout / "coverage.xml").is_file() and (checkout / "junit-unit.xml").is_file()
    log = json.loads((checkout / "PRELIVE_VERIFICATION_LOG.json").read_text())
    gate_5 = next(g for g in log["gates"] if g["name"] == "GATE_5")
    total = next(c for c in gate_5["conditions"] if c["id"] == "stage_tests_total")
    assert total["observed"] == len(USER_SCENARIOS), gate_5

    # The scenarios as pytest tests, one JUnit test case each.
    done = _bash('python -m pytest -p no:cacheprovider --prelive-handler "python bot.py" scenarios '
                 "--junitxml=junit-scenarios.xml -q", checkout, job_env)
    assert done.returncode == 0, done.stdout + done.stderr
    cases = list(ET.parse(checkout / "junit-scenarios.xml").getroot().iter("testcase"))
    assert len(cases) == len(USER_SCENARIOS), [c.get("name") for c in cases]
    decision = next((l for l in outputs["Gates"].stdout.splitlines() if l.startswith("Decision")), "no decision")
    print(f"\nwall time: {time.monotonic() - started:.0f} s in all; shard jobs "
          + ", ".join(f"{k}: {v:.0f} s" for k, v in shard_wall_s.items())
          + f"\nmerge: {outputs[next(n for n in outputs if n.startswith('Merge'))].stdout.strip()}\ngates: {decision}")
