"""Scenario files are pytest tests: ``pytest --prelive-handler CMD DIR`` runs one test per scenario.

Run as a user runs it, pytest in a subprocess in a project folder of its own, so the JUnit XML,
``-k`` selection and the ``[tool.prelive]`` table are the real ones.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from mock_gateway.pytest_plugin import gateway_config_for

REPO = Path(__file__).resolve().parents[2]
NAIVE = REPO / "tests" / "handlers" / "naive.py"
pytestmark = pytest.mark.slow


def _project(tmp_path: Path) -> Path:
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    for name in ("pacing_storm", "market_data_lines"):
        shutil.copy(REPO / "scenarios" / f"{name}.yaml", scenarios)
    (scenarios / "compose.yml").write_text("services:\n  gateway:\n    image: x\n")   # not a scenario
    return tmp_path


def _pytest(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-o", "addopts=", *args],
                          cwd=project, capture_output=True, text=True, timeout=240)


@pytest.fixture(scope="module")
def junit_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess, Path]:
    project = _project(tmp_path_factory.mktemp("project"))
    done = _pytest(project, "--prelive-handler", f"python {NAIVE}", "--prelive-duration", "150",
                   "--prelive-out", "runs", "scenarios", "--junitxml", "junit.xml")
    return done, project


def test_each_scenario_file_is_one_test_in_the_junit_xml(junit_run) -> None:
    done, project = junit_run
    cases = {c.get("name"): c for c in ET.parse(project / "junit.xml").getroot().iter("testcase")}
    assert set(cases) == {"pacing_storm", "market_data_lines"}, done.stdout


def test_a_failing_scenario_reports_its_verdict_and_first_cause_like_the_cli(junit_run) -> None:
    done, project = junit_run
    assert done.returncode == 1, done.stdout
    case = next(c for c in ET.parse(project / "junit.xml").getroot().iter("testcase")
                if c.get("name") == "pacing_storm")
    failure = case.find("failure")
    assert failure is not None and "scenario pacing_storm: FAIL: " in failure.text
    assert "pacing_violations_100" in failure.text and "run directory:" in failure.text
    assert (project / "runs" / "pacing_storm" / "RESULT.json").is_file()


def test_k_selects_scenarios_by_name(tmp_path: Path) -> None:
    project = _project(tmp_path)
    done = _pytest(project, "--prelive-handler", f"python {NAIVE}", "--prelive-duration", "5", "--collect-only",
                   "-q", "-k", "storm", "scenarios")
    assert "pacing_storm.yaml::pacing_storm" in done.stdout and "market_data_lines" not in done.stdout, done.stdout


def test_the_tool_prelive_table_in_pyproject_turns_collection_on(tmp_path: Path) -> None:
    project = _project(tmp_path)
    (project / "pyproject.toml").write_text(f'[tool.prelive]\nhandler = "python {NAIVE}"\nduration_s = 5\n')
    done = _pytest(project, "--collect-only", "-q", "scenarios")
    assert re.search(r"2 tests? collected", done.stdout), done.stdout


def test_without_a_handler_yaml_files_are_not_collected(tmp_path: Path) -> None:
    done = _pytest(_project(tmp_path), "--collect-only", "-q", "scenarios")
    assert "no tests collected" in done.stdout, done.stdout


def test_an_invalid_scenario_file_fails_with_the_field_and_line(tmp_path: Path) -> None:
    project = _project(tmp_path)
    (project / "scenarios" / "broken.yaml").write_text("name: broken\nduration_s: -5\nfaults: []\n")
    done = _pytest(project, "--prelive-handler", f"python {NAIVE}", "-k", "broken", "scenarios")
    assert done.returncode == 1 and "invalid scenario file" in done.stdout
    assert "broken.yaml:2: duration_s" in done.stdout, done.stdout


def test_the_readme_example_test_file_is_the_tested_one_and_passes(tmp_path: Path) -> None:
    example = REPO / "examples" / "pytest" / "test_my_bot.py"
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert example.read_text(encoding="utf-8").strip() in readme
    shutil.copy(example, tmp_path)
    done = _pytest(tmp_path, "-q", "test_my_bot.py")
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_factory_config_takes_the_scenarios_faults_symbols_and_seed() -> None:
    config = gateway_config_for("disconnect_flap", symbols=["AAPL"], seed=7)
    assert config.seed == 7 and config.market.symbols == ["AAPL"] and config.port == 0
    assert any(getattr(f, "name", "") == "disconnect" or type(f).__name__ == "Disconnect"
               for f in getattr(config.faults, "faults", config.faults) or [])
    plain = gateway_config_for(None, symbols=["MSFT"], seed=3, speed=50.0)
    assert plain.seed == 3 and plain.market.symbols == ["MSFT"] and plain.speed == 50.0
