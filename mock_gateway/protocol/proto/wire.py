"""Protocol-buffers wire format for the schema in :mod:`.schema`: dicts in, bytes out, and back.

A few dozen lines instead of the ``protobuf`` runtime: the mock needs no generated classes, so it
can read and write IB's messages without shipping IB's code. Decoding is strict and bounded: any
byte sequence that is not a valid message of the expected type raises :class:`ProtoDecodeError`
(the session ends with that message), never another exception, never unbounded work.
"""
from __future__ import annotations

import struct
from collections.abc import Mapping
from typing import Any

from ..framing import ProtocolError
from .schema import MESSAGES, SCALARS, Field, Message

_DOUBLE = struct.Struct("<d")
_FLOAT = struct.Struct("<f")
_VARINT, _I64, _LEN, _I32 = 0, 1, 2, 5
_WIRE_OF = {"int32": _VARINT, "int64": _VARINT, "uint32": _VARINT, "uint64": _VARINT, "bool": _VARINT,
            "enum": _VARINT, "double": _I64, "float": _I32, "string": _LEN, "bytes": _LEN}
#: Nesting deeper than this is not an IB message (the deepest IB schema nests 4 levels).
MAX_DEPTH = 16
#: Fields (each repeated entry, map entry and packed number counts) of one message at most: an IB
#: request has a few hundred, while one 16 MiB frame holds 8 million empty sub-messages (seconds of
#: the gateway's loop and gigabytes as dicts). The text layout's bound (framing.MAX_REQUEST_FIELDS).
MAX_FIELDS = 10_000


class ProtoDecodeError(ProtocolError):
    """A protobuf payload that is not a valid message of the type its message id names."""


# ---------------------------------------------------------------------------------------------- encode
def _varint(value: int) -> bytes:
    if value < 0:
        value += 1 << 64      # int32/int64 negatives: ten-byte two's complement, as protobuf does
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _scalar(ftype: str, value: Any) -> bytes:
    if ftype in ("int32", "int64", "uint32", "uint64", "enum"):
        return _varint(int(value))
    if ftype == "bool":
        return b"\x01" if value else b"\x00"
    if ftype == "double":
        return _DOUBLE.pack(float(value))
    if ftype == "float":
        return _FLOAT.pack(float(value))
    data = value.encode("utf-8") if isinstance(value, str) else bytes(value)
    return _varint(len(data)) + data


def _tag(number: int, wire: int) -> bytes:
    return _varint((number << 3) | wire)


def _field(f: Field, value: Any) -> bytes:
    if f.type == "map":
        entry_field = Field("value", 2, f.map_value)
        out = bytearray()
        for key, item in value.items():
            entry = _tag(1, _LEN) + _scalar("string", str(key)) + _one(entry_field, item)
            out += _tag(f.number, _LEN) + _varint(len(entry)) + entry
        return bytes(out)
    if f.repeated:
        if f.type in SCALARS and f.type not in ("string", "bytes"):
            packed = b"".join(_scalar(f.type, v) for v in value)     # proto3 packs repeated numbers
            return _tag(f.number, _LEN) + _varint(len(packed)) + packed
        return b"".join(_one(f, v) for v in value)
    return _one(f, value)


def _one(f: Field, value: Any) -> bytes:
    if f.type in SCALARS:
        return _tag(f.number, _WIRE_OF[f.type]) + _scalar(f.type, value)
    body = encode(f.type, value)
    return _tag(f.number, _LEN) + _varint(len(body)) + body


def encode(message: str, values: Mapping[str, Any]) -> bytes:
    """Serialize ``values`` (field name -> value; None means absent) as protobuf message ``message``."""
    schema = MESSAGES[message]
    out = bytearray()
    for name, value in values.items():
        if value is None:
            continue
        f = schema.by_name.get(name)
        if f is None:
            raise KeyError(f"{message} has no field {name!r}")
        out += _field(f, value)
    return bytes(out)


