"""Bad input ends one session with a clear reason; the server and every other session keep working."""
from __future__ import annotations

import logging
import random
import struct
import threading

import ib_insync
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mock_gateway.handlers import HANDLERS
from mock_gateway.protocol import encode_frame, encode_handshake
from mock_gateway.protocol.orders import OrderParseError, parse_place_order

from .conftest import out_messages, sys_events, wait_for, wait_thread
from .raw_client import RawClient


@pytest.fixture
def trader(mock_gateway):
    """A well-behaved ib_insync client on the same gateway."""
    ib = ib_insync.IB()
    ib.connect(mock_gateway.host, mock_gateway.port, clientId=1, timeout=5)
    yield ib
    ib.disconnect()


def _disconnect_reason(gw, conn: int) -> str:
    wait_thread(lambda: any(e["conn"] == conn for e in sys_events(gw, "disconnect")), what=f"conn {conn} to end")
    return next(e["attrs"]["reason"] for e in sys_events(gw, "disconnect") if e["conn"] == conn)


def _new_conn(gw, before: int) -> int:
    """The connection number of the session accepted after ``before`` connections."""
    wait_thread(lambda: len(sys_events(gw, "connect")) > before, what="the connection to be accepted")
    return sys_events(gw, "connect")[before]["conn"]


@pytest.mark.parametrize("payload,reason", [
    (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "not a TWS API client"),
    (encode_handshake() + struct.pack(">I", 0x7FFFFFFF) + b"xx", "exceeds the maximum"),
    (encode_handshake() + struct.pack(">I", 4) + b"ab\x00\x00", "without a numeric id"),
    (b"API\x00" + struct.pack(">I", 5000), "not a TWS API version string"),
    (encode_handshake("v1x..2"), "not numeric"),
], ids=["http", "oversized-prefix", "non-numeric-id", "huge-hello", "bad-version"])
def test_bad_bytes_end_only_that_session(mock_gateway, trader, caplog, payload, reason):
    caplog.set_level(logging.INFO, logger="mock_gateway")
    before = len(sys_events(mock_gateway, "connect"))
    with RawClient(mock_gateway.host, mock_gateway.port) as bad:
        conn = _new_conn(mock_gateway, before)
        bad.send_raw(payload)
        bad.read_until_closed()
    assert reason in _disconnect_reason(mock_gateway, conn)
    assert any(reason in r.getMessage() for r in caplog.records)
    assert trader.reqCurrentTime() is not None and trader.isConnected()


def test_a_client_vanishing_mid_message_ends_its_session_cleanly(mock_gateway, trader):
    before = len(sys_events(mock_gateway, "connect"))
    with RawClient(mock_gateway.host, mock_gateway.port) as half:
        conn = _new_conn(mock_gateway, before)
        half.hello()
        half.send_raw(encode_frame([71, 2, 77, ""])[:-3])   # then gone
    assert _disconnect_reason(mock_gateway, conn) == "client closed the connection"
    assert trader.reqCurrentTime() is not None


def test_unknown_message_id_is_answered_with_320_and_the_session_lives(mock_gateway):
    with RawClient(mock_gateway.host, mock_gateway.port) as client:
        client.hello()
        client.start(8)
        client.send(4242, 1, "x")
        client.send(49, 1)
        messages = client.read_until(lambda msgs: any(f[0] == "49" for f in msgs))
    errors = [f for f in messages if f[0] == "4" and f[3] == "320"]
    assert errors and "4242" in errors[0][4]


@pytest.mark.parametrize("fields,code", [
    ([10, 5, 31, 0, "AAPL", "STK", "", 0, "", "", "SMART", "", "USD", "", "", 5, 0, ""], 10092),   # reqMktDepth
    ([52, 2, 33, 0, "AAPL", "STK", "", "", "USD", "", "", "ReportsFinSummary", ""], 430),        # fundamentals
    ([9, 8, 34, 0], 320),                                                                         # truncated contract
    ([3, 35, 0, "AAPL", "STK"], 320),                                                            # truncated order
    ([20, 36, 0, "AAPL", "STK", "", 0.0, "", "", "SMART", "", "USD", "", "", 0, "", "1 fortnight", "1 D", 0,
      "TRADES", 1, 0, ""], 321),                                                                 # bad bar size
], ids=["mkt-depth", "fundamentals", "short-contract-details", "short-place-order", "bad-bar-size"])
def test_requests_the_gateway_cannot_serve_get_the_gateways_error(mock_gateway, fields, code):
    with RawClient(mock_gateway.host, mock_gateway.port) as client:
        client.hello()
        client.start(8)
        client.send(*fields)
        client.send(49, 1)
        messages = client.read_until(lambda msgs: any(f[0] == "49" for f in msgs))
    assert [f[3] for f in messages if f[0] == "4" and f[3] not in ("2104", "2106", "2158", "2199")] == [str(code)]


