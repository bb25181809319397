"""The official ibapi 9.81.1.post1 client (EClient + its EReader thread) against the mock gateway at 157."""
from __future__ import annotations

import threading
from collections import defaultdict

import pytest

pytest.importorskip("ibapi")

from ibapi.client import EClient  # noqa: E402
from ibapi.contract import Contract  # noqa: E402
from ibapi.execution import ExecutionFilter  # noqa: E402
from ibapi.order import Order  # noqa: E402
from ibapi.wrapper import EWrapper  # noqa: E402

from .conftest import wait_thread  # noqa: E402

ACCOUNT = "DU1234567"


class App(EWrapper, EClient):
    """Records every callback it gets, by name, from the reader thread."""

    def __init__(self) -> None:
        EWrapper.__init__(self)
        EClient.__init__(self, wrapper=self)
        self.calls: dict[str, list[tuple]] = defaultdict(list)
        self.lock = threading.Lock()

    def _record(self, name: str, *args) -> None:
        with self.lock:
            self.calls[name].append(args)

    def got(self, name: str) -> list[tuple]:
        with self.lock:
            return list(self.calls[name])

    def error(self, reqId, errorCode, errorString):   # 157: exactly (reqId, code, text)
        self._record("error", reqId, errorCode, errorString)

    def nextValidId(self, orderId): self._record("nextValidId", orderId)
    def managedAccounts(self, accountsList): self._record("managedAccounts", accountsList)
    def currentTime(self, time): self._record("currentTime", time)
    def contractDetails(self, reqId, contractDetails): self._record("contractDetails", reqId, contractDetails)
    def contractDetailsEnd(self, reqId): self._record("contractDetailsEnd", reqId)
    def tickPrice(self, reqId, tickType, price, attrib): self._record("tickPrice", reqId, tickType, price)
    def tickSize(self, reqId, tickType, size): self._record("tickSize", reqId, tickType, size)
    def historicalData(self, reqId, bar): self._record("historicalData", reqId, bar)
    def historicalDataEnd(self, reqId, start, end): self._record("historicalDataEnd", reqId)
    def openOrder(self, orderId, contract, order, orderState): self._record("openOrder", orderId, order, orderState)
    def openOrderEnd(self): self._record("openOrderEnd")
    def execDetails(self, reqId, contract, execution): self._record("execDetails", reqId, execution)
    def execDetailsEnd(self, reqId): self._record("execDetailsEnd", reqId)
    def commissionReport(self, commissionReport): self._record("commissionReport", commissionReport)
    def position(self, account, contract, position, avgCost): self._record("position", account, contract, position)
    def positionEnd(self): self._record("positionEnd")
    def accountSummary(self, reqId, account, tag, value, currency): self._record("accountSummary", tag, value)
    def accountSummaryEnd(self, reqId): self._record("accountSummaryEnd", reqId)
    def connectionClosed(self): self._record("connectionClosed")
    def pnlSingle(self, reqId, pos, dailyPnL, unrealizedPnL, realizedPnL, value):
        self._record("pnlSingle", reqId, pos, value)
    def positionMulti(self, reqId, account, modelCode, contract, pos, avgCost):
        self._record("positionMulti", reqId, account, contract.symbol, pos)
    def positionMultiEnd(self, reqId): self._record("positionMultiEnd", reqId)
    def symbolSamples(self, reqId, contractDescriptions):
        self._record("symbolSamples", reqId, [d.contract.symbol for d in contractDescriptions])

    def orderStatus(self, orderId, status, filled, remaining, avgFillPrice, permId, parentId, lastFillPrice,
                    clientId, whyHeld, mktCapPrice):
        self._record("orderStatus", orderId, status, filled)

    def statuses(self, order_id: int) -> list[str]:
        return [status for oid, status, _ in self.got("orderStatus") if oid == order_id]


@pytest.fixture
def app(mock_gateway):
    a = App()
    a.connect(mock_gateway.host, mock_gateway.port, clientId=5)
    reader = threading.Thread(target=a.run, name="ibapi-run", daemon=True)
    reader.start()
    wait_thread(lambda: a.got("nextValidId"), what="nextValidId")
    yield a
    if a.isConnected():
        a.disconnect()
    reader.join(5)


def aapl() -> Contract:
    c = Contract()
    c.symbol, c.secType, c.exchange, c.currency = "AAPL", "STK", "SMART", "USD"
    return c


def order(action: str, qty: float, kind: str, lmt: float | None = None, clear_tws_flags: bool = True) -> Order:
    o = Order()
    o.action, o.totalQuantity, o.orderType = action, qty, kind
    if lmt is not None:
        o.lmtPrice = lmt
    if clear_tws_flags:   # ibapi 9.81 defaults them to True; real TWS refuses such orders
        o.eTradeOnly = o.firmQuoteOnly = False
    return o


def test_connects_at_157_with_accounts_and_next_valid_id(app):
    assert app.serverVersion() == 157
    assert app.got("managedAccounts") == [(ACCOUNT,)]
    assert app.got("nextValidId") == [(1,)]
    assert {code for _, code, _ in app.got("error")} == {2104, 2106, 2158, 2199}  # 2199: the mock says it is the mock


def test_contract_details_decode_in_the_157_layout(app):
    app.reqContractDetails(7, aapl())
    wait_thread(lambda: app.got("contractDetailsEnd"), what="contractDetailsEnd")
    ((req_id, details),) = app.got("contractDetails")
    assert (req_id, details.contract.conId, details.longName, details.contract.primaryExchange) == (
        7, 265598, "APPLE INC", "NASDAQ")


