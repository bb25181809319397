"""reqMktDepth (10) / cancelMktDepth (11) as the real gateway serves them, with real clients over real sockets.

Sources (docs/fidelity.md, "Market depth"): IBKR TWS API docs "Market Depth (Level II)" (updateMktDepth for a
venue whose only market maker is itself, updateMktDepthL2 otherwise; SMART depth with isSmartDepth; fewer rows
when the book is shallower); TWS "Market Depth Trader" notes (3 depth securities, one more per 100 lines);
users' logs: 309 "Max number (3) of market depth requests has been reached" (ib_insync log quoted in a public
repository), 10092 for a demo account without depth (softwarespartan/IB4m#1) and for SMART without
isSmartDepth, 2152 "Exchanges - Depth: ...; Top: ...; " on SMART depth lines.
"""
from __future__ import annotations

import asyncio
import time

import pytest

from mock_gateway import depth
from mock_gateway.config import MarketConfig
from mock_gateway.sim.order_book import ASK, BID, DELETE, INSERT, UPDATE

from .conftest import out_messages, wait_thread

LIBS = ["ib_insync", "ib_async"]


def run(lib: str, gw, body, client_id: int = 21):
    """Connect ``lib`` to ``gw``, await ``body(ib, module, errors)``; errors are (reqId, code, text) of requests."""
    ibi = __import__(lib)

    async def main():
        ib = ibi.IB()
        errors: list[tuple[int, int, str]] = []
        ib.errorEvent += lambda req_id, code, text, *_: errors.append((req_id, code, text)) if req_id > 0 else None
        await ib.connectAsync(gw.host, gw.port, clientId=client_id, timeout=5)
        try:
            return await body(ib, ibi, errors)
        finally:
            ib.disconnect()

    return asyncio.get_event_loop().run_until_complete(main())


def depth_rows(gw, req_id: int) -> list[list[str]]:
    """Every updateMktDepth / updateMktDepthL2 of one line, in the order the gateway sent them."""
    events = gw.call(lambda: list(gw.event_log.events))
    return [e["fields"] for e in events if e["dir"] == "out" and e["msg"] in ("updateMktDepth", "updateMktDepthL2")
            and e["fields"][2] == str(req_id)]


def replay(rows: list[list[str]]) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """The book a client holds after applying ``rows`` in order (IndexError if a position is ever invalid)."""
    book: dict[int, list[tuple[float, float]]] = {ASK: [], BID: []}
    for f in rows:
        if f[0] == "13":
            position, operation, side, price, size = int(f[3]), int(f[5]), int(f[6]), float(f[7]), float(f[8])
        else:
            position, operation, side, price, size = int(f[3]), int(f[4]), int(f[5]), float(f[6]), float(f[7])
        dom = book[side]
        if operation == INSERT:
            assert position <= len(dom), f"insert at {position} into {len(dom)} rows"
            dom.insert(position, (price, size))
        elif operation == UPDATE:
            dom[position] = (price, size)
        else:
            assert operation == DELETE
            del dom[position]
    return book[ASK], book[BID]


