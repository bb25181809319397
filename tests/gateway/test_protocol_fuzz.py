"""No exception escapes the protocol path (issue 12).

Property: any mutation of a valid request, of every request id, gets a valid answer, IB's error
for that request, or a clean close of that one session with one log line; never an exception
in the gateway, never an "internal error" reply; and an ib_insync client trading on the same
gateway sees no error. The valid requests are what ib_insync's own encoder writes at v176.
"""
from __future__ import annotations

import itertools
import os
import logging

import ib_insync
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_gateway.protocol import encode_frame, encode_handshake
from mock_gateway.protocol.requests import REQUEST_SPECS

from .client_codecs import insync_fields
from .conftest import out_messages, wait_for

_STOCK = ib_insync.Stock("AAPL", "SMART", "USD")
_OPTION = ib_insync.Option("AAPL", "20261218", 200, "C", "SMART")
_ACCOUNT = "DU1234567"
#: One valid call per request id (reqGlobalCancel, 58, is left out: it rightly cancels every
#: client's orders, the trader's included).
_CALLS = [
    ("reqMktData", 1, _STOCK, "", False, False, []), ("cancelMktData", 1),
    ("placeOrder", 5, _STOCK, ib_insync.LimitOrder("BUY", 1, 50)), ("cancelOrder", 5), ("reqOpenOrders",),
    ("reqAccountUpdates", True, _ACCOUNT), ("reqExecutions", 1, ib_insync.ExecutionFilter()), ("reqIds", 1),
    ("reqContractDetails", 1, _STOCK), ("reqMktDepth", 1, _STOCK, 5, False, []), ("cancelMktDepth", 1, False),
    ("reqNewsBulletins", True), ("cancelNewsBulletins",), ("setServerLogLevel", 1), ("reqAutoOpenOrders", True),
    ("reqAllOpenOrders",), ("reqManagedAccts",), ("requestFA", 1), ("replaceFA", 1, 1, "<x/>"),
    ("reqHistoricalData", 1, _STOCK, "", "1 D", "1 min", "TRADES", True, 1, False, []),
    ("exerciseOptions", 1, _OPTION, 1, 1, _ACCOUNT, 0),
    ("reqScannerSubscription", 1, ib_insync.ScannerSubscription(), [], []), ("cancelScannerSubscription", 1),
    ("reqScannerParameters",), ("cancelHistoricalData", 1), ("reqCurrentTime",),
    ("reqRealTimeBars", 1, _STOCK, 5, "TRADES", True, []), ("cancelRealTimeBars", 1),
    ("reqFundamentalData", 1, _STOCK, "ReportSnapshot", []), ("cancelFundamentalData", 1),
    ("calculateImpliedVolatility", 1, _OPTION, 1.0, 100.0, []), ("calculateOptionPrice", 1, _OPTION, 0.2, 100.0, []),
    ("cancelCalculateImpliedVolatility", 1), ("cancelCalculateOptionPrice", 1), ("reqMarketDataType", 3),
    ("reqPositions",), ("reqAccountSummary", 1, "All", "NetLiquidation"), ("cancelAccountSummary", 1),
    ("cancelPositions",), ("verifyRequest", "x", "1"), ("verifyMessage", "x"), ("queryDisplayGroups", 1),
    ("subscribeToGroupEvents", 1, 1), ("updateDisplayGroup", 1, "x"), ("unsubscribeFromGroupEvents", 1),
    ("verifyAndAuthRequest", "x", "1", "k"), ("verifyAndAuthMessage", "x", "y"),
    ("reqPositionsMulti", 1, _ACCOUNT, ""), ("cancelPositionsMulti", 1),
    ("reqAccountUpdatesMulti", 1, _ACCOUNT, "", True), ("cancelAccountUpdatesMulti", 1),
    ("reqSecDefOptParams", 1, "AAPL", "", "STK", 265598), ("reqSoftDollarTiers", 1), ("reqFamilyCodes",),
    ("reqMatchingSymbols", 1, "AA"), ("reqMktDepthExchanges",), ("reqSmartComponents", 1, "a6"),
    ("reqNewsArticle", 1, "BZ", "x", []), ("reqNewsProviders",), ("reqHistoricalNews", 1, 1, "BZ", "", "", 10, []),
    ("reqHeadTimeStamp", 1, _STOCK, "TRADES", True, 1), ("reqHistogramData", 1, _STOCK, True, "1 day"),
    ("cancelHistogramData", 1), ("cancelHeadTimeStamp", 1), ("reqMarketRule", 26),
    ("reqPnL", 1, _ACCOUNT, ""), ("cancelPnL", 1), ("reqPnLSingle", 1, _ACCOUNT, "", 265598), ("cancelPnLSingle", 1),
    ("reqHistoricalTicks", 1, _STOCK, "20240101 10:00:00", "", 10, "TRADES", True, False, []),
    ("reqTickByTickData", 1, _STOCK, "Last", 0, False), ("cancelTickByTickData", 1), ("reqCompletedOrders", False),
]
#: The TWS API 10.x requests ib_insync does not know, in ibapi 10.51's text layout (id, reqId, ...).
_TEXT_10X = [
    ["100", "1"], ["101", "1"], ["102", "1", "265598", "", "0", "0", "0", "", "", "10"], ["103", "1"],
    ["104", "1"], ["105"], ["106", "1"], ["107", "1"], ["108", "1"], ["109", "1", "<config/>"],
]
VALID = [insync_fields(176, *call) for call in _CALLS] + _TEXT_10X

