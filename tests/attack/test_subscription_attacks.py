"""One client opening subscriptions without end: IB's limits apply (the mock's memory and CPU per
simulated second stay bounded by them), and what is refused is IB's own error."""
from __future__ import annotations

import ib_insync
import pytest


@pytest.fixture
def gw(mock_gateway_factory):
    gateway = mock_gateway_factory()
    gateway.faults.clear()          # no pacing: only the subscription limit stands in the way
    return gateway


def test_the_51st_keep_up_to_date_history_is_refused_with_ibs_322_and_a_cancel_frees_a_place(gw):
    ib = ib_insync.IB()
    ib.connect(gw.host, gw.port, clientId=31, timeout=10)
    errors: list[tuple[int, int, str]] = []
    ib.errorEvent += lambda req_id, code, text, *_: errors.append((req_id, code, text))
    try:
        contract = ib_insync.Stock("AAPL", "SMART", "USD")
        bars = [ib.reqHistoricalData(contract, "", f"{600 + 60 * i} S", "1 min", "TRADES", False, keepUpToDate=True,
                                     timeout=10) for i in range(50)]
        assert all(len(b) > 0 for b in bars) and not [e for e in errors if e[1] == 322]
        refused = ib.reqHistoricalData(contract, "", "7200 S", "1 min", "TRADES", False, keepUpToDate=True, timeout=10)
        assert not refused
        assert [(code, text) for _, code, text in errors if code == 322] == [
            (322, "Error processing request:-'wd' : cause - Only 50 simultaneous API historical data requests "
                  "allowed.")]
        ib.cancelHistoricalData(bars[0])
        ib.sleep(0.2)
        again = ib.reqHistoricalData(contract, "", "7260 S", "1 min", "TRADES", False, keepUpToDate=True, timeout=10)
        assert len(again) > 0
        plain = ib.reqHistoricalData(contract, "", "7320 S", "1 min", "TRADES", False, keepUpToDate=False, timeout=10)
        assert len(plain) > 0                    # a request that ends at once is never refused by the limit
    finally:
        ib.disconnect()


def test_the_limit_is_per_user_across_clients(gw):
    first, second = ib_insync.IB(), ib_insync.IB()
    first.connect(gw.host, gw.port, clientId=32, timeout=10)
    second.connect(gw.host, gw.port, clientId=33, timeout=10)
    codes: list[int] = []
    second.errorEvent += lambda req_id, code, *_: codes.append(code)
    try:
        contract = ib_insync.Stock("MSFT", "SMART", "USD")
        for i in range(50):
            first.reqHistoricalData(contract, "", f"{i + 1} D", "1 hour", "TRADES", False, keepUpToDate=True,
                                    timeout=10)
        assert not second.reqHistoricalData(contract, "", "1 D", "1 hour", "TRADES", False, keepUpToDate=True,
                                            timeout=10)
        assert 322 in codes
        first.disconnect()               # its subscriptions end with its session
        second.sleep(0.3)
        assert second.reqHistoricalData(contract, "", "2 D", "1 hour", "TRADES", False, keepUpToDate=True,
                                        timeout=10)
    finally:
        first.disconnect()
        second.disconnect()


def _scan(lib=ib_insync):
    return lib.ScannerSubscription(instrument="STK", locationCode="STK.US.MAJOR", scanCode="TOP_PERC_GAIN",
                                   numberOfRows=5)


def test_the_scanner_limit_is_the_logins_so_many_clients_cannot_multiply_it(mock_gateway_factory):
    gw = mock_gateway_factory(speed=100.0)
    clients = []
    refusals: list[tuple[int, str]] = []
    try:
        for k in range(4):
            ib = ib_insync.IB()
            ib.connect(gw.host, gw.port, clientId=50 + k, timeout=10)
            ib.errorEvent += lambda req_id, code, text, *_: refusals.append((code, text))
            clients.append(ib)
        subs = [clients[i % 4].reqScannerSubscription(_scan()) for i in range(10)]
        for _ in range(200):
            clients[0].sleep(0.05)
            if all(len(s) for s in subs):
                break
        assert not refusals
        clients[3].reqScannerSubscription(_scan())
        for _ in range(200):
            clients[3].sleep(0.05)
            if refusals:
                break
        assert refusals == [(322, "Error processing request:-'id' : cause - Only 10 simultaneous API scanner "
                                  "subscriptions are allowed.")]
        clients[0].disconnect()               # its scans end with its session: room for as many
        clients[1].sleep(0.3)
        again = clients[3].reqScannerSubscription(_scan())
        for _ in range(200):
            clients[3].sleep(0.05)
            if len(again):
                break
        assert len(again) > 0 and len(refusals) == 1
        assert len(subs) == 10
    finally:
        for ib in clients:
            ib.disconnect()
