"""What the real gateway refuses, and how, over a real socket with ib_insync and ib_async.

One behaviour per test: the error code (and text where the sources give it), that nothing
fills, that the account is untouched, and that the refusal is in the event log with its rule.
"""
from __future__ import annotations


import pytest

from .conftest import out_messages, sys_events, wait_for
from .lib_session import LIBS, aapl, connected, errors_of


def cash(gw) -> float:
    return gw.call(lambda: gw.world.account().cash)


def refused(ib, errors, order_id: int) -> tuple[int, str]:
    wait_for(ib, lambda: any(i == order_id for i, _, _ in errors), what=f"the refusal of order {order_id}")
    return next((c, t) for i, c, t in errors if i == order_id)


def rules(gw) -> dict[int, str]:
    return {e["attrs"]["order_id"]: e["attrs"]["rule"] for e in sys_events(gw, "order_rejected")}


def _order(api, kind: str, **fields):
    order = api.Order(action=fields.pop("action", "BUY"), totalQuantity=fields.pop("totalQuantity", 10),
                      orderType=kind, **fields)
    return order


#: (what, order fields, code, rule) -- each an order the real gateway refuses.
INVALID = [
    ("limit off the tick grid", dict(kind="LMT", lmtPrice=100.123), 110, "price_tick"),
    ("stop off the tick grid", dict(kind="STP", auxPrice=50.005), 110, "price_tick"),
    ("sub-dollar limit off the $0.0001 grid", dict(kind="LMT", lmtPrice=0.12345), 110, "price_tick"),
    ("size zero", dict(kind="MKT", totalQuantity=0), 434, "size_zero"),
    ("fractional shares", dict(kind="MKT", totalQuantity=10.5), 10243, "size_increment"),
    ("below the size increment", dict(kind="MKT", totalQuantity=1e-10), 10243, "size_increment"),
    ("unknown order type", dict(kind="BOGUS"), 387, "order_type"),
    ("unknown time in force", dict(kind="MKT", tif="GARBAGE"), 321, "tif_unknown"),
    ("stop without a stop price", dict(kind="STP"), 321, "stop_price_missing"),
    ("stop limit without a stop price", dict(kind="STP LMT", lmtPrice=100.0), 321, "stop_price_missing"),
    ("limit without a limit price", dict(kind="LMT"), 321, "limit_price_missing"),
    ("trailing stop without an offset", dict(kind="TRAIL"), 158, "trail_offset_missing"),
    ("market on close that is not DAY", dict(kind="MOC", tif="GTC"), 113, "tif_moc_loc"),
    ("OPG for a stop order", dict(kind="STP", auxPrice=50.0, tif="OPG"), 111, "tif_order_type"),
    ("GTD without a date", dict(kind="LMT", lmtPrice=100.0, tif="GTD"), 334, "good_till_date"),
    ("NaN limit price", dict(kind="LMT", lmtPrice=float("nan")), 320, "unreadable_field"),   # 'nan' is no Java double
    ("infinite limit price", dict(kind="LMT", lmtPrice=float("inf")), 320, "non_finite_number"),
    ("more than the account can carry", dict(kind="MKT", totalQuantity=1e9), 201, "margin"),
]


@pytest.mark.parametrize("lib", LIBS)
@pytest.mark.parametrize("what, fields, code, rule", INVALID, ids=[x[0] for x in INVALID])
def test_an_invalid_order_is_refused_with_ibs_code_and_nothing_fills(lib, what, fields, code, rule, mock_gateway):
    with connected(lib, mock_gateway) as (api, ib):
        errors = errors_of(ib)
        contract = aapl(api, ib)
        before = cash(mock_gateway)
        fields = dict(fields)
        trade = ib.placeOrder(contract, _order(api, fields.pop("kind"), **fields))
        got_code, _ = refused(ib, errors, trade.order.orderId)
        ib.sleep(0.1)
        assert got_code == code and not trade.fills
        assert ib.reqCurrentTime() is not None          # the client's decoder survived whatever was echoed
    assert cash(mock_gateway) == before
    assert rules(mock_gateway).get(trade.order.orderId) == rule


@pytest.mark.parametrize("lib", LIBS)
def test_a_limit_price_off_the_tick_grid_gets_110_with_ibs_text_for_placeorder_and_what_if(lib, mock_gateway):
    with connected(lib, mock_gateway) as (api, ib):
        errors = errors_of(ib)
        contract = aapl(api, ib)
        trade = ib.placeOrder(contract, api.LimitOrder("BUY", 1, 100.001))
        assert refused(ib, errors, trade.order.orderId) == (
            110, "The price does not conform to the minimum price variation for this contract.")
        ib.whatIfOrder(contract, api.LimitOrder("BUY", 1, 100.001))
        wait_for(ib, lambda: sum(1 for _, c, _ in errors if c == 110) == 2, what="110 for the what-if")


@pytest.mark.parametrize("lib", LIBS)
def test_an_order_id_at_or_below_one_already_used_gets_103_and_next_ids_stay_above(lib, mock_gateway):
    with connected(lib, mock_gateway) as (api, ib):
        errors = errors_of(ib)
        contract = aapl(api, ib)
        high = api.MarketOrder("BUY", 1)
        high.orderId = 50
        ib.placeOrder(contract, high)
        stale = api.MarketOrder("BUY", 1)
        stale.orderId = 40
        trade = ib.placeOrder(contract, stale)
        assert refused(ib, errors, 40) == (103, "Duplicate order id")
        ib.client.reqIds(-1)
        ib.sleep(0.2)
        assert not trade.fills
    next_ids = [e["attrs"]["order_id"] for e in out_messages(mock_gateway, "nextValidId")]
    assert next_ids[-1] == 51
    assert rules(mock_gateway)[40] == "order_id_not_increasing"


