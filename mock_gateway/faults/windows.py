"""Sliding-window counters on the sim clock: the arithmetic behind every pacing rule."""
from __future__ import annotations

from collections import deque


class SlidingCount:
    """Weighted events in the last ``window_s`` sim seconds (an event at ``now - window_s`` has left)."""

    def __init__(self, window_s: float) -> None:
        self.window_s = window_s
        self._events: deque[tuple[float, int]] = deque()
        self._total = 0

    def total(self, now: float) -> int:
        horizon = now - self.window_s
        while self._events and self._events[0][0] <= horizon:
            self._total -= self._events.popleft()[1]
        return self._total

    def add(self, now: float, weight: int = 1) -> int:
        """Record an event; returns the total including it."""
        total = self.total(now) + weight
        self._events.append((now, weight))
        self._total = total
        return total
