"""The reference strategy: mean reversion on one-minute bars, a target position in {-q, 0, +q}.

Deterministic for a seed: decisions depend only on bar closes stamped with the gateway's
(simulated) time, never on the wall clock, so the same price path gives the same orders. With
the default parameters a GBM path at 25 % annual volatility gives roughly 70 to 110 trades in a
six-hour session (lookback 8 bars, enter at |z| > 1.2, exit when z crosses back inside 0.3).
"""
from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Bar:
    time_s: int           # epoch seconds of the bar's start
    open: float
    high: float
    low: float
    close: float
    volume: float = 0.0


class BarAggregator:
    """Fold 5-second bars into ``seconds``-long bars; a bar is emitted when the next one starts."""

    def __init__(self, seconds: int, on_bar: Callable[[Bar], None]) -> None:
        if seconds <= 0 or seconds % 5:
            raise ValueError(f"bar length must be a positive multiple of 5 s, got {seconds}")
        self.seconds = seconds
        self.on_bar = on_bar
        self._current: Bar | None = None
        self.last_emitted: int | None = None

    def add(self, time_s: int, open_: float, high: float, low: float, close: float, volume: float = 0.0) -> None:
        start = time_s - time_s % self.seconds
        if self.last_emitted is not None and start <= self.last_emitted:
            return  # a replayed or late bar of a period already decided on
        cur = self._current
        if cur is not None and start != cur.time_s:
            if start < cur.time_s:
                return
            self._emit()
            cur = None
        if cur is None:
            self._current = Bar(start, open_, high, low, close, volume)
        else:
            cur.high, cur.low, cur.close = max(cur.high, high), min(cur.low, low), close
            cur.volume += volume

    def add_complete(self, bar: Bar) -> None:
        """A whole bar from history (warm-up): emitted at once unless already seen."""
        if self.last_emitted is not None and bar.time_s <= self.last_emitted:
            return
        self._current = None
        self.last_emitted = bar.time_s
        self.on_bar(bar)

    def _emit(self) -> None:
        bar, self._current = self._current, None
        if bar is not None:
            self.last_emitted = bar.time_s
            self.on_bar(bar)


@dataclass
class MeanReversion:
    """z-score of the close against the previous ``lookback`` closes: fade large moves, exit on reversion."""

    qty: float = 100.0
    lookback: int = 8
    entry_z: float = 1.2
    exit_z: float = 0.3
    closes: deque = field(default_factory=deque)
    target: float = 0.0

    def on_close(self, close: float) -> float:
        """Feed one bar close; returns the target position after it."""
        history = list(self.closes)
        self.closes.append(close)
        while len(self.closes) > self.lookback:
            self.closes.popleft()
        if len(history) < self.lookback:
            return self.target
        mean = sum(history) / len(history)
        sd = math.sqrt(sum((x - mean) ** 2 for x in history) / len(history))
        if sd <= 0:
            return self.target
        z = (close - mean) / sd
        if self.target == 0:
            if z > self.entry_z:
                self.target = -self.qty
            elif z < -self.entry_z:
                self.target = self.qty
        elif (self.target > 0 and z > -self.exit_z) or (self.target < 0 and z < self.exit_z):
            self.target = 0.0
        return self.target