@pytest.mark.parametrize("lib", LIBS)
@pytest.mark.parametrize("smart", [True, False], ids=["smart-depth", "island"])
def test_the_dom_fills_and_its_top_is_the_quote_of_the_same_instant(mock_gateway, lib, smart):
    async def body(ib, ibi, errors):
        contract = ibi.Stock("AAPL", "SMART" if smart else "ISLAND", "USD")
        await ib.qualifyContractsAsync(contract)
        ticker = ib.reqMktDepth(contract, 5, isSmartDepth=smart)
        await asyncio.sleep(2.0)                      # eight grid steps: the book moves
        bids, asks = list(ticker.domBids), list(ticker.domAsks)   # the clients empty them on cancel
        ib.cancelMktDepth(contract, isSmartDepth=smart)
        await asyncio.sleep(0.3)
        return bids, asks, contract.conId, errors

    bids, asks, con_id, errors = run(lib, mock_gateway, body)
    assert len(bids) == 5 and len(asks) == 5
    assert all(a.price < b.price for a, b in zip(bids[1:], bids)) and all(a.price > b.price
                                                                            for a, b in zip(asks[1:], asks))
    assert all(level.size > 0 and level.marketMaker for level in bids + asks)
    name = "updateMktDepthL2"
    sent = [e for e in out_messages(mock_gateway, name)]
    assert sent and all(e["fields"][9] == ("1" if smart else "0") for e in sent)
    # the client's book is the one the wire described after some edit (the last it had read), and its top is the
    # L1 quote at that edit's grid time
    held = ([(x.price, x.size) for x in asks], [(x.price, x.size) for x in bids])
    ends = [n for n in range(1, len(sent) + 1) if replay([e["fields"] for e in sent[:n]]) == held]
    assert ends, "the client's book is no state the wire described"
    last_t = sent[ends[-1] - 1]["sim"]
    quote = mock_gateway.call(lambda: mock_gateway.world.market.quote_at(con_id, last_t))
    assert (bids[0].price, bids[0].size, asks[0].price, asks[0].size) == (quote.bid, quote.bid_size, quote.ask,
                                                                          quote.ask_size)
    if smart:
        assert [(code, text) for _, code, text in errors] == [(2152, (
            "Exchanges - Depth: IEX; NASDAQ; BATS; ARCA; BEX; NYSE; Top: BYX; PEARL; AMEX; T24X; MEMX; OVERNIGHT; "
            "EDGEA; TXSE; CHX; IBEOS; NYSENAT; PSX; LTSE; ISE; DRCTEDGE; "))]
    else:
        assert errors == []


@pytest.mark.parametrize("lib", LIBS)
def test_a_venue_whose_only_market_maker_is_itself_sends_update_mkt_depth(mock_gateway, lib):
    async def body(ib, ibi, errors):
        spy = ibi.Stock("SPY", "ARCA", "USD")
        eur = ibi.Forex("EURUSD")
        await ib.qualifyContractsAsync(spy, eur)
        t1, t2 = ib.reqMktDepth(spy, 3), ib.reqMktDepth(eur, 3)
        await asyncio.sleep(1.0)
        return list(t1.domBids), list(t2.domAsks), errors

    spy_bids, eur_asks, errors = run(lib, mock_gateway, body)
    assert errors == []
    assert len(spy_bids) == 3 and all(level.marketMaker == "" for level in spy_bids)
    gap_ticks = (eur_asks[1].price - eur_asks[0].price) / 0.00005
    assert len(eur_asks) == 3 and round(gap_ticks) >= 1 and gap_ticks == pytest.approx(round(gap_ticks))
    assert out_messages(mock_gateway, "updateMktDepth") and not out_messages(mock_gateway, "updateMktDepthL2")


@pytest.mark.parametrize("lib", LIBS)
def test_smart_without_smart_depth_and_venues_without_a_book_get_10092(mock_gateway, lib):
    async def body(ib, ibi, errors):
        aapl = ibi.Stock("AAPL", "SMART", "USD")
        aapl_nyse = ibi.Stock("AAPL", "NYSE", "USD")          # NYSE's book covers NYSE-listed stocks only
        await ib.qualifyContractsAsync(aapl, aapl_nyse)
        ib.reqMktDepth(aapl, 5, isSmartDepth=False)
        ib.reqMktDepth(aapl_nyse, 5)
        await asyncio.sleep(0.5)
        return errors

    errors = run(lib, mock_gateway, body)
    assert [code for _, code, _ in errors] == [10092, 10092]
    assert all(text == "Deep market data is not supported for this combination of security type/exchange"
               for _, _, text in errors)
    assert not out_messages(mock_gateway, "updateMktDepthL2") and not out_messages(mock_gateway, "updateMktDepth")


