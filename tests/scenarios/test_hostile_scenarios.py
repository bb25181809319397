"""Scenario files are untrusted input: files they name stay inside their folder (or one the user
passes), errors never echo another file's contents, the YAML loader is bounded, every number is
bounded. Each case is a hole an attack run found; each answer is the loader's usual ScenarioError."""
from __future__ import annotations

import textwrap
import time

import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.scenario import ScenarioError, load_scenario
from harness.yaml_marks import MAX_YAML_BYTES

pytestmark = pytest.mark.timeout(30)
SECRET = "TWS_PASSWORD=hunter2-planted"


def _scenario(folder, text, name="s.yaml"):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


def _refused(path, **kwargs) -> ScenarioError:
    with pytest.raises(ScenarioError) as err:
        load_scenario(path, **kwargs)
    return err.value


def _empirical(file: str) -> str:
    return f"""\
    description: hostile
    duration_s: 60
    faults:
      - type: latency
        distribution: {{kind: empirical, file: {file}}}
    """


@pytest.fixture
def secrets_file(tmp_path):
    secrets = tmp_path / "secrets" / "paper.env"
    secrets.parent.mkdir()
    secrets.write_text(f"TWS_USERID=someone\nIB_ACCOUNT=DU1\n{SECRET}\n")
    return secrets


# ------------------------------------------------------------------------- files a scenario names
def test_a_path_out_of_the_scenario_folder_is_refused_without_reading_it(tmp_path, secrets_file):
    path = _scenario(tmp_path / "scenarios" / "mine", _empirical("../../secrets/paper.env"))
    err = _refused(path)
    assert err.field == "faults[0].distribution.file" and "outside the scenario's folder" in err.message
    assert "hunter2" not in str(err)


def test_an_absolute_path_elsewhere_is_refused(tmp_path, secrets_file):
    err = _refused(_scenario(tmp_path / "s", _empirical(str(secrets_file))))
    assert "outside the scenario's folder" in err.message and "hunter2" not in str(err)


def test_a_symlink_in_the_folder_pointing_out_of_it_is_refused(tmp_path, secrets_file):
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "acks.csv").symlink_to(secrets_file)
    err = _refused(_scenario(folder, _empirical("acks.csv")))
    assert "outside the scenario's folder" in err.message and "hunter2" not in str(err)


def test_a_bad_line_in_a_samples_file_is_named_but_never_quoted(tmp_path):
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "acks.csv").write_text(f"latency_ms\n12\n{SECRET}\n")
    err = _refused(_scenario(folder, _empirical("acks.csv")))
    assert "acks.csv:3" in err.message and "hunter2" not in str(err) and "TWS_PASSWORD" not in str(err)


def test_a_bad_row_in_a_replay_file_is_named_but_never_quoted(tmp_path):
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "bars.csv").write_text(f"symbol,time,open,high,low,close,volume\nAAPL,{SECRET},1,1,1,1,1\n")
    err = _refused(_scenario(folder, "description: x\nduration_s: 60\nmarket: {replay_csv: bars.csv}\n"))
    assert "bars.csv:2" in err.message and "hunter2" not in str(err)


def test_a_folder_the_user_passes_explicitly_is_allowed(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "acks.csv").write_text("12\n15\n")
    path = _scenario(tmp_path / "s", _empirical(str(shared / "acks.csv")))
    assert "outside" in _refused(path, data_dirs=[]).message
    assert load_scenario(path, data_dirs=[shared]).faults[0].distribution.samples_ms.tolist() == [12.0, 15.0]


def test_the_data_dirs_environment_variable_is_a_way_to_pass_the_folder(tmp_path, monkeypatch):
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "acks.csv").write_text("12\n")
    monkeypatch.setenv("PRELIVE_DATA_DIRS", str(shared))
    load_scenario(_scenario(tmp_path / "s", _empirical("../shared/acks.csv")))


