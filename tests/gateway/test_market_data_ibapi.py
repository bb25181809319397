"""The official ibapi 9.81.1.post1 decodes every new market data message: option computations, generic ticks,
strings, halted and snapshot end (its decoder raises on a field it cannot parse, and logs nothing to us)."""
from __future__ import annotations

import threading

import pytest

pytest.importorskip("ibapi")

from ibapi.contract import Contract  # noqa: E402

from .conftest import wait_thread  # noqa: E402
from .test_ibapi import App  # noqa: E402


class TickApp(App):
    def tickGeneric(self, reqId, tickType, value): self._record("tickGeneric", reqId, tickType, value)
    def tickString(self, reqId, tickType, value): self._record("tickString", reqId, tickType, value)
    def tickSnapshotEnd(self, reqId): self._record("tickSnapshotEnd", reqId)
    def tickReqParams(self, reqId, minTick, bboExchange, snapshotPermissions):
        self._record("tickReqParams", reqId, minTick, bboExchange)

    def tickOptionComputation(self, reqId, tickType, tickAttrib, impliedVol, delta, optPrice, pvDividend, gamma,
                              vega, theta, undPrice):
        self._record("tickOptionComputation", reqId, tickType, impliedVol, delta, optPrice, undPrice)


def contract(**fields) -> Contract:
    c = Contract()
    for k, v in fields.items():
        setattr(c, k, v)
    return c


def test_ibapi_decodes_stock_statistics_halted_option_computations_and_snapshots(mock_gateway):
    app = TickApp()
    app.connect(mock_gateway.host, mock_gateway.port, clientId=6)
    reader = threading.Thread(target=app.run, name="ibapi-run", daemon=True)
    reader.start()
    try:
        wait_thread(lambda: app.got("nextValidId"), what="nextValidId")
        aapl = contract(symbol="AAPL", secType="STK", exchange="SMART", currency="USD")
        app.reqMktData(1, aapl, "165,104,106,456,233", False, False, [])
        app.reqMktData(2, aapl, "", True, False, [])
        app.reqContractDetails(3, contract(symbol="TSLA", secType="OPT", exchange="SMART", currency="USD"))
        wait_thread(lambda: app.got("contractDetailsEnd"), what="the TSLA option chain")
        option = app.got("contractDetails")[0][1].contract
        app.reqMktData(4, option, "", False, False, [])
        wait_thread(lambda: {r for r, *_ in app.got("tickOptionComputation")} == {4}
                    and len(app.got("tickOptionComputation")) >= 4 and app.got("tickSnapshotEnd")
                    and any(t == 59 for _, t, _ in app.got("tickString")), what="every kind of tick")
    finally:
        app.disconnect()
        reader.join(5)
    assert {t for _, t, *_ in app.got("tickOptionComputation")} >= {10, 11, 12, 13}
    model = [c for c in app.got("tickOptionComputation") if c[1] == 13][0]
    assert 0 < model[2] < 3 and -1 <= model[3] <= 1 and model[4] > 0 and model[5] > 0
    assert (1, 49, 0.0) in app.got("tickGeneric") and any(t == 23 for _, t, _ in app.got("tickGeneric"))
    assert {t for r, t, _ in app.got("tickString") if r == 1} >= {45, 32, 33, 84, 59}
    assert app.got("tickSnapshotEnd") == [(2,)] and [r for r, *_ in app.got("tickReqParams")].count(2) == 1
    assert not [e for e in app.got("error") if e[0] in (1, 2, 4)]
