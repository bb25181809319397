"""Fault injection: each fault a small named object; see base.py for the hooks, registry.py for the list,
spec.py for the scenario-file form and runtime.py for ``gw.faults`` (add / remove / clear while running)."""
from .base import (
    AcceptAction,
    Fault,
    FaultStack,
    GatewayControl,
    OrderEffect,
    OrderView,
    ReplyKind,
    SessionView,
    Verdict,
)

__all__ = [
    "AcceptAction", "Fault", "FaultStack", "GatewayControl", "OrderEffect", "OrderView", "ReplyKind",
    "SessionView", "Verdict",
]