#: Values the attack run found or that break naive parsing: Unicode digits, double signs, inf and
#: nan, huge and 5,000-digit numbers, IB's sentinels, separators int() and float() would accept.
HOSTILE = ["²", "٣", "--1", "+-1", "inf", "-inf", "nan", "Infinity", "1e400", "-1e400", "9" * 5000, "1" + "0" * 400,
           "", "-1", "0", "2147483647", "-2147483648", "9223372036854775808", "1.7976931348623157E308", "1_000",
           " 1", "0x10", "é", "\x7f", "AAPL", "BAG", "STK", "1", "1.5", "-0", "20240101 10:00:00 Mars/Olympus",
           "99999999 99:99:99", "1 Y", "0 S", "100000000000 D", "1 secs", "-5 mins", "BID_ASK", "2"]


@st.composite
def mutated(draw) -> list[str]:
    fields = list(draw(st.sampled_from(VALID)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["replace", "replace", "replace", "delete", "insert", "truncate", "extend"]))
        at = draw(st.integers(0 if op == "replace" else 1, max(1, len(fields) - 1)))
        if op == "replace" and at < len(fields):
            fields[at] = draw(st.sampled_from(HOSTILE) | st.text(max_size=8).filter(lambda t: "\0" not in t))
        elif op == "delete" and at < len(fields):
            del fields[at]
        elif op == "insert":
            fields.insert(at, draw(st.sampled_from(HOSTILE)))
        elif op == "truncate":
            fields = fields[:at]
        elif op == "extend":
            fields += draw(st.lists(st.sampled_from(HOSTILE), max_size=5))
    return fields


class _Failures(logging.Handler):
    """Log records that mean an exception reached the loop or a handler blew up."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info or record.levelno >= logging.ERROR or "Fatal error" in record.getMessage():
            self.records.append(record)


_client_ids = itertools.count(1000)


def _answer_or_clean_close(gw, fields: list[str]) -> None:
    from .raw_client import RawClient

    with RawClient(gw.host, gw.port, timeout_s=5) as client:
        client.hello()
        client.start(next(_client_ids))
        client.send_raw(encode_frame(fields) + encode_frame([49, 1]))   # then reqCurrentTime as a sentinel
        messages = client.read_until(lambda msgs: any(m[0] == "49" for m in msgs), timeout_s=5)
    if not any(m[0] == "49" for m in messages):   # closed: it must be the protocol path's clean close
        assert client.eof


def test_every_request_id_has_a_valid_message_to_mutate():
    ids = {int(f[0]) for f in VALID}
    assert ids == set(REQUEST_SPECS) - {71, 58}


@pytest.fixture(scope="module")
def fuzz_gateway():
    from mock_gateway.config import GatewayConfig
    from mock_gateway.faults.base import FaultStack
    from mock_gateway.server import GatewayThread

    failures = _Failures()
    root = logging.getLogger()
    root.addHandler(failures)
    # no pacing faults: the property is about parsing, and a fuzz burst must not be paced away
    with GatewayThread(GatewayConfig(port=0, faults=FaultStack([]), speed=50.0)) as gw:
        trader = ib_insync.IB()
        trader.connect(gw.host, gw.port, clientId=1, timeout=10)
        errors: list[tuple[int, int, str]] = []
        trader.errorEvent += lambda req_id, code, text, *rest: errors.append((req_id, code, text))
        yield gw, trader, errors, failures
        trader.disconnect()
    root.removeHandler(failures)


@settings(max_examples=int(os.environ.get("PRELIVE_FUZZ_EXAMPLES", "250")), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(fields=mutated())
def test_a_mutated_request_gets_an_answer_or_a_clean_close_and_the_trader_sees_nothing(fuzz_gateway, fields):
    gw, trader, errors, failures = fuzz_gateway
    _answer_or_clean_close(gw, fields)
    assert trader.reqCurrentTime() is not None
    assert errors == [], f"the trading client saw errors: {errors}"
    assert failures.records == [], [r.getMessage() for r in failures.records[:3]]


def test_after_the_fuzzing_the_trader_still_trades_and_nothing_was_an_internal_error(fuzz_gateway):
    gw, trader, errors, failures = fuzz_gateway
    contract = ib_insync.Stock("AAPL", "SMART", "USD")
    trader.qualifyContracts(contract)
    trade = trader.placeOrder(contract, ib_insync.MarketOrder("BUY", 1))
    wait_for(trader, trade.isDone, timeout_s=10, what="a fill")
    assert trade.orderStatus.status == "Filled" and errors == [] and failures.records == []
    internal = [e for e in out_messages(gw, "error") if "internal error" in str(e["attrs"].get("text"))]
    assert internal == [], internal[:3]
    assert encode_handshake()   # the module's imports stay used
