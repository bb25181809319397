"""Runs inside a venv with the official client (ibapi 10.x): option calculations against a gateway.

    calc PORT CLIENT_ID CON_ID UNDER_PRICE   calculateOptionPrice (vol 0.3), then calculateImpliedVolatility
                                             at the price it got; prints JSON lines: the server version,
                                             each tickOptionComputation and each error

stdlib + ibapi only, no project code (the official package must not meet ibapi 9.81 of the dev extra).
"""
from __future__ import annotations

import json
import sys
import threading
import time


def calc(port: int, client_id: int, con_id: int, under: float) -> None:
    from ibapi.client import EClient
    from ibapi.contract import Contract
    from ibapi.wrapper import EWrapper

    got: dict[int, list] = {}
    ready = threading.Event()
    lock = threading.Lock()

    def emit(obj) -> None:
        with lock:
            sys.stdout.write(json.dumps(obj) + "\n")
            sys.stdout.flush()

    class Wrapper(EWrapper):
        def nextValidId(self, orderId):
            ready.set()

        def tickOptionComputation(self, reqId, tickType, tickAttrib, impliedVol, delta, optPrice, pvDividend,
                                  gamma, vega, theta, undPrice):
            row = [reqId, tickType, impliedVol, delta, optPrice, pvDividend, gamma, vega, theta, undPrice]
            got[reqId] = row
            emit({"computation": row})

        def error(self, reqId, *args):
            texts = [a for a in args if isinstance(a, (int, str))]
            emit({"error": [reqId, *texts]})
            got.setdefault(reqId, None)

    client = EClient(Wrapper())
    client.connect("127.0.0.1", port, client_id)
    threading.Thread(target=client.run, daemon=True).start()
    if not ready.wait(10):
        emit({"timeout": "nextValidId"})
        return
    emit({"serverVersion": client.serverVersion()})
    option = Contract()
    option.conId, option.exchange = con_id, "SMART"

    def wait(req_id):
        deadline = time.monotonic() + 5
        while req_id not in got and time.monotonic() < deadline:
            time.sleep(0.02)
        return got.get(req_id)

    client.calculateOptionPrice(1, option, 0.3, under, [])
    priced = wait(1)
    client.cancelCalculateOptionPrice(1)
    if priced:
        client.calculateImpliedVolatility(2, option, priced[4], under, [])
        wait(2)
        client.cancelCalculateImpliedVolatility(2)
    client.disconnect()


if __name__ == "__main__":
    calc(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]))
