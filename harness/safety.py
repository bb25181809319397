"""The live-account interlock: nothing prelive does may reach a live account by accident."""
from __future__ import annotations

LIVE_PORTS = frozenset({4001, 7496})
PAPER_PREFIX = "DU"
OVERRIDE_FLAG = "--i-understand-this-is-live"


class LiveAccountRefused(Exception):
    """A command that sends orders was pointed at a live account or a live port."""


def is_paper_account(account_id: str) -> bool:
    return account_id.upper().startswith(PAPER_PREFIX)


def check_paper_target(port: int | None = None, accounts: list[str] | str | None = None,
                       allow_live: bool = False) -> None:
    """Raise :class:`LiveAccountRefused` unless every account is paper and the port is not live."""
    if allow_live:
        return
    if port is not None and port in LIVE_PORTS:
        raise LiveAccountRefused(
            f"port {port} is a live trading port (IB Gateway live 4001, TWS live 7496); use the paper "
            f"port (4002 Gateway, 7497 TWS) or pass {OVERRIDE_FLAG} if you really mean a live account")
    if isinstance(accounts, str):
        accounts = [a for a in accounts.split(",") if a]
    live = [a for a in (accounts or []) if not is_paper_account(a)]
    if live:
        raise LiveAccountRefused(
            f"account {', '.join(live)} is not a paper account (paper ids start with {PAPER_PREFIX!r}); "
            f"refusing. Pass {OVERRIDE_FLAG} only if you really mean a live account")
