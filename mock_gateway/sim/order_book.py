"""An order book (market depth) around the top of book of the simulated quotes, and the row edits between two books.

Pure: a quote and a grid step in, price levels out. Level 0 of each side is the L1 quote itself (the
bid/ask and their sizes reqMktData streams at the same grid time); deeper levels follow at min-tick steps
away from it, with sizes that grow with the distance from the inside and are redrawn every few seconds
per level (seeded: the same seed, contract and grid step give the same book whatever was requested).

:func:`row_edits` turns one book side into the next as TWS sends it, operation by operation: deletes
of rows that left the book, then inserts and updates in position order, so a client applying them in
order (ib_insync's ``domBids``/``domAsks``) always holds the new book and never sees a position past
its end.
"""
from __future__ import annotations

from dataclasses import dataclass

#: updateMktDepth operations and sides (TWS API docs, EWrapper.updateMktDepth).
INSERT, UPDATE, DELETE = 0, 1, 2
ASK, BID = 0, 1

_MASK64 = (1 << 64) - 1


@dataclass(frozen=True)
class Level:
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
    """A stable 64-bit hash of integers (splitmix64 steps): Python's ``hash`` is not stable across versions."""
    h = 0x9E3779B97F4A7C15
    for v in values:
        h = (h ^ (v & _MASK64)) & _MASK64
        h = (h + 0x9E3779B97F4A7C15) & _MASK64
        z = h
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
        h = z ^ (z >> 31)
    return h


def _unit(*values: int) -> float:
    """A deterministic draw in [0, 1) from integers."""
    return _mix(*values) / 2.0 ** 64


@dataclass(frozen=True)
class BookShape:
    """What a contract's book looks like: its tick, its lot, how many levels, who quotes, how often sizes move."""

    min_tick: float
    lot: float                          # sizes are whole lots (100 shares, 1 contract, 100,000 units of currency)
    levels: int                         # price levels per side the venue shows
    makers: tuple[str, ...] = ()        # market makers / exchanges named by L2 rows; () for exchange depth
    refresh_steps: int = 20             # grid steps between two size draws of one level


def book_side(shape: BookShape, seed: int, con_id: int, side: int, top_price: float, top_size: float,
              grid_index: int, rows: int) -> list[Level]:
    """The first ``rows`` levels of one side: the quote's price and size, then one level per min tick away."""
    if rows <= 0 or not top_price > 0:
        return []
    tick = shape.min_tick
    direction = 1 if side == ASK else -1
    top_ticks = round(top_price / tick)
    out: list[Level] = []
    for k in range(min(rows, shape.levels)):
        ticks = top_ticks + direction * k
        if ticks <= 0:
            break
        price = round(ticks * tick, 10)
        if k == 0:
            size = float(top_size)
        else:
            phase = _mix(seed, con_id, side, ticks) % shape.refresh_steps
            epoch = (grid_index + phase) // shape.refresh_steps
            u = _unit(seed, con_id, side, ticks, epoch)
            lots = max(1, round((1 + 0.6 * k) * (0.4 + 1.6 * u) * 2))
            size = lots * shape.lot
        maker = ""
        if shape.makers:
            maker = shape.makers[_mix(seed, con_id, side, ticks, 7) % len(shape.makers)]
        out.append(Level(price, size, maker))
    return out


def row_edits(side: int, old: list[Level], new: list[Level]) -> list[RowEdit]:
    """The row operations that turn ``old`` into ``new`` when applied in order.

    Rows are identified by (price, maker): one that left is deleted (from the deepest up, so the
    positions of the rows still to delete do not move), then ``new`` is walked in order, inserting
    the rows that are new and updating those whose size changed. The kept rows are in the same order
    in both books, so after the deletes they are a subsequence of ``new`` and every position is valid.
    """
    keys_new = {(lv.price, lv.maker) for lv in new}
    edits: list[RowEdit] = []
    working: list[Level] = list(old)
    for i in range(len(working) - 1, -1, -1):
        lv = working[i]
        if (lv.price, lv.maker) not in keys_new:
            edits.append(RowEdit(i, DELETE, side, lv))
            del working[i]
    for j, lv in enumerate(new):
        here = working[j] if j < len(working) else None
        if here is not None and (here.price, here.maker) == (lv.price, lv.maker):
            if here.size != lv.size:
                edits.append(RowEdit(j, UPDATE, side, lv))
                working[j] = lv
        else:
            edits.append(RowEdit(j, INSERT, side, lv))
            working.insert(j, lv)
    return edits


__all__ = ["ASK", "BID", "DELETE", "INSERT", "UPDATE", "BookShape", "Level", "RowEdit", "book_side", "row_edits"]
