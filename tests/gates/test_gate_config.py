"""The gates config: the template's thresholds by default, every one overridable, mistakes named."""
from __future__ import annotations

import pytest

from harness.gates.config import build_config, load_config
from harness.gates.errors import GatesConfigError

DEFAULTS = build_config()

TEMPLATE_THRESHOLDS = [
    ("artifact_validation", "test_coverage_pct", ">=", 80),
    ("artifact_validation", "artifact_coverage_pct", ">=", 80),
    ("paper_trading", "latency_delta_pct", "<", 50),
    ("paper_trading", "p95_latency_ms", "<", 200),
    ("paper_trading", "pacing_violations", "==", 0),
    ("paper_trading", "fill_rate_pct", ">", 98),
    ("paper_trading", "sharpe_vs_backtest", ">=", 0.5),
    ("paper_trading", "trade_count_min", ">=", 50),
    ("paper_trading", "trade_count_max", "<=", 200),
    ("paper_trading", "disconnects", "==", 0),
    ("go_live", "rollback_recovery_s", "<", 30),
]


@pytest.mark.parametrize(("gate", "name", "op", "value"), TEMPLATE_THRESHOLDS,
                         ids=[f"{g}.{n}" for g, n, _, _ in TEMPLATE_THRESHOLDS])
def test_defaults_are_the_go_live_template_thresholds(gate, name, op, value):
    threshold = getattr(getattr(DEFAULTS.gates, gate), name)
    assert (threshold.op, threshold.value) == (op, value)


def test_default_signers_and_severities():
    assert DEFAULTS.gates.go_live.required_signers == ["Risk Officer", "CTO", "Lead Trader"]
    critical = [name for name, gate in DEFAULTS.gates if gate.critical]
    assert critical == ["account_config", "paper_trading"]


def test_a_user_file_overrides_one_value_and_keeps_the_rest(tmp_path):
    path = tmp_path / "gates.yaml"
    path.write_text("gates:\n  paper_trading:\n    fill_rate_pct: {value: 99.5}\n    critical: false\n")
    config = load_config(path)
    assert (config.gates.paper_trading.fill_rate_pct.op, config.gates.paper_trading.fill_rate_pct.value) == (">", 99.5)
    assert config.gates.paper_trading.critical is False
    assert config.gates.paper_trading.disconnects == DEFAULTS.gates.paper_trading.disconnects
    assert config.sources == ("harness/gates/defaults.yaml", str(path))


def test_lists_in_a_user_file_replace_the_default_list():
    config = build_config({"gates": {"go_live": {"required_signers": ["CTO"]}}})
    assert config.gates.go_live.required_signers == ["CTO"]


def test_an_empty_user_file_gives_the_defaults(tmp_path):
    path = tmp_path / "gates.yaml"
    path.write_text("")
    assert load_config(path).gates == DEFAULTS.gates


INVALID = [
    ("gates:\n  paper_trading:\n    fill_rate: {value: 99}\n", "gates.paper_trading.fill_rate: unknown key"),
    ("gates:\n  paper_trading:\n    fill_rate_pct: {op: '=>'}\n", "gates.paper_trading.fill_rate_pct.op"),
    ("gates:\n  paper_trading:\n    fill_rate_pct: {value: lots}\n", "gates.paper_trading.fill_rate_pct.value"),
    ("decision: {min_passing_gates: 8}\n", "decision.min_passing_gates"),
    ("decision: {minor_margin_pct: -1}\n", "decision.minor_margin_pct"),
    ("gates:\n  go_live:\n    required_signers: []\n", "gates.go_live.required_signers"),
    ("evidence:\n  required_artifacts: [signatures]\n", "must not list 'signatures'"),
    ("version: 2\n", "version"),
    ("- a list\n", "must be a mapping"),
    ("gates: {paper_trading: [\n", "not valid YAML"),
]


@pytest.mark.parametrize(("text", "message"), INVALID, ids=[m for _, m in INVALID])
def test_an_invalid_user_file_is_refused_with_the_key_and_the_file(tmp_path, text, message):
    path = tmp_path / "gates.yaml"
    path.write_text(text)
    with pytest.raises(GatesConfigError) as raised:
        load_config(path)
    assert str(path) in str(raised.value) and message in str(raised.value)


def test_an_unreadable_config_file_is_named(tmp_path):
    with pytest.raises(GatesConfigError, match="nope.yaml: cannot read"):
        load_config(tmp_path / "nope.yaml")
