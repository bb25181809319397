"""A bot that trades beyond the core book works unmodified: qualify, stream and fetch bars (ib_insync 0.9.86)."""
from __future__ import annotations

import asyncio


def run(coro):
    return asyncio.get_event_loop().run_until_complete(coro)


def test_a_bot_qualifies_streams_and_fetches_bars_for_stocks_an_index_a_future_and_an_option(mock_gateway):
    import ib_insync as ibi

    async def bot():
        ib = ibi.IB()
        errors: list[tuple[int, int, str]] = []
        ib.errorEvent += lambda req_id, code, text, *_: errors.append((req_id, code, text)) if req_id > 0 else None
        await ib.connectAsync(mock_gateway.host, mock_gateway.port, clientId=3, timeout=5)
        try:
            stocks = [ibi.Stock(s, "SMART", "USD") for s in ("AMZN", "TSLA", "META")]
            spx = ibi.Index("SPX", "CBOE", "USD")
            await ib.qualifyContractsAsync(*stocks, spx)
            [es_details, *_] = await ib.reqContractDetailsAsync(ibi.Future("ES", exchange="CME"))
            es = es_details.contract
            tsla = stocks[1]
            [chain] = [c for c in await ib.reqSecDefOptParamsAsync("TSLA", "", "STK", tsla.conId)
                       if c.exchange == "SMART"]
            strike = min(chain.strikes, key=lambda k: abs(k - 350))
            option = ibi.Option("TSLA", chain.expirations[0], strike, "C", "SMART", tradingClass=chain.tradingClass)
            await ib.qualifyContractsAsync(option)
            contracts = stocks + [spx, es, option]
            tickers = [ib.reqMktData(c) for c in contracts]
            for _ in range(200):
                await asyncio.sleep(0.02)
                if all(t.last == t.last or t.bid == t.bid for t in tickers):   # not NaN
                    break
            bars = [await ib.reqHistoricalDataAsync(c, "", "1 D", "1 hour", "TRADES", False) for c in contracts]
            unknown = await ib.qualifyContractsAsync(ibi.Stock("XXX", "SMART", "USD"))
            return contracts, tickers, bars, unknown, errors
        finally:
            ib.disconnect()

    contracts, tickers, bars, unknown, errors = run(bot())
    amzn, tsla, meta, spx, es, option = contracts
    assert (amzn.conId, tsla.conId, meta.conId, spx.conId) == (3691937, 76792991, 107113386, 416904)
    assert amzn.primaryExchange == "NASDAQ" and spx.secType == "IND"
    assert es.secType == "FUT" and es.multiplier == "50" and es.lastTradeDateOrContractMonth
    assert option.conId > 0 and option.multiplier == "100" and option.right == "C"
    assert all(t.last == t.last or t.bid == t.bid for t in tickers), [(t.contract.symbol, t.last, t.bid) for t in tickers]
    assert all(len(b) >= 6 for b in bars), [len(b) for b in bars]
    assert unknown == [] and any(code == 200 for _, code, _ in errors)


def test_matching_symbols_searches_the_whole_universe(mock_gateway):
    import ib_insync as ibi

    async def search():
        ib = ibi.IB()
        await ib.connectAsync(mock_gateway.host, mock_gateway.port, clientId=4, timeout=5)
        try:
            return await ib.reqMatchingSymbolsAsync("NVD"), await ib.reqMatchingSymbolsAsync("JOHNSON")
        finally:
            ib.disconnect()

    nvd, johnson = run(search())
    assert nvd[0].contract.symbol == "NVDA" and nvd[0].contract.conId == 4815747
    assert "OPT" in nvd[0].derivativeSecTypes or nvd[0].derivativeSecTypes == []
    assert "JNJ" in {d.contract.symbol for d in johnson}


def test_the_head_timestamp_is_the_listing_dates_first_session(mock_gateway_factory):
    import ib_insync as ibi

    from mock_gateway.faults.base import FaultStack

    mock_gateway = mock_gateway_factory(faults=FaultStack([]))

    async def head():
        ib = ibi.IB()
        await ib.connectAsync(mock_gateway.host, mock_gateway.port, clientId=5, timeout=5)
        try:
            aapl = ibi.Stock("AAPL", "SMART", "USD")
            await ib.qualifyContractsAsync(aapl)
            stamp = await ib.reqHeadTimeStampAsync(aapl, "TRADES", True, 2)
            before = await ib.reqHistoricalDataAsync(aapl, "19800101 16:00:00 US/Eastern", "1 M", "1 day",
                                                     "TRADES", True)
            after = await ib.reqHistoricalDataAsync(aapl, "19810115 16:00:00 US/Eastern", "2 M", "1 day",
                                                    "TRADES", True)
            return stamp, before, after
        finally:
            ib.disconnect()

    stamp, before, after = run(head())
    assert f"{stamp:%Y%m%d %H:%M}" == "19801212 14:30"         # 09:30 New York on 12 December 1980
    assert len(before) == 0 and str(after[0].date) == "1980-12-12"


def test_an_index_streams_its_level_without_a_book(mock_gateway):
    import ib_insync as ibi

    from .conftest import out_messages

    async def stream():
        ib = ibi.IB()
        await ib.connectAsync(mock_gateway.host, mock_gateway.port, clientId=6, timeout=5)
        try:
            [spx] = await ib.qualifyContractsAsync(ibi.Index("SPX", "CBOE"))
            ticker = ib.reqMktData(spx)
            await asyncio.sleep(0.5)
            return ticker
        finally:
            ib.disconnect()

    ticker = run(stream())
    assert ticker.last == ticker.last and ticker.bid != ticker.bid       # a level, no bid
    assert {int(e["fields"][3]) for e in out_messages(mock_gateway, "tickPrice")} <= {4, 6, 7, 9, 14}
