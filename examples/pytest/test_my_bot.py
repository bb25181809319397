"""Example: testing a trading bot against the mock IB Gateway with prelive's pytest fixtures.

Run with ``pytest examples/pytest/test_my_bot.py`` (prelive installed: the fixtures come from its
pytest plugin, nothing to import or configure).
"""
import time

from ib_insync import IB, MarketOrder, Stock


def test_the_gateway_serves_the_scenarios_market(mock_gateway_factory):
    # a gateway with a shipped scenario's market, accounts and faults, on a free port
    gw = mock_gateway_factory(scenario="disconnect_flap", symbols=["AAPL", "MSFT"], seed=7)
    ib = IB()
    ib.connect(gw.host, gw.port, clientId=1, timeout=10)
    try:
        [details] = ib.reqContractDetails(Stock("AAPL", "SMART", "USD"))
        assert details.contract.conId > 0
        assert ib.managedAccounts()[0].startswith("DU")   # a paper account
    finally:
        ib.disconnect()


def test_my_handler_survives_a_scenario(run_scenario):
    # the whole lifecycle: gateway, handler process on the scenario's clock, metrics, verdict
    outcome = run_scenario("pacing_storm", handler="python -m harness.client", duration_s=20)
    # PASS: every expectation held and every fault acted. A shortened run can leave a fault
    # NOT EXERCISED (the run proves nothing about it); FAIL names its first cause.
    assert outcome.verdict in ("PASS", "NOT EXERCISED"), outcome.cause
    assert outcome.metrics["duplicate_orders"] == 0


def wait_until(ib, condition, timeout_s=5.0):
    """Let ib_insync process messages until ``condition()`` holds (or the timeout passes)."""
    deadline = time.monotonic() + timeout_s
    while not condition() and time.monotonic() < deadline:
        ib.sleep(0.05)
    return condition()


def test_my_bot_rides_out_faults_added_while_it_runs(mock_gateway_factory):
    # runtime faults (Toxiproxy-style): add one while connected, see it, remove it, see it stop
    gw = mock_gateway_factory()
    ib = IB()
    codes = []
    ib.errorEvent += lambda req_id, code, text, contract: codes.append(code)
    ib.connect(gw.host, gw.port, clientId=1, timeout=10)
    try:
        [aapl] = ib.qualifyContracts(Stock("AAPL", "SMART", "USD"))

        # the same type and parameters as a scenario file's faults: entry
        gw.faults.add("order_reject", name="margin", reason="Insufficient margin")
        rejected = ib.placeOrder(aapl, MarketOrder("BUY", 10))
        assert wait_until(ib, lambda: rejected.orderStatus.status == "Inactive") and 201 in codes
        gw.faults.remove("margin")
        filled = ib.placeOrder(aapl, MarketOrder("BUY", 10))
        assert wait_until(ib, lambda: filled.orderStatus.status == "Filled")

        # a window lasts until removed (or for_s=...); removing it ends it as its scheduled end would
        gw.faults.add("connectivity_loss")
        assert wait_until(ib, lambda: 1100 in codes)       # IB's servers unreachable, the socket stays up
        gw.faults.remove("connectivity_loss")
        assert wait_until(ib, lambda: 1102 in codes)       # restored, data maintained
        assert ib.isConnected()

        listed = {f.name: f.origin for f in gw.faults}     # name, kind, params, origin of each
        assert listed["message_rate"] == "scenario"        # the default pacing rules remain
        gw.faults.clear()
        assert gw.faults.list() == []
    finally:
        ib.disconnect()
