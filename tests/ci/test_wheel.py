"""The built wheel is complete: a plain install lists and runs the shipped scenarios.

Users install prelive from its wheel in their own CI; the repository's ``scenarios/`` folder is
not there, so the wheel must carry the scenario files and their data files.
"""
from __future__ import annotations

import json
import os
import site
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
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
                   check=True, capture_output=True, timeout=240)
    [built] = out.glob("prelive-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel installed; its dependencies come from this test environment
    (a .pth line), so the test measures the wheel's own contents, not a download of pandas."""
    env_dir = tmp_path_factory.mktemp("venv")
    venv.EnvBuilder(with_pip=False).create(env_dir)
    py = env_dir / "bin" / "python"
    purelib = Path(subprocess.check_output([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                           text=True).strip())
    with zipfile.ZipFile(wheel) as zf:   # what pip does for a pure-Python wheel, minus the network
        zf.extractall(purelib)
    dist_info = next(purelib.glob("prelive-*.dist-info"))
    scripts = [line.split("=", 1) for line in (dist_info / "entry_points.txt").read_text().splitlines()
               if "=" in line and line.startswith("prelive")]
    module, func = scripts[0][1].strip().split(":")
    launcher = env_dir / "bin" / "prelive"
    launcher.write_text(f"#!{py}\nimport sys\nfrom {module} import {func}\nsys.exit({func}())\n")
    launcher.chmod(0o755)
    deps = [p for p in site.getsitepackages() if "site-packages" in p]
    (purelib / "_prelive_test_deps.pth").write_text("\n".join(deps) + "\n")
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
