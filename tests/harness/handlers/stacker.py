"""Test handler: a naive bot that sends a market order on every tick of its own timer, whatever
became of the last one. While the market is closed each order is held (399) and the next one
stacks on it, so it wakes up at the open with many times the position it meant to hold.

Run as ``python stacker.py`` with the ``IB_*`` environment the harness provides;
``STACKER_INTERVAL_S`` (wall seconds, default 0.5) sets the timer.
"""
from __future__ import annotations

import os
import sys

from ib_insync import IB, MarketOrder, Stock


def main() -> int:
    ib = IB()
    ib.connect(os.environ.get("IB_HOST", "127.0.0.1"), int(os.environ.get("IB_PORT", "4002")),
               int(os.environ.get("IB_CLIENT_ID", "1")), timeout=20, account=os.environ.get("IB_ACCOUNT", ""))
    contract = ib.qualifyContracts(Stock("AAPL", "SMART", "USD"))[0]
    interval_s = float(os.environ.get("STACKER_INTERVAL_S", "0.5"))
    sent = 0
    while ib.isConnected():
        order = MarketOrder("BUY", 100, orderRef=f"stack-{sent}", tif="DAY",
                            account=os.environ.get("IB_ACCOUNT", ""))
        ib.placeOrder(contract, order)
        sent += 1
        ib.sleep(interval_s)
    print(f"stacker: disconnected after {sent} orders", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
