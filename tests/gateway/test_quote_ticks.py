"""The order of one grid step's ticks (pure): the trade first, then the book, then the day's range.

Source: a recorded ib_insync stream in nautilus_trader's test kit (streaming/tick_data.json): within one
update the last (4), lastSize (5) and volume (8) come before the bid/ask changes (0-3).
"""
from __future__ import annotations

from mock_gateway.quote_ticks import MarketDataSub, TickView, changed_ticks, first_ticks
from mock_gateway.sim.contracts import ContractSpec
from mock_gateway.sim.market import Quote

SV = 176
AAPL = ContractSpec(con_id=265598, symbol="AAPL", sec_type="STK", exchange="SMART", primary_exchange="NASDAQ",
                    currency="USD", local_symbol="AAPL", trading_class="NMS", market_name="NMS",
                    long_name="APPLE INC", initial_price=100.0, min_tick=0.01)


def quote(**changes) -> Quote:
    base = dict(bid=100.0, ask=100.01, last=100.0, bid_size=300, ask_size=200, last_size=100, volume=1000,
                high=100.5, low=99.5, open=99.8, close=99.7, time_s=0.0)
    base.update(changes)
    return Quote(**base)


def view(q: Quote, halted: int = 0, in_session: bool = True) -> TickView:
    return TickView(q, 1_796_137_200.0 + q.time_s, in_session and not halted, in_session, halted)


def kinds(frames) -> list[tuple[str, int]]:
    return [(f[0], int(f[3])) for f in frames]


def subscribed(q: Quote) -> MarketDataSub:
    sub = MarketDataSub(None, 7, AAPL, frozenset())
    first_ticks(SV, sub, view(q))
    return sub


def test_a_trade_at_a_new_price_and_size_sends_last_last_size_volume_timestamp_then_the_book():
    sub = subscribed(quote())
    out = changed_ticks(SV, sub, view(quote(last=100.01, last_size=200, volume=1200, bid=100.01, ask=100.02,
                                            time_s=0.25)))
    assert kinds(out) == [("1", 4), ("2", 5), ("2", 8), ("46", 45), ("1", 2), ("1", 1)]    # rising: ask first


def test_a_trade_at_the_same_price_and_size_sends_only_volume_and_timestamp():
    sub = subscribed(quote())
    out = changed_ticks(SV, sub, view(quote(volume=1100, time_s=0.25)))
    assert kinds(out) == [("2", 8), ("46", 45)]


def test_a_size_change_alone_is_a_tick_size_and_a_price_change_a_tick_price_with_its_size():
    sub = subscribed(quote())
    out = changed_ticks(SV, sub, view(quote(bid=99.99, bid_size=500, ask_size=900, time_s=0.25)))
    assert [f[:6] for f in out] == [["1", "6", "7", "1", "99.99", "500"], ["2", "6", "7", "3", "900"]]


def test_a_rising_book_moves_its_ask_first_so_no_client_sees_a_crossed_quote():
    sub = subscribed(quote())
    out = changed_ticks(SV, sub, view(quote(bid=100.02, ask=100.03, time_s=0.25)))
    assert kinds(out) == [("1", 2), ("1", 1)]


def test_nothing_changed_nothing_sent():
    sub = subscribed(quote())
    assert changed_ticks(SV, sub, view(quote(time_s=0.25))) == []


def test_a_halt_sends_49_and_no_trade_ticks():
    sub = subscribed(quote())
    out = changed_ticks(SV, sub, view(quote(volume=1300, last=100.2, time_s=0.25), halted=1))
    assert kinds(out) == [("45", 49)] and out[0][4] == "1"
