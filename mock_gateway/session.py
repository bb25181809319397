"""One client connection: handshake, startApi, request dispatch and ordered, latency-aware replies.

The hot path is decode -> log -> handle -> encode -> write, all on the gateway's event loop.
Replies of one :class:`ReplyKind` leave in the order they were produced; injected latency
(``FaultStack.reply_delay``) turns a reply into a SimPy process that ``yield``s a timeout
first. A reply due now is written at once (no process), which keeps a round trip cheap.
Bad bytes end this session only: a clear log line and a ``disconnect`` event with the reason.
"""
from __future__ import annotations

import asyncio
import collections
import dataclasses
import enum
import logging
import struct
from collections.abc import Callable, Generator, Iterable
from typing import Any, Protocol

import simpy

from .config import GatewayConfig
from .cooperative import turn_slice
from .eventlog import EventLog, fields_json_steps
from .faults.base import AcceptAction, FaultStack
from .identity import MOCK_NOTICE_CODE, MOCK_NOTICE_TEXT
from .protocol import messages as m
from .protocol.describe import describe_reply
from .protocol.framing import (FrameDecoder, ProtocolError, encode_frame_binary_id, encode_proto_frame, frame_steps,
                                parse_version_range)
from .protocol.ids import REPLY_NAMES
from .protocol.kinds import ReplyKind
from .protocol.proto import replies as proto_replies
from .protocol.proto.requests import UnservedProtobufField, UnservedProtobufRequest, protobuf_request_fields
from .protocol.requests import Request, decode_request, with_version_field
from .protocol.versions import MAX_SUPPORTED, MIN_PROTOBUF_SUPPORTED, MIN_SUPPORTED, PROTOBUF, negotiate
from .replies import PreparedReply
from .sim.clock import SimClock

log = logging.getLogger("mock_gateway.session")

_LEN = struct.Struct(">I")
Fields = list[str]

#: Startup status messages in the order real TWS sends them after nextValidId.
FARM_STATUS = ((2104, "Market data farm connection is OK:usfarm"),
               (2106, "HMDS data farm connection is OK:ushmds"),
               (2158, "Sec-def data farm connection is OK:secdefnj"))
CLIENT_ID_IN_USE = "Unable to connect as the client id is already in use. Retry with a unique client id."


class State(enum.Enum):
    HELLO = "hello"           # waiting for API\0 + version range
    STARTING = "starting"     # handshake answered, waiting for startApi
    READY = "ready"
    CLOSED = "closed"


def frame(fields: Fields) -> bytes:
    payload = ("\0".join(fields) + "\0").encode("ascii", "backslashreplace")
    return _LEN.pack(len(payload)) + payload


def prepare_reply(fields: Fields, server_version: int, now_ms: int) -> Generator[None, None, PreparedReply]:
    """Steps that encode ``fields`` as :meth:`Session._encode` would for ``server_version`` (the same bytes), and
    JSON-encode them for the event log: a :class:`PreparedReply` that ``send`` writes without encoding again
    (``fields`` itself when it is one: filled in place, no copy of its thousands of fields)."""
    reply = fields if isinstance(fields, PreparedReply) else PreparedReply(fields)
    encoding = "text"
    if server_version >= MIN_PROTOBUF_SUPPORTED:
        messages = yield from proto_replies.to_protobuf_steps(fields, now_ms=now_ms)
        if messages is not None:
            reply.wire = b"".join(encode_proto_frame(wire_id, payload) for wire_id, payload in messages)
            encoding = "protobuf"
    if encoding == "text":
        reply.wire = yield from frame_steps(fields, binary_id=server_version >= PROTOBUF)
    reply.encoding = encoding
    reply.server_version = server_version
    reply.fields_json = yield from fields_json_steps(fields)
    return reply


class SessionHost(Protocol):
    """What a session needs of the gateway that accepted it (the server implements it)."""

    config: GatewayConfig
    clock: SimClock
    env: simpy.Environment
    faults: FaultStack
    event_log: EventLog
    loop: asyncio.AbstractEventLoop
    refusing: bool
    max_write_buffer_bytes: int

    def sys_event(self, msg: str, **kwargs: Any) -> None: ...
    def dispatch(self, session: Session, request: Request) -> None: ...
    def claim_client_id(self, client_id: int, session: Session) -> bool: ...
    def next_order_id(self, client_id: int) -> int: ...
    def market_data_lines(self, conn_id: int) -> int: ...
    def open_connections(self, excluding: Session) -> int: ...
    def on_session_ready(self, session: Session) -> None: ...
    def on_session_closed(self, session: Session, was_ready: bool) -> None: ...