def test_market_data_ticks_with_sizes(app):
    app.reqMktData(8, aapl(), "", False, False, [])
    wait_thread(lambda: {t for _, t, _ in app.got("tickPrice")} >= {1, 2, 4}, what="bid, ask and last")
    app.cancelMktData(8)
    sizes = {tick_type: size for _, tick_type, size in app.got("tickSize")}
    assert sizes[0] > 0 and sizes[3] > 0 and isinstance(sizes[8], int)


def test_historical_bars_with_integer_volumes(app):
    app.reqHistoricalData(9, aapl(), "", "1 D", "1 hour", "TRADES", 0, 1, False, [])
    wait_thread(lambda: app.got("historicalDataEnd"), what="historicalDataEnd")
    bars = [bar for _, bar in app.got("historicalData")]
    assert bars and all(isinstance(b.volume, int) and b.high >= b.low for b in bars)


def test_market_order_fills_with_execution_and_commission(app):
    app.placeOrder(1, aapl(), order("BUY", 10, "MKT"))
    wait_thread(lambda: app.got("commissionReport"), what="commissionReport")
    assert app.statuses(1)[-1] == "Filled"
    ((req_id, execution),) = app.got("execDetails")
    assert (req_id, execution.shares, execution.side, execution.orderId) == (-1, 10, "BOT", 1)
    assert app.got("commissionReport")[0][0].execId == execution.execId


def test_limit_order_cancels(app):
    app.placeOrder(2, aapl(), order("BUY", 5, "LMT", 100.0))
    wait_thread(lambda: "Submitted" in app.statuses(2), what="Submitted")
    app.cancelOrder(2)
    wait_thread(lambda: "Cancelled" in app.statuses(2), what="Cancelled")
    assert (2, 202, "Order Canceled - reason:") in app.got("error")


def test_global_cancel_clears_every_open_order(app):
    for order_id in (3, 4, 5):
        app.placeOrder(order_id, aapl(), order("SELL", 1, "LMT", 500.0 + order_id))
    wait_thread(lambda: all("Submitted" in app.statuses(i) for i in (3, 4, 5)), what="three resting orders")
    app.reqGlobalCancel()
    wait_thread(lambda: all("Cancelled" in app.statuses(i) for i in (3, 4, 5)), what="three cancels")
    app.calls["openOrder"].clear()
    app.reqAllOpenOrders()
    wait_thread(lambda: app.got("openOrderEnd"), what="openOrderEnd")
    assert app.got("openOrder") == []


def test_positions_and_account_summary_reflect_the_fill(app):
    app.placeOrder(6, aapl(), order("BUY", 7, "MKT"))
    wait_thread(lambda: "Filled" in app.statuses(6), what="fill")
    app.reqPositions()
    app.reqAccountSummary(11, "All", "NetLiquidation,TotalCashValue,BuyingPower")
    wait_thread(lambda: app.got("positionEnd") and app.got("accountSummaryEnd"), what="positions and summary")
    assert [(acct, c.symbol, qty) for acct, c, qty in app.got("position")] == [(ACCOUNT, "AAPL", 7)]
    summary = dict(app.got("accountSummary"))
    assert float(summary["TotalCashValue"]) < 1_000_000 and float(summary["BuyingPower"]) > 0


def test_order_with_ibapis_default_etradeonly_is_refused_like_tws(app):
    app.placeOrder(7, aapl(), order("BUY", 1, "MKT", clear_tws_flags=False))
    wait_thread(lambda: any(code == 10268 for _, code, _ in app.got("error")), what="error 10268")
    assert app.statuses(7) == []


def test_executions_end_with_exec_details_end(app):
    app.placeOrder(8, aapl(), order("BUY", 2, "MKT"))
    wait_thread(lambda: app.got("commissionReport"), what="fill")
    app.reqExecutions(21, ExecutionFilter())
    wait_thread(lambda: app.got("execDetailsEnd"), what="execDetailsEnd")
    assert [req_id for req_id, _ in app.got("execDetails")] == [-1, 21]


def test_disconnect_closes_cleanly(app, mock_gateway):
    app.disconnect()
    wait_thread(lambda: app.got("connectionClosed"), what="connectionClosed")
    wait_thread(lambda: not mock_gateway.sessions, what="the gateway to drop the session")


def test_pnl_single_positions_multi_and_symbol_search_decode_at_157(app):
    app.placeOrder(9, aapl(), order("BUY", 4, "MKT"))
    wait_thread(lambda: "Filled" in app.statuses(9), what="fill")
    app.reqPnLSingle(31, ACCOUNT, "", 265598)
    app.reqPositionsMulti(32, ACCOUNT, "")
    app.reqMatchingSymbols(33, "MSF")
    wait_thread(lambda: app.got("pnlSingle") and app.got("positionMultiEnd") and app.got("symbolSamples"),
                what="pnlSingle, positionMulti and symbolSamples")
    app.cancelPnLSingle(31)
    (req_id, pos, value), *_ = app.got("pnlSingle")
    assert (req_id, pos) == (31, 4) and isinstance(pos, int) and value > 0
    assert app.got("positionMulti") == [(32, ACCOUNT, "AAPL", 4)]
    assert app.got("symbolSamples") == [(33, ["MSFT"])]
