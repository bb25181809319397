"""Replayed bars: read a CSV of bars and turn each symbol's bars into a deterministic tick path.

Columns: ``symbol,time,open,high,low,close,volume``; ``time`` is the bar start in epoch seconds
or ISO 8601 (naive = UTC). Inside each bar the path goes open -> first extreme -> second
extreme -> close (low first on an up bar, high first on a down bar), linear between them.
"""
from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from .paths import FlowParams, ReplayPath

#: A replayed instrument's path, made once its flow and grid are known.
PathFactory = Callable[[FlowParams, float, int], ReplayPath]


class ReplayError(ValueError):
    """The replay CSV cannot be used; the message names the file, line and field."""


def parse_time(text: str) -> float:
    """Epoch seconds from epoch digits or ISO 8601 (a naive time is UTC)."""
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        pass
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


def read_bars(path: Path) -> dict[str, list[tuple[float, float, float, float, float, float]]]:
    """Bars by upper-case symbol: (epoch, open, high, low, close, volume), time-sorted."""
    by_symbol: dict[str, list[tuple[float, float, float, float, float, float]]] = defaultdict(list)
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        missing = {"symbol", "time", "open", "high", "low", "close", "volume"} - set(reader.fieldnames or [])
        if missing:
            raise ReplayError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
        for line, row in enumerate(reader, start=2):
            try:
                bar = (parse_time(row["time"]), float(row["open"]), float(row["high"]), float(row["low"]),
                       float(row["close"]), float(row["volume"] or 0))
            except (ValueError, TypeError):  # the message would quote the row: name the line only
                raise ReplayError(f"{Path(path).name}:{line}: time, open, high, low, close or volume is not "
                                  f"a valid time or number") from None
            by_symbol[row["symbol"].strip().upper()].append(bar)
    return {k: sorted(v) for k, v in by_symbol.items()}


def tick_knots(bars: list[tuple[float, float, float, float, float, float]], epoch0: float):
    """(knot times in sim seconds, knot prices, volume-rate step times, volume per second) for one symbol."""
    starts = np.array([b[0] for b in bars])
    gaps = np.diff(starts)
    bar_s = float(gaps[gaps > 0].min()) if np.any(gaps > 0) else 60.0
    knot_t, knot_p, rates = [], [], {}
    for t, o, h, low, c, v in bars:
        a = t - epoch0
        first, second = (low, h) if c >= o else (h, low)
        knot_t += [a, a + bar_s / 3, a + 2 * bar_s / 3, a + bar_s * 0.999]
        knot_p += [o, first, second, c]
        rates.setdefault(a + bar_s, 0.0)
        rates[a] = v / bar_s
    vt = np.array(sorted(rates))
    return np.array(knot_t), np.array(knot_p), vt, np.array([rates[x] for x in vt])


def load_replay(path: Path, epoch0: float) -> dict[str, PathFactory]:
    """Path factories by upper-case symbol for every symbol in the CSV."""
    out: dict[str, PathFactory] = {}
    for n, (symbol, bars) in enumerate(sorted(read_bars(Path(path)).items())):
        kt, kp, vt, vr = tick_knots(bars, epoch0)

        def factory(flow: FlowParams, dt_s: float, seed: int, kt=kt, kp=kp, vt=vt, vr=vr, n=n) -> ReplayPath:
            return ReplayPath(kt, kp, vt, vr, book_seed=seed * 1000 + n, flow=flow, dt_s=dt_s)
        out[symbol] = factory
    return out
