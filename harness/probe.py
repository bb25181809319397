"""Stage 6, the account configuration probe: what the API shows about the account -> ACCOUNT_CONFIG.json.

Connects with its own client id and reads: the managed account and its type (paper ``DU...``
or live), base currency, buying power, net liquidation, available funds (account summary);
the server version and when the connection was made; and what the API lets it do: whether
trading works at all (read-only API answers a what-if order with an error), which security
types it may trade (a what-if order per type, never executed), and the order types the
contract allows. ``permission_mismatch`` is true when an expected permission is missing.

A live port is refused before connecting, and a login whose managedAccounts are not all paper
before any order message (a what-if is one), unless ``allow_live`` (logged).
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from mock_gateway.identity import MOCK_NOTICE_CODE, is_mock_notice

from .artifacts import ACCOUNT_CONFIG_SCHEMA, utc_now_iso
from .safety import check_managed_accounts, check_paper_target, is_paper_account

DEFAULT_CLIENT_ID = 998
#: Contracts used to test a trading permission per security type.
PROBE_CONTRACTS: dict[str, dict[str, Any]] = {
    "STK": {"secType": "STK", "symbol": "AAPL", "exchange": "SMART", "currency": "USD"},
    "CASH": {"secType": "CASH", "symbol": "EUR", "exchange": "IDEALPRO", "currency": "USD"},
}
_SUMMARY_TAGS = ("AccountType", "NetLiquidation", "BuyingPower", "AvailableFunds", "TotalCashValue")
#: Errors that mean "this API session may not trade": 321 read-only validation, 10... permissions.
READ_ONLY_CODES = {321}


class ProbeError(Exception):
    """The probe could not connect or read the account."""


@dataclass
class ProbeOptions:
    host: str = "127.0.0.1"
    port: int = 4002
    client_id: int = DEFAULT_CLIENT_ID
    account: str | None = None
    expect_permissions: tuple[str, ...] = ("STK",)
    sec_types: tuple[str, ...] = ("STK", "CASH")
    #: "mock" when prelive started the gateway itself; otherwise the gateway's own startup replies decide
    #: (the mock identifies itself with notice 2199; a real gateway never does).
    gateway_kind: str | None = None
    timeout_s: float = 10.0
    allow_live: bool = False


def _num(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


async def _what_if(ib: Any, sec_type: str, account: str, timeout_s: float) -> tuple[bool, str]:
    """(permitted, detail) for one security type, from a what-if order that is never executed."""
    from ib_insync import Contract, MarketOrder

    errors: list[tuple[int, str]] = []
    try:
        details = await asyncio.wait_for(ib.reqContractDetailsAsync(Contract(**PROBE_CONTRACTS[sec_type])), timeout_s)
    except asyncio.TimeoutError:
        return False, "contract lookup timed out"
    if not details:
        return False, "no contract found to test with"
    contract = details[0].contract
    order = MarketOrder("BUY", 1 if sec_type == "STK" else 20000)
    order.account = account
    req_id_box: dict[str, int] = {}

    def on_error(req_id: int, code: int, text: str, _contract: Any = None) -> None:
        if req_id == req_id_box.get("id") or code in READ_ONLY_CODES:
            errors.append((code, text))

    ib.errorEvent += on_error
    try:
        req_id_box["id"] = ib.client._reqIdSeq  # the id whatIfOrderAsync is about to use
        state = await asyncio.wait_for(ib.whatIfOrderAsync(contract, order), timeout_s)
    except asyncio.TimeoutError:
        state = None
    finally:
        ib.errorEvent -= on_error
    if errors:
        code, text = errors[0]
        return False, f"error {code}: {text}"
    if not state:
        return False, "no what-if answer"
    return True, f"what-if ok (init margin change {getattr(state, 'initMarginChange', '')})"


async def probe(options: ProbeOptions) -> dict[str, Any]:
    """Probe the gateway; returns the ACCOUNT_CONFIG document. Raises LiveAccountRefused / ProbeError."""
    from ib_insync import IB

    check_paper_target(port=options.port, accounts=options.account, allow_live=options.allow_live)
    ib = IB()
    mock_notices: list[str] = []

    def on_startup_error(_req_id: int, code: int, text: str, _contract: Any = None) -> None:
        if is_mock_notice(code, text):
            mock_notices.append(text)

    ib.errorEvent += on_startup_error   # before connecting: the notice comes with the startup replies
    t0 = time.monotonic()
    try:
        await ib.connectAsync(options.host, options.port, options.client_id, timeout=options.timeout_s)
    except (OSError, asyncio.TimeoutError, ConnectionError) as exc:
        raise ProbeError(f"cannot connect to {options.host}:{options.port} as client {options.client_id}: "
                         f"{type(exc).__name__} {exc}") from None
    connect_ms = (time.monotonic() - t0) * 1000.0
    connection_time = utc_now_iso()
    try:
        managed = ib.managedAccounts()
        # every account of the login, as the gateway reports it, before the first what-if order
        check_managed_accounts(managed, None, port=options.port, allow_live=options.allow_live, what="the probe")
        account = options.account or (managed[0] if managed else "")
        if options.account and options.account not in managed:
            raise ProbeError(f"account {options.account} is not managed by this login (managed: {', '.join(managed)})")
        summary = await asyncio.wait_for(ib.accountSummaryAsync(account), options.timeout_s)
        values = {v.tag: v for v in summary if v.account == account and v.tag in _SUMMARY_TAGS}
        net_liq = values.get("NetLiquidation")
        permissions: dict[str, Any] = {"managed_accounts": managed, "trading": {}}
        for sec_type in options.sec_types:
            ok, detail = await _what_if(ib, sec_type, account, options.timeout_s)
            permissions["trading"][sec_type] = {"permitted": ok, "detail": detail}
        read_only = any(d["detail"].startswith(f"error {c}") for d in permissions["trading"].values()
                        for c in READ_ONLY_CODES)
        permissions["read_only"] = read_only
        details = await asyncio.wait_for(ib.reqContractDetailsAsync(_contract("STK")), options.timeout_s)
        permissions["order_types"] = sorted(details[0].orderTypes.split(",")) if details else []
        missing = [s for s in options.expect_permissions
                   if not permissions["trading"].get(s, {}).get("permitted", False)]
        permissions["expected"] = list(options.expect_permissions)
        permissions["missing"] = missing
        return {
            "schema": ACCOUNT_CONFIG_SCHEMA, "generated_at": utc_now_iso(), "connected": True,
            "account_id": account, "account_type": "paper" if is_paper_account(account) else "live",
            "account_type_reported": values["AccountType"].value if "AccountType" in values else None,
            "base_currency": net_liq.currency if net_liq is not None else None,
            "buying_power": _num(values["BuyingPower"].value) if "BuyingPower" in values else None,
            "net_liquidation": _num(net_liq.value) if net_liq is not None else None,
            "available_funds": _num(values["AvailableFunds"].value) if "AvailableFunds" in values else None,
            "permissions": permissions, "permission_mismatch": bool(missing or read_only),
            "server_version": ib.client.serverVersion(), "connection_time": connection_time,
            "connect_ms": round(connect_ms, 1),
            "gateway": _gateway(options, mock_notices),
        }
    finally:
        ib.disconnect()


def _gateway(options: ProbeOptions, mock_notices: list[str]) -> dict[str, Any]:
    """The gateway record of ACCOUNT_CONFIG.json: kind "mock" when the gateway said it is the mock."""
    if mock_notices:
        kind, how = "mock", f"startup notice {MOCK_NOTICE_CODE} from the gateway"
    elif options.gateway_kind == "mock":
        kind, how = "mock", "prelive started the mock gateway"
    else:
        kind, how = "real", f"no mock notice ({MOCK_NOTICE_CODE}) in the gateway's startup replies"
    return {"host": options.host, "port": options.port, "kind": kind, "detected_by": how}


def _contract(sec_type: str) -> Any:
    from ib_insync import Contract
    return Contract(**PROBE_CONTRACTS[sec_type])


def not_connected_document(options: ProbeOptions, error: str) -> dict[str, Any]:
    """ACCOUNT_CONFIG for a gateway the probe could not reach: evidence that gate 6 fails."""
    return {
        "schema": ACCOUNT_CONFIG_SCHEMA, "generated_at": utc_now_iso(), "connected": False,
        "account_id": options.account, "account_type": None, "base_currency": None, "buying_power": None,
        "net_liquidation": None, "available_funds": None, "permissions": {}, "permission_mismatch": True,
        "server_version": None, "connection_time": None, "error": error,
        "gateway": {"host": options.host, "port": options.port, "kind": options.gateway_kind or "unknown",
                    "detected_by": "not connected"},
    }
