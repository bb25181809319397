"""The outputs: verification log, the filled-in go-live template (Markdown) and its HTML with plots."""
from __future__ import annotations

import hashlib
import json
import re

import pytest
from evidence_kit import NOW, EvidenceKit

from harness.gates.config import build_config
from harness.gates.run import DECISION_HTML, DECISION_MD, VERIFICATION_LOG, run_gates
from harness.report.charts import equity_lines, incident_timeline, latency_histogram, thousands, time_axis


def outputs(kit: EvidenceKit, tmp_path) -> tuple[dict, str, str]:
    out = tmp_path / "out"
    run_gates(kit.root, build_config(), out, now=NOW)
    return (json.loads((out / VERIFICATION_LOG).read_text()), (out / DECISION_MD).read_text(),
            (out / DECISION_HTML).read_text())


def test_the_log_records_every_condition_with_value_threshold_comparison_result_and_evidence_hash(
        kit: EvidenceKit, tmp_path):
    log, _, _ = outputs(kit, tmp_path)
    assert [g["name"] for g in log["gates"]] == [f"GATE_{n}" for n in range(1, 9)]
    fill = next(c for g in log["gates"] for c in g["conditions"] if c["id"] == "fill_rate_pct")
    assert (fill["observed"], fill["comparison"], fill["threshold"], fill["result"]) == (99.2, ">", 98.0, "PASS")
    csv_sha = hashlib.sha256(kit.path("PAPER_TRADING_METRICS.csv").read_bytes()).hexdigest()
    assert fill["evidence"] == {"file": "PAPER_TRADING_METRICS.csv", "sha256": csv_sha}
    signed = next(c for c in log["gates"][7]["conditions"] if c["id"] == "signed:CTO")
    assert signed["evidence"] == {"file": "SIGNATURES.json", "sha256": None}  # not signed yet
    assert log["evaluated_at"] == NOW.isoformat()
    assert {"at": "2025-12-31T11:10:19+00:00", "event": "rollback drill finished: passed=true, recovery 18.4 s",
            "source": "ROLLBACK_DRILL.json"} in log["timeline"]
    assert {k: log["decision"][k] for k in ("outcome", "action", "exit_code")} == {
        "outcome": "CONDITIONAL_APPROVAL", "action": "COMPLETE_REQUIREMENTS_THEN_DEPLOY", "exit_code": 10}
    assert log["decision"]["basis"] == {"gate_8": "PENDING", "critical_failures": [], "passing_gates": 7,
                                        "major_gaps": []}
    assert {f["file"] for f in log["evidence_files"]} >= {"ACCOUNT_CONFIG.json", "coverage.xml",
                                                          "fixtures/order_rejects.json"}
    assert log["config"]["resolved"]["gates"]["paper_trading"]["fill_rate_pct"] == {"op": ">", "value": 98.0}


def test_the_markdown_fills_in_every_section_of_the_template(kit: EvidenceKit, tmp_path):
    _, md, _ = outputs(kit, tmp_path)
    headings = re.findall(r"^## (.+)$", md, re.M)
    assert headings == ["Decision", "Gate status", "Detailed metrics per stage", "Formal evaluation",
                        "Anomalies and risks", "Requirements checklist", "Signatures", "Timeline", "Evidence files"]
    assert "| GATE_7 | paper trading validation | PASS | critical |" in md
    assert "(latency_delta_pct = 21.5 < 50)" in md
    assert "- [x] GATE_7 fill_rate_pct > 98 % (observed 99.2 %)" in md
    assert "- [ ] GATE_8 signed APPROVED by CTO (PENDING: not signed)" in md
    assert "- [x] GATE_7 sharpe_paper >= 0.5 x sharpe_backtest (= 0.87) (observed 1.31)" in md


def test_failures_become_anomalies_and_unticked_requirements(kit: EvidenceKit, tmp_path):
    kit.set_metric("fill_rate_pct", 97.0)
    _, md, _ = outputs(kit, tmp_path)
    assert "| critical | GATE_7 | fill_rate_pct > 98 %: observed 97, needs > 98 |" in md
    assert "- [ ] GATE_7 fill_rate_pct > 98 % (observed 97 %)" in md


def test_stale_signatures_are_marked_with_the_changed_file(kit: EvidenceKit, tmp_path):
    kit.sign("CTO")
    kit.set_metric("trade_count", 121)
    log, md, html = outputs(kit, tmp_path)
    assert "STALE: evidence changed since signing: PAPER_TRADING_METRICS.csv" in md
    assert '<td class="stale">STALE' in html
    assert log["signatures"][0]["stale"] is True


