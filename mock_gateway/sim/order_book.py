"""An order book (market depth) around the top of book of the simulated quotes, and the row edits between two books.

Pure: a quote and a grid step in, price levels out. Level 0 of each side is the L1 quote itself (the
bid/ask and their sizes reqMktData streams at the same grid time); deeper levels follow at min-tick steps
away from it, with sizes that grow with the distance from the inside and are redrawn every few seconds
per level (seeded: the same seed, contract and grid step give the same book whatever was requested).

:func:`row_edits` turns one book side into the next, row by row: a changed position is updated, new
rows are inserted at the end, surplus rows deleted from the end, so a client applying them in order holds
the new book whether it shifts rows on insert/delete (ib_insync) or keys them by position (ib_async).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

#: updateMktDepth operations and sides (TWS API docs, EWrapper.updateMktDepth).
INSERT, UPDATE, DELETE = 0, 1, 2
ASK, BID = 0, 1

_MASK64 = (1 << 64) - 1


class Level(NamedTuple):
    """One row of a book side: a price, the size resting there, and who shows it ('' for exchange depth)."""

    price: float
    size: float
    maker: str = ""


@dataclass(frozen=True)
class RowEdit:
    """One updateMktDepth / updateMktDepthL2 row operation."""

    position: int
    operation: int       # INSERT, UPDATE, DELETE
    side: int            # ASK, BID
    level: Level


def _mix(*values: int) -> int:
    """A stable 64-bit hash of integers (a polynomial fold, then the splitmix64 finaliser): Python's ``hash`` is
    not promised stable across versions, and the book must be the same for the same seed everywhere."""
    h = 0x9E3779B97F4A7C15
    for v in values:
        h = (h * 0x100000001B3 + (v & _MASK64)) & _MASK64
    h = ((h ^ (h >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    h = ((h ^ (h >> 27)) * 0x94D049BB133111EB) & _MASK64
    return h ^ (h >> 31)


@dataclass(frozen=True)
class BookShape:
    """What a contract's book looks like: its tick, its lot, how many levels, who quotes, how often sizes move."""

    min_tick: float
    lot: float                          # sizes are whole lots (100 shares, 1 contract, 100,000 units of currency)
    levels: int                         # price levels per side the venue shows
    makers: tuple[str, ...] = ()        # market makers / exchanges named by L2 rows; () for exchange depth
    refresh_steps: int = 20             # grid steps between two size draws of one level
    empty_share: float = 0.25           # share of price levels behind the inside with nothing resting (a gap)


class LevelDraws:
    """The seeded draws of one contract's book: who shows a price level, and its size in an epoch of steps.

    A memo over pure functions of (seed, conId, side, price in ticks, epoch): a level keeps its maker and,
    within an epoch, its size, so most levels of the next step are looked up, not hashed again. Bounded:
    the memo is emptied when it holds ``max_entries``.
    """

    def __init__(self, shape: BookShape, seed: int, con_id: int, max_entries: int = 4096) -> None:
        self.shape, self.seed, self.con_id, self.max_entries = shape, seed, con_id, max_entries
        self._static: dict[tuple[int, int], tuple[int, str]] = {}
        self._sizes: dict[tuple[int, int, int], float] = {}   # (side, ticks, epoch) -> draw in [0, 1), -1 empty

    def _level(self, side: int, ticks: int) -> tuple[int, str]:
        key = (side, ticks)
        hit = self._static.get(key)
        if hit is None:
            if len(self._static) >= self.max_entries:
                self._static.clear()
            shape = self.shape
            phase = _mix(self.seed, self.con_id, side, ticks) % shape.refresh_steps
            maker = shape.makers[_mix(self.seed, self.con_id, side, ticks, 7) % len(shape.makers)] \
                if shape.makers else ""
            hit = self._static[key] = (phase, maker)
        return hit

    def level(self, side: int, ticks: int, k: int, grid_index: int) -> tuple[float, str]:
        """(size, maker) of the level ``k`` ticks behind the inside, at ``ticks`` from zero, at a grid step;
        size 0 when nothing rests there in this epoch (the book has a gap). The draw is memoised per price
        level and epoch; the distance ``k`` only scales it (deeper levels hold more)."""
        phase, maker = self._level(side, ticks)
        epoch = (grid_index + phase) // self.shape.refresh_steps
        key = (side, ticks, epoch)
        u = self._sizes.get(key)
        if u is None:
            if len(self._sizes) >= self.max_entries:
                self._sizes.clear()
            h = _mix(self.seed, self.con_id, side, ticks, epoch)
            u = -1.0 if (h & 0xFF) < self.shape.empty_share * 256 else (h >> 11) / 2.0 ** 53
            self._sizes[key] = u
        if u < 0:
            return 0.0, maker
        return max(1, round((1 + 0.6 * k) * (0.4 + 1.6 * u) * 2)) * self.shape.lot, maker


def book_side(draws: LevelDraws, side: int, top_price: float, top_size: float, grid_index: int,
              rows: int) -> list[Level]:
    """The first ``rows`` levels of one side: the quote's price and size, then the levels behind it on the
    min-tick grid that have something resting (a level may be empty: gaps of a tick or more, as in a real
    book); at most ``shape.levels`` rows, searched over at most three times as many ticks."""
    shape = draws.shape
    want = min(rows, shape.levels)
    if want <= 0 or not top_price > 0:
        return []
    tick = shape.min_tick
    direction = 1 if side == ASK else -1
    top_ticks = round(top_price / tick)
    out: list[Level] = []
    for k in range(3 * shape.levels):
        ticks = top_ticks + direction * k
        if ticks <= 0 or len(out) == want:
            break
        size, maker = draws.level(side, ticks, k, grid_index)
        if k == 0:
            out.append(Level(round(ticks * tick, 10), float(top_size), maker))
        elif size > 0:
            out.append(Level(round(ticks * tick, 10), size, maker))
    return out


def row_edits(side: int, old: list[Level], new: list[Level]) -> list[RowEdit]:
    """The row operations that turn ``old`` into ``new`` when applied in order, position by position.

    A row is a position of the book: a position whose price, size or maker changed is updated in
    place, rows past the old end are inserted at the end, rows past the new end are deleted from the
    deepest up. Every insert lands at the end and every delete takes the last row, so a client that
    shifts rows on insert/delete (ib_insync's lists) and one that keys rows by position (ib_async's
    dicts) hold the same book after every message.
    """
    edits: list[RowEdit] = []
    for i, lv in enumerate(new):
        if i >= len(old):
            edits.append(RowEdit(i, INSERT, side, lv))
        elif old[i] != lv:
            edits.append(RowEdit(i, UPDATE, side, lv))
    for i in range(len(old) - 1, len(new) - 1, -1):
        edits.append(RowEdit(i, DELETE, side, old[i]))
    return edits


__all__ = ["ASK", "BID", "DELETE", "INSERT", "UPDATE", "BookShape", "Level", "LevelDraws", "RowEdit", "book_side",
           "row_edits"]
