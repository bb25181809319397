"""Account data as a real paper account sends it, seen through ib_insync and ibapi over real sockets."""
from __future__ import annotations

import threading

import ib_insync
import pytest
from ibapi.client import EClient
from ibapi.wrapper import EWrapper

from mock_gateway.config import AccountConfig, ExecutionConfig, OpenOrderConfig, PositionConfig
from mock_gateway.faults.codes import ACCOUNT_SUMMARY_LIMIT_TEXT

from .conftest import wait_for, wait_thread

START_STATE = AccountConfig(
    "DU555", 400_000.0, cash_by_currency={"EUR": 25_000.0},
    positions=[PositionConfig("AAPL", 300, 221.35), PositionConfig("IBM", -50, 224.8)],
    open_orders=[OpenOrderConfig("AAPL", "SELL", 100, "LMT", 400.0, client_id=1, order_ref="yesterday-tp")],
    executions=[ExecutionConfig("AAPL", "BUY", 100, 222.1, ago_s=900, client_id=1)])


def connected(gw, client_id: int = 1, **kw) -> ib_insync.IB:
    ib = ib_insync.IB()
    ib.connect(gw.host, gw.port, clientId=client_id, timeout=5, **kw)
    return ib


def test_account_values_carry_base_and_per_currency_ledgers(mock_gateway_factory):
    gw = mock_gateway_factory(accounts=[AccountConfig("DU555", 100_000.0, cash_by_currency={"EUR": 10_000.0,
                                                                                            "GBP": 2_000.0})])
    ib = connected(gw)
    try:
        values = {(v.tag, v.currency): v.value for v in ib.accountValues("DU555")}
    finally:
        ib.disconnect()
    assert {c for t, c in values if t == "CashBalance"} == {"BASE", "USD", "EUR", "GBP"}
    assert values[("CashBalance", "EUR")] == "10000.00" and values[("Currency", "BASE")] == "BASE"
    assert values[("ExchangeRate", "USD")] == "1.00" and float(values[("ExchangeRate", "EUR")]) > 1
    assert values[("AccountReady", "")] == "true" and values[("AccountCode", "")] == "DU555"
    assert ("NetLiquidation", "USD") in values and ("NetLiquidation-S", "USD") in values
    assert float(values[("NetLiquidationByCurrency", "BASE")]) == pytest.approx(float(values[("NetLiquidation", "USD")]),
                                                                                 abs=0.01)


def test_account_summary_tags_have_ib_currencies(mock_gateway):
    ib = connected(mock_gateway)
    try:
        summary = {(v.tag, v.currency): v.value for v in ib.accountSummary()}
    finally:
        ib.disconnect()
    for tag in ("AccountType", "Cushion", "Leverage", "DayTradesRemaining", "LookAheadNextChange"):
        assert (tag, "") in summary, tag
    assert ("NetLiquidation", "USD") in summary and ("BuyingPower", "USD") in summary
    assert {c for t, c in summary if t == "CashBalance"} == {"BASE", "USD"}   # ib_insync asks for $LEDGER:ALL


class _Summaries(EWrapper, EClient):
    def __init__(self) -> None:
        EWrapper.__init__(self)
        EClient.__init__(self, self)
        self.errors: list[tuple[int, int, str]] = []
        self.ended: set[int] = set()
        self.ready = threading.Event()

    def nextValidId(self, orderId: int) -> None:  # noqa: N802,N803
        self.ready.set()

    def error(self, reqId, errorCode, errorString, *rest) -> None:  # noqa: N802,N803
        if errorCode < 2100:
            self.errors.append((reqId, errorCode, errorString))

    def accountSummaryEnd(self, reqId: int) -> None:  # noqa: N802,N803
        self.ended.add(reqId)


def test_a_third_account_summary_subscription_gets_322_and_a_cancel_frees_a_slot(mock_gateway):
    app = _Summaries()
    app.connect(mock_gateway.host, mock_gateway.port, 3)
    thread = threading.Thread(target=app.run, daemon=True)
    thread.start()
    try:
        assert app.ready.wait(5)
        for req_id in (9001, 9002, 9003):
            app.reqAccountSummary(req_id, "All", "NetLiquidation")
        wait_thread(lambda: app.errors and {9001, 9002} <= app.ended, what="two summaries and an error")
        assert app.errors == [(9003, 322, ACCOUNT_SUMMARY_LIMIT_TEXT)] and 9003 not in app.ended
        app.cancelAccountSummary(9001)
        app.reqAccountSummary(9004, "All", "NetLiquidation")
        wait_thread(lambda: 9004 in app.ended, what="a summary after the cancel")
    finally:
        app.disconnect()
        thread.join(5)


