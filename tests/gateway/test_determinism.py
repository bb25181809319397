"""Same seed, same requests: the same prices and the same fills, whatever the wall clock did."""
from __future__ import annotations

import ib_insync

from mock_gateway.config import MarketConfig

from .conftest import out_messages, wait_for


def _session(gw, work):
    ib = ib_insync.IB()
    ib.connect(gw.host, gw.port, clientId=1, timeout=5)
    try:
        return work(ib)
    finally:
        ib.disconnect()


def _history(ib):
    contract = ib_insync.Stock("QQQ", "SMART", "USD")
    ib.qualifyContracts(contract)
    return [(b.date, b.open, b.high, b.low, b.close, b.volume)
            for b in ib.reqHistoricalData(contract, "20261123 20:00:00 UTC", "2 D", "15 mins", "TRADES", False)]


def test_same_seed_gives_the_same_history(mock_gateway_factory):
    first = _session(mock_gateway_factory(seed=7), _history)
    second = _session(mock_gateway_factory(seed=7), _history)
    other = _session(mock_gateway_factory(seed=8), _history)
    assert len(first) > 20 and first == second and first != other


def _quotes_by_grid_time(gw) -> dict[float, tuple[str, str]]:
    """Bid (tick type 1) and ask (2) prices the gateway sent, by the sim time they were sent at."""
    out: dict[float, dict[str, str]] = {}
    for e in out_messages(gw, "tickPrice"):
        f = e["fields"]
        if f[3] in ("1", "2"):
            out.setdefault(round(e["sim"], 6), {})[f[3]] = f[4]
    return {t: (v.get("1", ""), v.get("2", "")) for t, v in out.items()}


def _stream(ib):
    contract = ib_insync.Stock("AAPL", "SMART", "USD")
    ib.qualifyContracts(contract)
    ticker = ib.reqMktData(contract)
    seen = []
    ticker.updateEvent += lambda t: seen.append(t.bid)
    wait_for(ib, lambda: len(seen) >= 40, timeout_s=10, what="40 quote updates")


def test_same_seed_streams_the_same_quote_at_every_grid_time(mock_gateway_factory):
    config = dict(speed=40.0, market=MarketConfig(tick_interval_s=0.25))
    runs = []
    for seed in (11, 11, 12):
        gw = mock_gateway_factory(seed=seed, **config)
        _session(gw, _stream)
        runs.append(_quotes_by_grid_time(gw))
    same, other = runs[0].keys() & runs[1].keys(), runs[0].keys() & runs[2].keys()
    assert len(same) >= 10 and len(other) >= 10
    assert all(runs[0][t] == runs[1][t] for t in same)
    assert any(runs[0][t] != runs[2][t] for t in other)


def _trades(ib):
    contract = ib_insync.Stock("SPY", "SMART", "USD")
    ib.qualifyContracts(contract)
    out = []
    for action, qty in (("BUY", 10), ("SELL", 4), ("BUY", 1)):
        trade = ib.placeOrder(contract, ib_insync.MarketOrder(action, qty))
        wait_for(ib, lambda: trade.isDone() and trade.fills and trade.fills[-1].commissionReport.execId,
                 what="fill")
        f = trade.fills[-1]
        out.append((trade.order.permId, f.execution.execId, f.execution.price, f.execution.shares,
                    f.commissionReport.commission, f.commissionReport.realizedPNL))
    return out


def test_same_seed_gives_the_same_fills(mock_gateway_factory):
    # one price for the whole test (a 10-minute grid), so fills do not depend on when the orders arrive
    config = dict(market=MarketConfig(tick_interval_s=600.0))
    first = _session(mock_gateway_factory(seed=3, **config), _trades)
    second = _session(mock_gateway_factory(seed=3, **config), _trades)
    other = _session(mock_gateway_factory(seed=4, **config), _trades)
    assert first == second
    assert [t[0] for t in first] != [t[0] for t in other]    # perm ids come from the seed too
