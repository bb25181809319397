"""A bare TWS API client over a plain socket: for tests that need byte-level control."""
from __future__ import annotations

import socket
import time

from mock_gateway.protocol import FrameDecoder, encode_frame, encode_handshake


class RawClient:
    def __init__(self, host: str, port: int, timeout_s: float = 5.0, recv_buffer_bytes: int | None = None) -> None:
        self.sock = socket.socket()
        if recv_buffer_bytes is not None:   # before connect, so the TCP window stays small
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, recv_buffer_bytes)
        self.sock.settimeout(timeout_s)
        self.sock.connect((host, port))
        self.decoder = FrameDecoder()
        self.messages: list[list[str]] = []
        self.eof = False

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send(self, *fields: object) -> None:
        self.sock.sendall(encode_frame(fields))

    def hello(self, versions: str = "v157..176") -> list[str]:
        """Send the handshake; return the 2-field reply."""
        self.send_raw(encode_handshake(versions))
        return self.read_until(lambda msgs: msgs)[0]

    def start(self, client_id: int) -> None:
        self.send(71, 2, client_id, "")

    def read_until(self, done, timeout_s: float = 5.0) -> list[list[str]]:
        """Read frames until ``done(messages)`` is truthy or the server closes; returns all messages so far."""
        deadline = time.monotonic() + timeout_s
        while not done(self.messages) and not self.eof:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            if time.monotonic() > deadline:
                raise TimeoutError(f"no expected reply within {timeout_s} s; got {self.messages[-5:]}")
            try:
                data = self.sock.recv(65536)
            except (socket.timeout, TimeoutError):
                continue
            except ConnectionResetError:
                data = b""
            if not data:
                self.eof = True
                break
            self.messages += [fields for _, fields in self.decoder.feed(data)]
        return self.messages

    def read_until_closed(self, timeout_s: float = 5.0) -> list[list[str]]:
        return self.read_until(lambda msgs: False, timeout_s)

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> RawClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
