"""A transparent recording proxy between a handler and a (real paper) gateway.

Bytes pass through unchanged in both directions; a copy of each direction is decoded with the
gateway's own codec (``FrameDecoder``, ``decode_request`` / ``describe_reply``) and written to
the same event log format the mock writes (source "tap", sim null), so the metrics code measures
a real paper session exactly as it measures a mock scenario. Latency is on the wall clock, taken
when the tap reads each chunk.

A stream the codec cannot parse is still forwarded byte for byte; the tap logs a
``protocol_error`` event and stops decoding that direction, and a failure in one connection
never touches another or the listener.

The live interlock sits in the byte path (:class:`ClientGate`): after the client's hello and its
``startApi``, every further client byte is held until the gateway has sent ``managedAccounts``
and every account in it is paper; a live login closes the session without forwarding one held
byte (unless ``allow_live``, which is logged). Credential-bearing fields (the verify/auth
messages) are redacted in the event log (:mod:`mock_gateway.protocol.redact`).
"""
from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from mock_gateway.eventlog import EventLog
from mock_gateway.identity import is_mock_notice
from mock_gateway.protocol.describe import describe_reply, msg_id_of
from mock_gateway.protocol.framing import FrameDecoder, ProtocolError, parse_version_range
from mock_gateway.protocol.proto.reply_fields import ReplyDecoder
from mock_gateway.protocol.proto.requests import UnservedProtobufRequest, protobuf_request_fields
from mock_gateway.protocol.redact import redact_message
from mock_gateway.protocol.requests import decode_request
from mock_gateway.protocol.versions import PROTOBUF

from .safety import LiveAccountRefused, check_managed_accounts, check_paper_target, is_paper_account, log_override

CHUNK = 65536
#: Client bytes the tap holds at most while it waits for managedAccounts (then it refuses the session).
MAX_HELD_BYTES = 1 << 20
#: Wall seconds the tap waits for the gateway's managedAccounts before it refuses the session.
ACCOUNTS_TIMEOUT_S = 30.0
_API_PREFIX = b"API\0"
_START_API = b"71"
_MANAGED_ACCOUNTS = b"15"
#: startApi and managedAccounts as 4-byte binary ids (server version 201+: text with a binary id,
#: or protobuf, id + 200)
_START_API_IDS = (71, 271)
_MANAGED_ACCOUNTS_IDS = (15, 215)


