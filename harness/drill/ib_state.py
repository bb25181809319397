"""Read a gateway's state over the TWS API: handshake, managed accounts, open orders, positions.

The playbooks call this (``python -m harness.drill.ib_state``) to prove the gateway answers
a real API handshake (docker-proxy accepts TCP on a published port even when nothing listens)
and to reconcile state after a rollback. It is a tiny synchronous client on the project's own
framing code, so it starts in ~50 ms instead of importing a full client library.
Prints one JSON object; exit 0 when the gateway answered, 2 when it did not, 3 when it serves
a live account and ``--require-paper`` was given, 4 when ``--wait-container`` never connected.
"""
from __future__ import annotations

import argparse
import json
import re
import socket
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from harness.safety import LiveAccountRefused, check_managed_accounts
from mock_gateway.protocol.framing import FrameDecoder, encode_frame, encode_handshake

#: Messages (server -> client) this reader understands, by id.
ORDER_STATUS, ERROR, OPEN_ORDER, NEXT_VALID_ID, MANAGED_ACCOUNTS = 3, 4, 5, 9, 15
OPEN_ORDER_END, POSITION, POSITION_END = 53, 61, 62
#: Requests (client -> server).
REQ_ALL_OPEN_ORDERS, REQ_GLOBAL_CANCEL, REQ_POSITIONS, CANCEL_POSITIONS, START_API = 16, 58, 61, 64, 71
#: Error codes that mean "this session will not work": client id in use, not connected.
FATAL_ERRORS = {326, 502, 504, 507}
DONE_STATUSES = {"Cancelled", "ApiCancelled", "Filled", "Inactive"}


class GatewayUnavailable(Exception):
    """The gateway did not complete an API handshake (or a request) in time."""


@dataclass
class OpenOrder:
    order_id: int
    perm_id: int
    client_id: int
    account: str
    symbol: str
    action: str
    quantity: float
    order_type: str
    status: str = ""


@dataclass
class Position:
    account: str
    con_id: int
    symbol: str
    sec_type: str
    position: float
    avg_cost: float


@dataclass
class GatewayState:
    host: str
    port: int
    server_version: int = 0
    connection_time: str = ""
    accounts: list[str] = field(default_factory=list)
    next_valid_id: int | None = None
    open_orders: list[OpenOrder] | None = None
    positions: list[Position] | None = None
    errors: list[dict] = field(default_factory=list)
    handshake_ms: float = 0.0


def _num(text: str, kind: type = float) -> float | int:
    try:
        return kind(float(text)) if kind is int else kind(text)
    except ValueError:
        return 0


class _Session:
    """One short-lived API session: send requests, read frames until a condition holds."""

    def __init__(self, host: str, port: int, deadline: float) -> None:
        self.deadline = deadline
        self.sock = socket.create_connection((host, port), timeout=max(0.05, deadline - time.monotonic()))
        self.decoder = FrameDecoder()
        self.pending: list[list[str]] = []

    def send(self, *fields: object) -> None:
        self.sock.sendall(encode_frame(fields))

    def next_message(self) -> list[str]:
        while not self.pending:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                raise GatewayUnavailable("timed out waiting for the gateway")
            self.sock.settimeout(remaining)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                raise GatewayUnavailable("timed out waiting for the gateway") from None
            if not data:
                raise GatewayUnavailable("the gateway closed the connection")
            self.pending.extend(fields for _, fields in self.decoder.feed(data))
        return self.pending.pop(0)

    def close(self) -> None:
        self.sock.close()


def _handle_common(msg: list[str], state: GatewayState) -> None:
    kind = int(msg[0])
    if kind == NEXT_VALID_ID:
        state.next_valid_id = int(msg[2])
    elif kind == MANAGED_ACCOUNTS:
        state.accounts = [a for a in msg[2].split(",") if a]
    elif kind == ERROR:
        code = int(_num(msg[3], int))
        state.errors.append({"req_id": int(_num(msg[2], int)), "code": code, "message": msg[4]})
        if code in FATAL_ERRORS:
            raise GatewayUnavailable(f"gateway error {code}: {msg[4]}")


