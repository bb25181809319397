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
