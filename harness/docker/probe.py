"""Health probe: a real TWS API handshake, not a TCP connect.

A port published through docker-proxy (and socat in the real gateway image) accepts TCP even when
nothing listens behind it, so a connect proves nothing. The probe sends ``API\\0`` + a version range
and requires the server-version reply; it never calls startApi, so it takes no client id and
places nothing. Used as the image's HEALTHCHECK and by the paper stack's sidecar.

    python -m harness.docker.probe [--host H] [--port P] [--timeout S]   # exit 0 = healthy
"""
from __future__ import annotations

import argparse
import os
import socket
import sys
import time

from mock_gateway.protocol import FrameDecoder, ProtocolError, encode_handshake

#: What ib_insync 0.9.86 offers; real gateways 10.x and the mock both accept it.
VERSION_RANGE = "v157..176"


class ProbeFailed(Exception):
    """The peer did not answer the handshake like a TWS API server."""


def handshake(host: str, port: int, timeout_s: float = 3.0) -> tuple[int, str]:
    """Open a session, return (server_version, connection_time), close; :class:`ProbeFailed` otherwise."""
    deadline = time.monotonic() + timeout_s
    try:
        sock = socket.create_connection((host, port), timeout=timeout_s)
    except OSError as exc:
        raise ProbeFailed(f"cannot connect to {host}:{port}: {exc}") from exc
    with sock:
        decoder = FrameDecoder()
        try:
            sock.sendall(encode_handshake(VERSION_RANGE))
            while True:
                sock.settimeout(max(0.05, deadline - time.monotonic()))
                data = sock.recv(4096)
                if not data:
                    raise ProbeFailed(f"{host}:{port} closed the connection before the server-version reply")
                for _kind, fields in decoder.feed(data):
                    return _server_version(fields)
        except (TimeoutError, socket.timeout) as exc:
            raise ProbeFailed(f"no server-version reply from {host}:{port} within {timeout_s:g} s") from exc
        except OSError as exc:
            raise ProbeFailed(f"{host}:{port} broke the handshake: {exc}") from exc
        except ProtocolError as exc:
            raise ProbeFailed(f"{host}:{port} does not speak the TWS API: {exc}") from exc


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
    parser.add_argument("-q", "--quiet", action="store_true")
    args = parser.parse_args(argv)
    try:
        version, conn_time = handshake(args.host, args.port, args.timeout)
    except ProbeFailed as exc:
        print(f"unhealthy: {exc}", file=sys.stderr)
        return 1
    if not args.quiet:
        print(f"healthy: {args.host}:{args.port} server version {version} {conn_time}".rstrip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
