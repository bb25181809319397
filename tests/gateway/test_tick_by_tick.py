"""reqTickByTickData (97) as the real gateway serves it, with real clients over real sockets.

Sources (docs/fidelity.md, "Tick-by-tick data"): IBKR TWS API docs "Tick-by-Tick Data" (tick types Last,
AllLast, BidAsk, MidPoint, case sensitive; the simultaneous-subscription limit of the market depth formula;
none for options or combos); ibapi decoder processTickByTickMsg / processTickByTickMsgProtoBuf (field layouts);
error 10190 "Max number of tick-by-tick requests has been reached." from users' logs.
"""
from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import pytest

from mock_gateway.config import MarketConfig

from .conftest import out_messages


def run(lib: str, gw, body, client_id: int = 11):
    """Connect ``lib`` (ib_insync or ib_async) to ``gw``, qualify AAPL, await ``body(ib, lib, contract)``."""
    ibi = __import__(lib)

    async def main():
        ib = ibi.IB()
        await ib.connectAsync(gw.host, gw.port, clientId=client_id, timeout=5)
        try:
            aapl = ibi.Stock("AAPL", "SMART", "USD")
            await ib.qualifyContractsAsync(aapl)
            return await body(ib, ibi, aapl)
        finally:
            ib.disconnect()

    return asyncio.get_event_loop().run_until_complete(main())


def errors_of(ib, into: list):
    def on_error(req_id, code, text, *_):
        if req_id > 0:
            into.append((code, text))
    ib.errorEvent += on_error


async def collect(ib, contract, tick_type: str, seconds: float = 1.5, number_of_ticks: int = 0,
                  ignore_size: bool = False):
    ticker = ib.reqTickByTickData(contract, tick_type, number_of_ticks, ignore_size)
    got = []
    ticker.updateEvent += lambda t: got.extend(t.tickByTicks)
    await asyncio.sleep(seconds)
    return ticker, got


LIBS = ["ib_insync", "ib_async"]


@pytest.mark.parametrize("lib", LIBS)
def test_last_ticks_are_the_trades_of_the_market_data_line(mock_gateway, lib):
    async def body(ib, ibi, aapl):
        mkt = ib.reqMktData(aapl)
        _, ticks = await collect(ib, aapl, "Last")
        ib.cancelMktData(mkt)
        return ticks

    ticks = run(lib, mock_gateway, body)
    assert ticks, "no Last ticks while the market trades"
    assert all(t.tickType == 1 and t.price > 0 and t.size > 0 for t in ticks)
    # every Last tick on the wire is a trade the reqMktData line printed: same price, size and lastTimestamp
    # (the clients stamp ticks with their receive time, so the wire's fields are compared)
    wire = {(f[4], f[5], f[3]) for f in (e["fields"] for e in out_messages(mock_gateway, "tickByTick")) if f[2] == "1"}
    assert len(wire) >= len(ticks)
    assert wire <= market_data_trades(mock_gateway)


def market_data_trades(gw) -> set[tuple[str, str, str]]:
    """(price, size, time) of every trade the reqMktData lines printed, from the session's event log."""
    price = size = ""
    trades = set()
    for e in gw.call(lambda: list(gw.event_log.events)):
        if e["dir"] != "out":
            continue
        f = e["fields"]
        if e["msg"] == "tickPrice" and f[3] == "4":
            price, size = f[4], f[5]
        elif e["msg"] == "tickSize" and f[3] == "5":
            size = f[4]
        elif e["msg"] == "tickString" and f[3] == "45":
            trades.add((price, size, f[4]))
    return trades


@pytest.mark.parametrize("lib", LIBS)
def test_all_last_ticks_carry_type_2_the_exchange_and_no_attributes(mock_gateway, lib):
    async def body(ib, ibi, aapl):
        return (await collect(ib, aapl, "AllLast"))[1]

    ticks = run(lib, mock_gateway, body)
    assert ticks and all(t.tickType == 2 and t.exchange and not t.tickAttribLast.pastLimit
                         and not t.tickAttribLast.unreported for t in ticks)