@pytest.mark.parametrize("permission", ["delayed", "none"])
def test_without_depth_subscriptions_smart_depth_shows_the_iex_book_and_the_others_tops(mock_gateway_factory,
                                                                                       permission):
    """A paper account without depth subscriptions (2152 of 2026: "Exchanges - Depth: IEX; Top: BYX; ...; Need
    additional market data permissions - Depth: NASDAQ; BATS; ARCA; BEX; NYSE; ", rows streamed from IEX)."""
    gw = mock_gateway_factory(market=MarketConfig(data_permission=permission))

    async def body(ib, ibi, errors):
        aapl = ibi.Stock("AAPL", "SMART", "USD")
        await ib.qualifyContractsAsync(aapl)
        ticker = ib.reqMktDepth(aapl, 10, isSmartDepth=True)
        await asyncio.sleep(0.8)
        return list(ticker.domBids) + list(ticker.domAsks), errors

    levels, errors = run("ib_insync", gw, body)
    [(_, code, text)] = errors
    assert code == 2152 and text.startswith("Exchanges - Depth: IEX; Top: BYX; ")
    assert text.endswith("Need additional market data permissions - Depth: NASDAQ; BATS; ARCA; BEX; NYSE; ")
    makers = {lv.marketMaker for lv in levels}
    tops = set(depth.SMART_TOP_EXCHANGES)
    assert levels and makers <= tops | {"IEX"} and not makers & {"NASDAQ", "BATS", "ARCA", "BEX", "NYSE"}


@pytest.mark.parametrize("permission", ["delayed", "none"])
def test_an_account_without_depth_permission_gets_10092_and_no_rows(mock_gateway_factory, permission):
    gw = mock_gateway_factory(market=MarketConfig(data_permission=permission))

    async def body(ib, ibi, errors):
        aapl = ibi.Stock("AAPL", "ISLAND", "USD")
        await ib.qualifyContractsAsync(aapl)
        ticker = ib.reqMktDepth(aapl, 5)
        await asyncio.sleep(0.5)
        return ticker, errors

    ticker, errors = run("ib_insync", gw, body)
    assert [code for _, code, _ in errors] == [10092] and ticker.domBids == [] and ticker.domAsks == []


def test_a_fourth_security_gets_309_and_more_lines_of_a_held_security_do_not_count(mock_gateway):
    async def body(ib, ibi, errors):
        stocks = [ibi.Stock(s, "SMART", "USD") for s in ("AAPL", "MSFT", "SPY", "IBM")]
        await ib.qualifyContractsAsync(*stocks)
        tickers = [ib.reqMktDepth(c, 3, isSmartDepth=True) for c in stocks[:3]]
        aapl_island = ibi.Stock("AAPL", "ISLAND", "USD", conId=stocks[0].conId)
        ib.reqMktDepth(aapl_island, 3)                         # a second line for AAPL: allowed
        fourth = ib.reqMktDepth(stocks[3], 3, isSmartDepth=True)
        await asyncio.sleep(0.8)
        refused = [(code, text) for _, code, text in errors if code != 2152]
        filled = [bool(t.domBids) for t in tickers] + [bool(fourth.domBids)]
        ib.cancelMktDepth(stocks[0], isSmartDepth=True)
        ib.cancelMktDepth(aapl_island)
        await asyncio.sleep(0.3)
        seen = len(errors)
        again = ib.reqMktDepth(stocks[3], 3, isSmartDepth=True)    # AAPL's slot is free again
        await asyncio.sleep(0.8)
        late = [code for _, code, _ in errors[seen:] if code != 2152]
        return filled, again, refused, late

    filled, again, refused, late = run("ib_insync", mock_gateway, body)
    assert refused == [(309, "Max number (3) of market depth requests has been reached")]
    assert filled == [True, True, True, False]
    assert late == [] and again.domBids


def test_more_market_data_lines_allow_more_depth_securities(mock_gateway_factory):
    gw = mock_gateway_factory(market_data_lines=500)

    async def body(ib, ibi, errors):
        stocks = [ibi.Stock(s, "SMART", "USD") for s in ("AAPL", "MSFT", "SPY", "IBM", "QQQ", "MMM")]
        await ib.qualifyContractsAsync(*stocks)
        for c in stocks:
            ib.reqMktDepth(c, 2, isSmartDepth=True)
        await asyncio.sleep(0.6)
        return [(code, text) for _, code, text in errors if code != 2152]

    assert run("ib_insync", gw, body) == [(309, "Max number (5) of market depth requests has been reached")]


