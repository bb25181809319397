"""One gates run: read the evidence, evaluate, decide; then render and write every output at once."""
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from harness.report.html import render_html
from harness.report.markdown import render_markdown

from .anomalies import find_anomalies
from .atomic import write_files_atomically
from .config import GatesConfig
from .decision import decide
from .evaluate import evaluate_gates
from .evidence import load_evidence
from .verification import Verification
from .verification_log import verification_log_json

VERIFICATION_LOG = "PRELIVE_VERIFICATION_LOG.json"
DECISION_MD = "GO_LIVE_DECISION.md"
DECISION_HTML = "GO_LIVE_DECISION.html"


def verify(evidence_dir: Path | str, config: GatesConfig, now: datetime | None = None) -> Verification:
    """Read and evaluate; raises EvidenceError on a malformed evidence file, writes nothing."""
    now = now or datetime.now(UTC)
    evidence = load_evidence(evidence_dir, config)
    gates, states = evaluate_gates(evidence, config, now)
    return Verification(config, evidence, gates, states, decide(gates, config.decision),
                        find_anomalies(evidence, config, gates, states), now)


def render_outputs(verification: Verification, out_dir: Path) -> dict[Path, bytes]:
    return {
        out_dir / VERIFICATION_LOG: verification_log_json(verification),
        out_dir / DECISION_MD: render_markdown(verification).encode("utf-8"),
        out_dir / DECISION_HTML: render_html(verification).encode("utf-8"),
    }


def run_gates(evidence_dir: Path | str, config: GatesConfig, out_dir: Path | str | None = None,
              now: datetime | None = None) -> tuple[Verification, list[Path]]:
    """Verify, render all three outputs in memory, then write them atomically (default: into the evidence dir)."""
    verification = verify(evidence_dir, config, now)
    outputs = render_outputs(verification, Path(out_dir) if out_dir is not None else Path(evidence_dir))
    write_files_atomically(outputs)
    return verification, list(outputs)
