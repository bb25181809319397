"""Orders across the trading day, over a real socket with ib_insync and ib_async (same API) and ibapi.

Each test starts the simulated clock at the moment it is about (after the close, before the
open, on a holiday, at the Sunday FX open) and checks what the client sees.
"""
from __future__ import annotations

import threading
from datetime import datetime, timezone

import pytest

from .conftest import out_messages, sys_events, wait_for, wait_thread
from .lib_session import LIBS, aapl, connected, errors_of


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def sent_status(gw, order_id: int) -> str:
    """The last orderStatus the gateway sent for the order (ib_async shows a warned order as ValidationError)."""
    return [e["attrs"]["status"] for e in out_messages(gw, "orderStatus") if e["attrs"]["order_id"] == order_id][-1]


def sim_s(gw, moment: datetime) -> float:
    return moment.timestamp() - gw.clock.start.timestamp()


@pytest.mark.parametrize("lib", LIBS)
def test_a_market_order_after_the_close_gets_399_is_held_presubmitted_and_fills_at_the_open(lib, mock_gateway_factory):
    # 09:29:00 New York: a minute before the open, at 20 sim seconds a wall second
    gw = mock_gateway_factory(start=utc(2026, 11, 24, 14, 29), speed=20.0)
    with connected(lib, gw) as (api, ib):
        errors = errors_of(ib)
        contract = aapl(api, ib)
        trade = ib.placeOrder(contract, api.MarketOrder("BUY", 10))
        wait_for(ib, lambda: any(code == 399 for _, code, _ in errors), what="warning 399")
        assert sent_status(gw, trade.order.orderId) == "PreSubmitted" and not trade.fills
        wait_for(ib, lambda: trade.orderStatus.status == "Filled", timeout_s=10, what="the fill at the open")
    [(order_id, _, text)] = [e for e in errors if e[1] == 399]
    assert order_id == trade.order.orderId
    assert text == ("Order Message:\nBUY 10 AAPL NASDAQ.NMS\nWarning: Your order will not be placed at the "
                    "exchange until 2026-11-24 09:30:00 US/Eastern")
    open_s = sim_s(gw, utc(2026, 11, 24, 14, 30))
    fill = trade.fills[0].execution
    assert fill.time.timestamp() >= utc(2026, 11, 24, 14, 30).timestamp()
    assert fill.price == gw.call(lambda: gw.world.market.quote_at(contract.conId, open_s).ask)
    mine = [e for e in out_messages(gw, "orderStatus") if e["attrs"]["order_id"] == trade.order.orderId]
    assert mine[0]["attrs"]["status"] == "PreSubmitted" and mine[0]["sim"] < open_s
    assert all(e["sim"] >= open_s for e in mine if e["attrs"]["status"] in ("Submitted", "Filled"))


@pytest.mark.parametrize("lib", LIBS)
def test_a_market_order_after_the_evening_close_waits_for_the_next_mornings_open(lib, mock_gateway_factory):
    gw = mock_gateway_factory(start=utc(2026, 11, 24, 22, 0))          # 17:00 New York
    with connected(lib, gw) as (api, ib):
        errors = errors_of(ib)
        trade = ib.placeOrder(aapl(api, ib), api.MarketOrder("SELL", 5))
        wait_for(ib, lambda: any(code == 399 for _, code, _ in errors), what="warning 399")
        ib.sleep(0.2)
        assert sent_status(gw, trade.order.orderId) == "PreSubmitted" and not trade.fills
    assert [t for _, c, t in errors if c == 399][0].endswith("until 2026-11-25 09:30:00 US/Eastern")


