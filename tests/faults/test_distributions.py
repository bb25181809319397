import numpy as np
import pytest
from pydantic import TypeAdapter, ValidationError

from mock_gateway.faults.distributions import Distribution, Empirical, Fixed, LogNormal, Normal, Uniform
from mock_gateway.sim.rng import stream

N = 40_000


def sample_quantiles(dist, ps=(0.5, 0.95)):
    rng = stream(1, "test")
    xs = np.array([dist.sample(rng) for _ in range(N)])
    return [float(np.quantile(xs, p)) for p in ps]


@pytest.mark.parametrize("dist", [
    Fixed(ms=12), Uniform(low_ms=10, high_ms=50), Normal(mean_ms=40, std_ms=5), LogNormal(median_ms=30, p95_ms=80),
])
def test_samples_match_the_configured_quantiles(dist):
    for got, p in zip(sample_quantiles(dist), (0.5, 0.95)):
        assert got == pytest.approx(dist.quantile(p), rel=0.02)


def test_lognormal_is_given_by_median_and_p95():
    d = LogNormal(median_ms=20, p95_ms=60)
    assert d.quantile(0.5) == pytest.approx(20)
    assert d.quantile(0.95) == pytest.approx(60)


def test_normal_never_draws_a_negative_delay():
    rng = stream(1, "test")
    assert min(Normal(mean_ms=1, std_ms=5).sample(rng) for _ in range(2000)) == 0.0


def test_empirical_resamples_the_file(tmp_path):
    f = tmp_path / "ack.csv"
    f.write_text("latency_ms\n10\n20\n30\n")
    d = Empirical(file=f)
    rng = stream(1, "test")
    assert {d.sample(rng) for _ in range(200)} == {10.0, 20.0, 30.0}
    assert d.quantile(0.5) == 20


def test_empirical_file_is_resolved_against_the_scenario_folder(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "ack.csv").write_text("5\n6\n")
    d = TypeAdapter(Distribution).validate_python({"kind": "empirical", "file": "data/ack.csv"},
                                                   context={"base_dir": tmp_path})
    assert d.file == tmp_path / "data" / "ack.csv"


@pytest.mark.parametrize("content, message", [
    ("latency_ms\n", "no latency samples"),
    ("10\nabc\n", "ack.csv:2: the first column is not a number"),   # the line, never its text
    ("10\n-3\n", "ack.csv:2: a latency must be a number of milliseconds from 0"),
    ("10\ninf\n", "ack.csv:2: a latency must be a number of milliseconds from 0"),
])
def test_bad_empirical_files_are_refused_with_the_line(tmp_path, content, message):
    f = tmp_path / "ack.csv"
    f.write_text(content)
    with pytest.raises(ValidationError, match=message):
        TypeAdapter(Distribution).validate_python({"kind": "empirical", "file": str(f)})


def test_missing_empirical_file_is_refused():
    with pytest.raises(ValidationError, match="not found"):
        TypeAdapter(Distribution).validate_python({"kind": "empirical", "file": "/nonexistent/x.csv"})


@pytest.mark.parametrize("params, message", [
    ({"kind": "uniform", "low_ms": 5, "high_ms": 1}, "high_ms"),
    ({"kind": "lognormal", "median_ms": 50, "p95_ms": 10}, "p95_ms"),
    ({"kind": "fixed", "ms": -1}, "greater than or equal to 0"),
    ({"kind": "gamma"}, "does not match any of the expected tags"),
])
def test_bad_distribution_parameters_are_refused(params, message):
    with pytest.raises(ValidationError, match=message):
        TypeAdapter(Distribution).validate_python(params)
