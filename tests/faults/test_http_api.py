"""The HTTP fault-control API as a user in another process meets it: a real ``prelive gateway --control``
process, an ib_insync client connected to it, faults added and removed over HTTP acting on that client,
and the in-process API's error texts with HTTP status codes."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import ib_insync
import pytest

from mock_gateway.eventlog import read_events
from mock_gateway.faults.http_client import ControlClient, ControlRequestError
from mock_gateway.faults.runtime import RuntimeFaults
from mock_gateway.faults.spec import FaultSpecError, UnknownFaultType

CLI = [sys.executable, "-m", "harness.cli"]
README = Path(__file__).resolve().parents[2] / "README.md"


class GatewayProcess:
    """``prelive gateway --control`` in its own process; its API port, its control URL and its event log."""

    def __init__(self, tmp: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.event_log = tmp / "events.jsonl"
        self.proc = subprocess.Popen(CLI + ["gateway", "--port", "0", "--event-log", str(self.event_log), *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env={**os.environ, **(env or {})})
        first, second = self.proc.stdout.readline(), self.proc.stdout.readline()
        api, control = re.search(r"listening on [\d.]+:(\d+)", first), re.search(r"control API on (\S+)", second)
        if not (api and control):
            self.stop()
            pytest.fail(f"the gateway did not announce both ports: {first!r} {second!r}; "
                        f"stderr {self.proc.stderr.read()[-2000:]!r}")
        self.port, self.url, self.control_line = int(api.group(1)), control.group(1), second

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(5)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    gw = GatewayProcess(tmp_path_factory.mktemp("control"), "--control", "127.0.0.1:0", "--seed", "3")
    yield gw
    assert gw.stop() == 0


@pytest.fixture
def faults(gateway):
    client = ControlClient(gateway.url)
    yield client
    for fault in client.list():   # each test leaves the scenario's faults only
        if fault["origin"] == "runtime":
            client.remove(fault["name"])


_client_ids = iter(range(20, 1000))


@pytest.fixture
def ib(gateway):
    client = ib_insync.IB()
    client.codes = []
    client.errorEvent += lambda req_id, code, text, contract=None: client.codes.append(code)
    client.connect("127.0.0.1", gateway.port, clientId=next(_client_ids), timeout=10)
    yield client
    client.disconnect()


def wait_until(ib, condition, timeout_s=10.0):
    deadline = time.monotonic() + timeout_s
    while not condition() and time.monotonic() < deadline:
        try:
            ib.sleep(0.05)
        except ConnectionError:
            time.sleep(0.05)
    return condition()


def http(url: str, method: str, path: str, body: bytes | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], object]:
    """One raw request (no client-side checks): status, headers, decoded JSON body."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        raw = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, json.loads(raw)
    finally:
        conn.close()


# ---------------------------------------------------------------------------------------------- behaviour
def test_status_names_the_gateway_its_sim_clock_and_the_connected_client(gateway, ib, faults):
    status = faults.status()
    assert status["gateway"] == "prelive mock IB Gateway" and status["version"]
    assert status["port"] == gateway.port and status["speed"] == 1.0 and status["seed"] == 3
    assert status["sim_time_s"] > 0 and status["sim_datetime"].startswith("20")
    [mine] = [s for s in status["sessions"] if s["client_id"] == ib.client.clientId]
    assert mine["state"] == "ready" and mine["server_version"] >= 100


def test_a_disconnect_added_over_http_drops_the_connected_client_once(gateway, ib, faults):
    added = faults.add("disconnect", name="drop")
    assert (added["name"], added["type"], added["origin"]) == ("drop", "disconnect", "runtime")
    assert wait_until(ib, lambda: not ib.isConnected()), "the client was not dropped"
    assert faults.get("drop")["acted"] == 1
    events = [e for e in read_events(gateway.event_log) if e["msg"] == "fault_added"
              and e["attrs"].get("name") == "drop"]
    assert re.fullmatch(r"127\.0\.0\.1:\d+", events[-1]["attrs"]["by"]), "the event names who added it"


def test_latency_added_over_http_delays_every_reply_until_it_is_removed(ib, faults):
    def round_trip_s() -> float:
        started = time.monotonic()
        ib.reqCurrentTime()
        return time.monotonic() - started

    faults.add({"type": "latency", "name": "slow", "distribution": {"kind": "fixed", "ms": 3000}})
    assert faults.get("slow")["active"] is True
    assert round_trip_s() >= 2.5
    assert faults.get("slow")["acted"] >= 1
    removed = faults.remove("slow")
    assert removed["name"] == "slow"
    assert round_trip_s() < 2.5
    assert "slow" not in {f["name"] for f in faults.list()}


