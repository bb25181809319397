"""pytest plugin (entry point ``prelive_scenarios``): scenario files are test items.

``pytest --prelive-handler "python bot.py" scenarios/`` collects every scenario file (a YAML
mapping with ``duration_s`` and ``faults:`` or ``expect:``) as one test, as tavern does with YAML
API tests: the test runs the scenario against the handler through the same runner as
``prelive run``, and fails with the run's verdict and first cause. So ``--junitxml``, ``-k`` and
pytest-xdist work on scenarios. The handler, length, speed and output folder can also come from
a ``[tool.prelive]`` table in the project's pyproject.toml (``handler``, ``duration_s``,
``speed``, ``out``); command-line options win.

``run_scenario`` is a fixture that runs a handler against a scenario and returns the outcome
(``verdict``, ``metrics``, ``cause``, ``run_dir``) for tests that assert more than the verdict.
"""
from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from .ci_output import PASS, _details, first_cause, outcome_verdict

_SCENARIO_SUFFIXES = (".yaml", ".yml")


class ScenarioNotPassed(Exception):
    """A scenario run whose verdict is not PASS; the message is the verdict and its first cause."""

    def __init__(self, outcome: Any) -> None:
        self.outcome = outcome
        self.verdict = outcome_verdict(outcome)
        super().__init__(f"{self.verdict}: {first_cause(outcome)}")


# ---------------------------------------------------------------------------- options
def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("prelive", "prelive scenarios as tests")
    group.addoption("--prelive-handler", default=None, metavar="COMMAND",
                    help="Collect scenario files as tests and run each against this handler "
                         "(a command line or package.module:function).")
    group.addoption("--prelive-duration", type=float, default=None, metavar="SIM_S",
                    help="Override every scenario's length (sim seconds).")
    group.addoption("--prelive-speed", type=float, default=None, metavar="X",
                    help="Override every scenario's clock speed.")
    group.addoption("--prelive-out", default=None, metavar="DIR",
                    help="Where the runs go (one folder per scenario; default: prelive-runs).")


def _pyproject_settings(rootdir: Path) -> dict[str, Any]:
    path = rootdir / "pyproject.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return {}
    section = data.get("tool", {}).get("prelive", {})
    return section if isinstance(section, dict) else {}


def settings(config: pytest.Config) -> dict[str, Any]:
    """handler, duration_s, speed, out: the command line over ``[tool.prelive]``."""
    cached = getattr(config, "_prelive_settings", None)
    if cached is not None:
        return cached
    file = _pyproject_settings(Path(config.rootpath))
    out = {
        "handler": config.getoption("prelive_handler") or file.get("handler"),
        "duration_s": config.getoption("prelive_duration") or file.get("duration_s"),
        "speed": config.getoption("prelive_speed") or file.get("speed"),
        "out": Path(config.getoption("prelive_out") or file.get("out") or "prelive-runs"),
    }
    for key in ("duration_s", "speed"):
        if out[key] is not None and (not isinstance(out[key], (int, float)) or out[key] <= 0):
            raise pytest.UsageError(f"[tool.prelive] {key} must be a positive number, got {out[key]!r}")
    config._prelive_settings = out  # type: ignore[attr-defined]
    return out


# ---------------------------------------------------------------------------- collection
def _looks_like_scenario(path: Path) -> bool:
    """A YAML mapping with a length and faults or expectations (not a compose or CI file)."""
    try:
        if path.stat().st_size > 1 << 20:
            return False
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False
    return isinstance(data, dict) and "duration_s" in data and ("faults" in data or "expect" in data)


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix not in _SCENARIO_SUFFIXES or not settings(parent.config)["handler"]:
        return None
    if not _looks_like_scenario(file_path):
        return None
    return ScenarioFile.from_parent(parent, path=file_path)


class ScenarioFile(pytest.File):
    def collect(self):  # type: ignore[no-untyped-def]
        name = self.path.stem
        try:
            data = yaml.safe_load(self.path.read_text(encoding="utf-8"))
            name = str(data.get("name") or name) if isinstance(data, dict) else name
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            pass
        yield ScenarioItem.from_parent(self, name=name)


class ScenarioItem(pytest.Item):
    """One scenario run: PASS passes; FAIL, NOT EXERCISED and ERROR fail with the first cause."""

    def runtest(self) -> None:
        from .runner import RunOptions, run_scenario
        from .scenario import load_scenario

        s = settings(self.config)
        scenario = load_scenario(self.path)   # a broken file fails here with the file, field and line
        out = Path(s["out"])
        options = RunOptions(out_dir=out, handler=s["handler"], speed=s["speed"], duration_s=s["duration_s"])
        outcome = run_scenario(scenario, options)
        verdict = outcome_verdict(outcome)
        self.user_properties.append(("verdict", verdict))
        self.user_properties.append(("run_dir", str(outcome.run_dir)))
        if verdict != PASS:
            raise ScenarioNotPassed(outcome)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        from .scenario import ScenarioError

        if isinstance(excinfo.value, ScenarioNotPassed):
            o = excinfo.value.outcome
            lines = [f"scenario {o.scenario}: {excinfo.value}", *(f"  {d}" for d in _details(o)),
                     f"  run directory: {o.run_dir}"]
            return "\n".join(lines)
        if isinstance(excinfo.value, ScenarioError):
            return f"invalid scenario file:\n{excinfo.value}"
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"scenario: {self.name}"


# ---------------------------------------------------------------------------- fixture
@pytest.fixture
def run_scenario(tmp_path: Path, request: pytest.FixtureRequest) -> Callable[..., Any]:
    """Run a handler against a scenario; returns the runner's outcome (``verdict``, ``metrics``,
    ``cause``, ``run_dir``, ``expectations``). Arguments: the scenario (file, shipped name or a
    loaded Scenario), ``handler=`` (default: the scenario's, or ``--prelive-handler``),
    ``duration_s=``, ``speed=``, ``seed=``, ``symbols=``, ``faults=`` (more faults in the scenario-file
    form, validated as ``gw.faults.add`` validates them)."""
    from .runner import RunOptions
    from .runner import run_scenario as run
    from .scenario import load_scenario

    def go(scenario: Any, handler: str | None = None, *, duration_s: float | None = None, speed: float | None = None,
           seed: int | None = None, symbols: list[str] | None = None, faults: list[Any] | None = None) -> Any:
        loaded = scenario if hasattr(scenario, "gateway_config") else load_scenario(scenario)
        if faults:   # more faults in the scenario-file form: accounted (acted / NOT EXERCISED) as the file's own
            from mock_gateway.faults.spec import fault_from_spec

            added = [f if hasattr(f, "bound") else fault_from_spec(f) for f in faults]
            taken = {f.name for f in loaded.faults}
            for f in added:
                if f.name in taken:
                    raise ValueError(f"scenario {loaded.name} already has a fault named {f.name!r}; name the added "
                                     "one otherwise")
                taken.add(f.name)
            loaded = loaded.model_copy(update={"faults": [*loaded.faults, *added]})
        if seed is not None:
            loaded = loaded.model_copy(update={"seed": int(seed)})
        if symbols is not None:
            loaded = loaded.model_copy(update={"market": loaded.market.model_copy(update={"symbols": list(symbols)})})
        out = tmp_path / re.sub(r"[^A-Za-z0-9_.-]", "_", loaded.name)
        options = RunOptions(out_dir=out, handler=handler or settings(request.config)["handler"], speed=speed,
                             duration_s=duration_s)
        return run(loaded, options)

    return go