# ---------------------------------------------------------------------------------------------- decode
class _Reader:
    __slots__ = ("data", "pos", "end", "budget")

    def __init__(self, data: bytes, pos: int, end: int, budget: list[int] | None = None) -> None:
        self.data, self.pos, self.end = data, pos, end
        self.budget = budget if budget is not None else [MAX_FIELDS]   # shared by the nested readers

    def sub(self, length: int) -> _Reader:
        """A reader of the next ``length`` bytes (a nested message), spending the same field budget."""
        start = self.pos
        self.take(length)
        return _Reader(self.data, start, self.pos, self.budget)

    def spend(self) -> None:
        self.budget[0] -= 1
        if self.budget[0] < 0:
            raise ProtoDecodeError(f"protobuf message of more than {MAX_FIELDS} fields (an IB request has a few "
                                   "hundred)")

    def varint(self) -> int:
        result = shift = 0
        while True:
            if self.pos >= self.end:
                raise ProtoDecodeError("protobuf varint runs past the end of the message")
            byte = self.data[self.pos]
            self.pos += 1
            result |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return result
            shift += 7
            if shift >= 70:
                raise ProtoDecodeError("protobuf varint longer than 10 bytes")

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > self.end:
            raise ProtoDecodeError(f"protobuf field of {n} bytes runs past the end of the message")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk


def _signed(value: int, bits: int) -> int:
    value &= (1 << 64) - 1
    if value >= 1 << 63:
        value -= 1 << 64
    if bits == 32:
        value = ((value + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)
    return value


def _decode_scalar(ftype: str, wire: int, r: _Reader) -> Any:
    expected = _WIRE_OF[ftype]
    if wire != expected:
        raise ProtoDecodeError(f"protobuf field of type {ftype} sent with wire type {wire}")
    if ftype in ("int32", "enum"):
        return _signed(r.varint(), 32)
    if ftype == "int64":
        return _signed(r.varint(), 64)
    if ftype in ("uint32", "uint64"):
        return r.varint()
    if ftype == "bool":
        return r.varint() != 0
    if ftype == "double":
        return _DOUBLE.unpack(r.take(8))[0]
    if ftype == "float":
        return _FLOAT.unpack(r.take(4))[0]
    data = r.take(r.varint())
    if ftype == "bytes":
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ProtoDecodeError(f"protobuf string field is not UTF-8: {data[:40]!r}") from None


def _skip(wire: int, r: _Reader) -> None:
    if wire == _VARINT:
        r.varint()
    elif wire == _I64:
        r.take(8)
    elif wire == _LEN:
        r.take(r.varint())
    elif wire == _I32:
        r.take(4)
    else:
        raise ProtoDecodeError(f"protobuf wire type {wire} is not valid")


def _decode_into(schema: Message, r: _Reader, depth: int) -> dict[str, Any]:
    if depth > MAX_DEPTH:
        raise ProtoDecodeError(f"protobuf messages nested deeper than {MAX_DEPTH}")
    out: dict[str, Any] = {}
    while r.pos < r.end:
        r.spend()
        key = r.varint()
        number, wire = key >> 3, key & 7
        if number == 0:
            raise ProtoDecodeError("protobuf field number 0 is not valid")
        f = schema.by_number.get(number)
        if f is None:           # a field a newer schema added: skipped, as protobuf does
            _skip(wire, r)
            continue
        if f.type == "map":
            if wire != _LEN:
                raise ProtoDecodeError(f"protobuf map {schema.name}.{f.name} sent with wire type {wire}")
            sub = r.sub(r.varint())
            entry = _decode_into(Message("entry", {}, {1: Field("key", 1, "string"),
                                                       2: Field("value", 2, f.map_value)}), sub, depth + 1)
            out.setdefault(f.name, {})[entry.get("key", "")] = entry.get("value", "")
            continue
        if f.type in SCALARS:
            if f.repeated and wire == _LEN and f.type not in ("string", "bytes"):
                sub = r.sub(r.varint())
                items = out.setdefault(f.name, [])
                while sub.pos < sub.end:
                    sub.spend()
                    items.append(_decode_scalar(f.type, _WIRE_OF[f.type], sub))
                continue
            value = _decode_scalar(f.type, wire, r)
        else:
            if wire != _LEN:
                raise ProtoDecodeError(f"protobuf message field {schema.name}.{f.name} sent with wire type {wire}")
            value = _decode_into(MESSAGES[f.type], r.sub(r.varint()), depth + 1)
        if f.repeated:
            out.setdefault(f.name, []).append(value)
        else:
            out[f.name] = value
    return out


def decode(message: str, data: bytes) -> dict[str, Any]:
    """Parse ``data`` as protobuf message ``message``: field name -> value for the fields present."""
    return _decode_into(MESSAGES[message], _Reader(bytes(data), 0, len(data)), 0)