def test_cancel_stops_the_rows_and_an_unknown_line_gets_310(mock_gateway):
    async def body(ib, ibi, errors):
        aapl = ibi.Stock("AAPL", "ISLAND", "USD")
        await ib.qualifyContractsAsync(aapl)
        ticker = ib.reqMktDepth(aapl, 5)
        await asyncio.sleep(0.6)
        req_id = next(iter(ib.wrapper.ticker2ReqId["mktDepth"].values()))
        ib.cancelMktDepth(aapl)
        await ib.reqCurrentTimeAsync()                         # answered after the cancel was served
        before = len(depth_rows(mock_gateway, req_id))
        await asyncio.sleep(1.0)                               # four grid steps: nothing more
        after = len(depth_rows(mock_gateway, req_id))
        ib.client.cancelMktDepth(req_id, False)                # cancelled already
        await asyncio.sleep(0.3)
        return ticker, before, after, req_id, errors

    ticker, before, after, req_id, errors = run("ib_insync", mock_gateway, body)
    assert before > 0 and after == before
    assert errors == [(req_id, 310, f"Can't find the subscribed market depth with tickerId:{req_id}")]


def test_a_duplicate_ticker_id_is_refused_and_the_first_line_streams_on(mock_gateway):
    async def body(ib, ibi, errors):
        aapl = ibi.Stock("AAPL", "ISLAND", "USD")
        await ib.qualifyContractsAsync(aapl)
        ib.client.reqMktDepth(77, aapl, 3, False, [])
        ib.client.reqMktDepth(77, aapl, 3, False, [])
        await asyncio.sleep(0.6)
        return errors

    errors = run("ib_insync", mock_gateway, body)
    assert [(r, c) for r, c, _ in errors] == [(77, 322)] and "Duplicate ticker id" in errors[0][2]
    assert len(depth_rows(mock_gateway, 77)) >= 6


def test_a_closed_market_has_an_empty_book(mock_gateway_factory):
    from datetime import datetime, timezone

    gw = mock_gateway_factory(start=datetime(2026, 11, 28, 15, 0, tzinfo=timezone.utc))   # a Saturday

    async def body(ib, ibi, errors):
        aapl = ibi.Stock("AAPL", "ISLAND", "USD")
        await ib.qualifyContractsAsync(aapl)
        ticker = ib.reqMktDepth(aapl, 5)
        await asyncio.sleep(0.6)
        return ticker, errors

    ticker, errors = run("ib_insync", gw, body)
    assert errors == [] and ticker.domBids == [] and ticker.domAsks == []


def test_the_official_ibapi_981_decodes_both_depth_messages(mock_gateway):
    import threading

    pytest.importorskip("ibapi")
    from ibapi.contract import Contract

    from .test_ibapi import App

    class DepthApp(App):
        def updateMktDepth(self, reqId, position, operation, side, price, size):
            self._record("updateMktDepth", reqId, position, operation, side, price, size)

        def updateMktDepthL2(self, reqId, position, marketMaker, operation, side, price, size, isSmartDepth):
            self._record("updateMktDepthL2", reqId, position, marketMaker, operation, side, price, size, isSmartDepth)

    def stock(symbol: str, exchange: str) -> Contract:
        c = Contract()
        c.symbol, c.secType, c.exchange, c.currency = symbol, "STK", exchange, "USD"
        return c

    app = DepthApp()
    app.connect(mock_gateway.host, mock_gateway.port, clientId=9)
    reader = threading.Thread(target=app.run, name="ibapi-run", daemon=True)
    reader.start()
    try:
        wait_thread(lambda: app.got("nextValidId"), what="nextValidId")
        app.reqMktDepth(1, stock("AAPL", "SMART"), 4, True, [])
        app.reqMktDepth(2, stock("SPY", "ARCA"), 4, False, [])
        wait_thread(lambda: len(app.got("updateMktDepthL2")) >= 8 and len(app.got("updateMktDepth")) >= 8,
                    what="both books")
        app.cancelMktDepth(1, True)
        app.cancelMktDepth(2, False)
    finally:
        app.disconnect()
        reader.join(5)
    l2 = app.got("updateMktDepthL2")
    assert {r[0] for r in l2} == {1} and all(r[7] is True and r[2] for r in l2[:8])
    assert [(r[1], r[3], r[4]) for r in l2[:8]] == [(i, INSERT, side) for i in range(4) for side in (ASK, BID)]
    assert {r[0] for r in app.got("updateMktDepth")} == {2}
    assert not [e for e in app.got("error") if e[1] not in (2152,) and e[0] in (1, 2)]


