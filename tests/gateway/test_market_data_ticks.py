"""reqMktData streams in the order and with the tick types the real gateway sends them (raw frames and real clients).

Sources (docs/fidelity.md, "Market data"): IBKR's tick types and "Requesting Watchlist Data" pages; a
recorded ib_insync stream in nautilus_trader's test kit (trade ticks before the book, lastSize only when
it changed); Ticker reprs from real sessions pasted in public repositories (weekend FX bid=-1, bidSize=0,
halted=0; crypto on PAXOS without an open); real 321 text for snapshots with generic ticks.
"""
from __future__ import annotations

import asyncio
import time
from datetime import datetime, timezone

import pytest

from mock_gateway.config import MarketConfig

from .conftest import sys_events
from .raw_client import RawClient

SATURDAY = datetime(2026, 11, 28, 15, 0, tzinfo=timezone.utc)
CONTRACTS = {   # reqMktData contract fields: conId, symbol, secType, expiry, strike, right, multiplier, exchange,
    #             primaryExchange, currency, localSymbol, tradingClass
    "AAPL": ["", "AAPL", "STK", "", "", "", "", "SMART", "", "USD", "", ""],
    "EUR": ["", "EUR", "CASH", "", "", "", "", "IDEALPRO", "", "USD", "", ""],
    "SPX": ["", "SPX", "IND", "", "", "", "", "CBOE", "", "USD", "", ""],
    "BTC": ["", "BTC", "CRYPTO", "", "", "", "", "PAXOS", "", "USD", "", ""],
}


def raw_stream(gw, symbol: str, seconds: float = 0.5, generic: str = "", snapshot: int = 0,
               regulatory: int = 0) -> list[list[str]]:
    """The frames of one reqMktData (request id 7) over a bare socket, after the session's start-up."""
    with RawClient(gw.host, gw.port) as c:
        c.hello("v157..178")
        c.start(5)
        c.read_until(lambda ms: any(x[0] == "9" for x in ms))
        n = len(c.messages)
        c.send(1, 11, 7, *CONTRACTS[symbol], 0, generic, snapshot, regulatory, "")
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                c.read_until(lambda ms: False, timeout_s=max(0.05, deadline - time.monotonic()))
            except TimeoutError:
                pass
        return [f for f in c.messages[n:] if len(f) > 2 and (f[1] == "7" or f[2] == "7")]


def kind(frame: list[str]) -> tuple[str, int | None]:
    """(message id, tick type) of a market data frame: ('1', 4) is tickPrice LAST, ('81', None) tickReqParams."""
    msg = frame[0]
    if msg in ("1", "2", "45", "46"):
        return msg, int(frame[3])
    if msg == "21":
        return msg, int(frame[2])
    return msg, None


def first_burst(frames: list[list[str]]) -> list[tuple[str, int | None]]:
    """The frames up to the first repeated (message, tick type): the subscription's opening burst."""
    seen: list[tuple[str, int | None]] = []
    for f in frames:
        k = kind(f)
        if k in seen:
            break
        seen.append(k)
    return seen


def test_a_stock_stream_opens_with_params_data_type_book_trade_day_stats_exchanges_and_halted(mock_gateway):
    burst = first_burst(raw_stream(mock_gateway, "AAPL", 0.3))
    assert burst == [("81", None), ("58", None), ("1", 1), ("1", 2), ("1", 4), ("2", 5), ("2", 8), ("1", 6),
                     ("1", 7), ("1", 9), ("1", 14), ("46", 45), ("46", 32), ("46", 33), ("46", 84), ("45", 49)]


def test_a_currency_stream_has_a_book_and_day_stats_but_no_last_size_volume_or_open(mock_gateway):
    types = set(first_burst(raw_stream(mock_gateway, "EUR", 0.3)))
    assert {("1", 1), ("1", 2), ("1", 6), ("1", 7), ("1", 9), ("45", 49)} <= types
    assert not types & {("1", 4), ("2", 5), ("2", 8), ("1", 14), ("46", 45)}


def test_an_index_streams_its_level_without_a_book(mock_gateway):
    types = {k for k in map(kind, raw_stream(mock_gateway, "SPX", 0.3))}
    assert ("1", 4) in types and not types & {("1", 1), ("1", 2), ("2", 0), ("2", 3), ("2", 8)}


