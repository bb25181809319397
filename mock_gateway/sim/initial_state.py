"""The account a scenario starts from: positions held overnight, GTC orders still working from
"yesterday", and fills from earlier in the day, so a handler's start-up reconciliation has
something to reconcile (reqPositions, reqAllOpenOrders / reqOpenOrders, reqExecutions).

Positions are the state at the start; earlier executions are records only (the positions
already hold them), as IB lists the day's fills without re-booking them on a reconnect.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from .account import Account
from .contracts import ContractBook, ContractQuery, ContractSpec
from .order_types import OrderRequest
from .orders import OrderEngine

if TYPE_CHECKING:   # config imports sim.clock, so sim modules import config only for types
    from ..config import AccountConfig


class InitialStateError(ValueError):
    """A scenario's start state names something the world does not have."""


def resolve_symbol(contracts: ContractBook, symbol: str, sec_type: str = "") -> ContractSpec:
    """The one contract a start-state entry names: symbol or local symbol, stocks before options."""
    found = contracts.match(ContractQuery(symbol=symbol, sec_type=sec_type))
    if not found and "." in symbol:
        found = contracts.match(ContractQuery(local_symbol=symbol, sec_type=sec_type))
    if len(found) > 1 and not sec_type:
        for kind in ("STK", "CASH", "FUT"):
            preferred = [s for s in found if s.sec_type == kind]
            if len(preferred) == 1:
                return preferred[0]
    if len(found) != 1:
        what = "is not in the contract universe" if not found else f"is ambiguous ({len(found)} contracts); give sec_type"
        raise InitialStateError(f"start state: {symbol!r}{' ' + sec_type if sec_type else ''} {what}")
    return found[0]


def apply_initial_state(configs: Iterable[AccountConfig], contracts: ContractBook, accounts: Mapping[str, Account],
                        orders: OrderEngine) -> None:
    """Seed every account's positions, working orders and earlier executions; then fix the day's start."""
    for config in configs:
        account = accounts[config.account_id]
        for pos in config.positions:
            spec = resolve_symbol(contracts, pos.symbol, pos.sec_type)
            account.seed_position(spec, pos.qty, pos.avg_cost)
        _seed_executions(contracts, orders, config)
        _seed_open_orders(contracts, orders, config)
        account.mark_start()


def _seed_executions(contracts: ContractBook, orders: OrderEngine, config: AccountConfig) -> None:
    next_id: dict[int, int] = {}
    for i, ex in enumerate(sorted(config.executions, key=lambda e: -e.ago_s)):
        spec = resolve_symbol(contracts, ex.symbol, ex.sec_type)
        side = {"BUY": "BUY", "BOT": "BUY", "SELL": "SELL", "SLD": "SELL"}.get(ex.side.upper())
        if side is None:
            raise InitialStateError(f"start state: execution {i} side must be BUY or SELL, got {ex.side!r}")
        order_id = ex.order_id if ex.order_id is not None else next_id.get(ex.client_id, 1)
        next_id[ex.client_id] = max(next_id.get(ex.client_id, 1), order_id + 1)
        orders.record_past_fill(spec, config.account_id, side, ex.qty, ex.price, -abs(ex.ago_s),
                                      ex.client_id, order_id, ex.order_ref)


def _seed_open_orders(contracts: ContractBook, orders: OrderEngine, config: AccountConfig) -> None:
    for i, o in enumerate(config.open_orders):
        spec = resolve_symbol(contracts, o.symbol, o.sec_type)
        order_id = o.order_id if o.order_id is not None else orders.next_valid_id(o.client_id)
        request = OrderRequest(order_id, ContractQuery(con_id=spec.con_id, exchange=spec.exchange), o.action.upper(),
                               o.qty, o.order_type, o.lmt_price, o.aux_price, o.tif.upper(), config.account_id,
                               o.order_ref)
        order = orders.place(request, o.client_id)
        if order.reject is not None:
            code, text = order.reject
            raise InitialStateError(f"start state: open order {i} ({o.action} {o.qty:g} {o.symbol}) is refused: "
                                    f"{code} {text}")


__all__ = ["InitialStateError", "apply_initial_state", "resolve_symbol"]