def test_ib_insync_finds_the_start_state_at_connect(mock_gateway_factory):
    gw = mock_gateway_factory(accounts=[START_STATE])
    ib = connected(gw)
    try:
        positions = {p.contract.symbol: (p.position, p.avgCost) for p in ib.positions()}
        open_trades = ib.openTrades()
        fills = ib.fills()
    finally:
        ib.disconnect()
    assert positions == {"AAPL": (300, pytest.approx(221.35)), "IBM": (-50, pytest.approx(224.8))}
    [gtc] = open_trades
    assert (gtc.order.action, gtc.order.totalQuantity, gtc.order.lmtPrice, gtc.order.tif, gtc.order.orderRef) == \
        ("SELL", 100, 400.0, "GTC", "yesterday-tp")
    assert gtc.orderStatus.status == "Submitted"
    assert [(f.contract.symbol, f.execution.side, f.execution.shares) for f in fills] == [("AAPL", "BOT", 100)]


def test_the_next_order_id_is_above_the_start_states_orders(mock_gateway_factory):
    gw = mock_gateway_factory(accounts=[START_STATE])
    ib = connected(gw)
    try:
        [gtc] = ib.openTrades()
        assert ib.client.getReqId() > gtc.order.orderId
    finally:
        ib.disconnect()


def test_another_client_sees_the_gtc_order_only_through_all_open_orders(mock_gateway_factory):
    gw = mock_gateway_factory(accounts=[START_STATE])
    ib = connected(gw, client_id=5)
    try:
        assert ib.openTrades() == []
        [trade] = ib.reqAllOpenOrders()
        assert trade.order.clientId == 1 and trade.order.orderRef == "yesterday-tp"
    finally:
        ib.disconnect()


def test_an_fx_fill_moves_both_cash_legs_in_the_account_values(mock_gateway_factory):
    gw = mock_gateway_factory(accounts=[AccountConfig("DU555", 100_000.0)], speed=200.0)
    ib = connected(gw)
    try:
        eurusd = ib_insync.Forex("EURUSD")
        ib.qualifyContracts(eurusd)
        trade = ib.placeOrder(eurusd, ib_insync.MarketOrder("BUY", 20_000))
        wait_for(ib, trade.isDone, what="the FX fill")
        wait_for(ib, lambda: any(v.tag == "CashBalance" and v.currency == "EUR" for v in ib.accountValues()),
                 timeout_s=10, what="the 3-minute account refresh")
        values = {(v.tag, v.currency): float(v.value) for v in ib.accountValues()
                  if v.tag == "CashBalance"}
        fill_price = trade.orderStatus.avgFillPrice
    finally:
        ib.disconnect()
    assert values[("CashBalance", "EUR")] == pytest.approx(20_000)
    assert values[("CashBalance", "USD")] == pytest.approx(100_000 - 20_000 * fill_price - 2.0, abs=0.01)


def test_a_fill_pushes_the_portfolio_and_position_at_once(mock_gateway):
    ib = connected(mock_gateway)
    try:
        aapl = ib_insync.Stock("AAPL", "SMART", "USD")
        ib.qualifyContracts(aapl)
        ib.reqPositions()
        trade = ib.placeOrder(aapl, ib_insync.MarketOrder("BUY", 10))
        wait_for(ib, trade.isDone, what="the fill")
        wait_for(ib, lambda: any(p.contract.conId == aapl.conId and p.position == 10 for p in ib.portfolio()),
                 timeout_s=1, what="updatePortfolio right after the fill")
        wait_for(ib, lambda: any(p.contract.conId == aapl.conId and p.position == 10 for p in ib.positions()),
                 timeout_s=1, what="position right after the fill")
    finally:
        ib.disconnect()


def test_an_ib_insync_bot_that_refreshes_the_summary_by_re_requesting_it_gets_322_the_third_time(mock_gateway):
    ib = connected(mock_gateway)
    errors: list[tuple[int, int, str]] = []
    ib.errorEvent += lambda req_id, code, text, contract=None: errors.append((req_id, code, text))
    try:
        ib.reqAccountSummary()
        ib.reqAccountSummary()                    # ib_insync never cancels: two subscriptions now
        assert errors == []
        try:
            ib.reqAccountSummary()
        except Exception:                          # ib_insync may raise the error on its request future
            pass
        wait_for(ib, lambda: errors, what="error 322")
    finally:
        ib.disconnect()
    assert [(code, text) for _, code, text in errors] == [(322, ACCOUNT_SUMMARY_LIMIT_TEXT)]


def test_ib_async_finds_the_start_state_and_the_multi_currency_ledger(mock_gateway_factory):
    import ib_async

    gw = mock_gateway_factory(accounts=[START_STATE])
    ib = ib_async.IB()
    ib.connect(gw.host, gw.port, clientId=1, timeout=5)
    try:
        positions = {p.contract.symbol: p.position for p in ib.positions()}
        [gtc] = ib.openTrades()
        cash = {v.currency: v.value for v in ib.accountValues() if v.tag == "CashBalance"}
    finally:
        ib.disconnect()
    assert positions == {"AAPL": 300, "IBM": -50}
    assert (gtc.order.tif, gtc.order.orderRef) == ("GTC", "yesterday-tp")
    assert set(cash) == {"BASE", "USD", "EUR"} and cash["EUR"] == "25000.00"
