"""TWS API framing: 4-byte big-endian length prefix + NUL-terminated fields.

Pure: no sockets here. Shared by the gateway server and the recording tap.
"""
from __future__ import annotations

import re
import struct
from collections.abc import Generator, Iterable, Sequence

from .fields import fmt

#: ibapi's MAX_MSG_LEN: the largest payload any of the clients accepts or sends.
MAX_MSG_LEN = 0xFFFFFF
#: A client hello starts with these bytes (not length-prefixed, not counted by client throttles).
API_PREFIX = b"API\x00"
#: A version string longer than this is not a TWS API client.
MAX_HANDSHAKE_LEN = 1024
#: Fields of one client request at most. The longest request a client writes (placeOrder with algo
#: parameters, conditions and combo legs) has a few hundred; 8 million empty fields fit in one 16 MiB
#: frame and would cost the gateway hundreds of MB and seconds of its loop.
MAX_REQUEST_FIELDS = 10_000

_LEN = struct.Struct(">I")


class ProtocolError(Exception):
    """The peer sent bytes that are not the TWS API protocol; the session must end."""


def encode_fields(fields: Iterable[object]) -> bytes:
    """Payload of one message: every field formatted and followed by NUL."""
    return "".join(fmt(f) + "\0" for f in fields).encode("ascii", "backslashreplace")


#: Fields encoded per step by encode_fields_steps (well under a millisecond of CPU).
ENCODE_CHUNK_FIELDS = 4000


def encode_fields_steps(fields: Sequence[object]) -> Generator[None, None, bytes]:
    """:func:`encode_fields` in steps (``yield`` between chunks of fields), for a message of thousands of
    fields encoded between other sessions' work; the same bytes."""
    parts: list[bytes] = []
    for k in range(0, len(fields), ENCODE_CHUNK_FIELDS):
        chunk = fields[k:k + ENCODE_CHUNK_FIELDS]
        try:        # text fields (a reply's usual case): one join, ~8x faster than formatting each
            text = "\0".join(chunk) + "\0"      # type: ignore[arg-type]
        except TypeError:
            text = "".join(fmt(f) + "\0" for f in chunk)
        parts.append(text.encode("ascii", "backslashreplace"))
        yield
    return b"".join(parts)


def frame_steps(fields: Sequence[object], binary_id: bool) -> Generator[None, None, bytes]:
    """One text message's frame in steps: :func:`encode_frame`, or with ``binary_id`` (server version 201+)
    :func:`encode_frame_binary_id`; the same bytes."""
    if binary_id:
        payload = _LEN.pack(int(str(fields[0]))) + (yield from encode_fields_steps(fields[1:]))
    else:
        payload = yield from encode_fields_steps(fields)
    return _LEN.pack(len(payload)) + payload


def encode_frame(fields: Iterable[object]) -> bytes:
    """One length-prefixed message frame."""
    payload = encode_fields(fields)
    return _LEN.pack(len(payload)) + payload


def encode_frame_binary_id(fields: Sequence[object]) -> bytes:
    """A text message from server version 201 (PROTOBUF) on: the id as a 4-byte big-endian int, then fields."""
    payload = _LEN.pack(int(fields[0])) + encode_fields(fields[1:])
    return _LEN.pack(len(payload)) + payload


def encode_proto_frame(wire_id: int, payload: bytes) -> bytes:
    """A protobuf message: 4-byte id (message id + 200), then the serialized message."""
    body = _LEN.pack(wire_id) + payload
    return _LEN.pack(len(body)) + body


#: Message ids above this carry a protobuf payload (ibapi common.PROTOBUF_MSG_ID).
PROTOBUF_MSG_ID = 200


#: A message id: ASCII digits only (``int()`` would also take other scripts' digits and "1_0").
_MSG_ID = re.compile(r"[0-9]{1,9}")


def decode_payload(payload: bytes, max_fields: int | None = None) -> list[str]:
    """Split a payload into fields; the trailing NUL yields a final empty element that is dropped.
    More than ``max_fields`` fields is a :class:`ProtocolError`, found before any field is made."""
    if max_fields is not None:
        count = payload.count(b"\0")
        if count > max_fields:
            raise ProtocolError(f"a message of {count} fields (a TWS API request has at most {max_fields})")
    text = payload.decode("utf-8", errors="backslashreplace")
    fields = text.split("\0")
    if fields and fields[-1] == "":
        fields.pop()
    return fields