def test_crypto_streams_a_book_and_trades_without_an_open(mock_gateway):
    types = set(first_burst(raw_stream(mock_gateway, "BTC", 0.3)))
    assert {("1", 1), ("1", 2), ("1", 4), ("2", 8), ("45", 49)} <= types and ("1", 14) not in types


def test_a_trade_sends_last_only_when_it_moved_and_last_size_only_when_it_changed(mock_gateway_factory):
    gw = mock_gateway_factory(speed=20.0)
    frames = raw_stream(gw, "AAPL", 1.0)
    lasts = [float(f[4]) for f in frames if kind(f) == ("1", 4)]
    sizes = [float(f[4]) for f in frames if kind(f) == ("2", 5)]
    assert len(lasts) > 5 and len(sizes) > 5
    assert all(a != b for a, b in zip(lasts, lasts[1:])) and all(a != b for a, b in zip(sizes, sizes[1:]))
    volumes = [float(f[4]) for f in frames if kind(f) == ("2", 8)]
    assert volumes == sorted(volumes) and len(set(volumes)) == len(volumes)      # one volume tick per trade


def test_rt_volume_carries_price_size_time_day_volume_vwap_and_single_flag(mock_gateway_factory):
    gw = mock_gateway_factory(speed=20.0)
    frames = raw_stream(gw, "AAPL", 0.8, generic="233")
    rt = [f[4].split(";") for f in frames if kind(f) == ("46", 48)]
    assert len(rt) > 3
    for price, size, ms, volume, vwap, single in rt:
        assert float(price) > 0 and float(size) > 0 and int(ms) > 1_700_000_000_000 and float(volume) > 0
        assert abs(float(vwap) - float(price)) < 0.05 * float(price) and single in ("true", "false")


def test_ib_insync_reads_the_stream_into_a_ticker_with_vwap_and_halted(mock_gateway):
    import ib_insync as ibi

    async def run():
        ib = ibi.IB()
        await ib.connectAsync(mock_gateway.host, mock_gateway.port, clientId=9, timeout=5)
        try:
            aapl = ibi.Stock("AAPL", "SMART", "USD")
            await ib.qualifyContractsAsync(aapl)
            ticker = ib.reqMktData(aapl, "233")
            await asyncio.sleep(0.8)
            return ticker
        finally:
            ib.disconnect()

    ticker = asyncio.get_event_loop().run_until_complete(run())
    assert ticker.halted == 0 and ticker.minTick == 0.01 and ticker.marketDataType == 1
    assert ticker.low <= ticker.vwap <= ticker.high and ticker.lastSize > 0 and ticker.volume > 0


def test_outside_the_session_live_bid_and_ask_read_minus_one_with_size_zero(mock_gateway_factory):
    import ib_insync as ibi

    gw = mock_gateway_factory(start=SATURDAY)

    async def run():
        ib = ibi.IB()
        await ib.connectAsync(gw.host, gw.port, clientId=9, timeout=5)
        try:
            tickers = [ib.reqMktData(c) for c in (ibi.Forex("EURUSD"), ibi.Stock("AAPL", "SMART", "USD"))]
            await asyncio.sleep(0.5)
            return tickers
        finally:
            ib.disconnect()

    for t in asyncio.get_event_loop().run_until_complete(run()):
        assert (t.bid, t.bidSize, t.ask, t.askSize) == (-1.0, 0.0, -1.0, 0.0), t
        assert t.close > 0 and t.halted == 0


# ---------------------------------------------------------------------------------------------- halts
def halted_gateway(factory, kind: str = "general"):
    return factory(speed=20.0, market=MarketConfig(halts=[{"symbol": "AAPL", "start_s": 10.0, "duration_s": 40.0,
                                                           "kind": kind}]))


