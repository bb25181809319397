"""The SimPy world behind the gateway: clock, market, orders, account."""
from .clock import DEFAULT_START, SimClock

__all__ = ["DEFAULT_START", "SimClock"]