def parse_version_range(text: str) -> tuple[int, int, str]:
    """Parse a client hello body ``vMIN..MAX[ options]`` (or ``vN``) into (min, max, options)."""
    body, _, options = text.partition(" ")
    if not body.startswith("v"):
        raise ProtocolError(f"handshake version string must start with 'v', got {body[:40]!r}")
    lo_text, sep, hi_text = body[1:].partition("..")
    try:
        lo = int(lo_text)
        hi = int(hi_text) if sep else lo
    except ValueError:
        raise ProtocolError(f"handshake version range is not numeric: {body[:40]!r}") from None
    if lo <= 0 or hi < lo:
        raise ProtocolError(f"handshake version range is empty: {body[:40]!r}")
    return lo, hi, options


def encode_handshake(version_range: str = "v157..176", options: str = "") -> bytes:
    """The bytes a client sends to open a session (used by the tap and by tests)."""
    body = (version_range + (" " + options if options else "")).encode("ascii")
    return API_PREFIX + _LEN.pack(len(body)) + body


class FrameDecoder:
    """Incremental decoder for a byte stream from one peer.

    ``expect_handshake=True`` (server side, reading a client) first requires the ``API\\0`` hello;
    :meth:`feed` then returns ``("hello", [version_string])`` once, and ``("msg", fields)`` after.
    Once ``binary_ids`` is set (the negotiated version is 201 or more) every payload starts with a
    4-byte id: text messages still come as ``("msg", fields)`` with the id as ``fields[0]``, protobuf
    ones (id > 200) as ``("proto", [str(id - 200), payload as latin-1])``.
    Raises :class:`ProtocolError` on anything that cannot be the protocol: the caller ends
    that one session, nothing else.
    """

    def __init__(self, expect_handshake: bool = False, max_len: int = MAX_MSG_LEN,
                 max_fields: int | None = None) -> None:
        self._buf = bytearray()
        self._awaiting_hello = expect_handshake
        self._max_len = max_len
        #: reading a client (it says hello): its requests are capped; a gateway's replies (bars) are not
        self._max_fields = max_fields if max_fields is not None else (MAX_REQUEST_FIELDS if expect_handshake
                                                                      else None)
        self.binary_ids = False

    @property
    def buffered(self) -> int:
        """Bytes received but not yet part of a complete message."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[tuple[str, list[str]]]:
        self._buf += data
        out: list[tuple[str, list[str]]] = []
        while True:
            if self._awaiting_hello:
                hello = self._take_hello()
                if hello is None:
                    return out
                out.append(("hello", [hello]))
                continue
            if len(self._buf) < 4:
                return out
            (length,) = _LEN.unpack_from(self._buf, 0)
            if length > self._max_len:
                raise ProtocolError(f"frame length {length} exceeds the maximum {self._max_len}")
            if len(self._buf) < 4 + length:
                return out
            payload = bytes(self._buf[4 : 4 + length])
            del self._buf[: 4 + length]
            if self.binary_ids:
                out.append(self._binary(payload))
                continue
            fields = decode_payload(payload, self._max_fields)
            if not fields or not _MSG_ID.fullmatch(fields[0]):
                raise ProtocolError(f"message without a numeric id: {payload[:40]!r}")
            out.append(("msg", fields))

    def _binary(self, payload: bytes) -> tuple[str, list[str]]:
        if len(payload) < 4:
            raise ProtocolError(f"message shorter than its 4-byte id: {payload!r}")
        (msg_id,) = _LEN.unpack_from(payload, 0)
        if msg_id > PROTOBUF_MSG_ID:
            return "proto", [str(msg_id - PROTOBUF_MSG_ID), payload[4:].decode("latin-1")]
        return "msg", [str(msg_id), *decode_payload(payload[4:], self._max_fields)]

    def _take_hello(self) -> str | None:
        n = len(API_PREFIX)
        head = bytes(self._buf[:n])
        if head != API_PREFIX[: len(head)]:
            raise ProtocolError(f"not a TWS API client: first bytes {head!r}, expected {API_PREFIX!r}")
        if len(self._buf) < n + 4:
            return None
        (length,) = _LEN.unpack_from(self._buf, n)
        if length == 0 or length > MAX_HANDSHAKE_LEN:
            raise ProtocolError(f"handshake length {length} is not a TWS API version string")
        if len(self._buf) < n + 4 + length:
            return None
        body = bytes(self._buf[n + 4 : n + 4 + length])
        del self._buf[: n + 4 + length]
        self._awaiting_hello = False
        try:
            return body.decode("ascii")
        except UnicodeDecodeError:
            raise ProtocolError(f"handshake is not ASCII: {body[:40]!r}") from None


def frames(messages: Sequence[Sequence[object]]) -> bytes:
    """Concatenate several encoded frames (one write for a burst of replies)."""
    return b"".join(encode_frame(m) for m in messages)
