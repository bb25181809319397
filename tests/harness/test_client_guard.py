"""The reference client's order guard: a 399 closes the symbol's market until the named open; a 201
blocks the same order from the same position for a growing while."""
from __future__ import annotations

from datetime import datetime, timezone

from harness.client.guard import OrderGuard, held_until_s

TEXT_399 = ("Order Message:\nBUY 100 AAPL NASDAQ.NMS\nWarning: Your order will not be placed at the exchange "
            "until 2026-11-25 09:30:00 US/Eastern")
OPEN_S = datetime(2026, 11, 25, 14, 30, tzinfo=timezone.utc).timestamp()


def test_the_399_text_names_the_next_open_in_the_exchange_zone():
    assert held_until_s(TEXT_399) == OPEN_S


def test_a_399_without_a_readable_time_gives_none():
    assert held_until_s("Warning: your order will not be placed at the exchange until later") is None
    assert held_until_s("until 2026-11-25 09:30:00 Mars/Olympus") is None


def test_after_a_399_the_market_is_closed_until_the_named_open():
    g = OrderGuard(clock_s=OPEN_S - 3600)
    g.on_held("AAPL", TEXT_399)
    assert g.market_closed("AAPL") and not g.market_closed("MSFT")
    assert not g.market_closed("AAPL", now_s=OPEN_S)
    assert not g.market_closed("AAPL", now_s=OPEN_S - 3600)   # reopened once: forgotten


def test_an_unreadable_399_keeps_the_market_closed_until_the_held_order_is_released():
    g = OrderGuard(clock_s=0)
    g.on_held("AAPL", "held for a while")
    assert g.market_closed("AAPL", now_s=10**10)
    g.on_released("AAPL")
    assert not g.market_closed("AAPL")


def test_a_rejected_order_is_not_sent_again_from_the_same_position_until_its_backoff_ends():
    g = OrderGuard(initial_backoff_s=300, clock_s=1000)
    g.on_rejected("AAPL", "SELL", 200, 100, "short sale not permitted in a cash account")
    assert g.rejected_recently("AAPL", "SELL", 200, 100, now_s=1299)
    assert not g.rejected_recently("AAPL", "SELL", 200, 100, now_s=1300)
    assert not g.rejected_recently("AAPL", "SELL", 100, 100, now_s=1100)   # another order
    assert not g.rejected_recently("AAPL", "SELL", 200, 200, now_s=1100)   # from another position


def test_the_backoff_doubles_on_each_repeat_up_to_its_cap():
    g = OrderGuard(initial_backoff_s=300, max_backoff_s=1000, clock_s=0)
    delays = []
    for _ in range(4):
        g.on_rejected("AAPL", "SELL", 200, 100, "short")
        delays.append(g.backoffs[("AAPL", "SELL", 200.0)].delay_s)
    assert delays == [300, 600, 1000, 1000]
