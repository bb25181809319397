"""What one evaluation found: the gate engine's result, which every output (log, report) renders."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .anomalies import Anomaly
from .config import GatesConfig
from .evidence import Evidence
from .model import Decision, GateResult
from .signatures import SignatureState


@dataclass(frozen=True)
class Verification:
    """Everything one evaluation found; the outputs are renderings of this."""

    config: GatesConfig
    evidence: Evidence
    gates: tuple[GateResult, ...]
    signatures: tuple[SignatureState, ...]
    decision: Decision
    anomalies: tuple[Anomaly, ...]
    evaluated_at: datetime


__all__ = ["Verification"]
