"""Contract details as IB records them in nautilus_trader's IB test kit
(tests/integration_tests/adapters/interactive_brokers/test_kit.py, IBTestContractStubs: AAPL,
EUR.USD, CLZ3, an ES option, TSLA 230120C100), compared with what the mock answers to the same
requests, through ib_async over a real socket. Fields that change with the date (hours, expiries)
are compared by shape."""
from __future__ import annotations

import pytest


@pytest.fixture
def ib(mock_gateway_factory):
    import ib_async

    gw = mock_gateway_factory()
    client = ib_async.IB()
    client.connect(gw.host, gw.port, clientId=5, timeout=10)
    yield client
    client.disconnect()


def _one(ib, contract):
    [details] = ib.reqContractDetails(contract)
    return details


def test_aapl_is_the_recorded_nms_listing(ib):
    import ib_async

    d = _one(ib, ib_async.Stock("AAPL", "SMART", "USD"))
    c = d.contract
    assert (c.conId, c.primaryExchange, c.localSymbol, c.tradingClass) == (265598, "NASDAQ", "AAPL", "NMS")
    assert (d.marketName, d.minTick, d.longName, d.stockType, d.aggGroup) == ("NMS", 0.01, "APPLE INC", "COMMON", 1)
    assert [(t.tag, t.value) for t in d.secIdList] == [("ISIN", "US0378331005")]
    assert d.suggestedSizeIncrement == 100 and d.minSize == 1 and d.sizeIncrement == 1
    # one market rule per valid exchange, rule 26 for US stocks
    assert d.marketRuleIds.split(",") == ["26"] * len(d.validExchanges.split(","))
    assert (d.industry, d.category, d.subcategory) == ("Technology", "Computers", "Computers")


def test_eur_usd_is_the_recorded_idealpro_pair(ib):
    import ib_async

    d = _one(ib, ib_async.Forex("EURUSD"))
    c = d.contract
    assert (c.conId, c.symbol, c.currency, c.localSymbol, c.tradingClass) == (12087792, "EUR", "USD", "EUR.USD", "EUR.USD")
    assert (d.marketName, d.minTick, d.validExchanges, d.marketRuleIds, d.aggGroup) == ("EUR.USD", 5e-05, "IDEALPRO", "239", 4)
    assert (d.longName, d.timeZoneId, d.industry) == ("European Monetary Union Euro", "US/Eastern", "")


def test_a_future_leaves_its_agg_group_unset(ib):
    import ib_async

    d = _one(ib, ib_async.Future("ES", "202612", "CME"))
    assert d.aggGroup == 2147483647          # CLZ3 and the ES option of the kit: Integer.MAX_VALUE
    assert d.contract.lastTradeDateOrContractMonth == d.realExpirationDate == "20261218"
    assert (d.underSymbol, d.underSecType, d.contractMonth) == ("ES", "IND", "202612")
    assert d.marketRuleIds.split(",") == [d.marketRuleIds.split(",")[0]] * len(d.validExchanges.split(","))


@pytest.mark.parametrize("symbol, strike, under_con_id", [("TSLA", 300, 76792991), ("AAPL", 200, 265598)])
def test_a_stock_option_has_no_industry_and_names_its_underlying(ib, symbol, strike, under_con_id):
    import ib_async

    d = _one(ib, ib_async.Option(symbol, "20261218", strike, "C", "SMART"))
    c = d.contract
    assert (c.multiplier, c.tradingClass, c.primaryExchange) == ("100", symbol, "")
    assert c.localSymbol == f"{symbol:<6}261218C{strike * 1000:08d}"
    assert (d.industry, d.category, d.subcategory) == ("", "", "")
    assert (d.underConId, d.underSymbol, d.underSecType, d.aggGroup) == (under_con_id, symbol, "STK", 2)
    assert (d.contractMonth, d.realExpirationDate, d.minTick) == ("202612", "20261218", 0.01)
    assert d.marketRuleIds.split(",") == ["32"] * len(d.validExchanges.split(","))
