"""A generic tick list is validated for every sec type, with the legal list IB gives in its 321.

Sources (docs/fidelity.md, "Market data"): real 321 texts quoted in public repositories: STK (IB Gateway,
2026-02-10), FUT and IND (a protobuf test script run against a live TWS, 2025-2026), OPT (an option-chain
downloader): the same legal list for each, only the sec type in parentheses differs.
"""
from __future__ import annotations

import asyncio

import pytest

from mock_gateway.quote_ticks import LEGAL_GENERIC_TEXT

ib_insync = pytest.importorskip("ib_insync")


@pytest.fixture(scope="module")
def gw(module_mock_gateway_factory):
    return module_mock_gateway_factory()


async def _contract(ib, sec_type: str):
    if sec_type == "STK":
        c = ib_insync.Stock("AAPL", "SMART", "USD")
    elif sec_type == "FUT":
        details = await ib.reqContractDetailsAsync(ib_insync.Future("ES", exchange="CME", currency="USD"))
        front = min(details, key=lambda d: d.contract.lastTradeDateOrContractMonth).contract
        c = ib_insync.Future(conId=front.conId, exchange="CME")
    elif sec_type == "OPT":
        tsla = ib_insync.Stock("TSLA", "SMART", "USD")
        await ib.qualifyContractsAsync(tsla)
        [chain] = [ch for ch in await ib.reqSecDefOptParamsAsync("TSLA", "", "STK", tsla.conId)
                   if ch.exchange == "SMART"]
        strike = sorted(chain.strikes)[len(chain.strikes) // 2]
        c = ib_insync.Option("TSLA", chain.expirations[0], strike, "C", "SMART", tradingClass=chain.tradingClass)
    elif sec_type == "IND":
        c = ib_insync.Index("SPX", "CBOE", "USD")
    elif sec_type == "CASH":
        c = ib_insync.Forex("EURUSD")
    else:
        c = ib_insync.Crypto("BTC", "PAXOS", "USD")
    await ib.qualifyContractsAsync(c)
    return c


def _request(gw, client_id: int, sec_type: str, generic: str):
    """(errors, ticker) of one reqMktData with ``generic`` on a contract of ``sec_type``."""
    async def run():
        ib = ib_insync.IB()
        await ib.connectAsync(gw.host, gw.port, clientId=client_id, timeout=5)
        errors: list[tuple[int, str]] = []
        ib.errorEvent += lambda req_id, code, text, contract: errors.append((code, text))
        try:
            contract = await _contract(ib, sec_type)
            ticker = ib.reqMktData(contract, generic)
            await asyncio.sleep(0.4)
            return errors, ticker
        finally:
            ib.disconnect()
    return asyncio.get_event_loop().run_until_complete(run())


SEC_TYPES = ["STK", "FUT", "OPT", "IND", "CASH", "CRYPTO"]


@pytest.mark.parametrize("sec_type", SEC_TYPES)
def test_a_tick_ib_does_not_serve_is_refused_with_the_legal_list_for_that_sec_type(gw, sec_type):
    errors, ticker = _request(gw, 60 + SEC_TYPES.index(sec_type), sec_type, "233,999")
    assert errors == [(321, "Error validating request.-'bQ' : cause - Incorrect generic tick list of 233,999.  "
                            f"Legal ones for ({sec_type}) are: {LEGAL_GENERIC_TEXT}")]
    assert ticker.bid != ticker.bid and ticker.last != ticker.last    # nothing streamed: both still NaN


@pytest.mark.parametrize("sec_type", SEC_TYPES)
def test_a_list_of_legal_ticks_is_accepted_for_every_sec_type(gw, sec_type):
    errors, ticker = _request(gw, 70 + SEC_TYPES.index(sec_type), sec_type, "100,101,106,165,588")
    assert [code for code, _ in errors if code not in (10167,)] == []
    assert ticker.close == ticker.close      # the stream opened: the close is set


def test_a_list_that_names_no_tick_is_refused(gw):
    errors, _ = _request(gw, 80, "STK", "mdoff")
    assert [code for code, _ in errors] == [321]


def test_rate_and_open_interest_generic_ticks_fill_the_tickers_fields(gw):
    errors, stock = _request(gw, 81, "STK", "105,294,295")
    assert errors == [] and stock.avOptionVolume > 0 and stock.tradeRate > 0 and stock.volumeRate > stock.tradeRate
    errors, future = _request(gw, 82, "FUT", "588")
    assert errors == [] and future.futuresOpenInterest > 0
