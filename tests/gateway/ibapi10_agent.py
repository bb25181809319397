"""Runs inside a venv with the current official client (ibapi-stable 10.50 / ibapi-latest 10.51).

Those packages install a top-level ``ibapi`` that would replace ibapi 9.81 of the dev extra, so the
tests drive them in their own interpreter through this script (stdlib + ibapi only, no project code):

    flow PORT CLIENT_ID      a full trading session against a gateway; prints one JSON event per line
    decode SERVER_VERSION    reads JSON [[wire_id, hex payload], ...] on stdin, decodes each message with
                             the client's own reader logic and Decoder; prints the wrapper calls as JSON
    encode SERVER_VERSION    prints the frames the client writes for a fixed set of requests, as JSON
    depth PORT CLIENT_ID     market depth lines (SMART depth, ARCA, a refused SMART line, cancel); prints JSON
"""
from __future__ import annotations

import json
import sys
import threading
import time
from decimal import Decimal


def _jsonable(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, float) and value != value:
        return "nan"
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_jsonable(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, (set, frozenset)) else items
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if not hasattr(value, "__dict__"):
        return repr(value)
    return {k: _jsonable(v) for k, v in vars(value).items() if not k.startswith("_")}


def _recording_wrapper(sink):
    from ibapi.wrapper import EWrapper

    class Recorder(EWrapper):
        pass

    def make(name):
        def record(self, *args):
            sink(name, args)
        return record

    for name in dir(EWrapper):
        if name.startswith("_") or not callable(getattr(EWrapper, name)) or name.endswith("ProtoBuf"):
            continue
        if name in ("logAnswer",):
            continue
        setattr(Recorder, name, make(name))
    return Recorder()


# ---------------------------------------------------------------------------------------------- flow
def flow(port: int, client_id: int) -> None:
    from ibapi.client import EClient
    from ibapi.contract import Contract
    from ibapi.order import Order
    from ibapi.order_cancel import OrderCancel

    lock = threading.RLock()
    events: list = []

    def emit(obj):   # one write per line under the lock: the reader thread prints too
        with lock:
            sys.stdout.write(json.dumps(obj) + "\n")
            sys.stdout.flush()

    def sink(name, args):
        with lock:
            jargs = _jsonable(list(args))
            events.append((time.monotonic(), name, jargs))
            emit({"call": name, "args": jargs})

    wrapper = _recording_wrapper(sink)
    client = EClient(wrapper)

    def wait(pred, timeout_s=10.0, what=""):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with lock:
                if pred(events):
                    return True
            time.sleep(0.02)
        emit({"timeout": what})
        return False

    def has(name, cond=lambda a: True):
        return lambda evs: any(n == name and cond(a) for _, n, a in evs)

    client.connect("127.0.0.1", port, client_id)
    threading.Thread(target=client.run, daemon=True).start()
    wait(has("nextValidId"), what="nextValidId")
    emit({"serverVersion": client.serverVersion()})
    with lock:
        next_id = [a[0] for _, n, a in events if n == "nextValidId"][0]

    aapl = Contract()
    aapl.symbol, aapl.secType, aapl.exchange, aapl.currency = "AAPL", "STK", "SMART", "USD"
    client.reqCurrentTime()
    client.reqCurrentTimeInMillis()
    client.reqContractDetails(11, aapl)
    wait(has("contractDetailsEnd"), what="contractDetailsEnd")
    bogus = Contract()
    bogus.symbol, bogus.secType, bogus.exchange, bogus.currency = "NOSUCHSYM", "STK", "SMART", "USD"
    client.reqContractDetails(12, bogus)
    wait(has("error", lambda a: a[0] == 12), what="error for unknown contract")
    client.reqMarketDataType(3)
    client.reqMktData(13, aapl, "", False, False, [])
    wait(has("tickPrice", lambda a: a[0] == 13 and a[2] > 0), what="tickPrice")
    client.reqHistoricalData(14, aapl, "", "2 D", "1 hour", "TRADES", 1, 1, False, [])
    wait(has("historicalDataEnd"), what="historicalDataEnd")

    market = Order()
    market.action, market.orderType, market.totalQuantity = "BUY", "MKT", Decimal(10)
    client.placeOrder(next_id, aapl, market)
    wait(has("commissionAndFeesReport"), what="commission report of the market order")
    wait(has("orderStatus", lambda a: a[0] == next_id and a[1] == "Filled"), what="market order filled")

    limit = Order()
    limit.action, limit.orderType, limit.totalQuantity, limit.lmtPrice = "BUY", "LMT", Decimal(5), 100.0
    limit.tif = "DAY"
    client.placeOrder(next_id + 1, aapl, limit)
    wait(has("orderStatus", lambda a: a[0] == next_id + 1 and a[1] == "Submitted"), what="limit order resting")
    limit.lmtPrice = 101.5
    client.placeOrder(next_id + 1, aapl, limit)
    wait(has("openOrder", lambda a: a[0] == next_id + 1 and a[2]["lmtPrice"] == 101.5), what="limit order modified")
    client.cancelOrder(next_id + 1, OrderCancel())
    wait(has("orderStatus", lambda a: a[0] == next_id + 1 and a[1] == "Cancelled"), what="limit order cancelled")

    client.reqPositions()
    wait(has("positionEnd"), what="positionEnd")
    client.reqAccountSummary(15, "All", "NetLiquidation,BuyingPower")
    wait(has("accountSummaryEnd"), what="accountSummaryEnd")
    client.reqPnL(16, "", "")
    wait(has("pnl"), what="pnl")
    client.reqExecutions(17, __import__("ibapi.execution", fromlist=["ExecutionFilter"]).ExecutionFilter())
    wait(has("execDetailsEnd"), what="execDetailsEnd")
    client.reqAllOpenOrders()
    wait(has("openOrderEnd"), what="openOrderEnd")
    client.reqCompletedOrders(False)
    wait(has("completedOrdersEnd"), what="completedOrdersEnd")
    client.cancelMktData(13)
    client.disconnect()
    emit({"done": True})


