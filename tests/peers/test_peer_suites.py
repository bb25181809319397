"""What the live-TWS suites of ib_insync (erdewit/ib_insync tests/) and ib_async
(ib-api-reloaded/ib_async tests/) check, held here against the mock over real sockets.

Their suites connect to a logged-in paper TWS (7497 by default, 4001 in ib_async's
test_contract.py); the same requests through the same libraries must get the answers they
assert. Their own files are not copied: each test restates one behaviour they rely on.
"""
from __future__ import annotations

import importlib

import pytest

LIBS = ["ib_insync", "ib_async"]


@pytest.fixture(params=LIBS)
def client(request, mock_gateway_factory):
    lib = importlib.import_module(request.param)
    gw = mock_gateway_factory()
    ib = lib.IB()
    ib.connect(gw.host, gw.port, clientId=1, timeout=10)
    yield lib, ib
    ib.disconnect()


def test_what_if_on_a_forex_pair_reports_a_commission(client):
    lib, ib = client
    state = ib.whatIfOrder(lib.Forex("EURUSD"), lib.MarketOrder("BUY", 100))
    assert state.commission > 0
    assert state.commissionCurrency == "USD"
    assert float(state.initMarginChange) > 0


def test_what_if_on_a_stock_without_an_exchange_is_refused_with_321(client):
    lib, ib = client
    errors = []
    ib.errorEvent += lambda req_id, code, text, contract: errors.append((code, text))
    if lib.__name__ == "ib_insync":   # ib_insync raises it as the request's error
        ib.RaiseRequestErrors = True
        with pytest.raises(lib.RequestError) as caught:
            ib.whatIfOrder(lib.Stock("XXX"), lib.MarketOrder("BUY", 100))
        assert caught.value.code == 321
    else:                             # ib_async 2.1 files 321 under warnings: the request stays open
        ib.whatIfOrderAsync(lib.Stock("XXX"), lib.MarketOrder("BUY", 100))
        ib.sleep(0.5)
    [(code, text)] = [e for e in errors if e[0] == 321]
    assert "Missing order exchange" in text


def test_account_summary_is_account_values(client):
    lib, ib = client
    summary = ib.accountSummary()
    assert summary and all(isinstance(value, lib.AccountValue) for value in summary)
    tags = {v.tag for v in summary}
    assert {"NetLiquidation", "TotalCashValue", "BuyingPower", "AvailableFunds"} <= tags


def test_a_read_only_session_gets_a_days_hourly_bars_with_zoned_dates(mock_gateway_factory):
    # ib_async tests/test_contract.py: readonly connect, 1 D of 1 hour TRADES bars, formatDate=1,
    # util.df, then dates converted to America/New_York (they must carry a time zone)
    import ib_async

    gw = mock_gateway_factory()
    ib = ib_async.IB()
    ib.connect(gw.host, gw.port, clientId=90, readonly=True, timeout=10)
    try:
        for symbol in ("AMZN", "TSLA"):
            bars = ib.reqHistoricalData(ib_async.Stock(symbol, "SMART", "USD"), "", "1 D", "1 hour", "TRADES",
                                        False, 1)
            frame = ib_async.util.df(bars)
            assert list(frame.columns) == ["date", "open", "high", "low", "close", "volume", "average", "barCount"]
            assert len(frame) >= 7                     # a regular session at least, hour by hour
            new_york = frame["date"].dt.tz_convert("America/New_York")
            assert (frame["high"] >= frame["low"]).all()
            assert new_york.is_monotonic_increasing
    finally:
        ib.disconnect()


def test_a_rising_quote_never_shows_a_crossed_book_between_two_ticks(mock_gateway_factory):
    # a client that reads the book after each tick (nautilus_trader 1.221 does) sees the ticks in
    # wire order: ib_async keeps that order in Ticker.ticks
    import ib_async

    gw = mock_gateway_factory(symbols=["ES", "AAPL"])
    ib = ib_async.IB()
    ib.connect(gw.host, gw.port, clientId=3, timeout=10)
    try:
        [future] = ib.qualifyContracts(ib_async.Future("ES", exchange="CME", lastTradeDateOrContractMonth="202612"))
        [stock] = ib.qualifyContracts(ib_async.Stock("AAPL", "SMART", "USD"))
        books = {}
        crossed = []
        moved = {"up": 0, "down": 0}

        def on_ticks(tickers):
            for ticker in tickers:
                book = books.setdefault(ticker.contract.conId, {})
                for tick in ticker.ticks:
                    if tick.tickType not in (1, 2):
                        continue
                    side = "bid" if tick.tickType == 1 else "ask"
                    if side in book:
                        moved["up" if tick.price > book[side] else "down"] += 1
                    book[side] = tick.price
                    if "bid" in book and "ask" in book and book["bid"] >= book["ask"]:
                        crossed.append((ticker.contract.localSymbol, dict(book)))

        ib.pendingTickersEvent += on_ticks
        ib.reqMktData(future)
        ib.reqMktData(stock)
        ib.sleep(8)
    finally:
        ib.disconnect()
    assert moved["up"] > 5 and moved["down"] > 5, moved      # the book moved both ways
    assert crossed == []
