"""A deliberately naive handler: ib_insync with its throttle switched off, firing requests in bursts.

The kind of code the pacing scenario exists to catch (ib_insync PR #35 / #201): 120 requests a
second, no client-side pacing, no reconnect. Run as ``python tests/handlers/naive.py`` with the
``IB_*`` environment the harness provides.
"""
from __future__ import annotations

import os
import sys

from ib_insync import IB


def main() -> int:
    ib = IB()
    ib.client.MaxRequests = 0  # no throttle: every request goes out at once
    ib.connect(os.environ.get("IB_HOST", "127.0.0.1"), int(os.environ.get("IB_PORT", "4002")),
               int(os.environ.get("IB_CLIENT_ID", "1")), timeout=10)
    while ib.isConnected():
        for _ in range(120):
            ib.client.reqCurrentTime()
        ib.sleep(1.0)
    print("naive handler: disconnected, giving up", flush=True)
    return 1


if __name__ == "__main__":
    sys.exit(main())
