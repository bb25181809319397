"""Helpers for the drill tests (conftest puts this folder on sys.path, so any import mode works)."""
from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures"
#: The test's own API client id (resting orders, final checks); differs from the handler's (1)
#: and from the drill's (990, 991).
TEST_CLIENT_ID = 50


@dataclass
class DrillStack:
    """A running mock stack and what the drill needs to know about it."""

    stack: Any                    # harness.docker.stack.Stack
    drill_id: str
    host: str
    port: int
    current_image: str
    previous_image: str

    @property
    def handler_container(self) -> str:
        return f"{self.stack.project}-handler-1"

    @property
    def gateway_container(self) -> str:
        return f"{self.stack.project}-ib-gateway-1"

    def overrides(self, **more: object) -> dict[str, object]:
        """Inventory overrides pointing the mock inventory at this stack."""
        return {"handler_container": self.handler_container, "gateway_container": self.gateway_container,
                "gateway_host": self.host, "gateway_port": self.port, "handler_image_current": self.current_image,
                "handler_image_previous": self.previous_image, "compose_project": self.stack.project,
                "drill_id": self.drill_id, **more}


def tag_image(client: Any, source: str, target: str) -> str:
    repository, _, tag = target.rpartition(":")
    client.images.get(source).tag(repository, tag)
    return target


#: A fake credential planted in the handler container's environment (tests grep for it).
PLANTED_SECRET = f"planted-{secrets.token_hex(8)}"


def no_planted_secret_under(folder: Path) -> None:
    """No file under ``folder`` (records, artifacts, job events) contains :data:`PLANTED_SECRET`."""
    files = [p for p in Path(folder).rglob("*") if p.is_file()]
    assert files
    for path in files:
        assert PLANTED_SECRET not in path.read_bytes().decode("utf-8", "replace"), f"secret leaked into {path}"


def start_mock_stack(docker_client: Any, image: str, run_id: str, drill_id: str, publish: str = "127.0.0.1:",
                     project: str | None = None, handler_image: str | None = None) -> Any:
    """``compose/mock-stack.yml`` + the drill override, up and healthy, labelled with the run and drill ids."""
    from harness.docker.stack import MOCK_STACK, Stack

    stack = Stack(docker_client, project=project or f"prelive-drill-{drill_id}", run_id=run_id,
                  files=[MOCK_STACK, FIXTURES / "mock-drill.yml"],
                  env={"PRELIVE_GATEWAY_PUBLISH": publish, "PRELIVE_IMAGE": image,
                       "PRELIVE_HANDLER_IMAGE": handler_image or image, "PRELIVE_DRILL_ID": drill_id,
                       "PRELIVE_PLANTED_SECRET": PLANTED_SECRET})
    stack.up(timeout_s=120)
    return stack


def wait_until(predicate: Any, timeout_s: float = 15.0, interval_s: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval_s)
    return False


def place_resting_orders(host: str, port: int, count: int) -> list[int]:
    """BUY limits far below the market from the test's own client: they rest until cancelled."""
    from ib_insync import IB, LimitOrder, Stock

    ib = IB()
    ib.connect(host, port, clientId=TEST_CLIENT_ID, timeout=15)
    try:
        contract = ib.qualifyContracts(Stock("AAPL", "SMART", "USD"))[0]
        trades = [ib.placeOrder(contract, LimitOrder("BUY", 1, round(1.00 + i / 100, 2))) for i in range(count)]
        deadline = time.monotonic() + 10
        while not all(t.orderStatus.status == "Submitted" for t in trades):
            assert time.monotonic() < deadline, [t.orderStatus.status for t in trades]
            ib.sleep(0.1)
        return [t.order.orderId for t in trades]
    finally:
        ib.disconnect()


def open_orders(host: str, port: int) -> list[Any]:
    """Every open order of the account, whoever placed it (reqAllOpenOrders)."""
    from ib_insync import IB

    ib = IB()
    ib.connect(host, port, clientId=TEST_CLIENT_ID, timeout=15)
    try:
        return ib.reqAllOpenOrders()
    finally:
        ib.disconnect()
