"""GATE_1..GATE_7 on hand-made evidence: one row per behaviour (PASS, FAIL, PENDING)."""
from __future__ import annotations

import pytest

from harness.gates.config import build_config
from harness.gates.model import Status

from evidence_kit import EvidenceKit, condition

PASS, FAIL, PENDING = Status.PASS, Status.FAIL, Status.PENDING


def _junit(*cases: str, stamp: str = "2025-12-31T08:00:00+00:00") -> str:
    return f'<testsuites><testsuite name="t" timestamp="{stamp}">{"".join(cases)}</testsuite></testsuites>'


def _stage(stage_id: str, **changes):
    def edit(data: dict) -> None:
        next(s for s in data["stages"] if s["id"] == stage_id).update(changes)
    return edit


def _operation(name: str, **changes):
    def edit(data: dict) -> None:
        op = next(o for o in data["operations"] if o["name"] == name)
        op.update(changes)
        for key in [k for k, v in changes.items() if v is None]:
            del op[key]
    return edit


def _drop_operation(name: str):
    def edit(data: dict) -> None:
        data["operations"] = [o for o in data["operations"] if o["name"] != name]
    return edit


def test_the_example_evidence_passes_gates_1_to_7(kit: EvidenceKit):
    v = kit.verify()
    assert [g.status for g in v.gates[:7]] == [PASS] * 7


