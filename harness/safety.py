"""The live-account interlock: nothing prelive does may reach a live account by accident.

Two checks, both before the first order-bearing byte leaves:

* the port, before connecting (IB's live ports 4001 and 7496 are refused outright);
* what the gateway itself reports once connected (``managedAccounts``): every account the
  login manages must be a paper account (``DU`` followed by letters/digits, case-sensitive:
  a live login never manages a ``DU`` account, and ``du123`` is not one IB issues), and an
  account the caller names must be one of them. A caller's argument alone proves nothing:
  a gateway on a paper port can be logged in to a live account.

The explicit override (``--i-understand-this-is-live``, ``-e allow_live_account=true``,
``PRELIVE_ALLOW_LIVE=1`` for the reference handler) is the only way through, and every use of
it on a live target is logged (``log_override``).
"""
from __future__ import annotations

import logging
import re
from collections.abc import Iterable

LIVE_PORTS = frozenset({4001, 7496})
PAPER_PREFIX = "DU"
OVERRIDE_FLAG = "--i-understand-this-is-live"
_PAPER_ID = re.compile(r"DU[A-Za-z0-9]+")   # ASCII only: \w would take "DU١٢٣" (Arabic-Indic digits)

log = logging.getLogger("harness.safety")


class LiveAccountRefused(Exception):
    """A command that sends orders was pointed at a live account or a live port."""


class AccountNotManaged(LiveAccountRefused):
    """The account a command was told to act on is not one the gateway's login manages."""


def is_paper_account(account_id: str) -> bool:
    """``DU...`` exactly as IB issues paper ids (case-sensitive: ``du1`` and ``U1`` are not paper)."""
    return isinstance(account_id, str) and _PAPER_ID.fullmatch(account_id) is not None


def split_accounts(accounts: Iterable[str] | str | None) -> list[str]:
    """``"DU1,DU2"`` or a list -> ``["DU1", "DU2"]`` (managedAccounts is a comma-separated field)."""
    if accounts is None:
        return []
    if isinstance(accounts, str):
        accounts = accounts.split(",")
    return [a.strip() for a in accounts if a and a.strip()]


def check_port(port: int | None, allow_live: bool = False) -> None:
    """Refuse IB's live ports before connecting, unless overridden (then logged)."""
    if port is None or port not in LIVE_PORTS:
        return
    if allow_live:
        log_override(f"port {port}", port=port)
        return
    raise LiveAccountRefused(
        f"port {port} is a live trading port (IB Gateway live 4001, TWS live 7496); use the paper "
        f"port (4002 Gateway, 7497 TWS) or pass {OVERRIDE_FLAG} if you really mean a live account")


def check_paper_target(port: int | None = None, accounts: list[str] | str | None = None,
                       allow_live: bool = False) -> None:
    """Raise :class:`LiveAccountRefused` unless every account is paper and the port is not live.

    Checks what the caller was told; :func:`check_managed_accounts` checks what the gateway says.
    """
    check_port(port, allow_live)
    live = [a for a in split_accounts(accounts) if not is_paper_account(a)]
    if not live:
        return
    if allow_live:
        log_override(f"account {', '.join(live)}", accounts=live, port=port)
        return
    raise LiveAccountRefused(
        f"account {', '.join(live)} is not a paper account (paper ids start with {PAPER_PREFIX!r}, "
        f"case-sensitive); refusing. Pass {OVERRIDE_FLAG} only if you really mean a live account")


def check_managed_accounts(managed: Iterable[str] | str | None, requested: Iterable[str] | str | None = None,
                           *, port: int | None = None, allow_live: bool = False, what: str = "this command") -> list[str]:
    """Decide from the gateway's own ``managedAccounts``; returns the accounts to act on.

    Refused (:class:`LiveAccountRefused`): a login that reported no account (nothing proves it is
    paper), a login that manages any non-paper account, unless ``allow_live`` (then logged).
    Refused always (:class:`AccountNotManaged`): a requested account the login does not manage, since
    what is sent goes to the login's accounts, not to the one named.
    """
    reported = split_accounts(managed)
    wanted = split_accounts(requested)
    if not reported:
        if not allow_live:
            raise LiveAccountRefused(
                f"the gateway{_at(port)} reported no managed accounts, so nothing proves it is a paper login; "
                f"{what} refuses to send anything. Pass {OVERRIDE_FLAG} only if you really mean it")
        log_override("a login that reported no managed accounts", port=port)
    live = [a for a in reported if not is_paper_account(a)]
    if live:
        if not allow_live:
            raise LiveAccountRefused(
                f"the gateway{_at(port)} is logged in to live account {', '.join(live)} (managedAccounts "
                f"{','.join(reported)}; paper ids start with {PAPER_PREFIX!r}); {what} refuses to send anything. "
                f"Pass {OVERRIDE_FLAG} only if you really mean a live account")
        log_override(f"live account {', '.join(live)}", accounts=live, port=port)
    missing = [a for a in wanted if a not in reported]
    if missing:
        raise AccountNotManaged(
            f"account {', '.join(missing)} is not managed by the gateway's login{_at(port)} (it manages "
            f"{','.join(reported) or 'nothing'}); {what} acts on the login's accounts, so it refuses. "
            f"Name one of those accounts")
    return wanted or reported


def log_override(target: str, *, accounts: Iterable[str] = (), port: int | None = None) -> dict[str, object]:
    """Record a use of the live override (a WARNING); returns the attributes for an event log."""
    attrs = {"target": target, "accounts": list(accounts), "port": port, "override": OVERRIDE_FLAG}
    log.warning("LIVE OVERRIDE: proceeding against %s because %s was given", target, OVERRIDE_FLAG)
    return attrs


def _at(port: int | None) -> str:
    return f" on port {port}" if port is not None else ""