@pytest.mark.parametrize("lib", LIBS)
def test_a_market_order_with_outside_rth_gets_2109_and_still_waits_for_regular_hours(lib, mock_gateway_factory):
    gw = mock_gateway_factory(start=utc(2026, 11, 24, 13, 0))          # 08:00 New York, pre-market
    with connected(lib, gw) as (api, ib):
        errors = errors_of(ib)
        order = api.MarketOrder("BUY", 1)
        order.outsideRth = True
        trade = ib.placeOrder(aapl(api, ib), order)
        wait_for(ib, lambda: {2109, 399} <= {c for _, c, _ in errors}, what="2109 and 399")
        ib.sleep(0.2)
        assert sent_status(gw, trade.order.orderId) == "PreSubmitted" and not trade.fills
    text = [t for _, c, t in errors if c == 2109][0]
    assert "Attribute 'Outside Regular Trading Hours' is ignored" in text


@pytest.mark.parametrize("lib", LIBS)
def test_an_outside_rth_limit_order_fills_in_the_pre_market_and_a_plain_one_waits(lib, mock_gateway_factory):
    gw = mock_gateway_factory(start=utc(2026, 11, 24, 13, 0))          # 08:00 New York
    with connected(lib, gw) as (api, ib):
        errors = errors_of(ib)
        contract = aapl(api, ib)
        ask = gw.call(lambda: gw.world.market.quote(contract.conId).ask)
        extended = api.LimitOrder("BUY", 1, round(ask + 0.5, 2))
        extended.outsideRth = True
        regular = api.LimitOrder("BUY", 1, round(ask + 0.5, 2))
        t_ext, t_reg = ib.placeOrder(contract, extended), ib.placeOrder(contract, regular)
        wait_for(ib, lambda: t_ext.orderStatus.status == "Filled", what="the extended-hours fill")
        wait_for(ib, lambda: any(i == regular.orderId and c == 399 for i, c, _ in errors), what="399 for the plain one")
        assert sent_status(gw, regular.orderId) == "PreSubmitted" and not t_reg.fills
    assert not any(i == extended.orderId for i, _, _ in errors)


@pytest.mark.parametrize("lib", LIBS)
def test_a_day_order_is_cancelled_at_the_close_and_a_gtc_order_survives_it(lib, mock_gateway_factory):
    gw = mock_gateway_factory(start=utc(2026, 11, 24, 20, 59, 30), speed=20.0)   # 15:59:30 New York
    with connected(lib, gw) as (api, ib):
        contract = aapl(api, ib)
        far = round(gw.call(lambda: gw.world.market.quote(contract.conId).bid) * 0.5, 2)
        day = ib.placeOrder(contract, api.LimitOrder("BUY", 1, far))
        gtc = api.LimitOrder("BUY", 1, far)
        gtc.tif = "GTC"
        gtc_trade = ib.placeOrder(contract, gtc)
        wait_for(ib, lambda: day.orderStatus.status == "Cancelled", timeout_s=10, what="the DAY order's end")
        ib.sleep(0.3)
        assert gtc_trade.orderStatus.status == "Submitted"
    [cancel] = [e for e in out_messages(gw, "orderStatus")
                if e["attrs"]["order_id"] == day.order.orderId and e["attrs"]["status"] == "Cancelled"]
    assert cancel["sim"] == pytest.approx(sim_s(gw, utc(2026, 11, 24, 21, 0)))


@pytest.mark.parametrize("lib", LIBS)
def test_on_a_holiday_contract_hours_say_closed_and_orders_wait_for_the_next_trading_day(lib, mock_gateway_factory):
    gw = mock_gateway_factory(start=utc(2026, 11, 26, 17, 0))          # Thanksgiving, noon New York
    with connected(lib, gw) as (api, ib):
        errors = errors_of(ib)
        [details] = ib.reqContractDetails(api.Stock("AAPL", "SMART", "USD"))
        trade = ib.placeOrder(details.contract, api.MarketOrder("BUY", 1))
        wait_for(ib, lambda: any(c == 399 for _, c, _ in errors), what="399")
        assert sent_status(gw, trade.order.orderId) == "PreSubmitted"
    assert details.liquidHours.startswith("20261126:CLOSED;20261127:0930-20261127:1300")
    assert details.tradingHours.startswith("20261126:CLOSED;20261127:0400-20261127:1700")
    assert [t for _, c, t in errors if c == 399][0].endswith("until 2026-11-27 09:30:00 US/Eastern")