CASES = [
    # (behaviour, edit, config overrides, gate, condition, expected)
    ("two of ten artifacts absent is still 80 %",
     lambda k: (k.remove("KILL_SWITCH.json"), k.remove("ROLLBACK_DRILL.json")), {}, 1, "artifact_coverage_pct", PASS),
    ("three of ten artifacts absent is 70 %",
     lambda k: (k.remove("KILL_SWITCH.json"), k.remove("ROLLBACK_DRILL.json"), k.remove("GOVERNANCE.md")),
     {}, 1, "artifact_coverage_pct", FAIL),
    ("an extra required artifact that does not parse is invalid",
     lambda k: k.write("BACKTEST.json", "{not json"), {"evidence": {"required_artifacts": ["BACKTEST.json"]}},
     1, "artifact_coverage_pct", FAIL),
    ("coverage 79 % is below 80 %",
     lambda k: k.write("coverage.xml", '<coverage line-rate="0.79"/>'), {}, 1, "test_coverage_pct", FAIL),
    ("coverage of exactly 80 % passes",
     lambda k: k.write("coverage.xml", '<coverage line-rate="0.8"/>'), {}, 1, "test_coverage_pct", PASS),
    ("no coverage report is pending", lambda k: k.remove("coverage.xml"), {}, 1, "test_coverage_pct", PENDING),
    ("an empty governance file fails", lambda k: k.write("GOVERNANCE.md", "  \n"), {}, 1,
     "governance_framework_present", FAIL),
    ("no governance file is pending", lambda k: k.remove("GOVERNANCE.md"), {}, 1,
     "governance_framework_present", PENDING),
    ("a fixture that does not parse fails", lambda k: k.write("fixtures/broken.json", "{"), {}, 1,
     "fixtures_valid_pct", FAIL),
    ("a listed fixture that is absent fails", lambda k: None,
     {"evidence": {"fixtures": ["fixtures/*", "fixtures/missing.csv"]}}, 1, "fixtures_valid_pct", FAIL),
    ("no fixture files at all is pending", lambda k: None, {"evidence": {"fixtures": ["nowhere/*"]}}, 1,
     "fixtures_valid_pct", PENDING),

    ("a stage without outputs fails", lambda k: k.edit_yaml("INTERFACE_MAP.yaml", _stage("signals", outputs=[])),
     {}, 2, "stages_with_io_pct", FAIL),
    ("an input nobody produces fails",
     lambda k: k.edit_yaml("INTERFACE_MAP.yaml", _stage("risk", inputs=["target positions", "news"])),
     {}, 2, "stage_inputs_resolved_pct", FAIL),
    ("a required stage that is not defined fails", lambda k: None,
     {"gates": {"hierarchical_breakdown": {"required_stages": ["execution", "hedging"]}}}, 2,
     "required_stages_defined_pct", FAIL),
    ("required stages that are defined pass", lambda k: None,
     {"gates": {"hierarchical_breakdown": {"required_stages": ["execution", "risk"]}}}, 2,
     "required_stages_defined_pct", PASS),
    ("a map without stages fails", lambda k: k.edit_yaml("INTERFACE_MAP.yaml", lambda d: d.update(stages=[])),
     {}, 2, "stages_defined", FAIL),
    ("no interface map is pending", lambda k: k.remove("INTERFACE_MAP.yaml"), {}, 2, "stages_defined", PENDING),

    ("an operation without an SLA fails",
     lambda k: k.edit_yaml("INTERFACE_MAP.yaml", _operation("cancelOrder", sla_ms=None)), {}, 3,
     "slas_defined_pct", FAIL),
    ("an operation without error codes fails",
     lambda k: k.edit_yaml("INTERFACE_MAP.yaml", _operation("cancelOrder", error_codes={})), {}, 3,
     "error_codes_documented_pct", FAIL),
    ("an error code without a description fails",
     lambda k: k.edit_yaml("INTERFACE_MAP.yaml", _operation("cancelOrder", error_codes={161: " "})), {}, 3,
     "error_codes_documented_pct", FAIL),
    ("an operation mapped to an undefined stage fails",
     lambda k: k.edit_yaml("INTERFACE_MAP.yaml", _operation("cancelOrder", stage="hedging")), {}, 3,
     "operations_mapped_pct", FAIL),
    ("a required operation missing from the map fails",
     lambda k: k.edit_yaml("INTERFACE_MAP.yaml", _drop_operation("reqGlobalCancel")), {}, 3,
     "operations_mapped_pct", FAIL),
    ("a request seen in the paper session but not mapped fails", lambda k: None,
     {"gates": {"interface_mapping": {"ignore_observed_operations": []}}}, 3, "operations_mapped_pct", FAIL),
    ("observed requests are not required when switched off", lambda k: None,
     {"gates": {"interface_mapping": {"ignore_observed_operations": [], "include_observed_operations": False}}},
     3, "operations_mapped_pct", PASS),
    ("no interface map leaves the mapping pending", lambda k: k.remove("INTERFACE_MAP.yaml"), {}, 3,
     "slas_defined_pct", PENDING),

    ("an unimplemented operation fails",
     lambda k: k.edit_yaml("INTERFACE_MAP.yaml", _operation("reqExecutions", implemented=False)), {}, 4,
     "operations_implemented_pct", FAIL),
    ("a failing unit test fails",
     lambda k: k.write("junit-unit.xml", _junit('<testcase classname="a" name="ok"/>',
                                                '<testcase classname="a" name="bad"><failure/></testcase>')),
     {}, 4, "unit_tests_failed", FAIL),
    ("an erroring unit test fails",
     lambda k: k.write("junit-unit.xml", _junit('<testcase classname="a" name="e"><error/></testcase>')),
     {}, 4, "unit_tests_failed", FAIL),
    ("unit tests that were all skipped did not run",
     lambda k: k.write("junit-unit.xml", _junit('<testcase classname="a" name="s"><skipped/></testcase>')),
     {}, 4, "unit_tests_run", FAIL),
    ("no unit test report is pending", lambda k: k.remove("junit-unit.xml"), {}, 4, "unit_tests_run", PENDING),

    ("an erroring stage test is not runnable",
     lambda k: k.write("junit-stages.xml", _junit(
         '<testcase classname="tests.stages.test_risk" name="t"><error message="fixture"/></testcase>')),
     {}, 5, "stage_tests_not_run", FAIL),
    ("an empty stage test report has no tests", lambda k: k.write("junit-stages.xml", _junit()), {}, 5,
     "stage_tests_total", FAIL),
    ("a stage without a matching test fails",
     lambda k: k.write("junit-stages.xml", _junit('<testcase classname="tests.stages.test_risk" name="t"/>')),
     {}, 5, "stages_with_tests_pct", FAIL),
    ("a stage's own test selectors are used",
     lambda k: k.edit_yaml("INTERFACE_MAP.yaml", _stage("risk", tests=["test_limits_hold"])), {}, 5,
     "stages_with_tests_pct", FAIL),
    ("no stage test report is pending", lambda k: k.remove("junit-stages.xml"), {}, 5, "stage_tests_total", PENDING),

    ("a failed connection fails", lambda k: k.edit_json("ACCOUNT_CONFIG.json", connected=False), {}, 6,
     "connected", FAIL),
    ("zero buying power fails", lambda k: k.edit_json("ACCOUNT_CONFIG.json", buying_power=0), {}, 6,
     "buying_power", FAIL),
    ("unreported buying power is pending", lambda k: k.edit_json("ACCOUNT_CONFIG.json", buying_power=None), {}, 6,
     "buying_power", PENDING),
    ("a permission mismatch fails", lambda k: k.edit_json("ACCOUNT_CONFIG.json", permission_mismatch=True), {}, 6,
     "permission_mismatch", FAIL),
    ("a live account fails", lambda k: k.edit_json("ACCOUNT_CONFIG.json", account_type="live", account_id="U7654321"),
     {}, 6, "paper_account", FAIL),
    ("a non-DU id typed paper fails", lambda k: k.edit_json("ACCOUNT_CONFIG.json", account_id="U7654321"), {}, 6,
     "paper_account", FAIL),
    ("no account probe is pending", lambda k: k.remove("ACCOUNT_CONFIG.json"), {}, 6, "connected", PENDING),

    ("a latency delta of exactly 50 % fails (strict)", lambda k: k.set_metric("latency_delta_pct", 50), {}, 7,
     "latency_delta_pct", FAIL),
    ("a latency delta of 49.9 % passes", lambda k: k.set_metric("latency_delta_pct", 49.9), {}, 7,
     "latency_delta_pct", PASS),
    ("a p95 of exactly 200 ms fails (strict)", lambda k: k.set_metric("order_ack_latency_p95_ms", 200), {}, 7,
     "p95_latency_ms", FAIL),
    ("the p95 metric is configurable", lambda k: None,
     {"gates": {"paper_trading": {"p95_latency_metric": "fill_latency_p95_ms"}}}, 7, "p95_latency_ms", FAIL),
    ("one pacing violation fails", lambda k: k.set_metric("pacing_violations", 1), {}, 7, "pacing_violations", FAIL),
    ("a fill rate of exactly 98 % fails (strict)", lambda k: k.set_metric("fill_rate_pct", 98), {}, 7,
     "fill_rate_pct", FAIL),
    ("a fill rate of 98.1 % passes", lambda k: k.set_metric("fill_rate_pct", 98.1), {}, 7, "fill_rate_pct", PASS),
    ("Sharpe at exactly half the backtest passes", lambda k: k.set_metric("sharpe_paper", 0.87), {}, 7,
     "sharpe_vs_backtest", PASS),
    ("Sharpe below half the backtest fails", lambda k: k.set_metric("sharpe_paper", 0.86), {}, 7,
     "sharpe_vs_backtest", FAIL),
    ("no backtest Sharpe leaves the ratio pending", lambda k: k.set_metric("sharpe_backtest", None), {}, 7,
     "sharpe_vs_backtest", PENDING),
    ("49 trades are too few", lambda k: k.set_metric("trade_count", 49), {}, 7, "trade_count_min", FAIL),
    ("50 trades are enough", lambda k: k.set_metric("trade_count", 50), {}, 7, "trade_count_min", PASS),
    ("200 trades are not too many", lambda k: k.set_metric("trade_count", 200), {}, 7, "trade_count_max", PASS),
    ("201 trades are too many", lambda k: k.set_metric("trade_count", 201), {}, 7, "trade_count_max", FAIL),
    ("one disconnect fails", lambda k: k.set_metric("disconnects", 1), {}, 7, "disconnects", FAIL),
    ("a metric row that is missing is pending", lambda k: k.set_metric("fill_rate_pct", None), {}, 7,
     "fill_rate_pct", PENDING),
    ("a metric without a value is pending", lambda k: k.set_metric("fill_rate_pct", ""), {}, 7,
     "fill_rate_pct", PENDING),
    ("no metrics file is pending", lambda k: k.remove("PAPER_TRADING_METRICS.csv"), {}, 7, "disconnects", PENDING),
]


@pytest.mark.parametrize(("edit", "overrides", "gate", "condition_id", "expected"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_gate_condition(kit: EvidenceKit, edit, overrides, gate, condition_id, expected):
    edit(kit)
    v = kit.verify(build_config(overrides) if overrides else None)
    assert condition(v, gate, condition_id).status is expected


@pytest.mark.parametrize(("statuses", "expected"), [
    ((PASS, PASS), PASS), ((PASS, PENDING), PENDING), ((PENDING, FAIL), FAIL), ((), PASS)])
def test_a_gate_is_the_and_of_its_conditions_with_pending_never_passing(statuses, expected):
    from harness.gates.model import combine

    assert combine(statuses) is expected