@pytest.mark.parametrize("lib", LIBS)
def test_bid_ask_ticks_are_an_uncrossed_book_with_sizes(mock_gateway, lib):
    async def body(ib, ibi, aapl):
        return (await collect(ib, aapl, "BidAsk"))[1]

    ticks = run(lib, mock_gateway, body)
    assert ticks and all(0 < t.bidPrice < t.askPrice and t.bidSize > 0 and t.askSize > 0 for t in ticks)
    assert all(not t.tickAttribBidAsk.bidPastLow and not t.tickAttribBidAsk.askPastHigh for t in ticks)


@pytest.mark.parametrize("lib", LIBS)
def test_mid_point_ticks_move_with_the_book(mock_gateway, lib):
    async def body(ib, ibi, aapl):
        return (await collect(ib, aapl, "MidPoint"))[1]

    ticks = run(lib, mock_gateway, body)
    assert ticks and all(t.midPoint > 0 for t in ticks)
    assert all(a.midPoint != b.midPoint for a, b in zip(ticks, ticks[1:]))   # only a moved mid is a tick


def test_ignore_size_sends_bid_ask_only_when_a_price_moved(mock_gateway):
    async def body(ib, ibi, aapl):
        return (await collect(ib, aapl, "BidAsk", ignore_size=True))[1]

    ticks = run("ib_insync", mock_gateway, body)
    assert ticks
    assert all((a.bidPrice, a.askPrice) != (b.bidPrice, b.askPrice) for a, b in zip(ticks, ticks[1:]))


@pytest.mark.parametrize("lib", LIBS)
def test_number_of_ticks_sends_that_many_past_trades_first_the_same_as_historical_ticks(mock_gateway, lib):
    async def body(ib, ibi, aapl):
        ticker = ib.reqTickByTickData(aapl, "Last", 20, False)
        for _ in range(100):              # the past ticks go out in slices between other work: wait for them
            if len(ticker.tickByTicks) >= 20:
                break
            await asyncio.sleep(0.05)
        first = list(ticker.tickByTicks)
        hist = await ib.reqHistoricalTicksAsync(aapl, "", await ib.reqCurrentTimeAsync(), 100, "TRADES", False)
        return first, hist

    first, hist = run(lib, mock_gateway, body)
    assert len(first) >= 20
    wire = [(int(f[3]), float(f[4]), float(f[5])) for f in
            (e["fields"] for e in out_messages(mock_gateway, "tickByTick"))][:20]
    assert [(p, s) for _, p, s in wire] == [(t.price, float(t.size)) for t in first[:20]]
    past = [(int(h.time.timestamp()), h.price, float(h.size)) for h in hist]
    start = past.index(wire[0])         # the 20 ticks are a run of what reqHistoricalTicks answers for that window
    assert past[start:start + 20] == wire


@pytest.mark.parametrize("lib", LIBS)
def test_cancel_stops_the_stream(mock_gateway, lib):
    async def body(ib, ibi, aapl):
        ticker = ib.reqTickByTickData(aapl, "BidAsk")
        await asyncio.sleep(0.5)
        ib.cancelTickByTickData(aapl, "BidAsk")
        await asyncio.sleep(0.1)
        n = len(out_messages(mock_gateway, "tickByTick"))
        await asyncio.sleep(0.7)
        return n, len(out_messages(mock_gateway, "tickByTick"))

    before, after = run(lib, mock_gateway, body)
    assert before > 0 and after == before


@pytest.mark.parametrize("lib", LIBS)
def test_a_fourth_subscription_gets_10190_and_the_first_three_stream(mock_gateway, lib):
    async def body(ib, ibi, aapl):
        errors: list = []
        errors_of(ib, errors)
        for kind in ("Last", "AllLast", "BidAsk", "MidPoint"):
            ib.reqTickByTickData(aapl, kind)
        await asyncio.sleep(1.0)
        return errors

    errors = run(lib, mock_gateway, body)
    assert errors == [(10190, "Max number of tick-by-tick requests has been reached.")]
    types = {e["fields"][2] for e in out_messages(mock_gateway, "tickByTick")}
    assert types <= {"1", "2", "3"} and "3" in types


