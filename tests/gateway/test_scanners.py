"""Market scanners over a real socket with ib_insync and ib_async: parameters XML, ranked rows, filters,
the 30 s refresh, cancel acknowledgement and IB's 162 refusals."""
from __future__ import annotations

import importlib
import itertools
import time
import xml.etree.ElementTree as ET

import pytest

from mock_gateway.scanners import MAX_SCANNER_SUBSCRIPTIONS, SCANNER_REFRESH_S
from mock_gateway.sim.scanner import MAX_SCANNER_ROWS

from .conftest import out_messages, wait_for

LIBS = ["ib_insync", "ib_async"]
_client_ids = itertools.count(11)


@pytest.fixture(scope="module")
def trading_gateway(module_mock_gateway_factory):
    """A gateway a couple of simulated minutes into the session, so prices have moved off the close."""
    gw = module_mock_gateway_factory(speed=100.0)
    deadline = time.monotonic() + 30
    while gw.call(lambda: gw.env.now) < 120 and time.monotonic() < deadline:
        time.sleep(0.05)
    return gw


@pytest.fixture(params=LIBS)
def client(request, trading_gateway):
    lib = importlib.import_module(request.param)
    ib = lib.IB()
    ib.connect(trading_gateway.host, trading_gateway.port, clientId=next(_client_ids), timeout=5)
    try:
        yield lib, ib, trading_gateway
    finally:
        ib.disconnect()


def _sub(lib, **kw):
    base = dict(instrument="STK", locationCode="STK.US.MAJOR", scanCode="MOST_ACTIVE")
    base.update(kw)
    return lib.ScannerSubscription(**base)


def _scan_time(gw) -> float:
    """The simulated time the last scan request was answered at (its inbound event's time)."""
    events = gw.call(lambda: [e for e in gw.event_log.events if e["dir"] == "in"
                              and e["msg"] == "reqScannerSubscription"])
    return events[-1]["sim"]


def _quotes(gw, rows):
    """Each row's quote at the time the scan ran (the clock moves on while the test reads them)."""
    t = _scan_time(gw)
    return [gw.call(lambda c=r.contractDetails.contract.conId: gw.world.market.quote_at(c, t)) for r in rows]


def test_scanner_parameters_is_ibs_xml_listing_what_is_served(client):
    lib, ib, gw = client
    xml = ib.reqScannerParameters()
    assert xml.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    tree = ET.fromstring(xml)
    assert tree.tag == "ScanParameterResponse"
    assert "STK" in [e.text for e in tree.findall("InstrumentList/Instrument/type")]
    locations = [e.text for e in tree.iter("locationCode")]
    assert {"STK.US", "STK.US.MAJOR", "STK.NASDAQ"} <= set(locations)
    codes = [e.text for e in tree.findall("ScanTypeList/ScanType/scanCode")]
    assert {"TOP_PERC_GAIN", "TOP_PERC_LOSE", "MOST_ACTIVE", "HOT_BY_VOLUME", "HIGH_OPT_IMP_VOLAT"} <= set(codes)
    assert "priceAbove" in [e.text for e in tree.findall("FilterList/RangeFilter/AbstractField/code")]


def test_top_perc_gain_rows_are_ranked_gainers_with_contract_details(client):
    lib, ib, gw = client
    rows = ib.reqScannerData(_sub(lib, scanCode="TOP_PERC_GAIN", numberOfRows=10))
    assert rows, "the universe has gainers"
    assert [r.rank for r in rows] == list(range(len(rows)))
    for r in rows:
        c = r.contractDetails.contract
        assert c.secType == "STK" and c.currency == "USD" and c.conId > 0 and c.symbol
        assert r.contractDetails.marketName
    changes = [q.last / q.close - 1 for q in _quotes(gw, rows)]
    assert all(x > 0 for x in changes)
    assert changes == sorted(changes, reverse=True)


def test_top_perc_lose_lists_only_losers(client):
    lib, ib, gw = client
    rows = ib.reqScannerData(_sub(lib, scanCode="TOP_PERC_LOSE", numberOfRows=5))
    assert rows
    assert all(q.last < q.close for q in _quotes(gw, rows))


def test_price_filters_and_row_count_hold(client):
    lib, ib, gw = client
    rows = ib.reqScannerData(_sub(lib, abovePrice=50, belowPrice=300, numberOfRows=7))
    assert 0 < len(rows) <= 7
    assert all(50 < q.last < 300 for q in _quotes(gw, rows))


def test_filter_tag_values_apply(client):
    lib, ib, gw = client
    rows = ib.reqScannerData(_sub(lib), [], [lib.TagValue("priceBelow", "40")])
    assert rows
    assert all(q.last < 40 for q in _quotes(gw, rows))


