"""A mock gateway in its own process, attacked over real sockets; its memory read from /proc."""
from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from mock_gateway.eventlog import read_events
from mock_gateway.protocol.framing import FrameDecoder, encode_frame_binary_id, encode_handshake, encode_proto_frame

CLI = [sys.executable, "-m", "harness.cli"]


@dataclass
class GatewayProcess:
    proc: subprocess.Popen
    port: int
    event_log: Path

    def peak_rss_mb(self) -> float:
        """The process's peak resident memory so far (VmHWM)."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        raise AssertionError("no VmHWM line")

    def events(self) -> list[dict]:
        return read_events(self.event_log)

    def disconnect_reasons(self) -> list[str]:
        return [e["attrs"].get("reason", "") for e in self.events() if e["msg"] == "disconnect"]

    def alive(self) -> bool:
        return self.proc.poll() is None


def start_gateway_process(tmp_path: Path, *args: str) -> GatewayProcess:
    log = tmp_path / "events.jsonl"
    proc = subprocess.Popen(CLI + ["gateway", "--port", "0", "--event-log", str(log), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    match = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
    if not match:
        proc.kill()
        pytest.fail(f"no listening line; stdout {line!r}, stderr {proc.stderr.read()!r}")
    return GatewayProcess(proc, int(match.group(1)), log)


@pytest.fixture
def gateway_process(tmp_path):
    gw = start_gateway_process(tmp_path)
    yield gw
    gw.proc.terminate()
    try:
        gw.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        gw.proc.kill()
        gw.proc.wait()


class WireClient:
    """A client at the byte level: text (v176) or protobuf (v223) framing, reads decoded replies."""

    def __init__(self, port: int, *, protobuf: bool = True, client_id: int = 7, timeout_s: float = 10.0) -> None:
        self.protobuf = protobuf
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout_s)
        self.decoder = FrameDecoder()
        self.items: list[tuple[str, list[str]]] = []
        self.eof = False
        self.sock.sendall(encode_handshake("v100..223" if protobuf else "v157..176"))
        self.read_until(lambda items: items)
        self.decoder.binary_ids = protobuf
        self.send_text("71", "2", str(client_id), "")
        self.read_until(lambda items: any(f and f[0] == "9" for _, f in items) or
                        any(k == "proto" and f[0] == "9" for k, f in items))

    def send_text(self, *fields: str) -> None:
        if self.protobuf:
            self.sock.sendall(encode_frame_binary_id(list(fields)))
        else:
            from mock_gateway.protocol import encode_frame
            self.sock.sendall(encode_frame(fields))

    def send_proto(self, msg_id: int, payload: bytes) -> None:
        self.sock.sendall(encode_proto_frame(200 + msg_id, payload))

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read_until(self, done, timeout_s: float = 10.0) -> list[tuple[str, list[str]]]:
        deadline = time.monotonic() + timeout_s
        while not done(self.items) and not self.eof:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no expected reply within {timeout_s} s; got {self.items[-3:]}")
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(1 << 16)
            except (socket.timeout, TimeoutError):
                continue
            except (ConnectionResetError, BrokenPipeError):
                data = b""
            if not data:
                self.eof = True
                break
            self.items += self.decoder.feed(data)
        return self.items

    def wait_closed(self, timeout_s: float = 10.0) -> bool:
        try:
            self.read_until(lambda items: False, timeout_s)
        except TimeoutError:
            return False
        return self.eof

    def close(self) -> None:
        self.sock.close()


def still_serves(port: int) -> bool:
    """Whether a fresh client completes the handshake and gets the current time (within 10 s)."""
    client = WireClient(port, protobuf=False, client_id=99)
    try:
        client.send_text("49", "1")
        items = client.read_until(lambda items: any(f and f[0] == "49" for _, f in items))
        return any(f and f[0] == "49" for _, f in items)
    finally:
        client.close()