@pytest.mark.parametrize("lib", LIBS)
def test_fx_opens_at_1715_new_york_on_sunday(lib, mock_gateway_factory):
    gw = mock_gateway_factory(start=utc(2026, 11, 29, 22, 14), speed=20.0)   # Sunday 17:14 New York
    with connected(lib, gw) as (api, ib):
        errors = errors_of(ib)
        pair = api.Forex("EURUSD")
        ib.qualifyContracts(pair)
        trade = ib.placeOrder(pair, api.MarketOrder("BUY", 20000))
        wait_for(ib, lambda: any(c == 399 for _, c, _ in errors), what="399")
        wait_for(ib, lambda: trade.orderStatus.status == "Filled", timeout_s=10, what="the fill at the FX open")
    assert [t for _, c, t in errors if c == 399][0].endswith("until 2026-11-29 17:15:00 US/Eastern")
    assert trade.fills[0].execution.time.timestamp() >= utc(2026, 11, 29, 22, 15).timestamp()


def test_the_last_openorder_of_a_filled_order_carries_its_commission_ibapi(mock_gateway):
    from ibapi.client import EClient
    from ibapi.contract import Contract
    from ibapi.order import Order
    from ibapi.wrapper import EWrapper

    class App(EWrapper, EClient):
        def __init__(self):
            EClient.__init__(self, self)
            self.next_id = None
            self.open_orders = []
            self.done = threading.Event()

        def nextValidId(self, orderId):
            self.next_id = orderId

        def openOrder(self, orderId, contract, order, orderState):
            self.open_orders.append((orderState.status, orderState.commission, orderState.commissionCurrency))
            if orderState.status == "Filled":
                self.done.set()

    app = App()
    app.connect(mock_gateway.host, mock_gateway.port, clientId=5)
    thread = threading.Thread(target=app.run, daemon=True)
    thread.start()
    try:
        wait_thread(lambda: app.next_id is not None, what="nextValidId")
        contract = Contract()
        contract.symbol, contract.secType, contract.exchange, contract.currency = "AAPL", "STK", "SMART", "USD"
        order = Order()
        order.action, order.totalQuantity, order.orderType = "BUY", 10, "MKT"
        order.eTradeOnly = order.firmQuoteOnly = False
        app.placeOrder(app.next_id, contract, order)
        assert app.done.wait(5)
    finally:
        app.disconnect()
    status, commission, currency = app.open_orders[-1]
    assert status == "Filled" and commission == pytest.approx(1.0) and currency == "USD"
    assert all(c > 1e300 for s, c, _ in app.open_orders if s != "Filled")     # unset until filled


def test_a_gtc_order_survives_a_gateway_restart_and_is_listed_after_reconnecting(mock_gateway_factory):
    from mock_gateway.faults.base import FaultStack
    from mock_gateway.faults.connection import GatewayRestart
    from mock_gateway.faults.schedule import Schedule

    gw = mock_gateway_factory(speed=10.0, faults=FaultStack([GatewayRestart(schedule=Schedule(at_s=20, duration_s=10))]))
    with connected("ib_insync", gw) as (api, ib):
        contract = aapl(api, ib)
        far = round(gw.call(lambda: gw.world.market.quote(contract.conId).bid) * 0.5, 2)
        order = api.LimitOrder("BUY", 1, far)
        order.tif = "GTC"
        trade = ib.placeOrder(contract, order)
        wait_for(ib, lambda: trade.orderStatus.status == "Submitted", what="Submitted")
        wait_thread(lambda: sys_events(gw, "disconnect"), timeout_s=8, what="the restart's disconnect")
    wait_thread(lambda: gw.clock.target() > 31, what="the gateway back up")
    with connected("ib_insync", gw) as (api, ib):
        listed = ib.reqAllOpenOrders()
    assert [(t.order.permId, t.orderStatus.status) for t in listed] == [(trade.order.permId, "Submitted")]
