"""Round trip: a mock with known latency distributions stands in for the real gateway; calibrate recovers them."""
from __future__ import annotations

import csv

import pytest
from pydantic import TypeAdapter
from typer.testing import CliRunner

from harness.calibrate.scenario_writer import calibrate_events, write_calibration
from harness.calibrate.session import read_session
from harness.cli import app
from harness.scenario import load_scenario
from mock_gateway.faults.distributions import Distribution

from .sessions import record_mock_session, write_scenario

TRUTH = {
    "order_ack": {"kind": "normal", "mean_ms": 80, "std_ms": 10},
    "order_fill": {"kind": "uniform", "low_ms": 200, "high_ms": 400},
    "contract_data": {"kind": "normal", "mean_ms": 150, "std_ms": 20},
    "account_data": {"kind": "normal", "mean_ms": 40, "std_ms": 4},
}


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("truth")
    faults = [{"type": "latency", "name": f"truth_{kind}", "kinds": [kind], "distribution": dist}
              for kind, dist in TRUTH.items()]
    faults.append({"type": "farm_status", "name": "hmds_flap", "farm": "hmds", "schedule": {"every_s": 400, "start_s": 300, "duration_s": 30}})
    scenario = write_scenario(folder, {"seed": 11, "speed": 200, "duration_s": 3600,
                                       "start": "2026-11-25T14:30:00Z",
                                       "market": {"symbols": ["AAPL", "MSFT"]}, "faults": faults})
    return record_mock_session(scenario, folder / "session.jsonl", rounds=200, speed=200.0)


@pytest.fixture(scope="module")
def calibrated(recorded, tmp_path_factory):
    out = tmp_path_factory.mktemp("calibrated") / "scenarios" / "my_paper.yaml"
    result = CliRunner().invoke(app, ["calibrate", str(recorded), "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out, result.output


def _p(values, q):
    import numpy as np
    return float(np.percentile(values, q))


@pytest.mark.parametrize("kind", list(TRUTH))
def test_calibrate_recovers_each_latency_distribution_within_5_percent(calibrated, kind):
    out, _ = calibrated
    scenario = load_scenario(out)
    [fault] = [f for f in scenario.faults if f.type == "latency" and [k.value for k in f.kinds] == [kind]]
    assert fault.distribution.kind == "empirical"
    truth = TypeAdapter(Distribution).validate_python(TRUTH[kind])
    samples = fault.distribution.samples_ms
    assert len(samples) >= 150
    for q in (0.5, 0.95):
        assert _p(samples, q * 100) == pytest.approx(truth.quantile(q), rel=0.05), (kind, q)


def test_latency_files_sit_inside_the_scenario_folder(calibrated):
    out, _ = calibrated
    for fault in load_scenario(out).faults:
        if fault.type == "latency":
            assert fault.distribution.file.resolve().is_relative_to(out.parent.resolve())
            with open(fault.distribution.file) as fh:
                assert any(row and row[0] == "latency_ms" for row in csv.reader(fh))


def test_calibrate_recovers_the_day_the_universe_and_the_farm_outage(calibrated):
    out, output = calibrated
    scenario = load_scenario(out)
    assert scenario.start.isoformat().startswith("2026-11-25T14:30")
    assert scenario.market.symbols == ["AAPL", "MSFT"]
    farms = [f for f in scenario.faults if f.type == "farm_status"]
    assert farms, "the HMDS farm flapped every 400 s from 300 s; calibrate found none"
    for farm in farms:   # each flap the client was connected for: at 300 + k * 400 s, 30 s long
        assert farm.farm == "hmds" and farm.schedule.duration_s == pytest.approx(30, abs=0.5)
        phase = (farm.schedule.at_s - 300) % 400
        assert min(phase, 400 - phase) == pytest.approx(0, abs=0.5)
    assert "not inferred: latency market_data" in output   # the handler never asked for market data


def test_calibration_leaves_nothing_behind_when_the_scenario_cannot_be_written(recorded, tmp_path):
    cal = calibrate_events(read_session(recorded), "x")
    cal.scenario["faults"].append({"type": "no_such_fault"})
    from harness.scenario import ScenarioError
    with pytest.raises(ScenarioError):
        write_calibration(cal, tmp_path / "x.yaml")
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_a_run_on_the_calibrated_scenario_measures_the_same_latency_metrics_within_10_percent(recorded, calibrated,
                                                                                             tmp_path):
    from harness.metrics.frame import load_frame
    from harness.metrics.latency import fill_latency_ms, order_ack_latency_ms

    out, _ = calibrated
    rerun = record_mock_session(out, tmp_path / "rerun.jsonl", rounds=200, speed=200.0)
    before, after = load_frame(recorded), load_frame(rerun)
    for metric in (order_ack_latency_ms, fill_latency_ms):
        for q in (50, 95):
            assert metric(after, q) == pytest.approx(metric(before, q), rel=0.10), (metric.__name__, q)
