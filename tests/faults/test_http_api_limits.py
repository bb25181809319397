"""What no request to the fault-control API may cost the gateway: sizes, nesting, time, connections, and
what it answers to a request it cannot serve (a JSON error, never a traceback), over real sockets."""
from __future__ import annotations

import asyncio
import json
import re
import socket
import time
from pathlib import Path

import pytest
import yaml

from mock_gateway.config import GatewayConfig
from mock_gateway.faults.acts import FaultActs, marked_names
from mock_gateway.faults.http_api import (
    ControlApiConfigError, ControlLimits, ControlServer, check_bind, is_loopback, json_depth_exceeds, parse_address,
)
from mock_gateway.server import GatewayThread

LIMITS = ControlLimits(max_body_bytes=64 * 1024, max_head_bytes=4096, max_headers=20, max_json_depth=16,
                       request_timeout_s=0.5, max_connections=3)


@pytest.fixture(scope="module")
def gateway():
    with GatewayThread(GatewayConfig(port=0)) as gw:
        yield gw


@pytest.fixture(scope="module")
def control(gateway):
    server = ControlServer(gateway, "127.0.0.1", 0, limits=LIMITS)
    asyncio.run_coroutine_threadsafe(server.start(), gateway.loop).result(10)
    yield server
    asyncio.run_coroutine_threadsafe(server.stop(), gateway.loop).result(10)


def exchange(control, raw: bytes, *, read_timeout_s: float = 5.0) -> tuple[int, dict]:
    """Send ``raw`` as is, read the whole answer: its status and JSON body."""
    with socket.create_connection(("127.0.0.1", control.port), timeout=read_timeout_s) as sock:
        try:
            sock.sendall(raw)
        except (BrokenPipeError, ConnectionResetError):   # the server may answer and close before all is sent
            pass
        return _read_answer(sock)


def _read_answer(sock: socket.socket) -> tuple[int, dict]:
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(body)


def post(body: bytes, extra: str = "") -> bytes:
    return (f"POST /faults HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n{extra}\r\n").encode() + body


def test_a_body_over_64_kib_is_refused_with_413_before_it_is_read(control):
    status, body = exchange(control, post(b"x" * (64 * 1024 + 1)))
    assert status == 413 and "65536" in body["error"]


def test_json_nested_deeper_than_the_limit_is_400_not_a_recursion_error(control):
    status, body = exchange(control, post(b"[" * 20000 + b"]" * 20000))
    assert status == 400 and "deeper than 16" in body["error"]
    nested = json.dumps({"type": "latency", "distribution": {"kind": "fixed", "ms": 1}, "x": [[[[1]]]]}).encode()
    assert exchange(control, post(nested))[1]["kind"] == "FaultSpecError"   # shallow enough: judged on its fields


def test_headers_over_the_limit_are_431(control):
    status, _ = exchange(control, b"GET /faults HTTP/1.1\r\nX-Pad: " + b"a" * 8000 + b"\r\n\r\n")
    assert status == 431
    many = "".join(f"X-{i}: v\r\n" for i in range(30))
    assert exchange(control, f"GET /faults HTTP/1.1\r\n{many}\r\n".encode())[0] == 431


def test_a_request_that_stalls_is_answered_408_and_closed(control):
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", control.port), timeout=5) as sock:
        sock.sendall(b"POST /faults HTTP/1.1\r\nContent-Length: 50\r\n\r\n{\"type\"")   # and then nothing
        status, body = _read_answer(sock)
    assert status == 408 and "0.5 s" in body["error"]
    assert time.monotonic() - started < 4


def test_connections_over_the_cap_get_503_and_the_gateway_serves_again_after(control):
    idle = [socket.create_connection(("127.0.0.1", control.port), timeout=5) for _ in range(LIMITS.max_connections)]
    try:
        time.sleep(0.1)   # the server has accepted them all
        status, body = exchange(control, b"GET /status HTTP/1.1\r\n\r\n")
        assert status == 503 and "at most 3" in body["error"]
    finally:
        for sock in idle:
            sock.close()
    deadline = time.monotonic() + 5
    while exchange(control, b"GET /status HTTP/1.1\r\n\r\n")[0] != 200:
        assert time.monotonic() < deadline, "the cap did not free up after the idle connections left"
        time.sleep(0.1)


