"""The gate engine: evidence in, GATE_1..GATE_8 and the go-live decision out (docs/gates.md)."""
from __future__ import annotations

from .config import GatesConfig, build_config, load_config
from .errors import EvidenceError, GatesConfigError
from .model import Action, Condition, Decision, GateResult, Outcome, Status
from .run import run_gates, verify
from .verification import Verification

__all__ = [
    "Action", "Condition", "Decision", "EvidenceError", "GateResult", "GatesConfig", "GatesConfigError",
    "Outcome", "Status", "Verification", "build_config", "load_config", "run_gates", "verify",
]
