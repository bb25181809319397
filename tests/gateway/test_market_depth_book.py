"""The simulated order book (mock_gateway/sim/order_book.py) and the depth venues (mock_gateway/depth.py), pure.

The book's level 0 is the L1 quote; deeper levels step one min tick away with whole-lot sizes; the same seed
gives the same book; the row edits between two books leave a client holding the new one whichever way it
applies them (ib_insync shifts rows on insert/delete, ib_async keys them by position).
"""
from __future__ import annotations

import random

import pytest

from mock_gateway import depth
from mock_gateway.config import GatewayConfig
from mock_gateway.sim.clock import SimClock
from mock_gateway.sim.contracts import ContractQuery
from mock_gateway.sim.order_book import (ASK, BID, DELETE, INSERT, UPDATE, BookShape, Level, LevelDraws, book_side,
                                         row_edits)
from mock_gateway.sim.world import World

SHAPE = BookShape(min_tick=0.01, lot=100.0, levels=20, makers=("ARCA", "BATS", "IEX"), refresh_steps=20)


def apply_shifting(dom: list[Level], edits) -> list[Level]:
    """ib_insync 0.9.86 wrapper.updateMktDepthL2: insert shifts, update overwrites, delete pops."""
    dom = list(dom)
    for e in edits:
        if e.operation == INSERT:
            dom.insert(e.position, e.level)
        elif e.operation == UPDATE:
            dom[e.position] = e.level
        else:
            dom.pop(e.position)
    return dom


def apply_keyed(dom: dict[int, Level], edits) -> list[Level]:
    """ib_async 2.1.0 wrapper.updateMktDepthL2: rows keyed by position, insert and update both overwrite."""
    dom = dict(dom)
    for e in edits:
        if e.operation in (INSERT, UPDATE):
            dom[e.position] = e.level
        else:
            dom.pop(e.position, None)
    return list(dom.values())


def test_level_0_is_the_quote_and_deeper_levels_sit_on_the_tick_grid_in_whole_lots():
    asks = book_side(LevelDraws(SHAPE, 42, 265598), ASK, 230.01, 300, 1000, 10)
    bids = book_side(LevelDraws(SHAPE, 42, 265598), BID, 230.00, 700, 1000, 10)
    assert (asks[0].price, asks[0].size, bids[0].price, bids[0].size) == (230.01, 300, 230.0, 700)
    assert len(asks) == len(bids) == 10
    for dom, direction in ((asks, 1), (bids, -1)):
        steps = [round((b.price - a.price) * direction / 0.01, 6) for a, b in zip(dom, dom[1:])]
        assert all(s == int(s) and 1 <= s <= 4 for s in steps), steps      # on the grid, outward, small gaps
    assert all(lv.size > 0 and lv.size % 100 == 0 and lv.maker in SHAPE.makers for lv in asks[1:] + bids[1:])


def test_some_levels_behind_the_inside_are_empty_as_in_a_recorded_book():
    """IB's IDEALPRO book for EUR.USD (2022 recording, nautilus_trader eurusd_depth.pkl): 300 one-tick and 100
    two-tick gaps between adjacent rows."""
    draws = LevelDraws(SHAPE, 11, 12087792)
    gaps = [round((b.price - a.price) / 0.01) for step in range(0, 2000, 20)
            for dom in [book_side(draws, ASK, 100.0, 100, step, 6)] for a, b in zip(dom, dom[1:])]
    share = sum(g > 1 for g in gaps) / len(gaps)
    assert 0.1 < share < 0.45, share


def test_the_memo_gives_the_draws_a_fresh_one_gives():
    warm = LevelDraws(SHAPE, 5, 9, max_entries=8)
    books = [book_side(warm, ASK, 10.0 + 0.01 * (k % 7), 100, 300 + k, 10) for k in range(200)]
    assert books == [book_side(LevelDraws(SHAPE, 5, 9), ASK, 10.0 + 0.01 * (k % 7), 100, 300 + k, 10)
                     for k in range(200)]


def test_the_book_is_a_function_of_seed_contract_and_grid_step():
    one = book_side(LevelDraws(SHAPE, 7, 1), ASK, 10.0, 100, 500, 10)
    assert one == book_side(LevelDraws(SHAPE, 7, 1), ASK, 10.0, 100, 500, 10)
    assert one != book_side(LevelDraws(SHAPE, 8, 1), ASK, 10.0, 100, 500, 10)
    later = [book_side(LevelDraws(SHAPE, 7, 1), ASK, 10.0, 100, 500 + k, 10) for k in range(1, 60)]
    assert any(b != one for b in later), "sizes never move"
    window = later[:SHAPE.refresh_steps]              # a level's size rests refresh_steps steps: at most 2 values
    sizes: dict[float, set[float]] = {}
    for b in window:
        for lv in b[1:]:
            sizes.setdefault(lv.price, set()).add(lv.size)
    assert all(len(v) <= 2 for v in sizes.values()), "sizes are redrawn too often"


def test_a_shallower_venue_answers_fewer_rows_and_no_quote_no_book():
    assert len(book_side(LevelDraws(SHAPE, 1, 1), ASK, 10.0, 100, 0, 50)) == SHAPE.levels
    assert book_side(LevelDraws(SHAPE, 1, 1), BID, -1.0, 0, 0, 5) == []
    near_zero = book_side(LevelDraws(SHAPE, 1, 1), BID, 0.02, 100, 0, 5)
    assert 1 <= len(near_zero) <= 2 and all(lv.price > 0 for lv in near_zero)     # no level at or below zero


