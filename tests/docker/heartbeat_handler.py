"""A handler that reports what it sees: reqCurrentTime every 0.5 s, one JSON line per observation.

Run inside the handler container (passed as ``python -c``), so the container-fault tests can tell
what the handler observed: replies, timeouts (frozen or partitioned gateway), drops and reconnects,
and its own restarts. Lines: {"t": wall, "event": "start"|"connected"|"reply"|"timeout"|"disconnected"
|"connect_failed"|"stop"}. After 6 timeouts in a row it drops the connection and reconnects, as a
watchdog in a real handler would.
"""
import asyncio
import json
import os
import signal
import sys
import time

from ib_insync import IB


def say(event, **extra):
    print(json.dumps({"t": time.time(), "event": event, **extra}), flush=True)


async def main():
    host, port = os.environ["IB_HOST"], int(os.environ["IB_PORT"])
    client_id = int(os.environ["IB_CLIENT_ID"])
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    ib = IB()
    ib.disconnectedEvent += lambda: say("disconnected")
    say("start", pid=os.getpid())
    while not stop.is_set():
        if not ib.isConnected():
            try:
                await ib.connectAsync(host, port, clientId=client_id, timeout=3)
                say("connected")
            except Exception as exc:
                say("connect_failed", error=type(exc).__name__)
                await asyncio.sleep(0.5)
                continue
        misses = 0
        while ib.isConnected() and not stop.is_set():
            try:
                await asyncio.wait_for(ib.reqCurrentTimeAsync(), 1.0)
                say("reply")
                misses = 0
            except asyncio.TimeoutError:
                say("timeout")
                misses += 1
                if misses >= 6:
                    ib.disconnect()
                    break
            await asyncio.sleep(0.5)
    ib.disconnect()
    say("stop")


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
