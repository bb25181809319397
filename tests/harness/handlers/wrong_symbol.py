"""Test handler: a bot hard-wired to AAPL; asks for its market data, then gives up when refused."""
import os
import sys

from ib_insync import IB, Stock

ib = IB()
ib.connect(os.environ["IB_HOST"], int(os.environ["IB_PORT"]), clientId=int(os.environ["IB_CLIENT_ID"]), timeout=30)
errors = []
ib.errorEvent += lambda req_id, code, text, contract: errors.append(code)
ib.reqMktData(Stock("AAPL", "SMART", "USD"))
for _ in range(120):   # up to a simulated minute for the answer (a busy machine delays it in real time)
    ib.sleep(0.5)
    if 200 in errors:
        break
if 200 in errors:
    print("wrong_symbol: AAPL refused (error 200), exiting", file=sys.stderr, flush=True)
    sys.exit(1)
while ib.isConnected():
    ib.sleep(1)