def test_a_halt_reports_tick_49_stops_prints_and_resumes(mock_gateway_factory):
    gw = halted_gateway(mock_gateway_factory)
    frames = raw_stream(gw, "AAPL", 3.0)                    # 60 sim s: trading, halted 10-50 s, trading
    halted = [f[4] for f in frames if kind(f) == ("45", 49)]
    assert halted == ["0", "1", "0"]
    i, j = [k for k, f in enumerate(frames) if kind(f) == ("45", 49)][1:]
    assert not any(kind(f)[0] in ("1", "2") for f in frames[i + 1:j])   # nothing prints or quotes while halted
    assert any(kind(f) == ("2", 8) for f in frames[j:])                 # trading resumes


def test_a_volatility_pause_reports_2(mock_gateway_factory):
    gw = halted_gateway(mock_gateway_factory, "volatility")
    assert [f[4] for f in raw_stream(gw, "AAPL", 1.0) if kind(f) == ("45", 49)][:2] == ["0", "2"]


@pytest.mark.parametrize("lib", ["ib_insync", "ib_async"])
def test_an_order_on_a_halted_stock_is_accepted_and_held_until_trading_resumes(mock_gateway_factory, lib):
    import importlib

    api = importlib.import_module(lib)
    gw = halted_gateway(mock_gateway_factory)
    ib = api.IB()
    ib.connect(gw.host, gw.port, clientId=11, timeout=5)
    try:
        aapl = api.Stock("AAPL", "SMART", "USD")
        ib.qualifyContracts(aapl)
        ib.sleep(max(0.0, (12.0 - gw.call(lambda: gw.env.now)) / 20.0))     # into the halt
        trade = ib.placeOrder(aapl, api.MarketOrder("BUY", 10))
        ib.sleep(0.3)
        held_status = trade.orderStatus.status
        checked_at = gw.call(lambda: gw.env.now)
        for _ in range(200):
            if trade.orderStatus.status == "Filled":
                break
            ib.sleep(0.02)
        fill_time = trade.fills[0].time.timestamp() if trade.fills else None
    finally:
        ib.disconnect()
    assert 10.0 <= checked_at < 50.0 and held_status == "Submitted"
    assert trade.orderStatus.status == "Filled"
    start = gw.config.start.timestamp()
    assert fill_time is not None and fill_time >= start + 50.0 - 1e-6      # not before the resumption


# ---------------------------------------------------------------------------------------------- snapshots
def test_a_snapshot_sends_the_opening_burst_then_tick_snapshot_end_and_nothing_more(mock_gateway):
    frames = raw_stream(mock_gateway, "AAPL", 0.5, snapshot=1)
    kinds = [kind(f) for f in frames]
    assert kinds[:2] == [("81", None), ("58", None)] and kinds[-1] == ("57", None) and kinds.count(("57", None)) == 1
    assert ("1", 1) in kinds and ("1", 4) in kinds


def test_a_snapshot_with_generic_ticks_is_refused_with_321(mock_gateway):
    frames = raw_stream(mock_gateway, "AAPL", 0.3, generic="233", snapshot=1)
    errors = [f for f in frames if f[0] == "4"]
    assert [(e[3], e[4]) for e in errors] == [("321", "Error validating request.-'bO' : cause - Snapshot market "
                                                     "data subscription is not applicable to generic ticks")]
    assert not [f for f in frames if f[0] != "4"]


def test_each_regulatory_snapshot_is_framed_as_a_snapshot_and_charged_a_cent(mock_gateway):
    for _ in range(2):
        kinds = [kind(f) for f in raw_stream(mock_gateway, "AAPL", 0.2, regulatory=1)]
        assert kinds[-1] == ("57", None) and ("1", 1) in kinds
    charges = sys_events(mock_gateway, "regulatory_snapshot")
    assert [(c["attrs"]["fee_usd"], c["attrs"]["total_usd"]) for c in charges] == [(0.01, 0.01), (0.01, 0.02)]


