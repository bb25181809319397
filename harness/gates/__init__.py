"""The gate engine: evidence in, GATE_1..GATE_8 and the go-live decision out (docs/gates.md)."""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .config import GatesConfig, build_config, load_config
from .errors import EvidenceError, GatesConfigError
from .model import Action, Condition, Decision, GateResult, Outcome, Status

if TYPE_CHECKING:
    from .run import run_gates, verify
    from .verification import Verification

# run and verification pull in the report (pandas, matplotlib): loaded on first use, so a scenario run
# reading only the gates config does not pay for them.
_LAZY = {"run_gates": ".run", "verify": ".run", "Verification": ".verification"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value

__all__ = [
    "Action", "Condition", "Decision", "EvidenceError", "GateResult", "GatesConfig", "GatesConfigError",
    "Outcome", "Status", "Verification", "build_config", "load_config", "run_gates", "verify",
]
