"""The SimPy world behind the gateway: clock, contracts, market, orders, accounts."""
from .account import Account, PortfolioItem, Position
from .clock import DEFAULT_START, SimClock
from .commissions import CommissionSchedule
from .contracts import ContractBook, ContractQuery, ContractSpec
from .market import Bar, HistoryError, Market, Quote, UnknownContract
from .order_types import (
    CommissionReport,
    Execution,
    ExecutionFilter,
    Fill,
    Order,
    OrderRejected,
    OrderRequest,
    OrderUpdate,
    Reject,
    WhatIf,
    WhatIfReport,
)
from .orders import OrderEngine
from .world import World

__all__ = [
    "Account", "Bar", "CommissionReport", "CommissionSchedule", "ContractBook", "ContractQuery", "ContractSpec",
    "DEFAULT_START", "Execution", "ExecutionFilter", "Fill", "HistoryError", "Market", "Order", "OrderEngine",
    "OrderRejected", "OrderRequest", "OrderUpdate", "PortfolioItem", "Position", "Quote", "Reject", "SimClock",
    "UnknownContract", "WhatIf", "WhatIfReport", "World",
]
