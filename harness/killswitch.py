"""The operator kill switch (contracts §5): stop the handler, cancel everything, prove nothing is open.

Order of steps, each for a reason: the handler's kill file first, so it stops placing new
orders before the cancel; ``reqGlobalCancel`` (every client's orders in the account); then
``reqAllOpenOrders`` until none is left, repeating the global cancel if a straggler appears;
optionally flatten positions with market orders. ``KILL_SWITCH.json`` records the result; a
kill switch that could not verify is written too (``verified: false``), because a failed
kill switch is evidence the gate must see. A live port is refused before connecting, and a
login whose managedAccounts are not all paper (or do not include ``--account``) before any
request is sent (harness.safety). The cancel and its verification run on the project's own
small API client (harness.drill.ib_state): no client library to import, 50 ms polls.
"""
from __future__ import annotations

import asyncio
import logging
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .artifacts import KILL_SWITCH_SCHEMA, atomic_write_json, atomic_write_text, utc_now_iso
from .safety import LiveAccountRefused, check_managed_accounts, check_paper_target

log = logging.getLogger("harness.killswitch")

DEFAULT_CLIENT_ID = 999


@dataclass
class KillSwitchResult:
    at: str
    verified: bool
    open_orders_before: int
    open_orders_after: int | None
    cancelled: int
    flattened: bool
    target: dict[str, Any]
    kill_file: str | None = None
    global_cancels: int = 0
    positions_before: dict[str, float] = field(default_factory=dict)
    positions_after: dict[str, float] = field(default_factory=dict)
    duration_s: float = 0.0
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"schema": KILL_SWITCH_SCHEMA, **asdict(self)}


def engage_kill_file(path: str | os.PathLike[str], reason: str = "operator kill switch") -> Path:
    """Create the handler's kill file (atomically, so a handler polling it never reads half of it)."""
    return atomic_write_text(path, f"{utc_now_iso()} {reason}\n")


async def _positions(ib: Any, accounts: list[str], timeout_s: float) -> dict[int, tuple[Any, float]]:
    positions = await asyncio.wait_for(ib.reqPositionsAsync(), timeout_s)
    return {p.contract.conId: (p.contract, float(p.position)) for p in positions
            if p.account in accounts and abs(float(p.position)) > 1e-9}


async def _flatten(ib: Any, accounts: list[str], deadline: float, timeout_s: float) -> tuple[bool, dict[str, float]]:
    from ib_insync import Contract, MarketOrder

    for con_id, (contract, qty) in (await _positions(ib, accounts, timeout_s)).items():
        [qualified] = await asyncio.wait_for(ib.qualifyContractsAsync(Contract(conId=con_id)), timeout_s)
        order = MarketOrder("SELL" if qty > 0 else "BUY", abs(qty))
        order.orderRef = "prelive-kill-switch-flatten"
        order.account = accounts[0]
        ib.placeOrder(qualified, order)
    remaining: dict[int, tuple[Any, float]] = {}
    while time.monotonic() < deadline:
        await asyncio.sleep(0.25)
        remaining = await _positions(ib, accounts, timeout_s)
        if not remaining:
            return True, {}
    return False, {c.symbol: q for c, q in remaining.values()}


