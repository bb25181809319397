"""reqMarketRule over a real socket: IB's public rule ids answer IB's increments, contracts carry those ids,
and far-expiry option chains list as many strikes as IB does."""
from __future__ import annotations

import importlib
import itertools

import pytest

from mock_gateway.sim.universe import strike_width

LIBS = ["ib_insync", "ib_async"]
_client_ids = itertools.count(31)


@pytest.fixture(scope="module")
def gateway(module_mock_gateway_factory):
    return module_mock_gateway_factory()


@pytest.fixture(params=LIBS)
def client(request, gateway):
    lib = importlib.import_module(request.param)
    ib = lib.IB()
    ib.connect(gateway.host, gateway.port, clientId=next(_client_ids), timeout=5)
    try:
        yield lib, ib, gateway
    finally:
        ib.disconnect()


def _increments(rule):
    return [(p.lowEdge, p.increment) for p in rule]


@pytest.mark.parametrize("rule_id, first", [(26, (0.0, 0.01)), (32, (0.0, 0.01)), (67, (0.0, 0.25)),
                                            (635, (0.0, 0.0001)), (2806, (0.0, 0.25))])
def test_public_rule_ids_answer_ibs_increments(client, rule_id, first):
    """The values the real gateway gave @stoqey/ib's live suite (get-market-rule.test.ts)."""
    lib, ib, gw = client
    assert _increments(ib.reqMarketRule(rule_id))[0] == first


def test_us_option_rule_steps_to_five_cents_from_three_dollars(client):
    lib, ib, gw = client
    assert _increments(ib.reqMarketRule(32)) == [(0.0, 0.01), (3.0, 0.05)]


def test_contract_details_carry_the_rule_ids_reqmarketrule_answers(client):
    lib, ib, gw = client
    [stock] = ib.reqContractDetails(lib.Stock("AAPL", "SMART", "USD"))
    assert set(stock.marketRuleIds.split(",")) == {"26"}
    [future] = ib.reqContractDetails(lib.Future("ES", exchange="CME", lastTradeDateOrContractMonth=_front_es(gw)))
    assert future.marketRuleIds == "67"
    assert _increments(ib.reqMarketRule(int(future.marketRuleIds)))[0][1] == future.minTick


def test_every_rule_id_a_contract_carries_is_answered_with_its_tick(client):
    lib, ib, gw = client
    specs = gw.call(lambda: [(c.market_rule_ids, c.min_tick, c.sec_type) for c in gw.world.contracts
                             if c.sec_type in ("STK", "FUT", "CASH", "IND")])
    seen = {}
    for ids, tick, _ in specs:
        for rid in set(ids.split(",")):
            seen.setdefault(int(rid), set()).add(tick)
    for rid, ticks in sorted(seen.items()):
        first = _increments(ib.reqMarketRule(rid))[0]
        assert first[0] == 0.0 and first[1] <= min(ticks) + 1e-12, (rid, first, ticks)


def test_unknown_rule_id_is_an_error_not_a_hang(client):
    lib, ib, gw = client
    errors = []
    ib.errorEvent += lambda req_id, code, text, *a: errors.append((code, text))
    ib.client.reqMarketRule(987654)
    from .conftest import wait_for
    wait_for(ib, lambda: errors, what="the refusal")
    assert errors[0][0] == 321 and "987654" in errors[0][1]


def _front_es(gw) -> str:
    return gw.call(lambda: min(c.last_trade_date for c in gw.world.contracts
                               if c.sec_type == "FUT" and c.symbol == "ES"))[:6]


def test_far_expiry_spy_chain_lists_at_least_92_strikes(client):
    """@stoqey/ib's live suite expects >= 92 strikes in SPY's December chain about three years out."""
    lib, ib, gw = client
    [spy] = ib.qualifyContracts(lib.Stock("SPY", "SMART", "USD"))
    [params] = [p for p in ib.reqSecDefOptParams("SPY", "", "STK", spy.conId)
                if p.exchange == "SMART" and p.tradingClass == "SPY"]
    far = max(e for e in params.expirations if e[4:6] == "12")     # the December LEAPS
    near = min(params.expirations)
    assert int(far[:4]) >= int(near[:4]) + 2

    def strikes(expiry):
        details = ib.reqContractDetails(lib.Option("SPY", expiry, right="C", exchange="SMART", currency="USD"))
        return {d.contract.strike for d in details}
    far_strikes, near_strikes = strikes(far), strikes(near)
    assert len(far_strikes) >= 92
    assert len(far_strikes) > len(near_strikes)
    assert far_strikes <= set(params.strikes)


def test_strike_band_grows_with_time_to_expiry():
    assert strike_width(0.1) == strike_width(1.0) == 0.3
    assert strike_width(1.0) < strike_width(2.0) < strike_width(3.0) <= 0.9