def test_the_limit_counts_every_connection_and_a_cancel_frees_a_slot(mock_gateway):
    async def body(ib, ibi, aapl):
        errors: list = []
        errors_of(ib, errors)
        ib.reqTickByTickData(aapl, "Last")
        ib.reqTickByTickData(aapl, "BidAsk")
        other = ibi.IB()
        await other.connectAsync(mock_gateway.host, mock_gateway.port, clientId=12, timeout=5)
        other_errors: list = []
        errors_of(other, other_errors)
        other.reqTickByTickData(aapl, "MidPoint")
        other.reqTickByTickData(aapl, "AllLast")
        await asyncio.sleep(0.3)
        ib.cancelTickByTickData(aapl, "Last")
        await asyncio.sleep(0.1)
        ib.reqTickByTickData(aapl, "AllLast")
        await asyncio.sleep(0.3)
        other.disconnect()
        return errors, other_errors

    errors, other_errors = run("ib_insync", mock_gateway, body)
    assert [c for c, _ in other_errors] == [10190] and errors == []


@pytest.mark.parametrize("permission", ["delayed", "none"])
def test_without_live_data_tick_by_tick_is_refused_with_10089(mock_gateway_factory, permission):
    gw = mock_gateway_factory(market=MarketConfig(data_permission=permission))

    async def body(ib, ibi, aapl):
        errors: list = []
        errors_of(ib, errors)
        await collect(ib, aapl, "Last", seconds=0.5)
        return errors

    errors = run("ib_insync", gw, body)
    assert [c for c, _ in errors] == [10089]
    assert not out_messages(gw, "tickByTick")


def test_a_wrong_case_tick_type_is_refused(mock_gateway):
    async def body(ib, ibi, aapl):
        errors: list = []
        errors_of(ib, errors)
        await collect(ib, aapl, "last", seconds=0.3)
        return errors

    [(code, text)] = run("ib_insync", mock_gateway, body)
    assert code == 321 and "Last, AllLast, BidAsk or MidPoint" in text