def test_a_pacing_rule_added_over_http_rejects_the_excess_with_error_100(ib, faults):
    faults.add("message_rate", name="tight", max_per_s=2, disconnect_after=0)
    for _ in range(8):
        ib.client.reqCurrentTime()
    assert wait_until(ib, lambda: 100 in ib.codes), f"no pacing error; codes {ib.codes}"
    assert faults.get("tight")["acted"] >= 1
    faults.remove("tight")
    ib.codes.clear()
    ib.sleep(1.2)   # the rolling second of the removed rule has no say any more
    for _ in range(8):
        ib.client.reqCurrentTime()
    ib.sleep(0.5)
    assert 100 not in ib.codes and ib.isConnected()


def test_an_order_reject_added_over_http_rejects_orders_and_removal_lets_them_fill(ib, faults):
    [aapl] = ib.qualifyContracts(ib_insync.Stock("AAPL", "SMART", "USD"))
    faults.add("order_reject", name="margin", reason="Insufficient margin")
    rejected = ib.placeOrder(aapl, ib_insync.MarketOrder("BUY", 5))
    assert wait_until(ib, lambda: rejected.orderStatus.status == "Inactive") and 201 in ib.codes
    faults.remove("margin")
    filled = ib.placeOrder(aapl, ib_insync.MarketOrder("BUY", 5))
    assert wait_until(ib, lambda: filled.orderStatus.status == "Filled")


def test_a_window_added_over_http_lasts_until_removed(ib, faults):
    faults.add("connectivity_loss", name="outage")
    assert wait_until(ib, lambda: 1100 in ib.codes)
    assert faults.get("outage")["active"] is True
    faults.remove("outage")
    assert wait_until(ib, lambda: 1102 in ib.codes) and ib.isConnected()


# ---------------------------------------------------------------------------------------------- errors
def _in_process_error(spec: dict) -> str:
    with pytest.raises(FaultSpecError) as caught:
        RuntimeFaults().add(spec)
    return str(caught.value)


def test_an_unknown_type_is_400_with_the_in_process_text_and_the_nearest_type(gateway, faults):
    status, _, body = http(gateway.url, "POST", "/faults", b'{"type": "latncy"}')
    assert status == 400
    assert body["error"] == str(UnknownFaultType("latncy")) and body["suggestion"] == "latency"


def test_a_bad_field_is_400_naming_the_field_as_the_in_process_api_does(gateway, faults):
    spec = {"type": "latency", "distribution": {"kind": "fixed", "ms": 200}, "kinds": ["order_ak"]}
    status, _, body = http(gateway.url, "POST", "/faults", json.dumps(spec).encode())
    assert status == 400 and body["kind"] == "FaultSpecError"
    assert body["error"] == _in_process_error(spec)
    assert body["problems"][0]["field"].startswith("kinds")


def test_a_taken_name_is_409_and_an_unknown_name_404(gateway, faults):
    faults.add("order_reject", name="twice")
    with pytest.raises(ControlRequestError) as taken:
        faults.add("order_reject", name="twice")
    assert taken.value.status == 409 and "already active" in taken.value.error
    assert taken.value.body["status"] == 409   # in the body too, as Toxiproxy's API answers
    with pytest.raises(ControlRequestError) as missing:
        faults.remove("twise")
    assert missing.value.status == 404 and "did you mean 'twice'" in missing.value.error
    assert faults.add("order_reject", name="twice", replace=True, reason="x")["params"]["reason"] == "x"


@pytest.mark.parametrize("body, words", [
    (b"{not json", "not valid JSON"),
    (b"[1, 2]", "JSON list"),
    (b"", "body is empty"),
    (b'{"type": "latency", "distribution": {"kind": "fixed", "ms": NaN}}', "finite number"),
    (b'{"type": "order_reject", "for_s": "ten"}', "for_s"),
    (b'{"type": "order_reject", "replace": "yes"}', "replace"),
])
def test_a_malformed_body_is_400_saying_what_is_wrong(gateway, faults, body, words):
    status, headers, answer = http(gateway.url, "POST", "/faults", body)
    assert status == 400 and words in answer["error"] and headers["content-type"] == "application/json"
    assert "Traceback" not in answer["error"]


def test_unknown_paths_and_methods_are_404_and_405(gateway, faults):
    assert http(gateway.url, "GET", "/toxics")[0] == 404
    status, headers, _ = http(gateway.url, "PUT", "/faults")
    assert status == 405 and headers["allow"] == "GET, POST, DELETE"