class ClientGate:
    """Holds a client's bytes until the gateway's login is known to be paper.

    Passes the hello and every frame up to and including the first ``startApi`` (the gateway
    needs them to report its accounts), holds everything after, and releases the held bytes in
    order once :meth:`on_gateway` has seen ``managedAccounts`` and the check passed. Framing is
    parsed here from the raw bytes, independently of the (recording) decoder: a stream that
    cannot be framed before the check is held, never forwarded.
    """

    def __init__(self, max_held: int = MAX_HELD_BYTES) -> None:
        self.state = "hello"          # hello -> prestart -> held -> open | refused
        self._pending = bytearray()  # client bytes not yet classified (incomplete frame)
        self._held = bytearray()
        self._up = bytearray()       # gateway bytes not yet framed
        self._server_hello_seen = False
        self._binary_ids = False
        self.max_held = max_held
        self.accounts: str | None = None

    @property
    def open(self) -> bool:
        return self.state == "open"

    def from_client(self, data: bytes) -> bytes:
        """Client bytes in -> the bytes that may be forwarded now (the rest is held)."""
        if self.state == "open":
            return data
        if self.state == "refused":
            return b""
        if self.state == "held":
            self._held += data
            return b""
        self._pending += data
        out = bytearray()
        while self.state in ("hello", "prestart"):
            size = self._next_frame_size()
            if size is None:
                break
            frame = bytes(self._pending[:size])
            del self._pending[:size]
            if self.state == "hello":
                out += frame
                self.state = "prestart"
            elif _is_start_api(frame[4:]):
                out += frame
                self.state = "held"
            else:  # anything but startApi first: held with everything after it (no startApi, no accounts)
                self._pending[:0] = frame
                self.state = "held"
        if self.state == "held":
            self._held += self._pending
            self._pending.clear()
        return bytes(out)

    @property
    def held_bytes(self) -> int:
        return len(self._held) + len(self._pending)

    def _next_frame_size(self) -> int | None:
        buf = self._pending
        head = 0
        if self.state == "hello":
            if bytes(buf[:4]) != _API_PREFIX[: min(4, len(buf))]:
                self.state = "held"   # not the TWS API: never forwarded before the check
                return None
            head = 4
        if len(buf) < head + 4:
            return None
        length = int.from_bytes(buf[head:head + 4], "big")
        if length > self.max_held:
            self.state = "held"
            return None
        return head + 4 + length if len(buf) >= head + 4 + length else None

    def on_gateway(self, data: bytes) -> str | None:
        """Gateway bytes seen; returns the managedAccounts text the first time it arrives."""
        if self.accounts is not None or self.state in ("open", "refused"):
            return None
        self._up += data
        while len(self._up) >= 4:
            length = int.from_bytes(self._up[:4], "big")
            if length > MAX_HELD_BYTES:
                self._up.clear()
                return None
            if len(self._up) < 4 + length:
                return None
            payload = bytes(self._up[4:4 + length])
            del self._up[:4 + length]
            if not self._server_hello_seen:
                self._server_hello_seen = True
                try:
                    self._binary_ids = int(payload.split(b"\0", 1)[0]) >= PROTOBUF
                except ValueError:
                    self._binary_ids = False
                continue
            accounts = self._managed_accounts(payload)
            if accounts is not None:
                self.accounts = accounts
                self._up.clear()
                return self.accounts
        return None

    def _managed_accounts(self, payload: bytes) -> str | None:
        """The accounts text of a managedAccounts reply in any framing, else None."""
        if not self._binary_ids:
            fields = payload.split(b"\0")
            ok = fields[0] == _MANAGED_ACCOUNTS and len(fields) >= 3
            return fields[2].decode("utf-8", "replace") if ok else None
        if len(payload) < 4:
            return None
        msg_id = int.from_bytes(payload[:4], "big")
        if msg_id == _MANAGED_ACCOUNTS_IDS[0]:
            fields = payload[4:].split(b"\0")
            return fields[1].decode("utf-8", "replace") if len(fields) >= 2 else ""
        if msg_id == _MANAGED_ACCOUNTS_IDS[1]:
            try:
                decoded = ReplyDecoder().feed(15, payload[4:])
            except Exception:  # not the message: no accounts, so nothing is released
                return ""
            return decoded[0][2] if decoded and len(decoded[0]) >= 3 else ""
        return None

    def release(self) -> bytes:
        """Open the gate: the held bytes, in order, to forward before anything else."""
        self.state = "open"
        held = bytes(self._held + self._pending)
        self._held.clear()
        self._pending.clear()
        return held

    def refuse(self) -> None:
        self.state = "refused"
        self._held.clear()
        self._pending.clear()


def _is_start_api(payload: bytes) -> bool:
    """startApi as text (``71\\0...``) or with a 4-byte binary id (71, or 271 as protobuf)."""
    if payload.split(b"\0", 1)[0] == _START_API:
        return True
    return len(payload) >= 4 and int.from_bytes(payload[:4], "big") in _START_API_IDS


def parse_hostport(text: str, default_host: str = "127.0.0.1") -> tuple[str, int]:
    """``host:port`` or ``port`` -> (host, port); a clear error for anything else."""
    host, sep, port = text.rpartition(":")
    if not sep:
        host, port = default_host, text
    try:
        number = int(port)
    except ValueError:
        raise ValueError(f"{text!r} is not host:port (port must be a number)") from None
    if not 0 <= number <= 65535:
        raise ValueError(f"port {number} in {text!r} is out of range 0..65535")
    return host or default_host, number


