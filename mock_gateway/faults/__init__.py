"""Fault injection: each fault a small named object; see base.py for the hooks, registry.py for the list."""
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
