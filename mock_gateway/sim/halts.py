"""Trading halts: windows of sim time in which a symbol does not trade, and what a halt does to sessions.

An exchange halt stops every market in the symbol: the stock, its options and its futures (a
regulatory halt on the listing exchange binds all US venues, and options on a halted underlying
halt too). While halted nothing prints, the quote stands as it was, orders are accepted and held,
and they become executable again when trading resumes, at the resumption price.

IB reports the state in tick type 49 (HALTED, tickGeneric): 0 not halted, 1 general (regulatory)
halt, 2 volatility (LULD) pause. The mock keeps the halts of a scenario here, pure: no SimPy, no
sockets; the market and the order engine ask :meth:`HaltBook.status` and wrap their session
timelines in :class:`HaltedTimeline`.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

#: tickGeneric 49 values (TWS API tick types: "Halted").
NOT_HALTED, GENERAL_HALT, VOLATILITY_HALT = 0, 1, 2
HALT_KINDS = {"general": GENERAL_HALT, "volatility": VOLATILITY_HALT}


class HaltConfigError(ValueError):
    """A halt the market cannot apply (unknown kind, negative or empty window)."""


@dataclass(frozen=True)
class HaltWindow:
    """[start_s, end_s) in sim seconds in which ``symbol`` does not trade; ``code`` is tick 49's value."""

    symbol: str
    start_s: float
    end_s: float
    code: int = GENERAL_HALT

    @classmethod
    def from_config(cls, entry: Mapping) -> HaltWindow:
        """From a MarketConfig.halts entry: symbol, start_s, duration_s (default: to the end of the run), kind."""
        symbol = str(entry.get("symbol", "")).strip().upper()
        if not symbol:
            raise HaltConfigError("a halt needs the symbol it halts")
        kind = str(entry.get("kind", "general"))
        if kind not in HALT_KINDS:
            raise HaltConfigError(f"halt kind {kind!r} is not one of {sorted(HALT_KINDS)}")
        start_s = float(entry.get("start_s", 0.0))
        duration_s = entry.get("duration_s")
        end_s = math.inf if duration_s is None else start_s + float(duration_s)
        if not (math.isfinite(start_s) and start_s >= 0 and end_s > start_s):
            raise HaltConfigError(f"halt of {symbol}: start_s must be >= 0 and duration_s > 0")
        return cls(symbol, start_s, end_s, HALT_KINDS[kind])


class HaltBook:
    """Every halt of a run, by symbol (the underlying's symbol: options and futures share it)."""

    def __init__(self, windows: Iterable[HaltWindow] = ()) -> None:
        self._by_symbol: dict[str, tuple[HaltWindow, ...]] = {}
        for w in sorted(windows, key=lambda w: w.start_s):
            self._by_symbol[w.symbol] = self._by_symbol.get(w.symbol, ()) + (w,)

    @classmethod
    def from_config(cls, entries: Iterable[Mapping]) -> HaltBook:
        return cls(HaltWindow.from_config(e) for e in entries)

    def __bool__(self) -> bool:
        return bool(self._by_symbol)

    def windows(self, symbol: str) -> tuple[HaltWindow, ...]:
        return self._by_symbol.get(symbol.upper(), ())

    def status(self, symbol: str, t_s: float) -> int:
        """Tick 49's value for ``symbol`` at sim time ``t_s``."""
        for w in self._by_symbol.get(symbol.upper(), ()):
            if w.start_s <= t_s < w.end_s:
                return w.code
        return NOT_HALTED


class AlwaysOpen:
    """The timeline of a replayed path (it trades whenever its recording does): open from -inf to inf."""

    def state(self, t_s: float) -> tuple[bool, float, float]:
        return True, -math.inf, math.inf


class HaltedTimeline:
    """A session timeline with the halt windows cut out: closed while halted, as the order engine and the
    quotes must see it. Same interface as :class:`.sessions.SessionTimeline` (state, is_open, close_after)."""

    def __init__(self, base, windows: tuple[HaltWindow, ...]) -> None:
        self.base = base
        self.windows = windows

    def state(self, t_s: float) -> tuple[bool, float, float]:
        """(open, from_s, until_s) of the stretch around ``t_s``: a halt closes the market until it ends (the
        state at its end tells what follows), a halt starting later ends the open stretch early."""
        is_open, a, b = self.base.state(t_s)
        for w in self.windows:
            if w.start_s <= t_s < w.end_s:
                return False, (max(a, w.start_s) if is_open else a), w.end_s
        if is_open:
            for w in self.windows:
                if t_s < w.start_s < b:
                    b = w.start_s
                if a < w.end_s <= t_s:
                    a = w.end_s
        return is_open, a, b

    def is_open(self, t_s: float) -> bool:
        return self.state(t_s)[0]

    def close_after(self, t_s: float) -> float:
        is_open, _, until_s = self.state(t_s)
        return until_s if is_open or not math.isfinite(until_s) else self.state(until_s)[2]


__all__ = ["AlwaysOpen", "GENERAL_HALT", "HALT_KINDS", "HaltBook", "HaltConfigError", "HaltWindow", "HaltedTimeline",
           "NOT_HALTED", "VOLATILITY_HALT"]
