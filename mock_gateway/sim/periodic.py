"""A SimPy process that runs only while someone wants it: the world's periodic helper."""
from __future__ import annotations

import math
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

import simpy


@dataclass
class Periodic:
    """A SimPy process calling ``tick`` every ``interval_s`` (on multiples of it) while ``wanted()`` holds."""

    interval_s: float
    wanted: Callable[[], bool]
    tick: Callable[[float], None]
    running: bool = False

    def ensure(self, env: simpy.Environment) -> None:
        """Start the process unless it runs already (call after adding a subscriber)."""
        if not self.running:
            self.running = True
            env.process(self._run(env))

    def _run(self, env: simpy.Environment) -> Generator[simpy.Event, Any, None]:
        try:
            while self.wanted():
                next_t = (math.floor(env.now / self.interval_s + 1e-9) + 1) * self.interval_s
                yield env.timeout(next_t - env.now)
                if self.wanted():
                    self.tick(env.now)
        finally:
            self.running = False


__all__ = ["Periodic"]
