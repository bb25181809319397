"""Replayed bars: read a CSV of bars and turn each symbol's bars into a deterministic tick path.

Columns: ``symbol,time,open,high,low,close,volume``; ``time`` is the bar start in epoch seconds
or ISO 8601 (naive = UTC). Inside each bar the path goes open -> first extreme -> second
extreme -> close (low first on an up bar, high first on a down bar), linear between them.
"""
from __future__ import annotations

import csv
import math
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import TextIO

import numpy as np

from .paths import FlowParams, ReplayPath

#: A replayed instrument's path, made once its flow and grid are known.
PathFactory = Callable[[FlowParams, float, int], ReplayPath]


class ReplayError(ValueError):
    """The replay CSV cannot be used; the message names the file, line and column, never the file's text."""


# Bounds on a replay file (untrusted input, like the scenario that names it). Prices follow the
# scenario's own bounds (harness.scenario.MAX_PRICE); the rest keep memory and load time bounded.
MAX_PRICE = 10_000_000.0                # above any listed price (BRK.A is under 1e6)
MAX_VOLUME = 1e12                       # shares or contracts in one bar
MAX_ROWS = 250_000                      # ten symbols x a full session of 1-second bars (~60 MB in memory)
MAX_SYMBOLS = 1_000
MAX_LINE_CHARS = 1_024                  # a bar row is ~60 characters
MAX_SYMBOL_CHARS = 32
EARLIEST_EPOCH_S = -2_208_988_800.0     # 1900-01-01
LATEST_EPOCH_S = 4_102_444_800.0        # 2100-01-01
COLUMNS = ("symbol", "time", "open", "high", "low", "close", "volume")
_PRICES = ("open", "high", "low", "close")

Bar = tuple[float, float, float, float, float, float]


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


def _bounded_lines(fh: TextIO, where: str) -> Iterator[str]:
    """The file's lines, refusing one longer than MAX_LINE_CHARS before it is held whole."""
    number = 0
    while True:
        line = fh.readline(MAX_LINE_CHARS + 1)
        if not line:
            return
        number += 1
        if len(line.rstrip("\r\n")) > MAX_LINE_CHARS:
            raise ReplayError(f"{where}:{number}: line longer than {MAX_LINE_CHARS} characters (a bar row is "
                              f"{','.join(COLUMNS)})")
        yield line


def _number(row: dict[str, str | None], column: str, where: str) -> float:
    text = (row.get(column) or "").strip()
    if column == "volume" and not text:
        return 0.0
    try:
        value = float(text)
    except ValueError:
        raise ReplayError(f"{where}: {column} is not a number") from None
    if not math.isfinite(value):
        raise ReplayError(f"{where}: {column} is not a finite number")
    if column == "volume":
        if not 0 <= value <= MAX_VOLUME:
            raise ReplayError(f"{where}: volume {value:g} is outside 0..{MAX_VOLUME:g}")
    elif not 0 < value <= MAX_PRICE:
        raise ReplayError(f"{where}: {column} {value:g} is not a price the mock can hold (0 < price <= {MAX_PRICE:g})")
    return value


def _time(row: dict[str, str | None], where: str) -> float:
    text = (row.get("time") or "").strip()
    try:
        value = parse_time(text)
    except (ValueError, OverflowError):
        raise ReplayError(f"{where}: time is not epoch seconds or an ISO 8601 time") from None
    if not (math.isfinite(value) and EARLIEST_EPOCH_S <= value <= LATEST_EPOCH_S):
        raise ReplayError(f"{where}: time {value:g} is outside 1900-01-01..2100-01-01 "
                          "(epoch seconds, not milliseconds)")
    return value


def _symbol(row: dict[str, str | None], where: str) -> str:
    text = (row.get("symbol") or "").strip()
    if not text or len(text) > MAX_SYMBOL_CHARS or not text.isprintable():
        raise ReplayError(f"{where}: symbol is not a symbol (1-{MAX_SYMBOL_CHARS} printable characters)")
    return text.upper()


def read_bars(path: Path) -> dict[str, list[Bar]]:
    """Bars by upper-case symbol: (epoch, open, high, low, close, volume), time-ordered.

    Every field is bounded (prices finite, positive and <= MAX_PRICE; times in 1900..2100 and
    strictly increasing per symbol; low <= open, close <= high), and so is the file (MAX_ROWS rows
    of at most MAX_LINE_CHARS, MAX_SYMBOLS symbols). An error says ``file:line: column`` and shows at
    most the offending field's value as a number, never the file's text.
    """
    name = Path(path).name
    by_symbol: dict[str, list[Bar]] = defaultdict(list)
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(_bounded_lines(fh, name))
            missing = set(COLUMNS) - {(f or "").strip() for f in (reader.fieldnames or [])}
            if missing:
                raise ReplayError(f"{name}:1: missing column(s) {', '.join(sorted(missing))} "
                                  f"(header: {','.join(COLUMNS)})")
            rows = 0
            for row in reader:
                where = f"{name}:{reader.line_num}"
                row = {(k or "").strip(): v for k, v in row.items() if isinstance(v, str) or v is None}
                rows += 1
                if rows > MAX_ROWS:
                    raise ReplayError(f"{where}: more than {MAX_ROWS} bars; split the file or use longer bars")
                symbol = _symbol(row, where)
                t = _time(row, where)
                o, h, low, c = (_number(row, column, where) for column in _PRICES)
                v = _number(row, "volume", where)
                if low > min(o, c) or h < max(o, c):
                    raise ReplayError(f"{where}: low {low:g} / high {h:g} do not enclose open {o:g} and close {c:g}")
                bars = by_symbol[symbol]
                if not bars and len(by_symbol) > MAX_SYMBOLS:
                    raise ReplayError(f"{where}: more than {MAX_SYMBOLS} symbols")
                if bars and t <= bars[-1][0]:
                    raise ReplayError(f"{where}: time {t:.0f} is not after the previous {symbol} bar's "
                                      f"({bars[-1][0]:.0f}); bars must be in time order, one per time")
                bars.append((t, o, h, low, c, v))
    except UnicodeDecodeError:
        raise ReplayError(f"{name}: not a UTF-8 CSV file") from None
    except csv.Error as exc:   # the csv module's messages describe the syntax, not the data
        raise ReplayError(f"{name}: not a CSV file ({exc})") from None
    return dict(by_symbol)


def tick_knots(bars: list[Bar], epoch0: float):
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