@dataclass
class _Session:
    conn: int
    client_id: int | None = None
    client_min: int | None = None
    client_max: int | None = None
    options: str = ""
    handshake_seen: bool = False
    refused: bool = False
    gate: ClientGate = field(default_factory=ClientGate)
    upstream_writer: asyncio.StreamWriter | None = None
    tasks: list[asyncio.Task] = field(default_factory=list)
    #: one frame decoder per direction; from server version 201 both read 4-byte binary ids
    decoders: dict[str, FrameDecoder] = field(default_factory=dict)
    replies: ReplyDecoder = field(default_factory=ReplyDecoder)


class Tap:
    """Listen on ``listen``; for each client open ``upstream`` and pump both ways while recording."""

    def __init__(self, upstream_host: str, upstream_port: int, event_log: EventLog, *,
                 listen_host: str = "127.0.0.1", listen_port: int = 0, allow_live: bool = False,
                 connect_timeout_s: float = 5.0, accounts_timeout_s: float = ACCOUNTS_TIMEOUT_S) -> None:
        check_paper_target(port=upstream_port, allow_live=allow_live)
        self.accounts_timeout_s = accounts_timeout_s
        self.upstream = (upstream_host, upstream_port)
        self.listen_host, self.listen_port = listen_host, listen_port
        self.event_log = event_log
        self.allow_live = allow_live
        self.connect_timeout_s = connect_timeout_s
        self._server: asyncio.base_events.Server | None = None
        self._next_conn = 1
        self._sessions: dict[int, _Session] = {}
        self.host = listen_host
        self.port = listen_port

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._on_client, self.listen_host, self.listen_port)
        self.host, self.port = self._server.sockets[0].getsockname()[:2]
        self._log_sys("run_start", listen=f"{self.host}:{self.port}",
                      upstream=f"{self.upstream[0]}:{self.upstream[1]}")

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        tasks = [t for s in list(self._sessions.values()) for t in s.tasks]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._log_sys("run_end")

    # ------------------------------------------------------------------ logging
    def _log_sys(self, msg: str, conn: int | None = None, client_id: int | None = None, **attrs: object) -> None:
        self.event_log.write(dir="sys", msg=msg, conn=conn, client_id=client_id, attrs=attrs, source="tap")

    def _log_wire(self, session: _Session, direction: str, fields: list[str], wall: float,
                  encoding: str = "text") -> None:
        if direction == "in":   # the gateway's own inbound table: the same names and attributes it logs
            request = decode_request(fields)
            name, attrs = request.name, dict(request.attrs)
        else:
            name, attrs = describe_reply(fields)
        if encoding != "text":
            attrs = {**attrs, "encoding": encoding}
        if direction == "in" and name == "startApi" and isinstance(attrs.get("client_id"), int):
            session.client_id = attrs["client_id"]  # type: ignore[assignment]
        fields, attrs = redact_message(direction, fields, attrs)
        self.event_log.write(dir=direction, msg=name, msg_id=msg_id_of(fields), fields=fields, attrs=attrs,
                             conn=session.conn, client_id=session.client_id, wall=wall, source="tap")
        if direction == "out" and name == "error" and is_mock_notice(attrs.get("code"), attrs.get("text")):
            # the upstream is prelive's mock: whatever this session records is simulated evidence
            self._log_sys("gateway_kind", session.conn, session.client_id, kind="mock",
                          detected_by=f"startup notice {attrs.get('code')} from the gateway")

    def _check_accounts(self, session: _Session, accounts: str) -> bool:
        """The interlock on what the gateway reported; True when the held client bytes may go."""
        try:
            check_managed_accounts(accounts, port=self.upstream[1], allow_live=self.allow_live, what="the tap")
        except LiveAccountRefused as exc:
            session.refused = True
            session.gate.refuse()
            self._log_sys("refused", session.conn, session.client_id, accounts=accounts, reason=str(exc))
            return False
        if self.allow_live:
            live = [a for a in accounts.split(",") if a and not is_paper_account(a)]
            if live:
                self._log_sys("live_override", session.conn, session.client_id,
                              **log_override(f"live account {', '.join(live)} behind the tap", accounts=live,
                                             port=self.upstream[1]))
        return True

    async def _accounts_deadline(self, session: _Session) -> str:
        """Refuse a session whose gateway never reports its accounts (the client's bytes stay held)."""
        await asyncio.sleep(self.accounts_timeout_s)
        if not session.gate.open:
            session.refused = True
            session.gate.refuse()
            self._log_sys("refused", session.conn, session.client_id,
                          reason=f"the gateway sent no managedAccounts within {self.accounts_timeout_s:g} s; "
                                 f"the tap cannot tell a paper login from a live one")
            return "refused"
        await asyncio.Event().wait()
        return "tap stopped"

    # ------------------------------------------------------------------ one connection
    async def _on_client(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        session = _Session(self._next_conn)
        self._next_conn += 1
        self._sessions[session.conn] = session
        peer = client_w.get_extra_info("peername")
        self._log_sys("connect", session.conn, peer=f"{peer[0]}:{peer[1]}" if peer else "")
        try:
            try:
                up_r, up_w = await asyncio.wait_for(asyncio.open_connection(*self.upstream), self.connect_timeout_s)
            except (OSError, asyncio.TimeoutError) as exc:
                self._log_sys("disconnect", session.conn, reason=f"upstream unreachable: {exc!r}", by="gateway")
                return
            session.upstream_writer = up_w
            to_up = asyncio.ensure_future(self._pump(session, client_r, up_w, "in"))
            to_client = asyncio.ensure_future(self._pump(session, up_r, client_w, "out"))
            deadline = asyncio.ensure_future(self._accounts_deadline(session))
            session.tasks = [to_up, to_client, deadline]
            done, pending = await asyncio.wait(session.tasks, return_when=asyncio.FIRST_COMPLETED)
            first = next(iter(done))
            reason = first.result() if not first.cancelled() and first.exception() is None else "tap stopped"
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            by = "client" if first is to_up else "gateway"
            if reason == "refused":
                by = "tap"
            self._log_sys("disconnect", session.conn, session.client_id, reason=reason, by=by)
            _close(up_w)
        except asyncio.CancelledError:
            self._log_sys("disconnect", session.conn, session.client_id, reason="tap stopped", by="tap")
        finally:
            _close(client_w)
            self._sessions.pop(session.conn, None)

    async def _pump(self, session: _Session, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    direction: str) -> str:
        """Forward until EOF; decode a copy. Returns why it stopped."""
        decoder: FrameDecoder | None = FrameDecoder(expect_handshake=(direction == "in"))
        session.decoders[direction] = decoder
        while True:
            try:
                data = await reader.read(CHUNK)
            except (ConnectionError, OSError) as exc:
                return f"{'client' if direction == 'in' else 'upstream'} reset: {exc!r}"
            wall = time.time()
            if not data:
                return "client closed" if direction == "in" else "upstream closed"
            if session.refused:
                return "refused"
            if decoder is not None:   # before forwarding: the client answers the server hello in the new framing
                decoder = self._decode(session, decoder, data, direction, wall)
            if session.refused:
                return "refused"
            if direction == "in":
                forward = session.gate.from_client(data)
                if session.gate.held_bytes > session.gate.max_held:
                    session.refused = True
                    session.gate.refuse()
                    self._log_sys("refused", session.conn, session.client_id,
                                  reason=f"client sent over {session.gate.max_held} bytes before the gateway "
                                         f"reported its accounts")
            else:
                forward = data
                accounts = session.gate.on_gateway(data)
                if accounts is not None and self._check_accounts(session, accounts):
                    held = session.gate.release()
                    if held and session.upstream_writer is not None:
                        session.upstream_writer.write(held)  # before any later client byte, same loop turn
            try:
                if forward:
                    writer.write(forward)
                    await writer.drain()
            except (ConnectionError, OSError) as exc:
                return f"{'upstream' if direction == 'in' else 'client'} write failed: {exc!r}"
            if session.refused:
                return "refused"

    def _decode(self, session: _Session, decoder: FrameDecoder, data: bytes, direction: str,
                wall: float) -> FrameDecoder | None:
        try:
            for kind, fields in decoder.feed(data):
                if kind == "hello":
                    self._on_hello(session, fields[0], wall)
                elif direction == "out" and not session.handshake_seen:
                    self._on_server_hello(session, fields, wall)
                elif kind == "proto":
                    self._log_protobuf(session, direction, int(fields[0]), fields[1].encode("latin-1"), wall)
                else:
                    self._log_wire(session, direction, fields, wall)
        except ProtocolError as exc:
            self._log_sys("protocol_error", session.conn, session.client_id, direction=direction, error=str(exc))
            return None  # keep forwarding, stop decoding this direction
        except Exception as exc:  # a recording bug must never break the session it records
            self._log_sys("protocol_error", session.conn, session.client_id, direction=direction,
                          error=f"decoder failure: {exc!r}")
            return None
        return decoder

    def _log_protobuf(self, session: _Session, direction: str, msg_id: int, payload: bytes, wall: float) -> None:
        """A protobuf frame, logged as the mock logs it: the same message model, attrs.encoding = protobuf."""
        if direction == "in":
            try:
                messages = [protobuf_request_fields(msg_id, payload)]
            except UnservedProtobufRequest:
                messages = [[str(msg_id)]]
            except ValueError:   # a valid request the mock's model has no field for: name it, keep recording
                messages = [[str(msg_id)]]
        else:
            messages = session.replies.feed(msg_id, payload)
        for fields in messages:
            self._log_wire(session, direction, fields, wall, encoding="protobuf")

    def _on_hello(self, session: _Session, version_text: str, wall: float) -> None:
        # logged as the mock logs it: the hello as an "in" message, the negotiation as a sys event
        self.event_log.write(dir="in", msg="handshake", fields=[version_text], conn=session.conn, wall=wall,
                             source="tap")
        try:
            session.client_min, session.client_max, session.options = parse_version_range(version_text)
        except ProtocolError as exc:
            self._log_sys("protocol_error", session.conn, direction="in", error=str(exc))

    def _on_server_hello(self, session: _Session, fields: list[str], wall: float) -> None:
        session.handshake_seen = True
        self.event_log.write(dir="out", msg="handshakeReply", fields=fields, conn=session.conn, wall=wall,
                             source="tap")
        try:
            server_version: int | None = int(fields[0])
        except (ValueError, IndexError):
            server_version = None
        if server_version is not None and server_version >= PROTOBUF:
            for decoder in session.decoders.values():
                decoder.binary_ids = True
        self._log_sys("handshake", session.conn, client_min=session.client_min, client_max=session.client_max,
                      server_version=server_version, options=session.options,
                      connection_time=fields[1] if len(fields) > 1 else "")


def _close(writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(Exception):
        writer.close()


@contextlib.asynccontextmanager
async def start_tap(upstream_host: str, upstream_port: int, event_log: EventLog, **kwargs: object
                    ) -> AsyncIterator[Tap]:
    """Run a tap in the caller's loop for the duration of the block."""
    tap = Tap(upstream_host, upstream_port, event_log, **kwargs)  # type: ignore[arg-type]
    await tap.start()
    try:
        yield tap
    finally:
        await tap.close()


async def serve(listen: str, upstream: str, event_log_path: str, allow_live: bool = False,
                ready: asyncio.Event | None = None, stop: asyncio.Event | None = None) -> None:
    """Run a tap until ``stop`` is set (the CLI sets it on SIGINT/SIGTERM)."""
    listen_host, listen_port = parse_hostport(listen)
    up_host, up_port = parse_hostport(upstream)
    check_paper_target(port=up_port, allow_live=allow_live)
    with EventLog(event_log_path, source="tap") as log:
        async with start_tap(up_host, up_port, log, listen_host=listen_host, listen_port=listen_port,
                             allow_live=allow_live) as tap:
            if ready is not None:
                ready.set()
            print(f"tap listening on {tap.host}:{tap.port} -> {up_host}:{up_port}, recording to {event_log_path}",
                  flush=True)
            await (stop.wait() if stop is not None else asyncio.Event().wait())


__all__ = ["Tap", "start_tap", "serve", "parse_hostport", "LiveAccountRefused"]