def test_clear_removes_every_fault_and_says_which(gateway, faults):
    faults.add("order_reject", name="a")
    removed = faults.clear()
    assert "a" in {f["name"] for f in removed} and faults.list() == []
    removed_events = [e for e in read_events(gateway.event_log) if e["msg"] == "fault_removed"]
    assert {e["attrs"]["name"] for e in removed_events} >= {"a", "message_rate"}


# ---------------------------------------------------------------------------------------------- the CLI
def test_the_faults_command_adds_lists_and_removes(gateway, faults):
    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(CLI + ["faults", *args, "--control", gateway.url], capture_output=True, text=True,
                              timeout=60)

    added = cli("add", "latency", "--name", "cli-slow", 'distribution={"kind":"fixed","ms":50}', "for_s=30",
                "--json")
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout)["params"]["schedule"]["to_s"] > 0
    assert "cli-slow\tlatency\truntime" in cli("list").stdout
    wrong = cli("add", "latncy")
    assert wrong.returncode == 1 and "did you mean 'latency'" in wrong.stderr and "HTTP 400" in wrong.stderr
    assert cli("remove", "cli-slow").returncode == 0
    assert "cli-slow" not in cli("list").stdout


def test_the_faults_command_says_when_no_gateway_answers():
    done = subprocess.run(CLI + ["faults", "list", "--control", "http://127.0.0.1:9"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 1 and "no control API answered" in done.stderr


# ---------------------------------------------------------------------------------------------- the README
def _readme_curl_lines() -> list[str]:
    text = README.read_text()
    section = text[text.index("### The fault API over HTTP"):]
    block = section[section.index("```bash"):]
    block = block[:block.index("```", 6)]
    return [line for line in block.splitlines() if line.startswith("curl ")]


def test_the_readme_curl_examples_work_as_written(gateway, faults):
    lines = _readme_curl_lines()
    assert len(lines) >= 5
    for line in lines:
        command = line.replace("http://127.0.0.1:8474", gateway.url)
        done = subprocess.run(["bash", "-c", command + " --fail-with-body --silent --show-error"],
                              capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
        json.loads(done.stdout)


# ---------------------------------------------------------------------------------------------- trust
def test_a_non_loopback_bind_without_a_token_is_refused_before_anything_listens(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PRELIVE_CONTROL_TOKEN"}
    done = subprocess.run(CLI + ["gateway", "--port", "0", "--control", "0.0.0.0:0"], capture_output=True,
                          text=True, timeout=60, env=env)
    assert done.returncode == 2 and "without a token" in done.stderr and "listening" not in done.stdout


def test_off_loopback_every_request_needs_the_bearer_token(tmp_path):
    token = "s3cret-token-for-the-test"
    gw = GatewayProcess(tmp_path, "--control", "0.0.0.0:0", env={"PRELIVE_CONTROL_TOKEN": token})
    try:
        url = gw.url.replace("0.0.0.0", "127.0.0.1")
        assert "(bearer token required)" in gw.control_line
        status, headers, body = http(url, "GET", "/status")
        assert status == 401 and headers["www-authenticate"].startswith("Bearer") and "Bearer" in body["error"]
        assert http(url, "DELETE", "/faults", headers={"Authorization": "Bearer wrong"})[0] == 401
        assert http(url, "POST", "/faults", b'{"type": "disconnect"}',
                    headers={"Authorization": f"Basic {token}"})[0] == 401
        with pytest.raises(ControlRequestError) as refused:
            ControlClient(url, token="").list()
        assert refused.value.status == 401
        authorised = ControlClient(url, token=token)
        assert authorised.status()["running"] is True
        assert authorised.add("order_reject", name="guarded")["name"] == "guarded"
        assert [f["name"] for f in authorised.list() if f["origin"] == "runtime"] == ["guarded"]
    finally:
        assert gw.stop() == 0


def test_a_taken_control_port_is_a_clear_error_and_nothing_keeps_running():
    import socket

    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        done = subprocess.run(CLI + ["gateway", "--port", "0", "--control", f"127.0.0.1:{port}"], capture_output=True,
                              text=True, timeout=60)
    assert done.returncode == 1 and f"cannot serve the control API on 127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_url_given_as_the_control_address_is_a_usage_error():
    done = subprocess.run(CLI + ["gateway", "--port", "0", "--control", "http://127.0.0.1:8474"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2 and "not a URL" in done.stderr