def test_validate_cli_refuses_and_prints_no_secret(tmp_path, secrets_file):
    path = _scenario(tmp_path / "scenarios" / "mine", _empirical("../../secrets/paper.env"))
    result = CliRunner().invoke(app, ["scenarios", "validate", str(path)])
    assert result.exit_code == 1 and "hunter2" not in result.output and "outside" in result.output
    etc = _scenario(tmp_path / "e", _empirical("/etc/passwd"))
    result = CliRunner().invoke(app, ["scenarios", "validate", str(etc)])
    assert result.exit_code == 1 and "root:" not in result.output


# ---------------------------------------------------------------------------- the YAML itself
def _quick_refusal(path, match: str) -> None:
    t0 = time.monotonic()
    err = _refused(path)
    assert match in str(err)
    assert time.monotonic() - t0 < 5


def test_an_alias_bomb_is_refused_before_it_expands(tmp_path):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join(['*a' + str(i - 1)] * 9)}]" for i in range(1, 9)]
    lines += ["description: *a8", "duration_s: 60"]
    _quick_refusal(_scenario(tmp_path, "\n".join(lines) + "\n"), "expands to more than")


def test_a_recursive_alias_is_a_clear_error_not_a_recursion_error(tmp_path):
    _quick_refusal(_scenario(tmp_path, "description: &d [x, *d]\nduration_s: 60\n"), "recursive alias")


def test_deep_nesting_is_refused(tmp_path):
    _quick_refusal(_scenario(tmp_path, "description: " + "[" * 5000 + "]" * 5000 + "\nduration_s: 60\n"),
                   "nesting deeper than")


def test_a_huge_file_is_refused_without_reading_it_all(tmp_path):
    path = tmp_path / "big.yaml"
    with open(path, "wb") as fh:
        fh.write(b"description: x\nduration_s: 60\n# ")
        fh.truncate(100 * 1024 * 1024)   # 100 MB, sparse
    _quick_refusal(path, f"larger than {MAX_YAML_BYTES} bytes")


def test_a_device_is_not_a_scenario_file():
    _quick_refusal("/dev/zero", "not a regular file")


# ---------------------------------------------------------------------------------- the numbers
BASE = {"description": "x", "duration_s": "60"}


@pytest.mark.parametrize("field, value, path", [
    ("speed", ".inf", "speed"),
    ("speed", "1e9", "speed"),
    ("speed", ".nan", "speed"),
    ("duration_s", ".inf", "duration_s"),
    ("duration_s", "1e308", "duration_s"),
    ("seed", "-1", "seed"),
    ("seed", "1" + "0" * 30, "seed"),
    ("market", "{tick_interval_s: 1e-12}", "market.tick_interval_s"),
    ("market", "{initial_prices: {AAPL: 1e308}}", "market.initial_prices.AAPL"),
    ("market", "{volatility_annual: 1e308}", "market.volatility_annual"),
    ("market", "{drift_annual: -.inf}", "market.drift_annual"),
    ("accounts", "[{id: DU1, cash: 1e308}]", "accounts[0].cash"),
    ("handler", "{client_id: 99999999999}", "handler.client_id"),
    ("faults", "[{type: latency, distribution: {kind: fixed, ms: .inf}}]", "faults[0].distribution"),
])
def test_every_number_is_bounded_with_the_usual_clear_error(tmp_path, field, value, path):
    fields = {**BASE, field: value}
    text = "".join(f"{k}: {v}\n" for k, v in fields.items())
    err = _refused(_scenario(tmp_path, text))
    assert err.field.startswith(path) and err.line is not None, str(err)


def test_a_tick_rate_the_clock_cannot_keep_up_with_is_refused(tmp_path):
    err = _refused(_scenario(tmp_path, "description: x\nduration_s: 60\nspeed: 10000\nmarket: {tick_interval_s: 0.01}\n"))
    assert err.field == "market.tick_interval_s" and "per wall second" in err.message


def test_the_shipped_extremes_still_load(tmp_path):
    load_scenario(_scenario(tmp_path, "description: x\nduration_s: 23400\nspeed: 3900\nseed: 0\n"))