def test_the_official_client_in_protobuf_mode_gets_every_tick_type_the_limit_and_cancel(mock_gateway):
    """ibapi 10.51 at the mock's newest server version reads tickByTick as protobuf TickByTickData."""
    import json
    import subprocess
    from pathlib import Path

    from .ibapi10 import official_client_python

    agent = Path(__file__).with_name("tick_by_tick_agent.py")
    done = subprocess.run([str(official_client_python("ibapi-latest")), str(agent), str(mock_gateway.port), "31", "1.5"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["serverVersion"] >= 213
    assert [e["attrs"].get("encoding") for e in out_messages(mock_gateway, "tickByTick")][:1] == ["protobuf"]
    calls = result["calls"]
    last = [a for n, a in calls if n == "tickByTickAllLast" and a[0] == 21]
    assert len(last) >= 5 and all(a[1] == 1 and a[3] > 0 and float(a[4]) > 0 and a[6] for a in last)
    bid_ask = [a for n, a in calls if n == "tickByTickBidAsk"]
    assert bid_ask and all(a[0] == 22 and 0 < a[2] < a[3] and float(a[4]) > 0 for a in bid_ask)
    mids = [a for n, a in calls if n == "tickByTickMidPoint"]
    assert mids and all(a[0] == 23 and a[2] > 0 for a in mids)
    assert [(a[0], a[2]) for n, a in calls if n == "error"] == [(24, 10190)]
    assert result["after_cancel"] == 0


SATURDAY = datetime(2026, 11, 28, 15, 0, tzinfo=timezone.utc)


def test_nothing_streams_outside_the_session(mock_gateway_factory):
    gw = mock_gateway_factory(start=SATURDAY)

    async def body(ib, ibi, aapl):
        errors: list = []
        errors_of(ib, errors)
        for kind in ("Last", "BidAsk", "MidPoint"):
            ib.reqTickByTickData(aapl, kind)
        await asyncio.sleep(1.0)
        return errors

    assert run("ib_insync", gw, body) == []
    assert not out_messages(gw, "tickByTick")


def test_options_have_no_real_time_tick_by_tick(mock_gateway):
    async def body(ib, ibi, aapl):
        errors: list = []
        errors_of(ib, errors)
        chains = await ib.reqSecDefOptParamsAsync("AAPL", "", "STK", aapl.conId)
        chain = next(c for c in chains if c.exchange == "SMART")
        option = ibi.Option("AAPL", sorted(chain.expirations)[0], sorted(chain.strikes)[len(chain.strikes) // 2], "C",
                            "SMART", tradingClass=chain.tradingClass)
        await ib.qualifyContractsAsync(option)
        ib.reqTickByTickData(option, "Last")
        await asyncio.sleep(0.3)
        return errors

    [(code, text)] = run("ib_insync", mock_gateway, body)
    assert code == 321 and "options" in text


def test_the_recording_tap_reads_protobuf_tick_by_tick_back_into_the_text_fields():
    from mock_gateway.protocol import messages as m
    from mock_gateway.protocol.proto.replies import to_protobuf
    from mock_gateway.protocol.proto.reply_fields import ReplyDecoder
    from mock_gateway.protocol.versions import MAX_TEXT

    decoder = ReplyDecoder()
    for fields in (m.tick_by_tick_last(MAX_TEXT, 7, 2, 1_700_000_000, 150.25, 100, 2, "ISLAND", "T"),
                   m.tick_by_tick_bid_ask(MAX_TEXT, 7, 1_700_000_001, 150.2, 150.3, 100, 200, 1),
                   m.tick_by_tick_mid_point(7, 1_700_000_002, 150.25)):
        [(wire_id, payload)] = to_protobuf(fields)
        assert wire_id == 299 and decoder.feed(99, payload) == [fields]


@pytest.mark.parametrize("lib", LIBS)
def test_historical_ticks_of_a_streamed_window_are_the_streamed_trades_one_for_one(mock_gateway, lib):
    async def body(ib, ibi, aapl):
        await collect(ib, aapl, "Last", seconds=2.0)
        return await ib.reqHistoricalTicksAsync(aapl, "", await ib.reqCurrentTimeAsync(), 1000, "TRADES", False)

    hist = run(lib, mock_gateway, body)
    streamed = [(int(f[3]), float(f[4]), float(f[5])) for f in
                (e["fields"] for e in out_messages(mock_gateway, "tickByTick"))]
    assert streamed
    first, last = streamed[0][0], streamed[-1][0]        # whole seconds only: the edges may be cut
    inside = [t for t in streamed if first < t[0] < last]
    assert len(inside) >= 2
    assert [(int(h.time.timestamp()), h.price, float(h.size)) for h in hist
            if first < int(h.time.timestamp()) < last] == inside


def test_a_second_request_with_the_same_id_gets_322_and_the_first_streams_on(mock_gateway):
    from .raw_client import RawClient

    aapl = ["", "AAPL", "STK", "", "", "", "", "SMART", "", "USD", "", ""]
    with RawClient(mock_gateway.host, mock_gateway.port) as c:
        c.hello("v157..178")
        c.start(5)
        c.read_until(lambda ms: any(x[0] == "9" for x in ms))
        c.send(97, 7, *aapl, "BidAsk", 0, 0)
        c.send(97, 7, *aapl, "Last", 0, 0)
        c.read_until(lambda ms: any(x[0] == "4" and x[2] == "7" for x in ms) and sum(x[0] == "99" for x in ms) >= 3, timeout_s=5)
        errors = [x for x in c.messages if x[0] == "4" and x[2] != "-1"]
        ticks = [x for x in c.messages if x[0] == "99"]
    assert [(e[2], e[3]) for e in errors] == [("7", "322")]
    assert {t[2] for t in ticks} == {"3"}


def test_a_currency_has_quotes_but_no_trades_by_tick(mock_gateway):
    async def body(ib, ibi, aapl):
        eur = ibi.Forex("EURUSD")
        await ib.qualifyContractsAsync(eur)
        ib.reqTickByTickData(eur, "Last", 10)
        ticker = ib.reqTickByTickData(eur, "MidPoint")        # one Ticker per contract in ib_insync
        await asyncio.sleep(1.0)
        return list(ticker.tickByTicks)

    ticks = run("ib_insync", mock_gateway, body)
    assert ticks and all(type(t).__name__ == "TickByTickMidPoint" for t in ticks)
    assert {e["fields"][2] for e in out_messages(mock_gateway, "tickByTick")} == {"4"}


def test_an_index_off_cme_has_no_tick_by_tick(mock_gateway):
    async def body(ib, ibi, aapl):
        errors: list = []
        errors_of(ib, errors)
        spx = ibi.Index("SPX", "CBOE", "USD")
        await ib.qualifyContractsAsync(spx)
        ib.reqTickByTickData(spx, "Last")
        await asyncio.sleep(0.3)
        return errors

    [(code, text)] = run("ib_insync", mock_gateway, body)
    assert code == 321 and "indices on CME" in text
