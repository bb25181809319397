"""The HTTP fault-control API on loopback without a token, attacked from a browser: a web page can
POST to 127.0.0.1 as a "simple" request (text/plain, no preflight) and a rebound DNS name reaches it
as the page's own origin. A browser sends Origin on either POST: refused (403), no fault is added;
programs (which send no Origin) keep working."""
from __future__ import annotations

import json
import re
import socket

import pytest

from .conftest import start_gateway_process


@pytest.fixture
def control(tmp_path):
    gw = start_gateway_process(tmp_path, "--control", "127.0.0.1:0")
    line = gw.proc.stdout.readline()
    match = re.search(r"(\d+\.\d+\.\d+\.\d+):(\d+)", line)
    assert match, f"no control address printed: {line!r}"
    yield gw, int(match.group(2))
    gw.proc.terminate()
    gw.proc.wait(timeout=10)


def _http(port: int, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None) -> tuple[int, dict]:
    head = {"Host": f"127.0.0.1:{port}", "Content-Length": str(len(body)), **(headers or {})}
    raw = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in head.items()) + "\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(raw.encode() + body)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    status = int(data.split(b" ", 2)[1])
    payload = data.split(b"\r\n\r\n", 1)[1]
    return status, json.loads(payload) if payload.strip() else {}


_FAULT = json.dumps({"type": "disconnect", "name": "from-a-web-page"}).encode()


@pytest.mark.parametrize("headers", [
    {"Origin": "https://evil.example", "Content-Type": "text/plain"},                # a page's cross-site POST
    {"Host": "rebound.evil.example:{port}", "Origin": "http://rebound.evil.example:{port}",
     "Content-Type": "text/plain"},                                                  # DNS rebinding
    {"Origin": "null"},                                                              # a sandboxed frame
])
def test_a_web_pages_request_cannot_add_a_fault_to_a_loopback_control_api_without_a_token(control, headers):
    gw, port = control
    headers = {k: v.format(port=port) for k, v in headers.items()}
    status, body = _http(port, "POST", "/faults", _FAULT, headers)
    assert status == 403 and body.get("kind") == "Forbidden", body
    status, faults = _http(port, "GET", "/faults")
    assert status == 200 and "from-a-web-page" not in json.dumps(faults)


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "[::1]:{port}", None])
def test_a_program_on_this_machine_still_adds_and_removes_faults(control, host):
    gw, port = control
    headers = {"Content-Type": "application/json"}
    if host is not None:
        headers["Host"] = host.format(port=port)
    status, body = _http(port, "POST", "/faults", _FAULT, headers)
    assert status == 201, body
    status, _ = _http(port, "DELETE", "/faults/from-a-web-page")
    assert status == 200