@pytest.mark.parametrize("data_lost", [False, True], ids=["1102-resumes", "1101-drops"])
def test_a_connectivity_loss_stops_the_rows_and_1101_drops_the_line(mock_gateway, data_lost):
    gw = mock_gateway

    async def body(ib, ibi, errors):
        aapl = ibi.Stock("AAPL", "ISLAND", "USD")
        await ib.qualifyContractsAsync(aapl)
        ib.client.reqMktDepth(41, aapl, 5, False, [])
        await asyncio.sleep(0.5)
        gw.faults.add("connectivity_loss", for_s=3.0, data_lost=data_lost)
        await asyncio.sleep(0.3)
        during_start = len(depth_rows(gw, 41))
        await asyncio.sleep(1.0)
        during_end = len(depth_rows(gw, 41))
        await asyncio.sleep(2.7)                         # restored, then a second of market
        after = len(depth_rows(gw, 41))
        ib.client.reqMktDepth(41, aapl, 5, False, [])    # after 1101 the id is free again
        await asyncio.sleep(0.5)
        return during_start, during_end, after, errors

    during_start, during_end, after, errors = run("ib_insync", gw, body)
    assert during_end == during_start, "rows while the data farm was down"
    if data_lost:
        assert after == during_end and not [e for e in errors if e[0] == 41]
    else:
        assert after > during_end and [(r, c) for r, c, _ in errors] == [(41, 322)]