@pytest.mark.parametrize("raw, status", [
    (b"NONSENSE\r\n\r\n", 400),
    (b"GET /faults SPDY/3\r\n\r\n", 400),
    (b"GET /faults HTTP/1.1\r\nno colon here\r\n\r\n", 400),
    (b"POST /faults HTTP/1.1\r\n\r\n", 411),
    (b"POST /faults HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 501),
    (b"POST /faults HTTP/1.1\r\nContent-Length: -5\r\n\r\n", 400),
    (b"POST /faults HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}", 400),
    (b"POST /faults HTTP/1.1\r\nContent-Length: 4\r\n\r\n\xff\xfe{}", 400),
    (b"GET /faults/%00%ff HTTP/1.1\r\n\r\n", 404),
    (b"DELETE /status HTTP/1.1\r\n\r\n", 405),
])
def test_a_request_it_cannot_serve_gets_a_json_error_and_no_traceback(control, raw, status):
    got, body = exchange(control, raw)
    assert got == status and body["error"] and "Traceback" not in json.dumps(body)


def test_a_request_cut_off_mid_body_changes_nothing(control, gateway):
    before = len(gateway.faults)
    with socket.create_connection(("127.0.0.1", control.port), timeout=5) as sock:
        sock.sendall(b'POST /faults HTTP/1.1\r\nContent-Length: 40\r\n\r\n{"type": "disconnect"')
        sock.shutdown(socket.SHUT_WR)
        status, _ = _read_answer(sock)
    assert status == 400 and len(gateway.faults) == before


def test_expect_100_continue_is_honoured_as_curl_sends_it_for_large_bodies(control, gateway):
    body = json.dumps({"type": "order_reject", "name": "big", "reason": "r" * 2000}).encode()
    with socket.create_connection(("127.0.0.1", control.port), timeout=5) as sock:
        sock.sendall(f"POST /faults HTTP/1.1\r\nContent-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n".encode())
        assert sock.recv(64).startswith(b"HTTP/1.1 100 Continue")
        sock.sendall(body)
        status, answer = _read_answer(sock)
    assert status == 201 and answer["name"] == "big"
    gateway.faults.remove("big")


# ---------------------------------------------------------------------------------------------- binding rules
@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_loopback_addresses_are_loopback(host):
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.1.2.3", "192.168.0.10", "8.8.8.8"])
def test_other_addresses_need_a_token(host):
    assert not is_loopback(host)
    with pytest.raises(ControlApiConfigError, match="without a token"):
        check_bind(host, None)
    check_bind(host, "a-token")


def test_an_empty_token_is_refused_rather_than_taken_as_none():
    with pytest.raises(ControlApiConfigError, match="empty"):
        check_bind("0.0.0.0", "   ")


@pytest.mark.parametrize("text, expected", [("127.0.0.1:8474", ("127.0.0.1", 8474)), ("[::1]:0", ("::1", 0)),
                                            ("8474", ("127.0.0.1", 8474)), ("localhost:9", ("localhost", 9))])
def test_control_addresses_parse(text, expected):
    assert parse_address(text) == expected


@pytest.mark.parametrize("text", ["127.0.0.1:99999", "127.0.0.1:http", "http://127.0.0.1:8474", ""])
def test_bad_control_addresses_say_what_is_expected(text):
    with pytest.raises(ControlApiConfigError, match="HOST:PORT"):
        parse_address(text)


def test_a_gateway_config_with_an_unguarded_public_control_address_does_not_start():
    with pytest.raises(ControlApiConfigError):
        GatewayThread(GatewayConfig(port=0, control="0.0.0.0:0")).start()


def test_json_depth_counts_brackets_outside_strings_only():
    assert not json_depth_exceeds('{"a": "[[[[[[[[[[[[[[[[[["}', 2)
    assert json_depth_exceeds('{"a": [[1]]}', 2)
    assert not json_depth_exceeds('{"a": "\\"[[[["}', 1)


# ---------------------------------------------------------------------------------------------- the act tally
def test_acts_count_each_mark_once_per_name_and_not_a_windows_end():
    acts = FaultActs()
    acts.observe({"dir": "sys", "msg": "fault", "fault": "outage", "attrs": {"phase": "begin"}})
    acts.observe({"dir": "sys", "msg": "fault", "fault": "outage", "attrs": {"phase": "end"}})
    acts.observe({"dir": "out", "msg": "error", "fault": "slow,historical_pacing:identical", "attrs": {}})
    acts.observe({"dir": "out", "msg": "error", "fault": None, "attrs": {}})
    assert (acts.count("outage"), acts.count("slow"), acts.count("historical_pacing")) == (1, 1, 1)
    acts.observe({"dir": "sys", "msg": "fault_added", "fault": None, "attrs": {"name": "slow"}})
    assert acts.count("slow") == 0
    assert marked_names("a:rule, b,a") == ["a", "b"]


# ---------------------------------------------------------------------------------------------- the compose stack
def _gateway_command(env: dict[str, str]) -> str:
    import subprocess

    stack = yaml.safe_load((Path(__file__).resolve().parents[2] / "compose" / "mock-stack.yml").read_text())
    shell, flag, script = stack["services"]["ib-gateway"]["command"]
    script = script.replace("$$", "$").replace("exec prelive", "echo prelive")   # compose's escaping undone
    return subprocess.run([shell, flag, script], capture_output=True, text=True, env=env, timeout=10).stdout


def test_the_compose_stack_serves_the_control_api_only_with_a_token_and_publishes_it_on_loopback():
    stack = yaml.safe_load((Path(__file__).resolve().parents[2] / "compose" / "mock-stack.yml").read_text())
    gateway = stack["services"]["ib-gateway"]
    assert any(p.endswith(":8474") and "127.0.0.1" in p for p in gateway["ports"])
    assert "--control" not in _gateway_command({"PATH": "/usr/bin:/bin"})
    assert "--control 0.0.0.0:8474" in _gateway_command({"PATH": "/usr/bin:/bin", "PRELIVE_CONTROL_TOKEN": "t"})


# ---------------------------------------------------------------------------------------------- the scenario file
SCENARIO = """\
name: with_control
description: a run whose faults a test in another language changes over HTTP
duration_s: 60
control_api: {address}
faults:
  - {{type: order_reject, name: scripted, reason: from the file}}
"""


def _scenario(tmp_path, address):
    from harness.scenario import load_scenario

    path = tmp_path / "with_control.yaml"
    path.write_text(SCENARIO.format(address=address))
    return load_scenario(path)


def test_a_scenario_with_control_api_serves_it_for_its_gateway(tmp_path, monkeypatch):
    from mock_gateway.faults.http_client import ControlClient

    monkeypatch.delenv("PRELIVE_CONTROL_TOKEN", raising=False)
    config = _scenario(tmp_path, "127.0.0.1:0").gateway_config(port=0)
    with GatewayThread(config) as gw:
        listed = ControlClient(gw.control.url).list()
    assert [(f["name"], f["origin"]) for f in listed if f["type"] == "order_reject"] == [("scripted", "scenario")]


def test_a_scenario_serving_it_off_loopback_without_a_token_is_refused_naming_the_field(tmp_path, monkeypatch):
    from harness.scenario import ScenarioError

    monkeypatch.delenv("PRELIVE_CONTROL_TOKEN", raising=False)
    with pytest.raises(ScenarioError) as refused:
        _scenario(tmp_path, "0.0.0.0:8474").gateway_config(port=0)
    assert refused.value.field == "control_api" and "without a token" in refused.value.message
    monkeypatch.setenv("PRELIVE_CONTROL_TOKEN", "from-the-environment")
    assert _scenario(tmp_path, "0.0.0.0:8474").gateway_config(port=0).control_token == "from-the-environment"


def test_a_scenario_with_a_malformed_control_address_does_not_load(tmp_path):
    from harness.scenario import ScenarioError

    with pytest.raises(ScenarioError) as refused:
        _scenario(tmp_path, "http://127.0.0.1:8474")
    assert refused.value.field == "control_api" and "HOST:PORT" in refused.value.message


def test_the_number_of_active_faults_is_capped_and_removal_makes_room(gateway):
    server = ControlServer(gateway, "127.0.0.1", 0, limits=ControlLimits(max_faults=len(gateway.faults) + 2))
    asyncio.run_coroutine_threadsafe(server.start(), gateway.loop).result(10)
    try:
        def add(name: str) -> tuple[int, dict]:
            return exchange(server, post(json.dumps({"type": "order_reject", "name": name}).encode()))

        assert add("cap-1")[0] == 201 and add("cap-2")[0] == 201
        status, body = add("cap-3")
        assert status == 409 and body["kind"] == "TooManyFaults"
        assert exchange(server, b"DELETE /faults/cap-1 HTTP/1.1\r\n\r\n")[0] == 200
        assert add("cap-3")[0] == 201
    finally:
        for name in ("cap-2", "cap-3"):
            if name in gateway.faults:
                gateway.faults.remove(name)
        asyncio.run_coroutine_threadsafe(server.stop(), gateway.loop).result(10)


def test_a_caller_on_ipv6_loopback_is_named_with_brackets(gateway):
    server = ControlServer(gateway, "::1", 0, limits=LIMITS)
    try:
        asyncio.run_coroutine_threadsafe(server.start(), gateway.loop).result(10)
    except OSError:
        pytest.skip("no IPv6 loopback on this machine")
    try:
        assert server.url.startswith("http://[::1]:")
        with socket.create_connection(("::1", server.port), timeout=5) as sock:
            body = json.dumps({"type": "order_reject", "name": "v6"}).encode()
            sock.sendall(post(body))
            assert _read_answer(sock)[0] == 201
        added = [e for e in gateway.event_log.events if e["msg"] == "fault_added" and e["attrs"]["name"] == "v6"]
        assert re.fullmatch(r"\[::1\]:\d+", added[-1]["attrs"]["by"])
    finally:
        if "v6" in gateway.faults:
            gateway.faults.remove("v6")
        asyncio.run_coroutine_threadsafe(server.stop(), gateway.loop).result(10)


def test_a_body_with_thousands_of_fields_is_refused_before_the_gateway_judges_each(control):
    wide = json.dumps({"type": "latency", **{f"distributon{i}": 1 for i in range(3000)}}).encode()
    status, body = exchange(control, post(wide))   # judged one by one, 3000 unknown names hold the loop seconds
    assert status == 400 and "at most 64 are accepted" in body["error"]
    long_list = json.dumps({"type": "latency", "kinds": ["other"] * 5000}).encode()
    assert "more than 4096 JSON values" in exchange(control, post(long_list))[1]["error"]


def test_a_host_name_binds_one_address_with_one_url(gateway):
    server = ControlServer(gateway, "localhost", 0, limits=LIMITS)
    asyncio.run_coroutine_threadsafe(server.start(), gateway.loop).result(10)
    try:
        assert server.url.startswith("http://127.0.0.1:")
        assert exchange(server, b"GET /status HTTP/1.1\r\n\r\n")[0] == 200
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(), gateway.loop).result(10)


def test_a_fault_added_over_http_reads_files_only_from_the_data_dirs(control, gateway, tmp_path, monkeypatch):
    samples = tmp_path / "latency.csv"
    samples.write_text("ms\n10\n20\n30\n")

    def add(file: str) -> tuple[int, dict]:
        spec = {"type": "latency", "name": "sampled", "distribution": {"kind": "empirical", "file": file}}
        return exchange(control, post(json.dumps(spec).encode()))

    monkeypatch.delenv("PRELIVE_DATA_DIRS", raising=False)
    for path in ("/etc/passwd", str(samples), "../../etc/passwd"):
        status, body = add(path)
        assert status == 400 and "distribution.empirical.file" in body["error"], (path, body)
    monkeypatch.setenv("PRELIVE_DATA_DIRS", str(tmp_path))
    assert add("/etc/passwd")[0] == 400
    status, body = add("latency.csv")
    assert status == 201 and body["params"]["distribution"]["file"] == str(samples.resolve())
    gateway.faults.remove("sampled")