# ---------------------------------------------------------------------------------------------- bench
def bench(port: int, rounds: int) -> None:
    """reqCurrentTime round trips and one market order to its fill, timed in this client."""
    from ibapi.client import EClient
    from ibapi.contract import Contract
    from ibapi.order import Order

    got = threading.Event()
    state = {"next_id": None, "filled": threading.Event()}

    def sink(name, args):
        if name == "currentTime":
            got.set()
        elif name == "nextValidId":
            state["next_id"] = args[0]
        elif name == "orderStatus" and args[1] == "Filled":
            state["filled"].set()

    client = EClient(_recording_wrapper(sink))
    client.connect("127.0.0.1", port, 5)
    threading.Thread(target=client.run, daemon=True).start()
    deadline = time.monotonic() + 10
    while state["next_id"] is None and time.monotonic() < deadline:
        time.sleep(0.01)
    rtts = []
    for _ in range(rounds):
        got.clear()
        start = time.perf_counter()
        client.reqCurrentTime()
        if not got.wait(5):
            raise SystemExit("no currentTime within 5 s")
        rtts.append((time.perf_counter() - start) * 1000)
    aapl = Contract()
    aapl.symbol, aapl.secType, aapl.exchange, aapl.currency = "AAPL", "STK", "SMART", "USD"
    order = Order()
    order.action, order.orderType, order.totalQuantity = "BUY", "MKT", Decimal(1)
    start = time.perf_counter()
    client.placeOrder(state["next_id"], aapl, order)
    state["filled"].wait(5)
    fill_ms = (time.perf_counter() - start) * 1000
    rtts.sort()
    sys.stdout.write(json.dumps({"serverVersion": client.serverVersion(), "rtt_p50_ms": rtts[len(rtts) // 2],
                                 "rtt_p99_ms": rtts[int(len(rtts) * 0.99)], "fill_ms": fill_ms}) + "\n")
    sys.stdout.flush()
    client.disconnect()


# ---------------------------------------------------------------------------------------------- depth
def depth(port: int, client_id: int) -> None:
    """SMART depth for AAPL (1), ARCA depth for SPY (2), SMART without isSmartDepth (3), then cancels; every
    callback of the session as one JSON list."""
    from ibapi.client import EClient
    from ibapi.contract import Contract

    lock = threading.Lock()
    calls: list = []

    def sink(name, args):
        with lock:
            calls.append({"call": name, "args": _jsonable(list(args))})

    def count(name, req_id):
        with lock:
            return sum(1 for c in calls if c["call"] == name and c["args"][0] == req_id)

    def stock(symbol, exchange):
        c = Contract()
        c.symbol, c.secType, c.exchange, c.currency = symbol, "STK", exchange, "USD"
        return c

    client = EClient(_recording_wrapper(sink))
    client.connect("127.0.0.1", port, client_id)
    threading.Thread(target=client.run, daemon=True).start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with lock:
            if any(c["call"] == "nextValidId" for c in calls):
                break
        time.sleep(0.02)
    client.reqMktDepth(1, stock("AAPL", "SMART"), 5, True, [])
    client.reqMktDepth(2, stock("SPY", "ARCA"), 5, False, [])
    client.reqMktDepth(3, stock("AAPL", "SMART"), 5, False, [])
    deadline = time.monotonic() + 10
    while (count("updateMktDepthL2", 1) < 10 or count("updateMktDepth", 2) < 10) and time.monotonic() < deadline:
        time.sleep(0.02)
    client.cancelMktDepth(1, True)
    client.cancelMktDepth(2, False)
    time.sleep(0.5)
    with lock:
        before = len(calls)
    time.sleep(1.0)
    with lock:
        calls.append({"call": "_after_cancel", "args": [sum(1 for c in calls[before:]
                                                             if c["call"].startswith("updateMktDepth"))]})
        calls.append({"call": "_serverVersion", "args": [client.serverVersion()]})
        out = json.dumps(calls)
    client.disconnect()
    print(out)


# ---------------------------------------------------------------------------------------------- decode
def decode(server_version: int) -> None:
    from ibapi import comm
    from ibapi.decoder import Decoder

    calls: list = []
    wrapper = _recording_wrapper(lambda name, args: calls.append({"call": name, "args": _jsonable(list(args))}))
    decoder = Decoder(wrapper, server_version)
    out = []
    for wire_id, hex_payload in json.load(sys.stdin):
        calls.clear()
        payload = bytes.fromhex(hex_payload)
        if wire_id > 200:   # client.run(): id > PROTOBUF_MSG_ID is protobuf
            decoder.processProtoBuf(payload, wire_id - 200)
        else:
            decoder.interpret(comm.read_fields(payload), wire_id)
        out.append(list(calls))
    print(json.dumps(out))


# ---------------------------------------------------------------------------------------------- encode
def encode(server_version: int) -> None:
    from ibapi.client import EClient
    from ibapi.contract import Contract
    from ibapi.execution import ExecutionFilter
    from ibapi.order import Order
    from ibapi.order_cancel import OrderCancel
    from ibapi.tag_value import TagValue

    sent: list = []

    class Conn:
        def sendMsg(self, msg):
            sent.append(msg[4:].hex())
            return len(msg)

        def isConnected(self):
            return True

    client = EClient(_recording_wrapper(lambda *a: None))
    client.conn = Conn()
    client.connState = EClient.CONNECTED
    client.serverVersion_ = server_version
    client.clientId = 3
    aapl = Contract()
    aapl.symbol, aapl.secType, aapl.exchange, aapl.currency, aapl.primaryExchange = "AAPL", "STK", "SMART", "USD", "NASDAQ"
    aapl.conId = 265598
    order = Order()
    order.action, order.orderType, order.totalQuantity, order.lmtPrice = "SELL", "LMT", Decimal(7), 150.25
    order.tif, order.orderRef, order.account, order.outsideRth = "GTC", "ref-1", "DU1234567", True
    algo = Order()
    algo.action, algo.orderType, algo.totalQuantity, algo.lmtPrice = "BUY", "LMT", Decimal(100), 150.0
    algo.algoStrategy, algo.algoParams = "Adaptive", [TagValue("adaptivePriority", "Normal")]

    def _scan_sub():
        from ibapi.scanner import ScannerSubscription
        sub = ScannerSubscription()
        sub.numberOfRows, sub.instrument, sub.locationCode = 20, "STK", "STK.US.MAJOR"
        sub.scanCode, sub.abovePrice, sub.aboveVolume = "TOP_PERC_GAIN", 5.0, 100000
        return sub
    calls = {
        "startApi": lambda: client.startApi(),
        "reqIds": lambda: client.reqIds(1),
        "reqCurrentTime": lambda: client.reqCurrentTime(),
        "reqCurrentTimeInMillis": lambda: client.reqCurrentTimeInMillis(),
        "reqContractDetails": lambda: client.reqContractDetails(5, aapl),
        "reqMktData": lambda: client.reqMktData(6, aapl, "233,236", False, False, []),
        "cancelMktData": lambda: client.cancelMktData(6),
        "reqMarketDataType": lambda: client.reqMarketDataType(3),
        "reqHistoricalData": lambda: client.reqHistoricalData(7, aapl, "20261124 16:00:00 UTC", "2 D", "1 hour",
                                                              "TRADES", 1, 1, False, []),
        "reqHistoricalDataKeepUp": lambda: client.reqHistoricalData(8, aapl, "", "1 D", "5 mins", "MIDPOINT", 0, 2,
                                                                    True, []),
        "cancelHistoricalData": lambda: client.cancelHistoricalData(8),
        "reqRealTimeBars": lambda: client.reqRealTimeBars(9, aapl, 5, "TRADES", True, []),
        "reqHeadTimeStamp": lambda: client.reqHeadTimeStamp(10, aapl, "TRADES", 1, 1),
        "reqHistogramData": lambda: client.reqHistogramData(23, aapl, True, "3 days"),
        "cancelHistogramData": lambda: client.cancelHistogramData(23),
        "reqHistoricalTicks": lambda: client.reqHistoricalTicks(24, aapl, "20261124 14:00:00 UTC", "", 100,
                                                                "BID_ASK", 1, True, []),
        "placeOrder": lambda: client.placeOrder(11, aapl, order),
        "placeAlgoOrder": lambda: client.placeOrder(12, aapl, algo),
        "cancelOrder": lambda: client.cancelOrder(11, OrderCancel()),
        "reqGlobalCancel": lambda: client.reqGlobalCancel(OrderCancel()),
        "reqOpenOrders": lambda: client.reqOpenOrders(),
        "reqAllOpenOrders": lambda: client.reqAllOpenOrders(),
        "reqAutoOpenOrders": lambda: client.reqAutoOpenOrders(True),
        "reqCompletedOrders": lambda: client.reqCompletedOrders(True),
        "reqExecutions": lambda: client.reqExecutions(13, ExecutionFilter()),
        "reqPositions": lambda: client.reqPositions(),
        "cancelPositions": lambda: client.cancelPositions(),
        "reqAccountSummary": lambda: client.reqAccountSummary(14, "All", "NetLiquidation,BuyingPower"),
        "cancelAccountSummary": lambda: client.cancelAccountSummary(14),
        "reqAccountUpdates": lambda: client.reqAccountUpdates(True, "DU1234567"),
        "reqManagedAccts": lambda: client.reqManagedAccts(),
        "reqPnL": lambda: client.reqPnL(15, "DU1234567", ""),
        "cancelPnL": lambda: client.cancelPnL(15),
        "reqPnLSingle": lambda: client.reqPnLSingle(16, "DU1234567", "", 265598),
        "cancelPnLSingle": lambda: client.cancelPnLSingle(16),
        "reqPositionsMulti": lambda: client.reqPositionsMulti(17, "DU1234567", ""),
        "reqAccountUpdatesMulti": lambda: client.reqAccountUpdatesMulti(18, "DU1234567", "", True),
        "reqMatchingSymbols": lambda: client.reqMatchingSymbols(19, "AAP"),
        "reqSecDefOptParams": lambda: client.reqSecDefOptParams(20, "AAPL", "", "STK", 265598),
        "reqMarketRule": lambda: client.reqMarketRule(26),
        "reqScannerParameters": lambda: client.reqScannerParameters(),
        "reqScannerSubscription": lambda: client.reqScannerSubscription(27, _scan_sub(), [],
                                                                        [TagValue("priceBelow", "40")]),
        "cancelScannerSubscription": lambda: client.cancelScannerSubscription(27),
        "reqFamilyCodes": lambda: client.reqFamilyCodes(),
        "reqMktDepthExchanges": lambda: client.reqMktDepthExchanges(),
        "reqMktDepth": lambda: client.reqMktDepth(28, aapl, 5, True, []),
        "cancelMktDepth": lambda: client.cancelMktDepth(28, True),
        "reqSmartComponents": lambda: client.reqSmartComponents(21, "a6"),
        "reqNewsProviders": lambda: client.reqNewsProviders(),
        "reqSoftDollarTiers": lambda: client.reqSoftDollarTiers(22),
        "reqUserInfo": lambda: client.reqUserInfo(25),
        "reqHistoricalNews": lambda: client.reqHistoricalNews(26, 265598, "BRFG+DJNL", "", "", 10, []),
        "reqNewsArticle": lambda: client.reqNewsArticle(28, "BRFG", "BRFG$sim-444857009-20260623", []),
    }
    out = {}
    for name, call in calls.items():
        sent.clear()
        call()
        out[name] = list(sent)
    print(json.dumps(out))


if __name__ == "__main__":
    import os
    import traceback

    mode = sys.argv[1]
    if mode == "flow":
        try:
            flow(int(sys.argv[2]), int(sys.argv[3]))
        except BaseException:
            traceback.print_exc()
            sys.stdout.flush()
            os._exit(1)   # the client's reader thread would keep the process alive
        sys.stdout.flush()
        os._exit(0)
    elif mode == "bench":
        bench(int(sys.argv[2]), int(sys.argv[3]))
        os._exit(0)
    elif mode == "depth":
        depth(int(sys.argv[2]), int(sys.argv[3]))
        sys.stdout.flush()
        os._exit(0)
    elif mode == "decode":
        decode(int(sys.argv[2]))
    elif mode == "encode":
        encode(int(sys.argv[2]))
    else:
        raise SystemExit(f"unknown mode {mode!r}")
