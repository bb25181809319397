"""The narrow interfaces the desks (feeds, account feed, order desk) and the handlers see.

A desk writes replies to a :class:`ReplyChannel` (one client connection: send, error, its
server version and ids) and finds connections through :class:`Connections`; it never sees the
server or the socket. :class:`mock_gateway.session.Session` is the channel and
:class:`mock_gateway.server.Gateway` the directory, wired by the server (the composition root).
"""
from __future__ import annotations

from collections.abc import Callable, Generator, Iterable
from typing import Protocol

from .protocol.kinds import ReplyKind

Fields = list[str]
#: Run a callback on the gateway's loop after the current burst of work (``loop.call_soon``).
CallSoon = Callable[[Callable[[], None]], object]


class PreparedReply(list):
    """A reply's fields together with what sending it costs: its bytes on the wire and its event-log text,
    computed ahead in steps (``ReplyChannel.prepare``) so a reply of thousands of fields is sent in one
    short hold of the loop. It is still the fields (a list): faults, logs and tests read it as any reply."""

    wire: bytes = b""              # the whole message, framed, as this connection's encoding sends it
    encoding: str = "text"         # "text" or "protobuf" (logged on the reply, as for any other)
    server_version: int = 0        # the version it was encoded for
    fields_json: str | None = None     # the fields as the event log writes them


class ReplyChannel(Protocol):
    """One client connection, as a desk writes to it."""

    @property
    def conn_id(self) -> int: ...
    @property
    def client_id(self) -> int | None: ...
    @property
    def server_version(self) -> int: ...
    @property
    def closed(self) -> bool:
        """True once the connection is gone (its subscriptions are dropped on the loop's next turn)."""

    def send(self, kind: ReplyKind, messages: Iterable[Fields], *, fault: str | None = None) -> None:
        """Queue replies of one kind; they leave after the kind's injected latency, in order."""

    def error(self, req_id: int, code: int, text: str, *, fault: str | None = None,
              kind: ReplyKind = ReplyKind.OTHER, advanced_json: str = "") -> None:
        """Queue an error message for ``req_id``."""

    def prepare(self, fields: Fields) -> Generator[None, None, Fields]:
        """Steps (yield between them) that encode a large reply ahead of :meth:`send`; returns the reply to send
        (a :class:`PreparedReply`). A channel without the method sends the fields as they are."""


class Connections(Protocol):
    """Which clients are connected and past startApi."""

    def session_of_client(self, client_id: int) -> ReplyChannel | None: ...


__all__ = ["CallSoon", "Connections", "Fields", "PreparedReply", "ReplyChannel"]
