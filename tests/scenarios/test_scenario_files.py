import textwrap

import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.scenario import ScenarioError, find_scenario, load_scenario, shipped_scenarios

SHIPPED = ["baseline", "after_hours_open", "holiday", "order_validation", "pacing_storm", "hist_pacing", "market_data_lines", "disconnect_flap", "gateway_restart",
           "latency_spike", "order_rejects", "partial_fills", "connectivity_loss_1100", "handshake_stall",
           "client_id_in_use", "late_replies", "six_hour_session"]
SHIPPED += ["restart_with_positions", "weekly_reauth", "cash_account"]   # account: start state, weekly login, cash rules

GOOD = """\
description: ok
duration_s: 600
faults:
  - type: latency
    distribution: {kind: fixed, ms: 5}
"""


def write(tmp_path, text, name="s.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def refused(tmp_path, text) -> ScenarioError:
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert err.value.file == str(path)
    return err.value


def test_every_shipped_scenario_is_there():
    assert sorted(p.stem for p in shipped_scenarios()) == sorted(SHIPPED)


#: Shipped scenarios whose point is a handler of their own (the rest run the reference handler).
OWN_HANDLER = {"order_validation": "harness.order_validation"}


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_scenario_loads_and_builds_a_gateway(name, tmp_path):
    scenario = load_scenario(name)
    config = scenario.gateway_config(port=0, event_log=tmp_path / "events.jsonl")
    assert scenario.name == name and scenario.description
    assert config.port == 0 and config.seed == scenario.seed and config.speed == scenario.speed
    assert {f.name for f in scenario.faults} <= {f.name for f in config.faults.faults}
    assert scenario.handler.argv()[1:] == ["-m", OWN_HANDLER.get(name, "harness.client")]


def test_a_good_file_loads_with_defaults(tmp_path):
    s = load_scenario(write(tmp_path, GOOD, "my_run.yaml"))
    assert (s.name, s.seed, s.speed, s.accounts[0].id) == ("my_run", 42, 1.0, "DU1234567")
    assert s.handler.command == ["python", "-m", "harness.client"]


def test_gateway_config_overrides_replace_fields(tmp_path):
    config = load_scenario(write(tmp_path, GOOD)).gateway_config(speed=50)
    assert config.speed == 50


def test_a_bad_schedule_names_the_field_path_and_line(tmp_path):
    err = refused(tmp_path, """\
        description: x
        duration_s: 600
        faults:
          - type: latency
            distribution: {kind: fixed, ms: 5}
            schedule: {from_s: 1, to_s: 2}
          - type: disconnect
            schedule: {at_s: 5}
          - type: disconnect
            name: flap
            schedule:
              every_s: -3
        """)
    assert (err.field, err.line) == ("faults[2].schedule.every_s", 12)
    assert "greater than 0" in err.message


def test_an_unknown_field_suggests_the_known_one(tmp_path):
    err = refused(tmp_path, GOOD + "    distibution: {kind: fixed, ms: 1}\n")
    assert (err.field, err.line) == ("faults[0].distibution", 6)
    assert err.message == "unknown field (did you mean 'distribution'?)"


def test_an_unknown_fault_type_lists_the_known_ones(tmp_path):
    err = refused(tmp_path, "description: x\nduration_s: 10\nfaults:\n  - type: meteor\n")
    assert (err.field, err.line) == ("faults[0]", 4)
    assert "unknown type 'meteor'" in err.message and "latency" in err.message


def test_a_fault_without_a_type_is_refused(tmp_path):
    err = refused(tmp_path, "description: x\nduration_s: 10\nfaults:\n  - schedule: {at_s: 1}\n")
    assert (err.field, err.line, err.message) == ("faults[0]", 4, "needs a type: field")


def test_a_missing_field_points_at_its_parent(tmp_path):
    err = refused(tmp_path, "description: x\nduration_s: 10\nfaults:\n  - type: latency\n    kinds: [order_ack]\n")
    assert (err.field, err.line) == ("faults[0].distribution", 4)
    assert err.message == "missing required field 'distribution'"


def test_missing_top_level_field_is_reported_at_line_1(tmp_path):
    err = refused(tmp_path, "description: x\n")
    assert (err.field, err.line, err.message) == ("duration_s", 1, "missing required field 'duration_s'")


def test_every_problem_is_reported_not_only_the_first(tmp_path):
    err = refused(tmp_path, "description: x\nduration_s: -1\nspeed: 0\n")
    assert [p.field for p in err.problems] == ["speed", "duration_s"]
    assert "s.yaml:3: speed:" in str(err) and "s.yaml:2: duration_s:" in str(err)


def test_yaml_syntax_errors_carry_the_line(tmp_path):
    err = refused(tmp_path, "description: x\nduration_s: 10\nfaults: [\n  {type: latency\n")
    assert err.field is None and err.line is not None and err.line >= 4
    assert err.message.startswith("not valid YAML")


def test_a_repeated_key_is_refused_rather_than_silently_overwritten(tmp_path):
    err = refused(tmp_path, "description: x\nduration_s: 10\nseed: 1\nseed: 2\n")
    assert err.line == 4 and "'seed' appears twice (first on line 3)" in err.message


def test_a_file_that_is_not_a_mapping_is_refused(tmp_path):
    assert "YAML mapping" in refused(tmp_path, "- just\n- a list\n").message


def test_a_fault_that_would_never_act_is_refused(tmp_path):
    err = refused(tmp_path, """\
        description: x
        duration_s: 100
        faults:
          - type: disconnect
            schedule: {at_s: 150}
        """)
    assert (err.field, err.line) == ("faults[0].schedule.at_s", 5)
    assert "never act" in err.message


def test_two_faults_with_one_name_are_refused(tmp_path):
    err = refused(tmp_path, GOOD + "  - type: latency\n    distribution: {kind: fixed, ms: 9}\n")
    assert (err.field, err.line) == ("faults[1].name", 6)


def test_a_missing_latency_samples_file_is_refused(tmp_path):
    err = refused(tmp_path, """\
        description: x
        duration_s: 100
        faults:
          - type: latency
            distribution: {kind: empirical, file: data/nope.csv}
        """)
    assert err.field == "faults[0].distribution.file" and err.line == 5
    assert "not found" in err.message and str(tmp_path / "data" / "nope.csv") in err.message


def test_replay_bars_are_read_at_load_time(tmp_path):
    (tmp_path / "bars.csv").write_text("symbol,time,open,high,low,close,volume\nAAPL,2026-11-24T14:30:00Z,1,2,0.5,x,10\n")
    err = refused(tmp_path, "description: x\nduration_s: 10\nmarket:\n  replay_csv: bars.csv\n")
    assert (err.field, err.line) == ("market.replay_csv", 4) and "bars.csv:2" in err.message


def test_good_replay_bars_load(tmp_path):
    (tmp_path / "bars.csv").write_text("symbol,time,open,high,low,close,volume\nAAPL,2026-11-24T14:30:00Z,1,2,0.5,1.5,10\n")
    s = load_scenario(write(tmp_path, "description: x\nduration_s: 10\nmarket:\n  replay_csv: bars.csv\n"))
    assert s.gateway_config().market.replay_csv == tmp_path / "bars.csv"


def test_a_daily_restart_outside_the_run_is_refused(tmp_path):
    err = refused(tmp_path, "description: x\nduration_s: 600\nfaults:\n  - type: daily_restart\n    time: '23:45'\n")
    assert err.field == "faults[0].time" and "does not come within the scenario" in err.message


def test_handler_takes_command_or_entry_point_not_both(tmp_path):
    err = refused(tmp_path, "description: x\nduration_s: 10\nhandler:\n  command: run\n  entry_point: a.b:c\n")
    assert (err.field, err.line) == ("handler", 3) and "not both" in err.message


def test_unknown_metrics_and_bad_bounds_are_refused(tmp_path):
    err = refused(tmp_path, "description: x\nduration_s: 10\nexpect:\n  metrics:\n    fill_rate: {min: 98}\n"
                            "    disconnects: {min: 3, max: 1}\n")
    assert [(p.field, p.line) for p in err.problems] == [("expect.metrics.fill_rate", 5),
                                                         ("expect.metrics.disconnects", 6)]
    assert "did you mean 'fill_rate_pct'" in err.problems[0].message


def test_live_account_ids_are_refused(tmp_path):
    err = refused(tmp_path, "description: x\nduration_s: 10\naccounts:\n  - id: U1234567\n")
    assert (err.field, err.line) == ("accounts[0].id", 4)


def test_container_faults_are_validated(tmp_path):
    err = refused(tmp_path, "description: x\nduration_s: 10\ncontainer_faults:\n  - {action: explode, at_s: 1}\n")
    assert err.field == "container_faults[0].action" and err.line == 4


def test_a_missing_file_is_a_scenario_error(tmp_path):
    with pytest.raises(ScenarioError, match="cannot read the file"):
        load_scenario(tmp_path / "absent.yaml")


def test_a_shipped_scenario_is_found_by_name():
    assert find_scenario("baseline").name == "baseline.yaml"


def test_prelive_scenarios_lists_the_shipped_ones():
    result = CliRunner().invoke(app, ["scenarios"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert [line.split()[0] for line in lines] == sorted(SHIPPED)
    assert "Healthy gateway" in result.output


def test_prelive_scenarios_validate_fails_on_a_broken_file(tmp_path):
    bad = write(tmp_path, "description: x\nduration_s: 0\n")
    result = CliRunner().invoke(app, ["scenarios", "validate", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:2: duration_s: Input should be greater than 0" in result.output


def test_prelive_scenarios_validate_passes_a_good_file(tmp_path):
    result = CliRunner().invoke(app, ["scenarios", "validate", str(write(tmp_path, GOOD))])
    assert result.exit_code == 0 and ": ok (" in result.output


def test_prelive_scenarios_faults_lists_every_fault_type():
    from mock_gateway.faults.registry import FAULT_TYPES
    result = CliRunner().invoke(app, ["scenarios", "faults"])
    assert result.exit_code == 0
    assert [line.split(":")[0] for line in result.output.splitlines() if not line.startswith(" ")] == list(FAULT_TYPES)


def test_every_container_fault_action_is_one_class_with_a_begin_and_its_undo_if_it_has_one():
    from harness.docker.faults import ACTIONS, CONTAINER_ACTIONS, UNDO

    for name in ACTIONS:
        cls = CONTAINER_ACTIONS[name]
        assert cls.name == name and callable(cls.begin)
        assert (name in UNDO) == (cls.undo_name is not None)


def test_a_container_fault_that_cannot_be_undone_refuses_a_duration_at_load_time(tmp_path):
    path = write(tmp_path, "name: cf\ndescription: x\nduration_s: 60\ncontainer_faults:\n"
                           "  - {action: restart_handler, at_s: 10, duration_s: 5}\n")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert "restart_handler takes no duration_s" in str(err.value)
