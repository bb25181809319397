"""ib_insync 0.9.86 against the mock gateway: a whole trading session over a real socket (version 176)."""
from .ib_behaviour import IbClientBehaviour


class TestIbInsync(IbClientBehaviour):
    lib = "ib_insync"
    expected_server_version = 176


def test_what_if_without_an_exchange_raises_request_error_321(mock_gateway):
    """As ib_insync's own test suite expects from TWS (tests/test_requests.py upstream)."""
    import asyncio

    import ib_insync
    import pytest

    async def session():
        ib = ib_insync.IB()
        await ib.connectAsync(mock_gateway.host, mock_gateway.port, clientId=1, timeout=5)
        try:
            state = await ib.whatIfOrderAsync(ib_insync.Stock("IBM", "SMART", "USD"), ib_insync.MarketOrder("BUY", 100))
            ib.RaiseRequestErrors = True
            with pytest.raises(ib_insync.RequestError) as caught:
                await ib.whatIfOrderAsync(ib_insync.Stock("XXX"), ib_insync.MarketOrder("BUY", 100))
            return state, caught.value.code
        finally:
            ib.disconnect()

    state, code = asyncio.get_event_loop().run_until_complete(session())
    assert state.commission > 0 and code == 321


def test_mmm_qualifies_and_what_if_answers_as_in_ib_insyncs_own_tests(mock_gateway):
    """ib_insync's test suite (tests/test_requests.py upstream) runs what-if on MMM."""
    import asyncio

    import ib_insync

    async def session():
        ib = ib_insync.IB()
        await ib.connectAsync(mock_gateway.host, mock_gateway.port, clientId=1, timeout=5)
        try:
            [contract] = await ib.qualifyContractsAsync(ib_insync.Stock("MMM", "SMART", "USD"))
            [details] = await ib.reqContractDetailsAsync(contract)
            state = await ib.whatIfOrderAsync(contract, ib_insync.LimitOrder("BUY", 100, 100))
            return contract, details, state
        finally:
            ib.disconnect()

    contract, details, state = asyncio.get_event_loop().run_until_complete(session())
    assert (contract.conId, contract.primaryExchange, contract.currency) == (9720, "NYSE", "USD")
    assert details.longName == "3M CO" and [(t.tag, t.value) for t in details.secIdList] == [("ISIN", "US88579Y1010")]
    assert type(state) is ib_insync.OrderState and state.commission > 0
