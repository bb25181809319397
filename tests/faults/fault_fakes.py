"""Hand-made stand-ins for what the gateway hands to faults: a control surface, sessions, orders."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import simpy

from mock_gateway.protocol.requests import Request, decode_request


@dataclass
class FakeSession:
    conn_id: int = 1
    client_id: int | None = 7
    server_version: int = 176
    market_data_lines: int = 0


@dataclass
class FakeOrder:
    order_id: int = 1
    symbol: str = "AAPL"
    action: str = "BUY"
    total_qty: float = 100
    order_type: str = "MKT"


@dataclass
class FakeControl:
    """Records what scheduled faults asked the gateway to do, with the sim time they asked."""

    env: simpy.Environment = field(default_factory=simpy.Environment)
    calls: list[tuple[float, str, Any]] = field(default_factory=list)

    def _rec(self, what: str, arg: Any = None) -> None:
        self.calls.append((self.env.now, what, arg))

    def drop_all_sessions(self, reason: str) -> None:
        self._rec("drop", reason)

    def refuse_connections(self, refusing: bool) -> None:
        self._rec("refuse", refusing)

    def broadcast_error(self, code: int, text: str) -> None:
        self._rec("error", (code, text))

    def set_market_data_flowing(self, flowing: bool) -> None:
        self._rec("flowing", flowing)

    def clear_market_data_subscriptions(self) -> None:
        self._rec("clear")

    def log_fault(self, name: str, **attrs: Any) -> None:
        self._rec("log", (name, attrs.get("phase")))

    def actions(self) -> list[tuple[float, str, Any]]:
        """What reached clients or sockets (without the log lines)."""
        return [c for c in self.calls if c[1] != "log"]


def hist_request(req_id: int, symbol: str = "AAPL", what: str = "TRADES", bar: str = "5 secs",
                 end: str = "", duration: str = "60 S") -> Request:
    """reqHistoricalData as ib_insync sends it at v176 (23 fields)."""
    return decode_request(["20", str(req_id), "0", symbol, "STK", "", "0.0", "", "", "SMART", "", "USD", "", "", "0",
            end, bar, duration, "1", what, "1", "0", ""])


def rt_bars_request(req_id: int, symbol: str = "AAPL", what: str = "TRADES") -> Request:
    """reqRealTimeBars at v176 (19 fields)."""
    return decode_request(["50", "3", str(req_id), "0", symbol, "STK", "", "0.0", "", "", "SMART", "", "USD", "", "",
            "5", what, "1", ""])


def mkt_data_request(req_id: int, symbol: str = "AAPL") -> Request:
    return decode_request(["1", "11", str(req_id), "0", symbol, "STK", "", "0.0", "", "", "SMART", "", "USD", "", "",
            "0", "", "0", "0", ""])
