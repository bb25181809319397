"""ib_async 2.1.0 against the mock gateway: the same session as ib_insync, at its own maximum 178 (what a
current IB Gateway gives it) by default and with the gateway held to 178."""
import pytest

from .conftest import wait_for
from .ib_behaviour import IbClientBehaviour


class TestIbAsync(IbClientBehaviour):
    lib = "ib_async"
    expected_server_version = 178   # its MAX_CLIENT_VER; a current gateway (max 223) negotiates that


class TestIbAsyncAt178:
    """With the gateway's maximum raised to 178, ib_async speaks its newest layout (no faProfile,
    execDetails with pendingPriceRevision)."""

    def test_connects_at_178_and_trades(self, mock_gateway_factory):
        import ib_async

        gw = mock_gateway_factory(max_server_version=178)
        ib = ib_async.IB()
        ib.connect(gw.host, gw.port, clientId=2, timeout=5)
        try:
            assert ib.client.serverVersion() == 178
            contract = ib_async.Stock("AAPL", "SMART", "USD")
            ib.qualifyContracts(contract)
            trade = ib.placeOrder(contract, ib_async.MarketOrder("BUY", 1))
            wait_for(ib, lambda: trade.isDone() and trade.fills, what="fill at 178")
            limit = ib.placeOrder(contract, ib_async.LimitOrder("BUY", 1, 100.0))
            wait_for(ib, lambda: limit.orderStatus.status == "Submitted", what="resting limit at 178")
            assert [t.order.orderId for t in ib.reqAllOpenOrders()] == [limit.order.orderId]
        finally:
            ib.disconnect()
        assert trade.fills[0].execution.shares == 1

    def test_ib_insync_is_still_held_to_176_when_the_gateway_allows_178(self, mock_gateway_factory):
        import ib_insync

        gw = mock_gateway_factory(max_server_version=178)
        ib = ib_insync.IB()
        ib.connect(gw.host, gw.port, clientId=2, timeout=5)
        try:
            assert ib.client.serverVersion() == 176
        finally:
            ib.disconnect()


@pytest.fixture(autouse=True)
def _quiet_ib_async_logging(caplog):
    caplog.set_level("WARNING", logger="ib_async")