def _read_open_orders(session: _Session, state: GatewayState) -> list[OpenOrder]:
    # keyed by permId: order ids repeat across client ids (each client numbers its own orders)
    orders: dict[tuple[int, int], OpenOrder] = {}
    statuses: dict[int, str] = {}
    session.send(REQ_ALL_OPEN_ORDERS, 1)
    while True:
        msg = session.next_message()
        kind = int(msg[0])
        if kind == OPEN_ORDER:
            # ibapi decoder order (server version >= 145, no version field): orderId, 11 contract
            # fields, action, totalQuantity, orderType, lmtPrice, auxPrice, tif, ocaGroup, account,
            # openClose, origin, orderRef, clientId, permId
            order = OpenOrder(order_id=int(msg[1]), perm_id=int(_num(msg[25], int)),
                              client_id=int(_num(msg[24], int)), account=msg[20],
                              symbol=msg[3], action=msg[13], quantity=float(_num(msg[14])),
                              order_type=msg[15])
            key = (order.perm_id, 0) if order.perm_id else (order.client_id, order.order_id)
            order.status = orders[key].status if key in orders else statuses.get(order.perm_id, "")
            orders[key] = order
        elif kind == ORDER_STATUS:
            # orderId, status, filled, remaining, avgFillPrice, permId, parentId, lastFillPrice, clientId, ...
            perm_id = int(_num(msg[6], int)) if len(msg) > 6 else 0
            client_id = int(_num(msg[9], int)) if len(msg) > 9 else 0
            key = (perm_id, 0) if perm_id else (client_id, int(_num(msg[1], int)))
            statuses[perm_id] = msg[2]
            if key in orders:
                orders[key].status = msg[2]
        elif kind == OPEN_ORDER_END:
            return [o for o in orders.values() if o.status not in DONE_STATUSES]
        else:
            _handle_common(msg, state)


def _read_positions(session: _Session, state: GatewayState) -> list[Position]:
    positions: list[Position] = []
    session.send(REQ_POSITIONS, 1)
    while True:
        msg = session.next_message()
        kind = int(msg[0])
        if kind == POSITION:
            positions.append(Position(account=msg[2], con_id=int(_num(msg[3], int)), symbol=msg[4],
                                      sec_type=msg[5], position=float(_num(msg[14])),
                                      avg_cost=float(_num(msg[15]))))
        elif kind == POSITION_END:
            session.send(CANCEL_POSITIONS, 1)
            return positions
        else:
            _handle_common(msg, state)


def open_session(host: str, port: int, client_id: int, deadline: float) -> tuple[_Session, GatewayState]:
    """Handshake and startApi, then wait for nextValidId and managedAccounts; the caller closes the session.

    Sends nothing but the hello and startApi, so a caller can decide from ``state.accounts`` (what
    the login manages) before any request leaves.
    """
    state = GatewayState(host=host, port=port)
    started = time.monotonic()
    try:
        session = _Session(host, port, deadline)
    except OSError as exc:
        raise GatewayUnavailable(f"cannot connect to {host}:{port}: {exc}") from None
    try:
        session.sock.sendall(encode_handshake())
        first = session.next_message()
        state.server_version = int(_num(first[0], int))
        state.connection_time = first[1] if len(first) > 1 else ""
        if state.server_version <= 0:
            raise GatewayUnavailable(f"unexpected handshake reply {first[:3]!r}")
        session.send(START_API, 2, client_id, "")
        while state.next_valid_id is None or not state.accounts:
            _handle_common(session.next_message(), state)
        state.handshake_ms = round((time.monotonic() - started) * 1000, 1)
    except OSError as exc:
        session.close()
        raise GatewayUnavailable(f"connection to {host}:{port} failed: {exc}") from None
    except BaseException:
        session.close()
        raise
    return session, state


def read_open_orders(session: _Session, state: GatewayState) -> list[OpenOrder]:
    """Every open order of the login (reqAllOpenOrders), without the ones already done."""
    try:
        return _read_open_orders(session, state)
    except OSError as exc:
        raise GatewayUnavailable(f"connection to {state.host}:{state.port} failed: {exc}") from None


def read_state(host: str, port: int, client_id: int, timeout_s: float = 5.0,
               open_orders: bool = False, positions: bool = False) -> GatewayState:
    """Handshake, startApi, wait for nextValidId and the accounts; optionally read orders/positions."""
    session, state = open_session(host, port, client_id, time.monotonic() + timeout_s)
    try:
        if open_orders:
            state.open_orders = _read_open_orders(session, state)
        if positions:
            state.positions = _read_positions(session, state)
    except OSError as exc:
        raise GatewayUnavailable(f"connection to {host}:{port} failed: {exc}") from None
    finally:
        session.close()
    return state