def test_an_idealpro_book_moves_by_updates_in_place_with_sizes_like_the_recorded_one(mock_gateway):
    """A real EUR.USD IDEALPRO depth stream (nautilus_trader's test resource eurusd_depth.pkl, recorded 2022-02-21
    with ib_insync): updateMktDepth without a market maker, 5 rows kept full while the market trades, every
    change an update in place (271 updates, no insert or delete after the book filled), sizes 0.1M to 11.65M,
    median 4M."""
    async def body(ib, ibi, errors):
        eur = ibi.Forex("EURUSD")
        await ib.qualifyContractsAsync(eur)
        ib.client.reqMktDepth(51, eur, 5, False, [])
        await asyncio.sleep(3.0)
        return errors

    assert run("ib_insync", mock_gateway, body) == []
    rows = depth_rows(mock_gateway, 51)
    assert all(f[0] == "12" for f in rows)
    first, rest = rows[:10], rows[10:]
    assert [(int(f[3]), int(f[4])) for f in first] == [(i, 0) for i in range(5) for _ in (0, 1)]
    assert rest and {int(f[4]) for f in rest} == {1}
    sizes = sorted(float(f[7]) for f in rest if int(f[3]) > 0)
    assert 100_000 <= sizes[0] and sizes[-1] <= 20_000_000 and 1_000_000 <= sizes[len(sizes) // 2] <= 8_000_000


def test_lines_are_bounded_and_bad_rows_are_refused_without_harm(mock_gateway_factory):
    """Many lines of one held security are allowed (IB's note on 309), up to the mock's bound of the account's
    market data lines (then 101); numRows below 1 gets 321, an unreadable one 320; the session lives on."""
    from .raw_client import RawClient

    gw = mock_gateway_factory(market_data_lines=100, log_market_data=False)

    def depth_request(req_id: int, rows: object) -> tuple:
        return (10, 5, req_id, 0, "AAPL", "STK", "", 0.0, "", "", "ISLAND", "", "USD", "", "", rows, 0, "")

    with RawClient(gw.host, gw.port) as raw:
        raw.hello()
        raw.start(5)
        requests = [depth_request(1000, 1_000_000)]                # rows beyond the book: 20 served
        requests += [depth_request(req_id, 1) for req_id in range(1001, 1101)]
        requests += [depth_request(2000, 0), depth_request(2001, "many")]
        for fields in requests:
            raw.send(*fields)
            time.sleep(0.025)                                     # under IB's 50 messages a second
        raw.send(49, 1)                                           # reqCurrentTime: the session still answers
        msgs = raw.read_until(lambda ms: any(f[0] == "49" for f in ms), timeout_s=20)
    errors = [(int(f[2]), int(f[3])) for f in msgs if f[0] == "4" and int(f[2]) > 0]
    assert errors == [(1100, 101), (2000, 321), (2001, 320)]
    inserts = [f for f in msgs if f[0] == "13" and f[2] == "1000" and f[5] == "0"]
    assert len(inserts) == 2 * 20


def test_every_venue_req_mkt_depth_exchanges_lists_serves_depth(mock_gateway_factory):
    """reqMktDepthExchanges (82) and reqMktDepth read one table: each listed (exchange, secType, listing) serves a
    book for a contract of the universe listed there."""
    gw = mock_gateway_factory(market_data_lines=500)           # 5 depth securities

    async def body(ib, ibi, errors):
        venues = await ib.reqMktDepthExchangesAsync()
        examples = {"STK": {"NASDAQ": "AAPL", "NYSE": "IBM", "ARCA": "SPY"}}
        tickers = {}
        for d in venues:
            if d.secType == "STK":
                contract = ibi.Stock(examples["STK"][d.listingExch], d.exchange, "USD")
            elif d.secType == "CASH":
                contract = ibi.Forex("EURUSD", exchange=d.exchange)
            else:
                details = await ib.reqContractDetailsAsync(ibi.Future("ES", exchange=d.exchange))
                contract = min((c.contract for c in details), key=lambda c: c.lastTradeDateOrContractMonth)
            await ib.qualifyContractsAsync(contract)
            tickers[(d.exchange, d.secType, d.serviceDataType)] = ib.reqMktDepth(contract, 3)
        await asyncio.sleep(1.0)
        return {k: (len(t.domBids), len(t.domAsks), {lv.marketMaker != "" for lv in t.domBids})
                for k, t in tickers.items()}, errors

    books, errors = run("ib_insync", gw, body)
    assert errors == [] and len(books) == 5
    for (exchange, sec_type, service), (n_bids, n_asks, named) in books.items():
        assert (n_bids, n_asks) == (3, 3), exchange
        assert named == {service == "Deep2"}, exchange          # Deep2 rows name a market maker


def test_at_high_speed_the_book_moves_once_per_pass_not_once_per_grid_step(mock_gateway_factory):
    """At speed 100 a grid step lasts 2.5 wall ms: depth is edited every 20 steps (5 sim s, 50 wall ms), each pass
    bringing the book to that instant's state, so the stream costs the same wall CPU as at speed 5."""
    gw = mock_gateway_factory(speed=100.0)

    async def body(ib, ibi, errors):
        aapl = ibi.Stock("AAPL", "ISLAND", "USD")
        await ib.qualifyContractsAsync(aapl)
        ticker = ib.reqMktDepth(aapl, 5)
        await asyncio.sleep(1.5)
        return len(ticker.domBids), errors

    n_bids, errors = run("ib_insync", gw, body)
    assert errors == [] and n_bids == 5
    every_s = gw.depth.every_steps * gw.world.market.tick_interval_s
    assert every_s == 5.0
    times = sorted({e["sim"] for e in out_messages(gw, "updateMktDepthL2")})
    passes = times[1:]                                       # the first is the line's opening snapshot
    assert len(passes) >= 10 and all(abs(t / every_s - round(t / every_s)) < 1e-6 for t in passes)
