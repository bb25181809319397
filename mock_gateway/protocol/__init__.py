"""The TWS API wire protocol: framing, field codecs, message ids. Pure, no I/O."""
from .describe import describe_reply, describe_request
from .fields import UNSET_DOUBLE, UNSET_INTEGER, fmt, parse_bool, parse_float, parse_int
from .framing import (
    API_PREFIX,
    MAX_MSG_LEN,
    FrameDecoder,
    ProtocolError,
    decode_payload,
    encode_fields,
    encode_frame,
    encode_handshake,
    parse_version_range,
)
from .ids import REPLY_IDS, REPLY_NAMES, REQUEST_IDS, REQUEST_NAMES, reply_name, request_name

__all__ = [
    "API_PREFIX", "MAX_MSG_LEN", "FrameDecoder", "ProtocolError", "REPLY_IDS", "REPLY_NAMES",
    "REQUEST_IDS", "REQUEST_NAMES", "UNSET_DOUBLE", "UNSET_INTEGER", "decode_payload", "describe_reply",
    "describe_request", "encode_fields", "encode_frame", "encode_handshake", "fmt", "parse_bool",
    "parse_float", "parse_int", "parse_version_range", "reply_name", "request_name",
]