def test_number_of_rows_is_capped_at_50(client):
    lib, ib, gw = client
    rows = ib.reqScannerData(_sub(lib, numberOfRows=500))
    n_stocks = gw.call(lambda: sum(1 for c in gw.world.contracts if c.sec_type == "STK" and c.currency == "USD"))
    assert len(rows) == min(MAX_SCANNER_ROWS, n_stocks)


def test_unknown_scan_code_is_refused_with_162(client):
    lib, ib, gw = client
    errors = []
    ib.errorEvent += lambda req_id, code, text, *a: errors.append((code, text))
    sub = ib.reqScannerSubscription(_sub(lib, scanCode="NO_SUCH_SCAN"))
    wait_for(ib, lambda: errors, what="error 162")
    assert errors[0][0] == 162 and "NO_SUCH_SCAN" in errors[0][1]
    assert not sub


def test_unknown_filter_tag_is_refused_as_ib_refuses_a_disabled_filter(client):
    lib, ib, gw = client
    errors = []
    ib.errorEvent += lambda req_id, code, text, *a: errors.append((code, text))
    ib.reqScannerSubscription(_sub(lib), [], [lib.TagValue("usdMarketCapAbove", "1")])
    wait_for(ib, lambda: errors, what="error 162")
    assert errors[0] == (162, "Historical Market Data Service error message:Scanner filter usdMarketCapAbove "
                              "is disabled.")


def test_subscription_refreshes_every_30_sim_seconds_until_cancelled(mock_gateway_factory):
    import ib_insync as lib
    gw = mock_gateway_factory(speed=100.0)
    ib = lib.IB()
    ib.connect(gw.host, gw.port, clientId=3, timeout=5)
    try:
        errors = []
        ib.errorEvent += lambda req_id, code, text, *a: errors.append((code, text))
        sub = ib.reqScannerSubscription(_sub(lib, numberOfRows=3))
        wait_for(ib, lambda: len(out_messages(gw, "scannerData")) >= 3, timeout_s=30, what="two refreshes")
        sims = [e["sim"] for e in out_messages(gw, "scannerData")]
        # the first refresh comes on the next 30 s mark of the clock, then one every 30 s
        assert sims[1] - sims[0] <= SCANNER_REFRESH_S + 1.0
        assert sims[2] - sims[1] == pytest.approx(SCANNER_REFRESH_S, abs=1.0)
        wait_for(ib, lambda: len(sub) == 3, timeout_s=15, what="the refreshed rows at the client")
        ib.cancelScannerSubscription(sub)
        wait_for(ib, lambda: any(c == 162 and "cancelled" in t for c, t in errors), what="cancel ack")
        assert gw.call(lambda: sum(gw.scanners.subscriptions(c) for c in range(1, 10))) == 0
    finally:
        ib.disconnect()


def test_the_eleventh_simultaneous_subscription_is_refused(client):
    lib, ib, gw = client
    errors = []
    ib.errorEvent += lambda req_id, code, text, *a: errors.append((req_id, code, text))
    subs = [ib.reqScannerSubscription(_sub(lib, scanCode="TOP_PERC_GAIN", numberOfRows=1)) for _ in range(MAX_SCANNER_SUBSCRIPTIONS)]
    wait_for(ib, lambda: all(len(s) for s in subs), timeout_s=15, what="ten scans answered")
    assert not errors
    eleventh = ib.reqScannerSubscription(_sub(lib, scanCode="TOP_PERC_GAIN", numberOfRows=1))
    wait_for(ib, lambda: errors, timeout_s=15, what="the refusal")
    assert errors[0][1] == 322 and "Only 10 simultaneous API scanner subscriptions are allowed" in errors[0][2]
    assert errors[0][0] == eleventh.reqId
    ib.cancelScannerSubscription(subs[0])
    again = ib.reqScannerSubscription(_sub(lib, scanCode="TOP_PERC_GAIN", numberOfRows=1))
    wait_for(ib, lambda: len(again), timeout_s=15, what="a scan after one was cancelled")


def test_the_first_scan_of_a_day_does_not_hold_other_requests(mock_gateway_factory):
    """The first HOT_BY_VOLUME scan builds every stock's year of daily statistics (~2 s of CPU): it is computed
    in slices, so a request sent after it is answered before its rows."""
    import ib_insync as lib
    gw = mock_gateway_factory(speed=10.0)
    ib = lib.IB()
    ib.connect(gw.host, gw.port, clientId=5, timeout=5)
    try:
        sub = ib.reqScannerSubscription(_sub(lib, scanCode="HOT_BY_VOLUME", numberOfRows=5))
        ib.reqCurrentTime()
        answered_first = len(sub) == 0
        wait_for(ib, lambda: len(sub) == 5, timeout_s=60, what="the scan's rows")
        assert answered_first, "reqCurrentTime waited for the scan"
        assert out_messages(gw, "currentTime")[0]["wall"] < out_messages(gw, "scannerData")[0]["wall"]
    finally:
        ib.disconnect()