@pytest.mark.parametrize("lib", LIBS)
def test_a_margin_rejection_is_201_then_openorder_and_orderstatus_inactive(lib, mock_gateway):
    with connected(lib, mock_gateway) as (api, ib):
        errors = errors_of(ib)
        trade = ib.placeOrder(aapl(api, ib), api.MarketOrder("BUY", 1_000_000))
        code, text = refused(ib, errors, trade.order.orderId)
        wait_for(ib, lambda: trade.orderStatus.status == "Inactive", what="Inactive")
    assert code == 201 and text.startswith("Order rejected - reason:YOUR ORDER IS NOT ACCEPTED")
    sent = [(e["msg"], e["attrs"].get("status", e["attrs"].get("code"))) for e in mock_gateway.event_log.events
            if e["dir"] == "out" and e["msg"] in ("error", "openOrder", "orderStatus")
            and trade.order.orderId in (e["attrs"].get("order_id"), e["attrs"].get("req_id"))]
    assert [m for m, _ in sent] == ["error", "openOrder", "orderStatus"] and sent[2][1] == "Inactive"


@pytest.mark.parametrize("lib", LIBS)
def test_a_modification_is_validated_like_a_new_order_and_a_refused_one_leaves_the_order_as_it_was(lib, mock_gateway):
    with connected(lib, mock_gateway) as (api, ib):
        errors = errors_of(ib)
        contract = aapl(api, ib)
        before = cash(mock_gateway)
        order = api.LimitOrder("BUY", 1, 100.0)
        trade = ib.placeOrder(contract, order)
        wait_for(ib, lambda: trade.orderStatus.status == "Submitted", what="Submitted")
        order.totalQuantity, order.lmtPrice = 1e9, 100_000.0          # the attack run's modification
        ib.placeOrder(contract, order)
        wait_for(ib, lambda: any(c == 201 for _, c, _ in errors), what="201 for the modification")
        order.totalQuantity, order.lmtPrice = 1, 100.001
        ib.client.placeOrder(order.orderId, contract, order)     # the client gave the trade up on the 201
        wait_for(ib, lambda: any(c == 110 for _, c, _ in errors), what="110 for the modification")
        ib.sleep(0.2)
        working = gw_order(mock_gateway, 1, order.orderId)
        assert not trade.fills
    assert (working.status, working.request.total_qty, working.request.lmt_price) == ("Submitted", 1, 100.0)
    assert cash(mock_gateway) == before


def gw_order(gw, client_id: int, order_id: int):
    return gw.call(lambda: gw.world.orders.find(client_id, order_id))


@pytest.mark.parametrize("lib", LIBS)
def test_modifying_a_filled_order_gets_104_and_a_cancelled_one_103(lib, mock_gateway):
    with connected(lib, mock_gateway) as (api, ib):
        errors = errors_of(ib)
        contract = aapl(api, ib)
        filled = ib.placeOrder(contract, api.MarketOrder("BUY", 1))
        wait_for(ib, lambda: filled.orderStatus.status == "Filled", what="fill")
        resting = ib.placeOrder(contract, api.LimitOrder("BUY", 1, 100.0))
        wait_for(ib, lambda: resting.orderStatus.status == "Submitted", what="Submitted")
        ib.cancelOrder(resting.order)
        wait_for(ib, lambda: resting.orderStatus.status == "Cancelled", what="Cancelled")
        ib.client.placeOrder(filled.order.orderId, contract, filled.order)
        ib.client.placeOrder(resting.order.orderId, contract, resting.order)
        wait_for(ib, lambda: {104, 103} <= {c for _, c, _ in errors}, what="104 and 103")
    assert (filled.order.orderId, 104, "Can't modify a filled order.") in errors
    assert any(i == resting.order.orderId and c == 103 for i, c, _ in errors)


def test_ibapi_gets_110_for_an_off_tick_limit_and_103_for_a_stale_id(mock_gateway):
    import threading

    from ibapi.client import EClient
    from ibapi.contract import Contract
    from ibapi.order import Order
    from ibapi.wrapper import EWrapper

    from .conftest import wait_thread

    class App(EWrapper, EClient):
        def __init__(self):
            EClient.__init__(self, self)
            self.next_id = None
            self.errors = []

        def nextValidId(self, orderId):
            self.next_id = orderId

        def error(self, reqId, errorCode, errorString, *rest):
            self.errors.append((reqId, errorCode, errorString))

    def limit(price: float) -> Order:
        order = Order()
        order.action, order.totalQuantity, order.orderType, order.lmtPrice = "BUY", 1, "LMT", price
        order.eTradeOnly = order.firmQuoteOnly = False
        return order

    app = App()
    app.connect(mock_gateway.host, mock_gateway.port, clientId=6)
    threading.Thread(target=app.run, daemon=True).start()
    try:
        wait_thread(lambda: app.next_id is not None, what="nextValidId")
        contract = Contract()
        contract.symbol, contract.secType, contract.exchange, contract.currency = "AAPL", "STK", "SMART", "USD"
        first = app.next_id
        app.placeOrder(first + 5, contract, limit(100.001))
        app.placeOrder(first + 1, contract, limit(100.0))
        wait_thread(lambda: {first + 5, first + 1} <= {i for i, _, _ in app.errors}, what="two refusals")
    finally:
        app.disconnect()
    assert (first + 5, 110, "The price does not conform to the minimum price variation for this contract.") in app.errors
    assert (first + 1, 103, "Duplicate order id") in app.errors
