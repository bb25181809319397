"""Test handler: connects with ib_insync and idles (no market data, no history, no orders)."""
import os

from ib_insync import IB

ib = IB()
ib.connect(os.environ["IB_HOST"], int(os.environ["IB_PORT"]), clientId=int(os.environ["IB_CLIENT_ID"]), timeout=30)
while ib.isConnected():
    ib.sleep(1)
