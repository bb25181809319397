"""The compose mock stack's fault-control API: served only when PRELIVE_CONTROL_TOKEN is set, published on
loopback, and a fault added over it from the host drops a client connected through the published API port."""
from __future__ import annotations

import secrets
import time

import ib_insync

from harness.docker.stack import MOCK_STACK, Stack
from mock_gateway.faults.http_client import ControlClient, ControlRequestError, ControlUnreachable


def _answering(client: ControlClient, timeout_s: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return client.status()
        except ControlUnreachable:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def test_the_mock_stack_serves_the_fault_api_on_loopback_with_its_token(docker_client, prelive_image, run_labels,
                                                                         main_thread_event_loop):
    run_id = run_labels["prelive.run"]
    token = secrets.token_urlsafe(18)
    stack = Stack(docker_client, f"prelive-{run_id}", run_id, [MOCK_STACK], env={
        "PRELIVE_GATEWAY_PUBLISH": "127.0.0.1:", "PRELIVE_IMAGE": prelive_image,
        "PRELIVE_HANDLER_IMAGE": prelive_image, "PRELIVE_CONTROL_TOKEN": token})
    ib = ib_insync.IB()
    try:
        stack.up("ib-gateway", timeout_s=90)
        control_host, control_port = stack.published_port("ib-gateway", 8474)
        assert control_host == "127.0.0.1"                  # never 0.0.0.0 on the host
        url = f"http://127.0.0.1:{control_port}"
        assert _answering(ControlClient(url, token=token))["running"] is True
        try:
            ControlClient(url, token="not-the-token").list()
            raise AssertionError("a wrong token was accepted")
        except ControlRequestError as exc:
            assert exc.status == 401

        _, api_port = stack.published_port()
        ib.connect("127.0.0.1", api_port, clientId=7, timeout=20)
        client = ControlClient(url, token=token)
        client.add("disconnect", name="from-the-host")
        deadline = time.monotonic() + 15
        while ib.isConnected() and time.monotonic() < deadline:
            try:
                ib.sleep(0.1)
            except ConnectionError:   # ib_insync's wait raises when the session drops: what this waits for
                break
        assert not ib.isConnected()
        assert client.get("from-the-host")["acted"] == 1
    finally:
        ib.disconnect()
        stack.down()
    from harness.docker.cleanup import leftovers

    assert leftovers(docker_client, run_id).total == 0