def test_a_bug_in_a_handler_becomes_error_321_not_a_dead_session(mock_gateway, trader, monkeypatch):
    def broken(session, fields):
        raise KeyError("boom")

    monkeypatch.setitem(HANDLERS, 8, broken)   # reqIds
    codes = []
    trader.errorEvent += lambda req_id, code, *rest: codes.append(code)
    trader.client.reqIds(1)
    wait_for(trader, lambda: codes, what="the error")
    assert codes == [321] and trader.reqCurrentTime() is not None


def _junk(rng: random.Random) -> bytes:
    """One piece of protocol abuse: garbage, bad prefixes, random frames, half messages."""
    kind = rng.randrange(6)
    if kind == 0:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))
    if kind == 1:
        return encode_handshake() + struct.pack(">I", rng.randrange(0x1000000, 0xFFFFFFFF))
    if kind == 2:
        return encode_handshake() + encode_frame([71, 2, rng.randrange(100, 10_000), ""])[:rng.randrange(1, 12)]
    ids = [i for i in range(1, 105) if i != 58]   # not reqGlobalCancel: it would cancel the trader's orders
    frames = b"".join(encode_frame([rng.choice(ids)] + [rng.choice(["", "0", "1", "-1", "AAPL", "STK", "1.5",
                                                                    "\x7f", "9" * 20, "é"])
                                                         for _ in range(rng.randrange(0, 30))])
                      for _ in range(rng.randrange(1, 8)))
    start = encode_handshake(rng.choice(["v157..176", "v100..157", "v157..178"])) + \
        encode_frame([71, 2, rng.randrange(100, 10_000), ""])
    return start + frames if kind in (3, 4) else start + frames[:rng.randrange(1, len(frames) + 1)]


def test_fuzzed_connections_never_disturb_a_trading_client(mock_gateway, trader):
    rng = random.Random(20261124)
    cases = [_junk(rng) for _ in range(150)]
    done = threading.Event()

    def abuse() -> None:
        for data in cases:
            try:
                with RawClient(mock_gateway.host, mock_gateway.port, timeout_s=2) as c:
                    c.send_raw(data)
                    c.sock.settimeout(0.05)
                    try:
                        c.sock.recv(65536)
                    except OSError:
                        pass
            except OSError:
                pass
        done.set()

    errors = []
    trader.errorEvent += lambda req_id, code, *rest: errors.append(code) if code not in (202,) else None
    contract = ib_insync.Stock("AAPL", "SMART", "USD")
    trader.qualifyContracts(contract)
    abuser = threading.Thread(target=abuse, daemon=True)
    abuser.start()
    fills = 0
    while not done.is_set() or fills < 5:
        trade = trader.placeOrder(contract, ib_insync.MarketOrder("BUY" if fills % 2 else "SELL", 1))
        wait_for(trader, trade.isDone, what="fill during fuzzing")
        fills += trade.orderStatus.status == "Filled"
        rest = trader.placeOrder(contract, ib_insync.LimitOrder("BUY", 1, 50.0))
        wait_for(trader, lambda: rest.orderStatus.status == "Submitted", what="resting order")
        trader.cancelOrder(rest.order)
        wait_for(trader, lambda: rest.orderStatus.status == "Cancelled", what="cancel during fuzzing")
    abuser.join(30)
    assert errors == [] and trader.isConnected() and fills >= 5
    assert len(sys_events(mock_gateway, "connect")) >= len(cases)
    internal = [e for e in out_messages(mock_gateway, "error") if "internal error" in e["attrs"]["text"]]
    assert internal == []
    with RawClient(mock_gateway.host, mock_gateway.port) as late:
        assert late.hello()[0] == "176"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from(list("0123456789.-AB ")), max_size=6), max_size=140),
       st.sampled_from([157, 163, 170, 176, 177, 178]))
def test_place_order_parser_raises_only_its_own_error(tail, version):
    try:
        parse_place_order(["3", "1"] + tail, version)
    except OrderParseError:
        pass


def test_a_client_that_stops_reading_is_closed_before_it_eats_the_memory(mock_gateway_factory):
    gw = mock_gateway_factory(speed=2000.0, log_market_data=False)
    gw.call(setattr, gw, "max_write_buffer_bytes", 100_000)
    reader = ib_insync.IB()
    reader.connect(gw.host, gw.port, clientId=1, timeout=5)
    with RawClient(gw.host, gw.port, recv_buffer_bytes=4096) as stalled:
        stalled.hello()
        stalled.start(2)
        for req_id, (symbol, sec_type, exchange) in enumerate(
                [("AAPL", "STK", "SMART"), ("MSFT", "STK", "SMART"), ("SPY", "STK", "SMART"), ("QQQ", "STK", "SMART"),
                 ("IBM", "STK", "SMART"), ("EUR", "CASH", "IDEALPRO"), ("GBP", "CASH", "IDEALPRO")], start=1):
            stalled.send(1, 11, req_id, 0, symbol, sec_type, "", 0, "", "", exchange, "", "USD", "", "", 0, "", 0, 0, "")
        wait_thread(lambda: any("not reading" in e["attrs"]["reason"] for e in sys_events(gw, "disconnect")),
                    timeout_s=20, what="the stalled session to be closed")
    assert reader.reqCurrentTime() is not None
    reader.disconnect()
