"""The heartbeat: notice a gateway that keeps the socket open but answers nothing.

A paused gateway container or a hung gateway process leaves the TCP connection up; ib_insync
raises nothing then, and a client without a probe waits until the freeze ends. Every
``interval_s`` the heartbeat asks for the gateway's time (one message, taken from the client's own
token bucket so it never earns error 100); if the answer has not come within ``timeout_s`` it
reports the silence once and stops. The client then drops the connection and goes through its
usual reconnect and resync. It runs on wall time (the loop's monotonic clock), as the socket does:
the simulation's speed does not change when it fires.

It owns ib_insync's single ``currentTime`` request slot (a second ``reqCurrentTimeAsync`` on the
same ``IB`` would take the answer away from the probe), so nothing else should call it.
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable

from ib_insync import IB

from .pacing import TokenBucket


class Heartbeat:
    """Probe one connection until cancelled; call ``on_silence(reason)`` once if a probe goes unanswered."""

    def __init__(self, ib: IB, bucket: TokenBucket, interval_s: float, timeout_s: float,
                 on_silence: Callable[[str], None]) -> None:
        if interval_s <= 0 or timeout_s <= 0:
            raise ValueError("heartbeat needs interval_s > 0 and timeout_s > 0")
        self.ib = ib
        self.bucket = bucket
        self.interval_s = interval_s
        self.timeout_s = timeout_s
        self.on_silence = on_silence
        self.probes_sent = 0
        self.probes_answered = 0
        self.max_round_trip_s = 0.0

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.interval_s)
            await self.bucket.acquire()
            try:
                reply = self.ib.reqCurrentTimeAsync()
            except ConnectionError:
                return  # the socket is already gone: the client's disconnect handling has it
            sent_at = loop.time()
            self.probes_sent += 1
            try:
                # asyncio.wait rather than wait_for: an answer that came in while the loop was busy
                # elsewhere still counts when the timer and the socket are both due at once
                done, _ = await asyncio.wait({reply}, timeout=self.timeout_s)
            finally:
                reply.cancel()  # no-op once answered; an abandoned probe must not resolve later
            if not done:
                self.on_silence(f"no answer to reqCurrentTime within {self.timeout_s:g} s")
                return
            if reply.exception() is not None:
                return  # the connection closed under the probe: reconnecting is already under way
            self.probes_answered += 1
            self.max_round_trip_s = max(self.max_round_trip_s, loop.time() - sent_at)