def _cancel_and_verify(host: str, port: int, client_id: int, account: str | None, allow_live: bool,
                       result: KillSwitchResult, deadline: float) -> list[str]:
    """The global cancel on the project's own small API client (no client library to import).

    Handshake, startApi, then the interlock on the login's managedAccounts before any request;
    open orders before, ``reqGlobalCancel``, and ``reqAllOpenOrders`` every 50 ms until none is left
    (a straggler gets another global cancel every 0.5 s). Returns the accounts acted on.
    """
    from .drill.ib_state import REQ_GLOBAL_CANCEL, open_session, read_open_orders

    session, state = open_session(host, port, client_id, deadline)
    try:
        accounts = check_managed_accounts(state.accounts, account, port=port, allow_live=allow_live,
                                          what="the kill switch")
        result.target["account"] = ",".join(accounts)
        result.target["managed_accounts"] = list(state.accounts)
        before = {(o.client_id, o.order_id, o.perm_id) for o in read_open_orders(session, state)}
        result.open_orders_before = len(before)
        remaining = before
        last_cancel = 0.0
        while True:
            now = time.monotonic()
            if now - last_cancel >= 0.5:
                session.send(REQ_GLOBAL_CANCEL, 1)
                result.global_cancels += 1
                last_cancel = now
            remaining = {(o.client_id, o.order_id, o.perm_id) for o in read_open_orders(session, state)}
            if not remaining or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        result.open_orders_after = len(remaining)
        result.cancelled = len(before - remaining)
        result.verified = not remaining
        return accounts
    finally:
        session.close()


async def run_kill_switch(host: str, port: int, *, client_id: int = DEFAULT_CLIENT_ID, account: str | None = None,
                          kill_file: str | os.PathLike[str] | None = None, flatten: bool = False,
                          timeout_s: float = 15.0, allow_live: bool = False) -> KillSwitchResult:
    """Engage the kill switch against a gateway; raises LiveAccountRefused before touching a live target.

    The decision is the gateway's: the login's managedAccounts must all be paper and include
    ``account`` when one is named (a global cancel reaches every order of the login, whatever
    account the caller names). A refused kill switch sends no request at all.
    """
    from .drill.ib_state import GatewayUnavailable

    check_paper_target(port=port, accounts=account, allow_live=allow_live)
    t0 = time.monotonic()
    deadline = t0 + timeout_s
    target: dict[str, Any] = {"host": host, "port": port, "client_id": client_id, "account": account}
    result = KillSwitchResult(utc_now_iso(), False, 0, None, 0, False, target,
                              str(kill_file) if kill_file else None)
    if kill_file:
        engage_kill_file(kill_file)
    try:
        accounts = await asyncio.get_running_loop().run_in_executor(
            None, _cancel_and_verify, host, port, client_id, account, allow_live, result, deadline)
        if flatten and result.verified:
            result.flattened, result.positions_before, result.positions_after = await _flatten_session(
                host, port, client_id, accounts, deadline, timeout_s, allow_live)
    except LiveAccountRefused:
        raise
    except (OSError, asyncio.TimeoutError, ConnectionError, GatewayUnavailable) as exc:
        result.error = f"{type(exc).__name__}: {exc or 'timed out'}"
        result.verified = False
    finally:
        result.duration_s = round(time.monotonic() - t0, 3)
    return result


async def _flatten_session(host: str, port: int, client_id: int, accounts: list[str], deadline: float,
                           timeout_s: float, allow_live: bool) -> tuple[bool, dict[str, float], dict[str, float]]:
    """Close every position at market (ib_insync), after checking the login again on this connection."""
    from ib_insync import IB

    ib = IB()
    try:
        await ib.connectAsync(host, port, client_id, timeout=min(timeout_s, 10.0))
        check_managed_accounts(ib.managedAccounts(), accounts, port=port, allow_live=allow_live,
                               what="the kill switch's flatten")
        before = {c.symbol: q for c, q in (await _positions(ib, accounts, timeout_s)).values()}
        flattened, after = await _flatten(ib, accounts, deadline, timeout_s)
        return flattened, before, after
    finally:
        ib.disconnect()


def kill_switch(host: str, port: int, out: str | os.PathLike[str] | None = "KILL_SWITCH.json",
                **kwargs: Any) -> KillSwitchResult:
    """Run the kill switch and write ``KILL_SWITCH.json`` (also when it could not verify)."""
    result = asyncio.run(run_kill_switch(host, port, **kwargs))
    if out is not None:
        atomic_write_json(out, result.to_json())
    return result
