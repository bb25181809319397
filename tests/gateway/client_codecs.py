"""The three client libraries' own encoders and decoders, driven without a socket.

Tests use them to check the gateway's parser and encoders against exactly what each library
writes and reads at a given server version.
"""
from __future__ import annotations

import logging
from datetime import timezone
from typing import Any


class _Recorder:
    """A wrapper stub: records every callback as (name, args)."""

    defaultTimezone = timezone.utc   # ib_async's execDetails converts into it

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)

        def record(*args: Any) -> None:
            self.calls.append((name, args))
        return record


def _split(msg: str) -> list[str]:
    fields = msg.split("\0")
    fields.pop()
    return fields


def _ib_fields(module: str, server_version: int, call: str, *args: Any) -> list[str]:
    client_cls = __import__(f"{module}.client", fromlist=["Client"]).Client
    sent: list[str] = []
    client = client_cls(_Recorder())
    client.connState = client_cls.CONNECTED
    client._serverVersion = server_version
    client.sendMsg = sent.append
    getattr(client, call)(*args)
    return _split(sent[0])


def insync_fields(server_version: int, call: str, *args: Any) -> list[str]:
    """What ib_insync's Client writes for ``call(*args)`` at ``server_version``."""
    return _ib_fields("ib_insync", server_version, call, *args)


def async_fields(server_version: int, call: str, *args: Any) -> list[str]:
    """What ib_async's Client writes for ``call(*args)`` at ``server_version``."""
    return _ib_fields("ib_async", server_version, call, *args)


class _IbapiConn:
    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def isConnected(self) -> bool:
        return True

    def sendMsg(self, msg: bytes) -> None:
        self.sent.append(msg)


def ibapi_fields(server_version: int, call: str, *args: Any) -> list[str]:
    """What the official ibapi EClient writes for ``call(*args)`` at ``server_version``."""
    from ibapi.client import EClient

    client = EClient(_Recorder())
    conn = _IbapiConn()
    client.conn = conn
    client.connState = EClient.CONNECTED
    client.serverVersion_ = server_version
    getattr(client, call)(*args)
    assert conn.sent, f"ibapi refused {call} (see its error callback)"
    return _split(conn.sent[0][4:].decode())


class _ErrorLog(logging.Handler):
    """Collects ERROR records of one logger while a decoder runs (the decoders log, never raise)."""

    def __init__(self, logger_name: str) -> None:
        super().__init__(logging.ERROR)
        self.logger = logging.getLogger(logger_name)
        self.errors: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += f" {record.exc_info[1]!r}"
        self.errors.append(text)

    def __enter__(self) -> _ErrorLog:
        self.logger.addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        self.logger.removeHandler(self)


def _ib_decode(module: str, server_version: int, fields: list[str]) -> list[tuple[str, tuple[Any, ...]]]:
    decoder_cls = __import__(f"{module}.decoder", fromlist=["Decoder"]).Decoder
    rec = _Recorder()
    dec = decoder_cls(rec, server_version)
    with _ErrorLog(f"{module}.Decoder") as log:
        dec.interpret(list(fields))
    if log.errors:
        raise AssertionError(f"{module} could not decode {fields[:4]}...: {log.errors}")
    return rec.calls


def insync_decode(server_version: int, fields: list[str]) -> list[tuple[str, tuple[Any, ...]]]:
    """Feed one message to ib_insync's decoder; a decoding error (which it only logs) raises."""
    return _ib_decode("ib_insync", server_version, fields)


def async_decode(server_version: int, fields: list[str]) -> list[tuple[str, tuple[Any, ...]]]:
    """Feed one message to ib_async's decoder; a decoding error (which it only logs) raises."""
    return _ib_decode("ib_async", server_version, fields)


def ibapi_decode(server_version: int, fields: list[str]) -> list[tuple[str, tuple[Any, ...]]]:
    """Feed one message to ibapi's decoder as its EReader does (bytes fields); errors raise."""
    from ibapi.decoder import Decoder

    errors: list[tuple[Any, ...]] = []

    class Wrapper(_Recorder):
        def error(self, *args: Any) -> None:
            if fields[0] == "4":   # an error message is decoded into this very callback
                self.calls.append(("error", args))
            else:                  # otherwise ibapi reports its own decoding trouble here
                errors.append(args)

    rec = Wrapper()
    dec = Decoder(rec, server_version)
    payload = ("\0".join(fields) + "\0").encode()
    with _ErrorLog("ibapi.decoder") as log:
        dec.interpret(tuple(payload.split(b"\0")[:-1]))
    if errors or log.errors:
        raise AssertionError(f"ibapi could not decode {fields[:4]}...: {errors} {log.errors}")
    return rec.calls
