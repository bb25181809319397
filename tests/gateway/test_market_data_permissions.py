"""The account's market data permission and reqMarketDataType, as a real gateway answers them (ib_insync 0.9.86).

Source: a delayed-only account's recorded session (2026-08-10): type 1 -> 354 and no ticks, type 3 ->
10167 and delayed ticks with marketDataType 3, type 4 while the market is open -> served as 3.
"""
from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import pytest

from mock_gateway.config import MarketConfig

from .conftest import out_messages

SATURDAY = datetime(2026, 11, 28, 15, 0, tzinfo=timezone.utc)


def stream(gw, data_type: int, seconds: float = 0.6):
    """(ticker, [(code, text)]) for AAPL after reqMarketDataType(data_type) and reqMktData."""
    import ib_insync as ibi

    async def run():
        ib = ibi.IB()
        errors: list[tuple[int, str]] = []
        ib.errorEvent += lambda req_id, code, text, *_: errors.append((code, text)) if req_id > 0 else None
        await ib.connectAsync(gw.host, gw.port, clientId=8, timeout=5)
        try:
            aapl = ibi.Stock("AAPL", "SMART", "USD")
            await ib.qualifyContractsAsync(aapl)
            ib.reqMarketDataType(data_type)
            ticker = ib.reqMktData(aapl)
            ticker.marketDataType = 0          # sentinel: only the gateway's marketDataType message moves it
            await asyncio.sleep(seconds)
            return ticker, errors
        finally:
            ib.disconnect()

    return asyncio.get_event_loop().run_until_complete(run())


def tick_types(gw) -> set[int]:
    return {int(e["fields"][3]) for e in out_messages(gw, "tickPrice")}


@pytest.mark.parametrize("requested", [1, 3])
def test_a_live_account_gets_live_data_for_live_and_delayed_requests(mock_gateway_factory, requested):
    gw = mock_gateway_factory()
    ticker, errors = stream(gw, requested)
    assert errors == [] and ticker.marketDataType == 1 and ticker.bid == ticker.bid
    assert tick_types(gw) <= {1, 2, 4, 6, 7, 9, 14}


def test_a_delayed_only_account_refuses_live_data_with_354(mock_gateway_factory):
    gw = mock_gateway_factory(market=MarketConfig(data_permission="delayed"))
    ticker, errors = stream(gw, 1)
    assert ticker.marketDataType == 0 and ticker.bid != ticker.bid          # no grant, no ticks
    [(code, text)] = [e for e in errors if e[0] == 354]
    assert text.startswith("Requested market data is not subscribed.") and "Delayed market data is available." in text


@pytest.mark.parametrize("requested", [3, 4])
def test_a_delayed_only_account_gets_delayed_ticks_with_10167(mock_gateway_factory, requested):
    gw = mock_gateway_factory(market=MarketConfig(data_permission="delayed"))
    ticker, errors = stream(gw, requested)
    assert (10167, "Requested market data is not subscribed. Displaying delayed market data.") in errors
    assert ticker.marketDataType == 3                                    # 4 is served as 3 while open
    types = tick_types(gw)
    assert {66, 67, 68} <= types and not types & {1, 2, 4}
    assert ticker.bid == ticker.bid and ticker.last == ticker.last       # ib_insync maps 66/67/68


def test_an_account_without_data_gets_354_or_10168(mock_gateway_factory):
    gw = mock_gateway_factory(market=MarketConfig(data_permission="none"))
    _, live_errors = stream(gw, 1, 0.2)
    _, delayed_errors = stream(gw, 3, 0.2)
    assert [c for c, _ in live_errors] == [354] and "Delayed market data is available" not in live_errors[0][1]
    assert delayed_errors == [(10168, "Requested market data is not subscribed. Delayed market data is not "
                                      "enabled.")]


def test_frozen_data_is_the_last_values_once_while_the_market_is_closed(mock_gateway_factory):
    gw = mock_gateway_factory(start=SATURDAY)
    ticker, errors = stream(gw, 2, 1.0)
    assert errors == [] and ticker.marketDataType == 2 and ticker.last == ticker.last
    assert len(out_messages(gw, "tickPrice")) <= 8                        # one full quote, no updates