def test_the_timeline_is_ordered_and_built_from_artifact_times(kit: EvidenceKit, tmp_path):
    kit.sign("CTO")
    _, md, _ = outputs(kit, tmp_path)
    timeline = md.split("## Timeline")[1].split("## Evidence files")[0]
    times = re.findall(r"^\| (\d{4}-\d\d-\d\dT[\d:]+\+00:00) \|", timeline, re.M)
    assert times == sorted(times) and len(times) >= 8
    for event in ("coverage measured: 86.0 % lines", "paper session started", "rollback drill finished",
                  "APPROVED signed by CTO", "gates evaluated: CONDITIONAL_APPROVAL"):
        assert event in timeline


def test_the_html_has_the_three_plots_when_the_event_logs_exist(kit: EvidenceKit, tmp_path):
    _, _, html = outputs(kit, tmp_path)
    assert html.count("<svg") == 3
    assert html.count("Matplotlib") >= 3   # drawn by matplotlib, not by hand
    for label in ("order acknowledgement latency (ms, sim clock)", "net liquidation (USD)", "session time (min)",
                  "pacing errors (0)"):
        assert label in html   # text stays text in the SVG (readable, searchable)


@pytest.mark.parametrize(("edit", "svgs", "caption"), [
    (lambda k: k.remove("PAPER_TRADING_LOG.json"), 0, "No per-order latencies"),
    (lambda k: k.remove("backtest.jsonl"), 3, "Backtest curve absent"),
    (lambda k: k.remove("session.jsonl"), 1, "Paper curve absent"),
    (lambda k: (k.remove("session.jsonl"), k.remove("backtest.jsonl")), 0, "No equity marks"),
], ids=["no paper log", "no backtest log", "no paper event log", "no event logs"])
def test_the_html_degrades_to_captions_without_the_logs(kit: EvidenceKit, tmp_path, edit, svgs, caption):
    edit(kit)
    _, _, html = outputs(kit, tmp_path)
    assert html.count("<svg") == svgs
    assert caption in html


def test_text_from_evidence_is_escaped_in_html_and_tables(kit: EvidenceKit, tmp_path):
    from harness.gates.signoff import sign_evidence

    sign_evidence(kit.root, build_config(), role="CTO", name="<script>x</script>", decision="APPROVED",
                  comment="ok | with pipe", key=kit.key("CTO"), now=NOW)
    _, md, html = outputs(kit, tmp_path)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "ok \\| with pipe" in md


def test_the_latency_histogram_has_its_bins_labelled_axes_and_the_bound_marker():
    fig = latency_histogram([10.0, 20.0, 25.0, 90.0], title="t", x_label="latency (ms)", bound_ms=200.0,
                            bound_label="p95 bound", bins=5)
    ax = fig.axes[0]
    assert len(ax.patches) == 5
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("latency (ms)", "orders")
    assert [line.get_xdata()[0] for line in ax.get_lines()] == [200.0]
    assert "p95 bound" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_equity_axes_read_in_minutes_and_thousands():
    series = [("paper", [(0.0, 1_000_000.0), (3600.0, 1_041_800.0)]), ("backtest", [(0.0, 1e6), (3600.0, 1.05e6)])]
    fig = equity_lines(series, title="t", y_label="net liquidation (USD)")
    ax = fig.axes[0]
    assert ax.get_xlabel() == "session time (min)" and len(ax.get_lines()) == 2
    assert list(ax.get_lines()[0].get_xdata()) == [0.0, 60.0]
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert labels and all("," in label for label in labels)   # 1,000,000 not 1e6


@pytest.mark.parametrize(("value", "label"), [(1_041_800, "1,041,800"), (12_500, "12,500"), (40.78, "40.78"), (0, "0")])
def test_tick_labels_are_readable_numbers(value, label):
    assert thousands(value) == label


@pytest.mark.parametrize(("duration_s", "unit"), [(120, "s"), (3600, "min"), (6 * 3600, "h")])
def test_the_time_axis_unit_follows_the_session_length(duration_s, unit):
    assert time_axis(duration_s)[1] == unit


def test_the_incident_timeline_draws_one_tick_per_event_in_its_lane():
    lanes = [("pacing errors", [(2.0, "100 rate"), (4.0, "162 pacing")]), ("disconnects", [(5.0, "x")])]
    fig = incident_timeline(lanes, duration_s=15.0, title="t")
    ax = fig.axes[0]
    assert [len(c.get_positions()) for c in ax.collections] == [2, 1]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["pacing errors (2)", "disconnects (1)"]
    assert ax.get_xlim() == (0.0, 15.0)


def test_a_backtest_log_that_does_not_match_its_sha256_is_left_out_with_a_note(kit: EvidenceKit, tmp_path):
    from harness.gates.evidence import load_evidence

    kit.write("backtest.jsonl", kit.path("backtest.jsonl").read_text() + "\n")
    evidence = load_evidence(kit.root, build_config())
    assert evidence.backtest_equity == ()
    assert any("backtest event log backtest.jsonl does not match its sha256" in n for n in evidence.integrity_problems)
