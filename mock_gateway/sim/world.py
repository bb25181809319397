"""The SimPy world behind the gateway: contracts, market, accounts and orders wired to one clock."""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..faults.base import FaultStack
from .account import Account
from .clock import SimClock
from .commissions import CommissionSchedule
from .contracts import ContractBook
from .initial_state import apply_initial_state
from .market import Market
from .orders import OrderEngine
from .history import warm_up as warm_up_history
from .sessions import warm_up as warm_up_sessions

if TYPE_CHECKING:   # config imports sim.clock, so sim modules import config only for types
    from ..config import GatewayConfig


class World:
    """Everything the gateway simulates; ``faults`` defaults to ``config.faults`` or the healthy-gateway stack."""

    def __init__(self, config: GatewayConfig, clock: SimClock, faults: FaultStack | None = None) -> None:
        if faults is None:
            if config.faults is not None:
                faults = config.faults
            else:
                from ..faults.defaults import default_fault_stack
                faults = default_fault_stack(config)
        # The exchange calendars, session tables and history's normal table, before the gateway serves
        # (~0.6 s once per process, ~70 ms of it the session tables and ~30 ms the normal table): built
        # later, a first request into a new date range would hold the loop that long.
        warm_up_sessions()
        warm_up_history()
        self.config = config
        self.clock = clock
        self.env = clock.env
        self.faults = faults
        market_cfg = config.market
        self.contracts = ContractBook.default(config.start, market_cfg.initial_prices, market_cfg.symbols,
                                              market_cfg.volatility_annual, market_cfg.extra_contracts)
        self.market = Market(self.contracts, market_cfg, config.seed, self.env, config.start)
        self.accounts: dict[str, Account] = {a.account_id: Account(a, self.market) for a in config.accounts}
        commissions = CommissionSchedule(stock_per_share=config.commission_per_share, stock_min=config.min_commission)
        self.orders = OrderEngine(self.env, self.contracts, self.market, self.accounts, faults, commissions,
                                  config.seed, config.start)
        apply_initial_state(config.accounts, self.contracts, self.accounts, self.orders)

    def account(self, account_id: str | None = None) -> Account:
        """An account by id; the first one when ``account_id`` is empty or None."""
        if not account_id:
            return next(iter(self.accounts.values()))
        return self.accounts[account_id]
