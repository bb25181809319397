"""Runs inside the official client's venv (ibapi-latest 10.51): reqTickByTickData for each tick type.

    tick_by_tick_agent.py PORT CLIENT_ID SECONDS

Prints one JSON line: the server version and every tickByTick*/error callback as [name, args] (stdlib + ibapi only).
"""
from __future__ import annotations

import json
import sys
import threading
import time
from decimal import Decimal


def main(port: int, client_id: int, seconds: float) -> None:
    from ibapi.client import EClient
    from ibapi.contract import Contract
    from ibapi.wrapper import EWrapper

    calls: list = []
    ready = threading.Event()

    def plain(v):
        if isinstance(v, Decimal):
            return str(v)
        if hasattr(v, "__dict__"):
            return {k: plain(x) for k, x in vars(v).items()}
        return v

    class Recorder(EWrapper):
        def nextValidId(self, order_id):
            ready.set()

        def tickByTickAllLast(self, *args):
            calls.append(["tickByTickAllLast", [plain(a) for a in args]])

        def tickByTickBidAsk(self, *args):
            calls.append(["tickByTickBidAsk", [plain(a) for a in args]])

        def tickByTickMidPoint(self, *args):
            calls.append(["tickByTickMidPoint", [plain(a) for a in args]])

        def error(self, req_id, *args):
            if req_id > 0:
                calls.append(["error", [req_id, *[plain(a) for a in args]]])

    client = EClient(Recorder())
    client.connect("127.0.0.1", port, client_id)
    threading.Thread(target=client.run, daemon=True).start()
    if not ready.wait(10):
        raise SystemExit("no nextValidId")
    aapl = Contract()
    aapl.symbol, aapl.secType, aapl.exchange, aapl.currency = "AAPL", "STK", "SMART", "USD"
    client.reqTickByTickData(21, aapl, "Last", 5, False)
    client.reqTickByTickData(22, aapl, "BidAsk", 0, True)
    client.reqTickByTickData(23, aapl, "MidPoint", 0, False)
    client.reqTickByTickData(24, aapl, "AllLast", 0, False)      # the fourth: over the limit of 3
    time.sleep(seconds)
    client.cancelTickByTickData(21)
    client.cancelTickByTickData(22)
    client.cancelTickByTickData(23)
    time.sleep(0.2)
    n = len(calls)
    time.sleep(0.5)
    print(json.dumps({"serverVersion": client.serverVersion(), "calls": calls[:n], "after_cancel": len(calls) - n}))
    client.disconnect()


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]))
