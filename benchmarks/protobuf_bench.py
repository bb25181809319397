"""Protobuf layer figures: what the second encoder costs per message on the gateway's hot path.

    python benchmarks/protobuf_bench.py [--n 20000]

Prints messages per second for: a tickPrice reply as text and as protobuf (the hottest reply), an
openOrder reply as protobuf, and a protobuf placeOrder / reqMktData request decoded into the request
model. Pure CPU, no sockets: the end-to-end round trip is gateway_bench.py's.
"""
from __future__ import annotations

import argparse
import time
from types import SimpleNamespace

from mock_gateway.protocol import messages as m
from mock_gateway.protocol.framing import encode_frame, encode_proto_frame
from mock_gateway.protocol.orders import minimal_wire_order
from mock_gateway.protocol.proto import replies, wire
from mock_gateway.protocol.proto.requests import protobuf_request_fields


def rate(fn, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return n / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20000)
    n = ap.parse_args().n
    tick = m.tick_price(223, 4, 1, 150.25, 100)
    order = minimal_wire_order(7, {"symbol": "AAPL", "secType": "STK", "exchange": "SMART", "currency": "USD",
                                   "conId": "265598"}, 178, action="BUY", totalQuantity=10, orderType="LMT",
                               lmtPrice=150.0, tif="DAY")
    aapl = SimpleNamespace(con_id=265598, symbol="AAPL", sec_type="STK", exchange="SMART", currency="USD")
    open_order = m.open_order(223, order, contract=aapl, client_id=1, perm_id=2, state=m.OrderStateFields("Submitted"))
    contract = {"conId": 265598, "symbol": "AAPL", "secType": "STK", "exchange": "SMART", "currency": "USD"}
    place = wire.encode("PlaceOrderRequest", {"orderId": 7, "contract": contract, "order": {
        "action": "BUY", "totalQuantity": "10", "orderType": "LMT", "lmtPrice": 150.0, "tif": "DAY", "transmit": True}})
    mkt = wire.encode("MarketDataRequest", {"reqId": 4, "contract": contract})
    rows = [
        ("tickPrice reply, text frame", lambda: encode_frame(tick)),
        ("tickPrice reply, protobuf frame", lambda: [encode_proto_frame(i, p) for i, p in replies.to_protobuf(tick)]),
        ("openOrder reply, protobuf frame", lambda: [encode_proto_frame(i, p) for i, p in replies.to_protobuf(open_order)]),
        ("placeOrder request, protobuf -> model", lambda: protobuf_request_fields(3, place)),
        ("reqMktData request, protobuf -> model", lambda: protobuf_request_fields(1, mkt)),
    ]
    for name, fn in rows:
        print(f"{name:42s} {rate(fn, n):>12,.0f} msg/s")


if __name__ == "__main__":
    main()
