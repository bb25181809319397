"""Hand-made event logs for metric tests, written through the real EventLog writer."""
from __future__ import annotations

from mock_gateway.eventlog import EventLog


class LogBuilder:
    """Append wire and sys events at chosen times; ``clock="sim"`` fills sim, ``"wall"`` leaves it null."""

    def __init__(self, clock: str = "sim", source: str = "mock") -> None:
        self.log = EventLog(None, source=source)
        self.clock = clock
        self.client_of: dict[int, int] = {}

    @property
    def events(self) -> list[dict]:
        return self.log.events or []

    def _w(self, t: float, **kw) -> None:
        sim = t if self.clock == "sim" else None
        self.log.write(wall=1_700_000_000.0 + t, sim=sim, **kw)

    def sys(self, t: float, msg: str, conn: int | None = None, **attrs) -> LogBuilder:
        self._w(t, dir="sys", msg=msg, conn=conn, client_id=self.client_of.get(conn), attrs=attrs)
        return self

    def out(self, t: float, conn: int, msg: str, **attrs) -> LogBuilder:
        self._w(t, dir="out", msg=msg, conn=conn, client_id=self.client_of.get(conn), attrs=attrs)
        return self

    def inn(self, t: float, conn: int, msg: str, **attrs) -> LogBuilder:
        self._w(t, dir="in", msg=msg, conn=conn, client_id=self.client_of.get(conn), attrs=attrs)
        return self

    def session(self, t: float, conn: int, client_id: int) -> LogBuilder:
        self.client_of[conn] = client_id
        self.sys(t, "connect", conn)
        self.inn(t, conn, "startApi", client_id=client_id)
        return self.out(t, conn, "nextValidId", order_id=1)

    def place(self, t: float, conn: int, order_id: int, qty: float = 100, ref: str = "", action: str = "BUY",
              symbol: str = "AAPL") -> LogBuilder:
        return self.inn(t, conn, "placeOrder", order_id=order_id, total_qty=qty, order_ref=ref, action=action,
                        symbol=symbol, order_type="MKT")

    def ack(self, t: float, conn: int, order_id: int, status: str = "Submitted") -> LogBuilder:
        self.out(t, conn, "openOrder", order_id=order_id, client_id=self.client_of.get(conn))
        return self.out(t, conn, "orderStatus", order_id=order_id, status=status)

    def fill(self, t: float, conn: int, order_id: int, exec_id: str, shares: float = 100, price: float = 100.0,
             side: str = "BOT", symbol: str = "AAPL", req_id: int = -1) -> LogBuilder:
        return self.out(t, conn, "execDetails", req_id=req_id, order_id=order_id, exec_id=exec_id, shares=shares,
                        price=price, side=side, symbol=symbol, client_id=self.client_of.get(conn))

    def error(self, t: float, conn: int, code: int, text: str = "", req_id: int = -1) -> LogBuilder:
        return self.out(t, conn, "error", req_id=req_id, code=code, text=text)

    def disconnect(self, t: float, conn: int, reason: str) -> LogBuilder:
        return self.sys(t, "disconnect", conn, reason=reason)

    def marked(self, t: float, direction: str, msg: str, fault: str, conn: int | None = None, **attrs) -> LogBuilder:
        """An event a fault acted on: its ``fault`` field names the fault(s), comma-separated."""
        self._w(t, dir=direction, msg=msg, conn=conn, client_id=self.client_of.get(conn), attrs=attrs, fault=fault)
        return self

    def mark(self, t: float, net_liquidation: float, account: str = "DU1234567") -> LogBuilder:
        return self.sys(t, "account_mark", account=account, net_liquidation=net_liquidation)
