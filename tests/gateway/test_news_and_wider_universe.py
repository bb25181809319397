"""News and the universe beyond the US indices, through ib_insync over a real socket.

A real paper account lists BRFG, BRFUPDN and DJNL; the mock has no real feed, so it publishes no
headline unless a scenario turns on ``market.simulated_news`` (headlines marked simulated, made from
the simulated daily bars). Stocks listed in Europe trade their venue's hours in its currency.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from mock_gateway.config import MarketConfig
from mock_gateway.sim.news import SIMULATED_MARK


@pytest.fixture
def ib_factory(mock_gateway_factory):
    import ib_insync

    clients = []

    def connect(**config):
        gw = mock_gateway_factory(**config)
        ib = ib_insync.IB()
        ib.connect(gw.host, gw.port, clientId=7, timeout=10)
        clients.append(ib)
        return ib

    yield connect
    for ib in clients:
        ib.disconnect()


def test_without_simulated_news_the_default_providers_publish_nothing(ib_factory):
    import ib_insync

    ib = ib_factory()
    [pltr] = ib.qualifyContracts(ib_insync.Stock("PLTR", "SMART", "USD"))
    assert ib.reqHistoricalNews(pltr.conId, "BRFG", "", "", 10) == []
    ib.RaiseRequestErrors = True
    with pytest.raises(ib_insync.RequestError) as refused:
        ib.reqNewsArticle("BRFG", "BRFG$sim-444857009-20260623")
    assert refused.value.code == 10276


def test_simulated_news_gives_a_column_per_trading_day_newest_first_marked_simulated(ib_factory):
    import ib_insync

    ib = ib_factory(market=MarketConfig(simulated_news=True))
    [pltr] = ib.qualifyContracts(ib_insync.Stock("PLTR", "SMART", "USD"))
    headlines = ib.reqHistoricalNews(pltr.conId, "BRFG+DJNL", "2026-06-01 00:00:00.0", "2026-06-24 00:00:00.0", 20)
    assert len(headlines) == 16                    # June 1-23 has 16 NYSE sessions (Juneteenth closed)
    times = [h.time for h in headlines]
    assert times == sorted(times, reverse=True) and times[0].date().isoformat() == "2026-06-23"
    assert all(h.time.weekday() < 5 and h.time.date().isoformat() != "2026-06-19" for h in headlines)
    assert all(h.providerCode == "BRFG" and h.headline.startswith(SIMULATED_MARK) for h in headlines)
    article = ib.reqNewsArticle("BRFG", headlines[0].articleId)
    assert article.articleType == 0 and "PLTR" in article.articleText and "not news" in article.articleText
    assert len(ib.reqHistoricalNews(pltr.conId, "BRFG", "", "", 5)) == 5


def test_matching_symbols_lists_the_exact_symbol_before_longer_ones(ib_factory):
    ib = ib_factory()
    [first, *rest] = ib.reqMatchingSymbols("AMC")
    assert (first.contract.symbol, first.contract.primaryExchange, first.contract.currency) == ("AMC", "NYSE", "USD")
    assert any(d.contract.symbol == "AMCR" for d in rest)


def test_a_stock_listed_on_xetra_trades_xetra_hours_in_euros(ib_factory):
    import ib_insync

    ib = ib_factory()
    [sap] = ib.qualifyContracts(ib_insync.Stock("SAP", "SMART", "EUR"))
    [details] = ib.reqContractDetails(sap)
    assert (sap.primaryExchange, sap.currency, details.timeZoneId) == ("IBIS", "EUR", "Europe/Berlin")
    bars = ib.reqHistoricalData(sap, "", "5 D", "1 hour", "TRADES", useRTH=True, formatDate=2)
    berlin = [b.date.astimezone(ZoneInfo("Europe/Berlin")) for b in bars]
    assert berlin and all(9 <= t.hour < 18 for t in berlin)
    assert any(t.hour == 9 for t in berlin)        # the session opens at 09:00 Frankfurt, not 09:30 New York


def test_the_dax_index_streams_its_level_in_euros(ib_factory):
    import ib_insync

    ib = ib_factory(start=datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Europe/Berlin")))
    [dax] = ib.qualifyContracts(ib_insync.Index("DAX", "EUREX", "EUR"))
    ticker = ib.reqMktData(dax)
    deadline = datetime.now() + timedelta(seconds=5)
    while ticker.last != ticker.last and datetime.now() < deadline:   # NaN until the first level
        ib.sleep(0.05)
    assert (dax.secType, dax.currency) == ("IND", "EUR") and ticker.last > 1000


def test_hostile_news_requests_get_errors_and_the_session_carries_on(ib_factory):
    import ib_insync

    ib = ib_factory(market=MarketConfig(simulated_news=True))
    errors = []
    ib.errorEvent += lambda req_id, code, text, *_: errors.append(code)
    [pltr] = ib.qualifyContracts(ib_insync.Stock("PLTR", "SMART", "USD"))
    assert ib.reqHistoricalNews(pltr.conId, "BRFG", "0001-01-01 00:00:00.0", "", 10) == []
    assert ib.reqHistoricalNews(pltr.conId, "BRFG", "", "2150-01-01 00:00:00.0", 10**9) != []   # up to now, 300 at most
    assert ib.reqHistoricalNews(pltr.conId, "BRFG", "", "", -5) == []
    assert ib.reqHistoricalNews(pltr.conId, "BRFG" * 1000, "", "", 5) == []
    assert not ib.reqNewsArticle("BRFG", "BRFG$sim-444857009-00010101")      # 10276
    assert 321 in errors and 10276 in errors
    assert ib.reqCurrentTime() is not None