@dataclasses.dataclass(eq=False)
class _Waiting:
    """Replies of one kind waiting out an injected delay."""

    due: float
    messages: list[Fields]
    fault: str | None           # logged on the replies
    delayed_by: tuple[str, ...]  # the faults whose latency holds them (none: only queued behind earlier ones)
    sent: bool = False


#: Frames of one read always handled together before the time budget counts: a client's start-up batch (a dozen
#: requests in one write) stays in one turn, so replies a latency fault delays by a millisecond never land
#: between its requests in the event log; a flood of hundreds is still cut into turns.
DRAIN_FRAMES_AT_ONCE = 16


class Session(asyncio.Protocol):
    """One API client. Implements :class:`mock_gateway.faults.base.SessionView` and
    :class:`mock_gateway.replies.ReplyChannel`."""

    def __init__(self, gateway: SessionHost, conn_id: int) -> None:
        self.gw = gateway
        self.conn_id = conn_id
        self.client_id: int | None = None
        self.server_version = 0
        self.state = State.HELLO
        self.peer = ""
        self.accept_action = AcceptAction.SERVE
        self.transport: asyncio.Transport | None = None
        self._decoder = FrameDecoder(expect_handshake=True)
        self._due: dict[ReplyKind, float] = {}
        self._waiting: dict[ReplyKind, collections.deque[_Waiting]] = {}   # replies an injected delay holds, in order
        self._out: list[bytes] = []
        self._backlog: collections.deque[tuple[str, Fields]] = collections.deque()   # frames read, not yet handled
        self._reading_paused = False
        self._flush_pending = False
        self._close_reason: str | None = None
        # wall-clock deadlines (loop.time()), checked by the gateway's sweep: the client's part
        # of the handshake, and the frame it has begun to send
        self.handshake_deadline: float | None = None
        self.partial_frame_since: float | None = None

    # ------------------------------------------------------------------ SessionView
    @property
    def closed(self) -> bool:
        """True once the connection is gone: feeds stop working for it even before its cleanup runs."""
        return self.state is State.CLOSED

    @property
    def market_data_lines(self) -> int:
        return self.gw.market_data_lines(self.conn_id)   # the feed owns the subscriptions

    @property
    def ready(self) -> bool:
        return self.state is State.READY

    @property
    def closed(self) -> bool:
        return self.state is State.CLOSED

    # ------------------------------------------------------------------ asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        peer = transport.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)
        gw = self.gw
        gw.clock.catch_up()
        action, fault = gw.faults.on_accept(gw.env.now)
        if gw.refusing and action is AcceptAction.SERVE:
            action, fault = AcceptAction.REFUSE, "gateway_down"
        self.accept_action = action
        gw.sys_event("connect", conn=self.conn_id, attrs={"peer": self.peer}, fault=fault)
        log.info("conn %d: connection from %s", self.conn_id, self.peer)
        if action is AcceptAction.REFUSE:
            gw.sys_event("refused", conn=self.conn_id, attrs={"reason": "gateway is not accepting connections"},
                         fault=fault)
            self.close("refused: gateway is not accepting connections", abort=True)
            return
        limit = gw.config.max_clients
        if gw.open_connections(excluding=self) >= limit:
            reason = f"the gateway already has {limit} API clients connected, the most one TWS session accepts"
            gw.sys_event("refused", conn=self.conn_id, attrs={"reason": reason})
            log.warning("conn %d (%s): refused: %s", self.conn_id, self.peer, reason)
            self.close(f"refused: {reason}")
            return
        self.handshake_deadline = gw.loop.time() + gw.config.handshake_timeout_s

    def data_received(self, data: bytes) -> None:
        if self.state is State.CLOSED:
            return
        try:
            self._receive(data)
        except Exception as exc:  # the last net: a bug ends this session only, with one log line
            log.error("conn %d (%s): %s while reading its bytes (%r); closing this session", self.conn_id, self.peer,
                      type(exc).__name__, exc)
            self.close(f"internal error: {type(exc).__name__}", abort=True)

    def _receive(self, data: bytes) -> None:
        try:
            items = self._decoder.feed(data)
        except ProtocolError as exc:
            log.warning("conn %d (%s): %s; closing this session", self.conn_id, self.peer, exc)
            self.close(f"protocol error: {exc}", abort=True)
            return
        if self._decoder.buffered == 0:
            self.partial_frame_since = None
        elif items or self.partial_frame_since is None:   # a new frame has begun
            self.partial_frame_since = self.gw.loop.time()
        if not items:
            return
        self._backlog.extend(items)
        if len(self._backlog) == len(items):     # else a drain is already scheduled and reading paused
            self._drain_backlog()

    def _drain_backlog(self) -> None:
        """Handle the frames read so far, for one time budget; the rest waits for the next loop turn.

        One read can carry hundreds of requests (a burst of placeOrder in one TCP segment): handled in one
        go they would hold every other session for as long. While frames wait, reading from this client
        pauses, so its requests stay in order and a flood cannot pile up here.
        """
        backlog = self._backlog
        clock = self.gw.clock
        clock.catch_up()
        next_event = clock.env.peek()
        budget = turn_slice(self.gw.loop)   # the turn's one budget, shared with the long replies in progress
        handled = 0
        while backlog and self.state is not State.CLOSED:
            kind, fields = backlog.popleft()
            if kind == "hello":
                self._on_hello(fields[0])
            elif kind == "proto":
                self._on_protobuf(int(fields[0]), fields[1].encode("latin-1"))
            else:
                self._on_message(with_version_field(fields, self.server_version))
            handled += 1
            if handled >= DRAIN_FRAMES_AT_ONCE and budget.spent():
                break
        clock.run_due()   # processes the requests started (order acks, fills) run now, not on the next wake
        if clock.env.peek() < next_event:
            clock.wake()  # something new is due earlier than the clock's current sleep
        transport = self.transport
        if self.state is State.CLOSED:
            backlog.clear()
        elif backlog:
            if transport is not None and not self._reading_paused:
                transport.pause_reading()
                self._reading_paused = True
            self.gw.loop.call_soon(self._drain_later)
        elif self._reading_paused:
            self._reading_paused = False
            if transport is not None and not transport.is_closing():
                transport.resume_reading()

    def _drain_later(self) -> None:
        try:
            self._drain_backlog()
        except Exception as exc:  # the same last net as data_received
            log.error("conn %d (%s): %s while handling its requests (%r); closing this session", self.conn_id,
                      self.peer, type(exc).__name__, exc)
            self._backlog.clear()
            self.close(f"internal error: {type(exc).__name__}", abort=True)

    def connection_lost(self, exc: Exception | None) -> None:
        reason = self._close_reason or (f"connection lost: {exc}" if exc else "client closed the connection")
        self._finish(reason)

    # ------------------------------------------------------------------ inbound
    def _on_hello(self, text: str) -> None:
        gw = self.gw
        gw.event_log.write(dir="in", msg="handshake", fields=[text], conn=self.conn_id, sim=gw.env.now)
        try:
            client_min, client_max, options = parse_version_range(text)
        except ProtocolError as exc:
            self.close(f"protocol error: {exc}", abort=True)
            return
        version = negotiate(client_min, client_max, gw.config.max_server_version)
        gw.sys_event("handshake", conn=self.conn_id, attrs={
            "client_min": client_min, "client_max": client_max, "server_version": version, "options": options})
        if version is None:
            reason = (f"no common server version: client speaks {client_min}..{client_max}, this gateway "
                      f"{MIN_SUPPORTED}..{min(MAX_SUPPORTED, gw.config.max_server_version)}")
            gw.sys_event("refused", conn=self.conn_id, attrs={"reason": reason})
            self.close(reason)
            return
        self.server_version = version
        self._decoder.binary_ids = version >= PROTOBUF   # from 201 every frame starts with a 4-byte id
        self.state = State.STARTING
        self.handshake_deadline = None
        if self.accept_action is AcceptAction.STALL_HANDSHAKE:
            return   # the fault: a gateway that accepts TCP but never answers the hello
        reply = m.handshake_reply(version, gw.clock.now_datetime().strftime("%Y%m%d %H:%M:%S UTC"))
        gw.event_log.write(dir="out", msg="handshakeReply", fields=reply, conn=self.conn_id, sim=gw.env.now)
        self._write(frame(reply))
        self._flush()   # alone in its segment: ibapi reads only the first message of its first recv
        self.handshake_deadline = gw.loop.time() + gw.config.handshake_timeout_s   # now startApi is due

    def _on_protobuf(self, msg_id: int, payload: bytes) -> None:
        """A protobuf request: decoded into the same request model a text request gives, then one path."""
        try:
            fields = protobuf_request_fields(msg_id, payload)
        except UnservedProtobufRequest:
            fields = [str(msg_id)]   # answered as the text request of that id would be (not served / unknown)
        except ProtocolError as exc:
            log.warning("conn %d (%s): protobuf request %d: %s; closing this session", self.conn_id, self.peer,
                        msg_id, exc)
            self.close(f"protocol error: protobuf request {msg_id}: {exc}", abort=True)
            return
        except UnservedProtobufField as exc:   # a valid request using a feature the mock does not serve
            log.info("conn %d: protobuf request %d not served: %s", self.conn_id, msg_id, exc)
            self.error(exc.req_id, 321, f"Error validating request.-'{msg_id}' : cause - {exc}")
            return
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("conn %d: protobuf request %d cannot be served: %s", self.conn_id, msg_id, exc)
            self.error(-1, 320, f"Error reading request. Message id {msg_id}. {exc}")
            return
        except Exception as exc:  # a bug in a decoder must not take the session down
            log.exception("conn %d: protobuf request %d failed to decode", self.conn_id, msg_id)
            self.error(-1, 321, f"Error validating request.-'{msg_id}' : cause - internal error in the mock "
                                f"gateway: {exc!r}")
            return
        self._on_message(fields, encoding="protobuf")

    def _on_message(self, fields: Fields, encoding: str = "text") -> None:
        gw = self.gw
        now = gw.env.now
        request = decode_request(fields)   # once: the log, the faults and the handler read this
        attrs = request.attrs
        if encoding != "text":   # a protobuf request: the same model, marked with the encoding it came in
            request = dataclasses.replace(request, encoding=encoding)
            attrs = {**attrs, "encoding": encoding}
        verdict = gw.faults.on_request(self, request, now) if self.state is State.READY else None
        gw.event_log.write(dir="in", msg=request.name, msg_id=request.msg_id, fields=fields, attrs=attrs,
                           conn=self.conn_id, client_id=self.client_id, sim=now,
                           fault=verdict.fault if verdict else None)
        if self.state is State.STARTING:
            if request.name == "startApi":
                self._start_api(request)
            else:   # clients never do this; TWS answers "not connected"
                self.error(-1, 504, "Not connected")
            return
        if verdict is not None:
            for req_id, code, text in verdict.errors:
                self.error(req_id, code, text, fault=verdict.fault)
            if verdict.disconnect:
                self.close(f"disconnected by fault {verdict.fault}")
                return
            if verdict.drop:
                return
            if verdict.delay_s > 0:   # paced by the gateway: served later, in arrival order
                self.call_later_sim(verdict.delay_s, lambda: gw.dispatch(self, request))
                return
        gw.dispatch(self, request)

    def _start_api(self, request: Request) -> None:
        gw = self.gw
        client_id = request.attrs.get("client_id")
        if not isinstance(client_id, int):
            self.close(f"protocol error: startApi without a numeric client id: {list(request.fields[:4])}",
                       abort=True)
            return
        if not gw.claim_client_id(client_id, self):
            self.client_id = client_id
            self.error(-1, 326, CLIENT_ID_IN_USE)
            log.info("conn %d: client id %d already in use; closing", self.conn_id, client_id)
            self.close(f"client id {client_id} already in use (error 326)")
            return
        self.client_id = client_id
        self.state = State.READY
        self.handshake_deadline = None
        gw.on_session_ready(self)
        if self.accept_action is AcceptAction.STALL_START:
            return   # the fault: never managedAccounts / nextValidId, so clients time out
        self.send(ReplyKind.OTHER, [m.managed_accounts(gw.config.account_ids),
                                    m.next_valid_id(gw.next_order_id(client_id))])
        self.send(ReplyKind.OTHER, [m.error(self.server_version, -1, code, text)
                                    for code, text in (*FARM_STATUS, (MOCK_NOTICE_CODE, MOCK_NOTICE_TEXT))])

    # ------------------------------------------------------------------ outbound
    def error(self, req_id: int, code: int, text: str, *, fault: str | None = None,
              kind: ReplyKind = ReplyKind.OTHER, advanced_json: str = "") -> None:
        self.send(kind, [m.error(self.server_version, req_id, code, text, advanced_json)], fault=fault)

    def send(self, kind: ReplyKind, messages: Iterable[Fields], *, fault: str | None = None) -> None:
        """Queue replies of one kind; they leave after the kind's injected latency, in order."""
        if self.state is State.CLOSED:
            return
        gw = self.gw
        env = gw.env
        now = env.now
        delay, delay_fault = gw.faults.reply_delay(kind, now)
        due = now + delay
        after = self._due.get(kind, 0.0)
        if kind is ReplyKind.ORDER_FILL:   # a fill never overtakes the order's acknowledgement
            after = max(after, self._due.get(ReplyKind.ORDER_ACK, 0.0))
        if after > due:
            due = after
        fault = fault or delay_fault
        if due <= now:
            self._emit(kind, list(messages), fault)
            return
        self._due[kind] = due
        waiting = _Waiting(due, list(messages), fault, tuple(delay_fault.split(",")) if delay_fault else ())
        self._waiting.setdefault(kind, collections.deque()).append(waiting)
        env.process(self._emit_later(due - now, kind, waiting))
        gw.clock.wake()

    def _emit_later(self, delay_s: float, kind: ReplyKind, waiting: _Waiting):
        yield self.gw.env.timeout(delay_s)
        if waiting.sent:
            return   # released early: its delaying fault was removed
        queue = self._waiting.get(kind)
        if queue and queue[0] is waiting:
            queue.popleft()
        elif queue:
            queue.remove(waiting)
        self._emit(kind, waiting.messages, waiting.fault)

    def release_delayed(self, fault: str) -> int:
        """Send now the replies ``fault`` is holding back, with every earlier reply of their kind (order
        kept, a fill never before its ack): a removed latency fault's delay ends, as a removed
        Toxiproxy latency toxic passes on what it holds. Returns how many batches went out."""
        released = 0
        for kind in (ReplyKind.ORDER_ACK, *(k for k in self._waiting if k is not ReplyKind.ORDER_ACK)):
            queue = self._waiting.get(kind)
            if not queue:
                continue
            held = [i for i, w in enumerate(queue) if fault in w.delayed_by]
            if not held:
                continue
            if kind is ReplyKind.ORDER_FILL and self._waiting.get(ReplyKind.ORDER_ACK):
                continue   # an ack still held by another fault: its fill waits for it
            upto = held[-1]
            while queue and (upto >= 0 or not queue[0].delayed_by):   # and those only queued behind them
                waiting = queue.popleft()
                waiting.sent = True
                self._emit(kind, waiting.messages, waiting.fault)
                released += 1
                upto -= 1
            self._due[kind] = queue[-1].due if queue else self.gw.env.now
        return released

    def _emit(self, kind: ReplyKind, messages: list[Fields], fault: str | None) -> None:
        if self.state is State.CLOSED:
            return
        gw = self.gw
        now = gw.env.now
        faults = gw.faults
        write_log = gw.event_log.write
        log_it = gw.config.log_market_data or kind is not ReplyKind.MARKET_DATA
        out = self._out
        for fields in messages:
            name = REPLY_NAMES.get(int(fields[0]), "unknown")
            suppressed_by = faults.suppress_reply(self, name, now)
            if suppressed_by:
                gw.sys_event("suppressed", conn=self.conn_id, client_id=self.client_id,
                             attrs={"msg": name, "fields": fields}, fault=suppressed_by)
                continue
            prepared = isinstance(fields, PreparedReply) and fields.server_version == self.server_version
            data, encoding = (fields.wire, fields.encoding) if prepared else self._encode(fields)
            out.append(data)
            if log_it:
                attrs = describe_reply(fields)[1]
                if encoding != "text":
                    attrs = {**attrs, "encoding": encoding}
                write_log(dir="out", msg=name, msg_id=int(fields[0]), fields=fields, attrs=attrs,
                          conn=self.conn_id, client_id=self.client_id, sim=now, fault=fault,
                          fields_json=fields.fields_json if prepared else None)
        if out and not self._flush_pending:
            self._flush_pending = True
            gw.loop.call_soon(self._flush)

    def prepare(self, fields: Fields) -> Generator[None, None, Fields]:
        """A large reply's wire bytes and event-log text, computed in steps (``yield`` between chunks) so that
        sending it later holds the loop for a copy and one write, not for the ~25 ms of encoding 5,000 bars."""
        now_ms = int(self.gw.clock.now_datetime().timestamp() * 1000)
        return (yield from prepare_reply(fields, self.server_version, now_ms))

    def _encode(self, fields: Fields) -> tuple[bytes, str]:
        """One reply model on the wire of this session's version: text, text with a binary id, or protobuf."""
        sv = self.server_version
        if sv < PROTOBUF:
            return frame(fields), "text"
        if sv >= MIN_PROTOBUF_SUPPORTED:
            now_ms = int(self.gw.clock.now_datetime().timestamp() * 1000)
            messages = proto_replies.to_protobuf(fields, now_ms=now_ms)
            if messages is not None:
                return b"".join(encode_proto_frame(wire_id, payload) for wire_id, payload in messages), "protobuf"
        return encode_frame_binary_id(fields), "text"

    def _write(self, data: bytes) -> None:
        self._out.append(data)

    def _flush(self) -> None:
        self._flush_pending = False
        transport = self.transport
        if self._out and transport is not None and not transport.is_closing():
            data = b"".join(self._out) if len(self._out) > 1 else self._out[0]
            self._out.clear()
            transport.write(data)
            waiting = transport.get_write_buffer_size()
            if waiting > self.gw.max_write_buffer_bytes:   # a client that stopped reading must not eat the memory
                log.warning("conn %d (client %s): %d bytes unsent, the client is not reading; closing",
                            self.conn_id, self.client_id, waiting)
                self.close(f"client is not reading: {waiting} bytes waiting to be sent", abort=True)
        else:
            self._out.clear()

    # ------------------------------------------------------------------ deadlines
    def check_deadlines(self, now: float) -> None:
        """Close this session if its client overran the handshake or left a frame half-sent (wall time)."""
        if self.state is State.CLOSED:
            return
        config = self.gw.config
        if self.handshake_deadline is not None and now > self.handshake_deadline:
            step = "hello" if self.state is State.HELLO else "startApi"
            reason = f"handshake timeout: no {step} within {config.handshake_timeout_s:g} s"
        elif self.partial_frame_since is not None and now - self.partial_frame_since > config.frame_timeout_s:
            reason = (f"frame timeout: {self._decoder.buffered} bytes of a frame left half-sent for "
                      f"{config.frame_timeout_s:g} s")
        else:
            return
        log.warning("conn %d (%s): %s; closing this session", self.conn_id, self.peer, reason)
        self.handshake_deadline = self.partial_frame_since = None
        self.close(reason, abort=True)

    # ------------------------------------------------------------------ closing
    def close(self, reason: str, *, abort: bool = False) -> None:
        """End this session: pending replies are flushed first unless ``abort``."""
        if self._close_reason is None:
            self._close_reason = reason
        if self.transport is None or self.transport.is_closing():
            return
        if abort:
            self._out.clear()
            self.transport.abort()
        else:
            self._flush()
            self.transport.close()

    def _finish(self, reason: str) -> None:
        if self.state is State.CLOSED:
            return
        was_ready = self.state is State.READY
        self.state = State.CLOSED
        gw = self.gw
        gw.clock.catch_up()
        gw.sys_event("disconnect", conn=self.conn_id, client_id=self.client_id, attrs={"reason": reason})
        log.info("conn %d (client %s): disconnected: %s", self.conn_id, self.client_id, reason)
        gw.on_session_closed(self, was_ready)

    def call_later_sim(self, delay_s: float, fn: Callable[[], None]) -> None:
        """Run ``fn`` after ``delay_s`` sim seconds unless the session closed meanwhile."""
        def proc():
            yield self.gw.env.timeout(delay_s)
            if self.state is not State.CLOSED:
                fn()
        self.gw.env.process(proc())
