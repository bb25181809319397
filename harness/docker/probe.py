"""Health probe: a real TWS API handshake, not a TCP connect.

A port published through docker-proxy (and socat in the real gateway image) accepts TCP even when
nothing listens behind it, so a connect proves nothing. The probe sends ``API\\0`` + a version range
and requires the server-version reply; it never calls startApi, so it takes no client id and
places nothing. Used as the image's HEALTHCHECK and by the paper stack's sidecar.

With ``--require-paper`` it is also the paper stack's login check: startApi with a client id of its
own, then the login's ``managedAccounts`` must all be paper accounts (harness.safety, ``DU...``,
case-sensitive), so a handler that waits for ``service_healthy`` never starts behind a live login,
whatever the handler itself checks. It sends no request. The override is the one used elsewhere:
``--i-understand-this-is-live`` or ``PRELIVE_ALLOW_LIVE=1``, logged on every check.

    python -m harness.docker.probe [--host H] [--port P] [--timeout S]   # exit 0 = healthy
    python -m harness.docker.probe --require-paper [--client-id N] ...   # exit 3 = live login
"""
from __future__ import annotations

import argparse
import os
import socket
import sys
import time

from harness.safety import OVERRIDE_FLAG, LiveAccountRefused, check_managed_accounts, is_paper_account
from mock_gateway.protocol import FrameDecoder, ProtocolError, encode_frame, encode_handshake

#: What ib_insync 0.9.86 offers; real gateways 10.x and the mock both accept it.
VERSION_RANGE = "v157..176"
#: The login check's own client id (differs from handlers' usual ids and from the drill's 990/991).
LOGIN_CHECK_CLIENT_ID = 993
START_API, MANAGED_ACCOUNTS, ERROR = 71, 15, 4
#: Errors that end the check: client id in use, not connected, and the like.
_FATAL_ERRORS = {326, 502, 504, 507}


class ProbeFailed(Exception):
    """The peer did not answer the handshake like a TWS API server."""


def handshake(host: str, port: int, timeout_s: float = 3.0) -> tuple[int, str]:
    """Open a session, return (server_version, connection_time), close; :class:`ProbeFailed` otherwise."""
    version, conn_time, _ = _session(host, port, timeout_s, client_id=None)
    return version, conn_time


def login_accounts(host: str, port: int, client_id: int = LOGIN_CHECK_CLIENT_ID,
                   timeout_s: float = 10.0) -> list[str]:
    """The accounts the gateway's login manages (``managedAccounts`` after startApi); nothing else is sent."""
    return _session(host, port, timeout_s, client_id=client_id)[2]


def _session(host: str, port: int, timeout_s: float, client_id: int | None) -> tuple[int, str, list[str]]:
    deadline = time.monotonic() + timeout_s
    try:
        sock = socket.create_connection((host, port), timeout=timeout_s)
    except OSError as exc:
        raise ProbeFailed(f"cannot connect to {host}:{port}: {exc}") from exc
    with sock:
        decoder = FrameDecoder()
        version, conn_time = 0, ""
        try:
            sock.sendall(encode_handshake(VERSION_RANGE))
            while True:
                sock.settimeout(max(0.05, deadline - time.monotonic()))
                data = sock.recv(4096)
                if not data:
                    raise ProbeFailed(f"{host}:{port} closed the connection before "
                                      + ("the server-version reply" if not version else "reporting its accounts"))
                for _kind, fields in decoder.feed(data):
                    if not version:
                        version, conn_time = _server_version(fields)
                        if client_id is None:
                            return version, conn_time, []
                        sock.sendall(encode_frame([START_API, 2, client_id, ""]))
                        continue
                    accounts = _accounts_or_none(fields, host, port)
                    if accounts is not None:
                        return version, conn_time, accounts
        except (TimeoutError, socket.timeout) as exc:
            what = "server-version reply" if not version else "managedAccounts"
            raise ProbeFailed(f"no {what} from {host}:{port} within {timeout_s:g} s") from exc
        except OSError as exc:
            raise ProbeFailed(f"{host}:{port} broke the handshake: {exc}") from exc
        except ProtocolError as exc:
            raise ProbeFailed(f"{host}:{port} does not speak the TWS API: {exc}") from exc


def _accounts_or_none(fields: list[str], host: str, port: int) -> list[str] | None:
    """The accounts of a managedAccounts message; raises on a fatal error; None for anything else."""
    if not fields or not fields[0].isdigit():
        return None
    kind = int(fields[0])
    if kind == MANAGED_ACCOUNTS and len(fields) >= 3:
        return [a for a in fields[2].split(",") if a]
    if kind == ERROR and len(fields) >= 5 and fields[3].isdigit() and int(fields[3]) in _FATAL_ERRORS:
        raise ProbeFailed(f"{host}:{port} refused the session: error {fields[3]} {fields[4][:200]}")
    return None


def _server_version(fields: list[str]) -> tuple[int, str]:
    try:
        version = int(fields[0])
    except (IndexError, ValueError):
        raise ProbeFailed(f"reply is not a server version: {fields[:3]!r}") from None
    if version <= 0:
        raise ProbeFailed(f"server version {version} is not valid")
    return version, fields[1] if len(fields) > 1 else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.docker.probe", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=os.environ.get("PRELIVE_PROBE_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PRELIVE_PROBE_PORT", "4004")))
    parser.add_argument("--timeout", type=float, default=3.0, help="seconds for connect + reply")
    parser.add_argument("--require-paper", action="store_true",
                        help="also log in to the API (startApi) and require every managed account to be paper (DU...)")
    parser.add_argument("--client-id", type=int,
                        default=int(os.environ.get("PRELIVE_LOGIN_CHECK_CLIENT_ID", LOGIN_CHECK_CLIENT_ID)))
    parser.add_argument(OVERRIDE_FLAG, dest="allow_live", action="store_true",
                        help="accept a live login (logged); PRELIVE_ALLOW_LIVE=1 does the same")
    parser.add_argument("-q", "--quiet", action="store_true")
    args = parser.parse_args(argv)
    allow_live = args.allow_live or os.environ.get("PRELIVE_ALLOW_LIVE", "") == "1"
    try:
        if args.require_paper:
            accounts = login_accounts(args.host, args.port, args.client_id, args.timeout)
            version, conn_time = 0, ""
        else:
            version, conn_time = handshake(args.host, args.port, args.timeout)
    except ProbeFailed as exc:
        print(f"unhealthy: {exc}", file=sys.stderr)
        return 1
    if args.require_paper:
        try:
            check_managed_accounts(accounts, port=args.port, allow_live=allow_live, what="the paper stack")
        except LiveAccountRefused as exc:
            print(f"REFUSED: {exc}", file=sys.stderr)
            return 3
        if allow_live and (not accounts or not all(is_paper_account(a) for a in accounts)):
            print(f"LIVE OVERRIDE: {args.host}:{args.port} serves {','.join(accounts)}; accepted because "
                  f"{OVERRIDE_FLAG} / PRELIVE_ALLOW_LIVE=1 was given", file=sys.stderr)
        if not args.quiet:
            print(f"healthy: {args.host}:{args.port} login manages {','.join(accounts)}")
        return 0
    if not args.quiet:
        print(f"healthy: {args.host}:{args.port} server version {version} {conn_time}".rstrip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