#: An ESTABLISHED (01) socket to the API port in the container's own /proc/net/tcp[6]: proof from
#: the handler's side that it holds its connection, without taking its client id.
_CONNECTED_LINE = "^ *[0-9]+: [0-9A-F]+:[0-9A-F]+ [0-9A-F]+:{port:04X} 01 "
_CONNECTED_CHECK = f"grep -Eq '{_CONNECTED_LINE}' /proc/net/tcp /proc/net/tcp6"


def _connected_in_proc(pid: int, container_id: str, port: int) -> bool | None:
    """Read the container's sockets from the host's /proc (no exec); None when this host cannot see them.

    Only when ``pid`` provably is the container's process (its cgroup names the container): a
    remote engine's pid means nothing here.
    """
    try:
        if container_id not in Path(f"/proc/{pid}/cgroup").read_text():
            return None
        tables = [Path(f"/proc/{pid}/net/{name}").read_text() for name in ("tcp", "tcp6")]
    except OSError:
        return None
    pattern = re.compile(_CONNECTED_LINE.format(port=port), re.MULTILINE)
    return any(pattern.search(table) for table in tables)


def wait_container_connected(container: str, port: int, timeout_s: float, interval_s: float = 0.1) -> bool:
    """Poll until ``container`` holds a connection to ``port``.

    On the Docker host itself the container's /proc/net/tcp[6] is read from the host every 20 ms
    (no process started per check); elsewhere a Docker exec runs the same check every ``interval_s``.
    """
    from harness.docker.engine import connect

    target = connect(timeout_s=10).containers.get(container)
    deadline = time.monotonic() + timeout_s
    from_host = True
    while True:
        state = target.attrs.get("State") or {}
        seen = (_connected_in_proc(int(state.get("Pid") or 0), target.id, port)
                if from_host and state.get("Pid") else None)
        if seen is None:
            if from_host and state.get("Running"):
                from_host = False   # running, yet not visible from here: a remote engine
            if not from_host and target.exec_run(["sh", "-c", _CONNECTED_CHECK.format(port=port)]).exit_code == 0:
                return True
        elif seen:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02 if from_host else interval_s)
        if seen is None and from_host:
            target.reload()   # not started yet: its pid comes with the start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.drill.ib_state", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--client-id", type=int, default=991)
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds for the whole exchange")
    parser.add_argument("--open-orders", action="store_true", help="also list every open order (reqAllOpenOrders)")
    parser.add_argument("--positions", action="store_true", help="also list positions (reqPositions)")
    parser.add_argument("--require-paper", action="store_true",
                        help="exit 3 if the gateway serves an account that is not a paper (DU) account")
    parser.add_argument("--account", default=None,
                        help="with --require-paper: exit 3 too if the login does not manage this account")
    parser.add_argument("--wait-container", default=None,
                        help="first wait until this container holds a connection to --wait-port (exit 4 if not)")
    parser.add_argument("--wait-port", type=int, default=4004, help="the API port as the container reaches it")
    parser.add_argument("--wait-timeout", type=float, default=20.0, help="seconds to wait for that connection")
    args = parser.parse_args(argv)
    if args.wait_container:
        try:
            connected = wait_container_connected(args.wait_container, args.wait_port, args.wait_timeout)
        except Exception as exc:  # Docker unreachable, no such container
            print(f"cannot check {args.wait_container}: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 4
        if not connected:
            print(f"{args.wait_container} holds no connection to port {args.wait_port} after {args.wait_timeout:g} s",
                  file=sys.stderr)
            return 4
    try:
        state = read_state(args.host, args.port, args.client_id, args.timeout, args.open_orders, args.positions)
    except GatewayUnavailable as exc:
        print(json.dumps({"host": args.host, "port": args.port, "error": str(exc)}))
        return 2
    print(json.dumps(asdict(state)))
    if args.require_paper:
        try:
            check_managed_accounts(state.accounts, args.account or None, port=args.port, what="prelive")
        except LiveAccountRefused as exc:
            print(f"gateway {args.host}:{args.port}: {exc}", file=sys.stderr)
            return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
