"""Client-side pacing so a handler never earns error 100 or 162.

IBKR's limits (IBKR's TWS API "Historical Data Limitations" and "Message Rate" pages): 50 messages per second overall; historical requests
(small bars) must not repeat an identical request within 15 s, must not send six or more for one
contract/exchange/tick type within 2 s, and must stay at or below 60 per 10 minutes. Both pacers
wait (asynchronously) rather than fail, on a monotonic clock the tests can replace.
"""
from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Hashable

Clock = Callable[[], float]


class TokenBucket:
    """``rate_per_s`` tokens a second, at most ``burst`` saved up: any 1 s window sees <= burst + rate."""

    def __init__(self, rate_per_s: float = 35.0, burst: float = 5.0, clock: Clock = time.monotonic) -> None:
        if rate_per_s <= 0 or burst < 1:
            raise ValueError("token bucket needs rate_per_s > 0 and burst >= 1")
        self.rate_per_s = rate_per_s
        self.burst = burst
        self._clock = clock
        self._tokens = burst
        self._last = clock()
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate_per_s)
        self._last = now

    def try_take(self, n: float = 1.0) -> float:
        """Take ``n`` tokens if there are enough and return 0, else return the seconds to wait."""
        self._refill()
        if self._tokens >= n:
            self._tokens -= n
            return 0.0
        return (n - self._tokens) / self.rate_per_s

    async def acquire(self, n: float = 1.0) -> None:
        """Wait until ``n`` messages may be sent (FIFO among waiters)."""
        async with self._lock:
            while (wait := self.try_take(n)) > 0:
                await asyncio.sleep(wait)


class HistoricalPacer:
    """IBKR's historical-data pacing rules, kept with a safety margin."""

    def __init__(self, identical_gap_s: float = 16.0, same_contract_max: int = 5, same_contract_window_s: float = 2.5,
                 max_per_window: int = 55, window_s: float = 600.0, clock: Clock = time.monotonic) -> None:
        self.identical_gap_s = identical_gap_s
        self.same_contract_max = same_contract_max
        self.same_contract_window_s = same_contract_window_s
        self.max_per_window = max_per_window
        self.window_s = window_s
        self._clock = clock
        self._all: deque[float] = deque()
        self._by_contract: dict[Hashable, deque[float]] = {}
        self._by_request: dict[Hashable, float] = {}
        self._lock = asyncio.Lock()

    def wait_time(self, contract_key: Hashable, request_key: Hashable, weight: int = 1) -> float:
        """Seconds until a request may go out (0: now). ``weight`` 2 for BID_ASK, which counts twice."""
        now = self._clock()
        while self._all and now - self._all[0] >= self.window_s:
            self._all.popleft()
        same = self._by_contract.setdefault(contract_key, deque())
        while same and now - same[0] >= self.same_contract_window_s:
            same.popleft()
        waits = [0.0]
        last = self._by_request.get(request_key)
        if last is not None:
            waits.append(last + self.identical_gap_s - now)
        if len(same) + weight > self.same_contract_max:
            waits.append(same[len(same) + weight - self.same_contract_max - 1] + self.same_contract_window_s - now)
        if len(self._all) + weight > self.max_per_window:
            waits.append(self._all[len(self._all) + weight - self.max_per_window - 1] + self.window_s - now)
        return max(waits)

    def record(self, contract_key: Hashable, request_key: Hashable, weight: int = 1) -> None:
        now = self._clock()
        for _ in range(weight):
            self._all.append(now)
            self._by_contract.setdefault(contract_key, deque()).append(now)
        self._by_request[request_key] = now

    async def acquire(self, contract_key: Hashable, request_key: Hashable, weight: int = 1) -> None:
        async with self._lock:
            while (wait := self.wait_time(contract_key, request_key, weight)) > 0:
                await asyncio.sleep(wait)
            self.record(contract_key, request_key, weight)