def test_row_edits_turn_any_book_into_any_other_for_both_ways_of_applying_them():
    rnd = random.Random(3)
    for _ in range(500):
        def side() -> list[Level]:
            top = rnd.randint(990, 1010)
            return [Level(round((top + k) * 0.01, 2), rnd.choice((100.0, 200.0, 300.0)), rnd.choice("AB"))
                    for k in range(rnd.randint(0, 8))]
        old, new = side(), side()
        edits = row_edits(ASK, old, new)
        assert apply_shifting(old, edits) == new
        assert apply_keyed(dict(enumerate(old)), edits) == new
        assert all(e.side == ASK for e in edits)
        assert not row_edits(ASK, new, new)


def test_a_one_tick_move_updates_rows_in_place_and_a_shrinking_book_deletes_from_the_end():
    old = [Level(10.00, 100.0), Level(10.01, 200.0), Level(10.02, 300.0)]
    edits = row_edits(BID, old, old[1:])
    assert [(e.position, e.operation) for e in edits] == [(0, UPDATE), (1, UPDATE), (2, DELETE)]
    edits = row_edits(BID, old[:1], old)
    assert [(e.position, e.operation) for e in edits] == [(1, INSERT), (2, INSERT)]


@pytest.fixture(scope="module")
def world():
    config = GatewayConfig(port=0)
    return World(config, SimClock(config.speed, config.start))


def spec_of(world, symbol: str, sec_type: str = "STK", exchange: str = "SMART"):
    found = world.contracts.match(ContractQuery(symbol=symbol, sec_type=sec_type, exchange=exchange))
    return sorted(found, key=lambda s: s.last_trade_date)[0]


@pytest.mark.parametrize("symbol, sec_type, exchange, smart, venue, l2", [
    ("AAPL", "STK", "SMART", True, "SMART", True),
    ("AAPL", "STK", "ISLAND", False, "ISLAND", True),
    ("AAPL", "STK", "NASDAQ", False, "ISLAND", True),
    ("IBM", "STK", "NYSE", False, "NYSE", False),
    ("SPY", "STK", "ARCA", False, "ARCA", False),
    ("EUR", "CASH", "IDEALPRO", False, "IDEALPRO", False),
    ("ES", "FUT", "CME", False, "CME", False),
])
def test_every_venue_depth_serves_is_a_row_of_req_mkt_depth_exchanges(world, symbol, sec_type, exchange, smart,
                                                                      venue, l2):
    spec = spec_of(world, symbol, sec_type, "SMART" if sec_type == "STK" else exchange)
    got = depth.depth_venue(spec, exchange, smart)
    assert (got.name, got.l2, got.smart) == (venue, l2, smart)
    if not smart:
        row = [r for r in depth.DEPTH_EXCHANGES if r[0] == venue and r[1] == sec_type]
        assert row and (row[0][3] == "Deep2") == l2


@pytest.mark.parametrize("symbol, exchange, smart", [
    ("AAPL", "SMART", False),        # SMART needs isSmartDepth
    ("AAPL", "NYSE", False),         # NYSE's book is for NYSE-listed stocks
    ("IBM", "ISLAND", False),        # TotalView: NASDAQ-listed
    ("AAPL", "BATS", False),         # no deep book listed for BATS
])
def test_venues_without_a_book_for_the_contract_are_10092(world, symbol, exchange, smart):
    with pytest.raises(ValueError, match="^Deep market data is not supported for this combination of security "
                                         "type/exchange$"):
        depth.depth_venue(spec_of(world, symbol), exchange, smart)


def test_the_depth_limit_follows_the_market_depth_formula():
    assert [depth.max_depth_securities(n) for n in (100, 300, 400, 1100, 10_000)] == [3, 3, 4, 11, 60]


def _best(dom: list[Level], side: int) -> float | None:
    prices = [lv.price for lv in dom]
    return (min(prices) if side == ASK else max(prices)) if prices else None


def test_no_message_of_a_step_leaves_a_crossed_book_whichever_way_the_market_moves():
    """nautilus_trader rebuilds its book after every row: the retreating side must move first."""
    draws = LevelDraws(SHAPE, 3, 3)
    rnd = random.Random(5)
    bid = 1000
    asks, bids = [], []
    for step in range(400):
        bid += rnd.choice((-3, -1, 0, 1, 3))
        spread = rnd.choice((1, 1, 2))
        new_asks = book_side(draws, ASK, (bid + spread) * 0.01, 100, step, 8)
        new_bids = book_side(draws, BID, bid * 0.01, 100, step, 8)
        dom = {ASK: list(asks), BID: list(bids)}
        for e in depth.ordered_edits(asks, new_asks, bids, new_bids):
            dom[e.side] = apply_shifting(dom[e.side], [e])
            b, a = _best(dom[BID], BID), _best(dom[ASK], ASK)
            assert b is None or a is None or b < a, f"crossed at step {step}: bid {b} ask {a}"
        asks, bids = new_asks, new_bids