# ---------------------------------------------------------------------------------------------- options
def test_an_option_stream_carries_bid_ask_last_and_model_computations(mock_gateway):
    import ib_insync as ibi

    async def run():
        ib = ibi.IB()
        await ib.connectAsync(mock_gateway.host, mock_gateway.port, clientId=12, timeout=5)
        try:
            tsla = ibi.Stock("TSLA", "SMART", "USD")
            await ib.qualifyContractsAsync(tsla)
            [chain] = [c for c in await ib.reqSecDefOptParamsAsync("TSLA", "", "STK", tsla.conId)
                       if c.exchange == "SMART"]
            under = ib.reqMktData(tsla)
            await asyncio.sleep(0.3)
            strike = min(chain.strikes, key=lambda k: abs(k - under.marketPrice()))
            option = ibi.Option("TSLA", chain.expirations[1], strike, "C", "SMART", tradingClass=chain.tradingClass)
            await ib.qualifyContractsAsync(option)
            ticker = ib.reqMktData(option)
            await asyncio.sleep(0.5)
            return under, ticker
        finally:
            ib.disconnect()

    under, t = asyncio.get_event_loop().run_until_complete(run())
    assert t.modelGreeks is not None and t.bidGreeks is not None and t.askGreeks is not None
    g = t.modelGreeks
    assert 0.3 < g.delta < 0.7 and g.gamma > 0 and g.vega > 0 and g.theta < 0 and 0.05 < g.impliedVol < 2
    assert abs(g.undPrice - under.marketPrice()) < 0.02 * under.marketPrice()
    assert t.bidGreeks.optPrice == t.bid and t.askGreeks.optPrice == t.ask


# ---------------------------------------------------------------------------------------------- generic ticks
def test_statistics_generic_ticks_fill_the_tickers_fields(mock_gateway):
    import ib_insync as ibi

    async def run():
        ib = ibi.IB()
        await ib.connectAsync(mock_gateway.host, mock_gateway.port, clientId=13, timeout=5)
        try:
            aapl = ibi.Stock("AAPL", "SMART", "USD")
            await ib.qualifyContractsAsync(aapl)
            ticker = ib.reqMktData(aapl, "100,101,104,106,165,221,293,318,411,456")
            await asyncio.sleep(0.5)
            return ticker
        finally:
            ib.disconnect()

    t = asyncio.get_event_loop().run_until_complete(run())
    assert t.low52week <= t.low13week <= t.high13week <= t.high52week
    assert t.avVolume > 0 and 0.05 < t.histVolatility < 1.5 and t.impliedVolatility == 0.25
    assert t.rtHistVolatility == pytest.approx(t.histVolatility * 100, rel=1e-3)
    assert t.markPrice > 0 and t.callOpenInterest > 0 and t.putOpenInterest > 0 and t.tradeCount >= 0
    d = t.dividends
    assert d.past12Months > 0 and d.next12Months > 0 and d.nextAmount > 0 and d.nextDate > mock_gateway.config.start.date()


def test_a_stock_generic_tick_list_with_a_tick_ib_does_not_serve_is_refused_with_its_legal_list(mock_gateway):
    [error] = [f for f in raw_stream(mock_gateway, "AAPL", 0.3, generic="mdoff,292:") if f[0] == "4"]
    assert error[3] == "321"
    assert error[4] == (  # the real gateway's text for this list (IB Gateway, 2026-02-10, quoted publicly)
        "Error validating request.-'bQ' : cause - Incorrect generic tick list of mdoff,292:.  Legal ones for (STK) "
        "are: 100(Option Volume),101(Option Open Interest),105(Average Opt Volume),106(impvolat),165(Misc. Stats),"
        "221/220(Creditman Mark Price),225(Auction),232/221(Pl Price),233(RTVolume),236(inventory),"
        "258/47(Fundamentals),292(Wide_news),293(TradeCount),294(TradeRate),295(VolumeRate),318(LastRTHTrade),"
        "375(RTTrdVolume),411(rthistvol),456/59(IBDividends),460(Bond Factor Multiplier),577(EtfNavLast(navlast)),"
        "586(IPOHLMPRC),587(Pl Price Delayed),588(Futures Open Interest),595(Short-Term Volume X Mins),"
        "614(EtfNavMisc(high/low)),619(Creditman Slow Mark Price),623(EtfFrozenNavLast(fznavlast))")
    for listed in ("999", "233,13", "abc"):
        assert [f[3] for f in raw_stream(mock_gateway, "AAPL", 0.2, generic=listed) if f[0] == "4"] == ["321"]
    assert not [f for f in raw_stream(mock_gateway, "AAPL", 0.2, generic="233, 236 ,,mdoff") if f[0] == "4"]
