"""calculateImpliedVolatility (54) and calculateOptionPrice (55) are answered as a real IB Gateway answers them.

Sources (docs/fidelity.md, "Option calculations"): a live IB Gateway at server version 157 (ib_async
#222, 2026-06-27, and PR #225, 2026-07-14): the count ib_insync / ib_async / ibapi 9.81 write before the
misc options is refused with 320 "Error reading request. Please use 'Key=Value' format for Misc Options";
without it the gateway answers one tickOptionComputation of tick type 53: impliedVol, optPrice and
undPrice for 54 (delta not computed), price and greeks at the given volatility for 55.
"""
from __future__ import annotations

import asyncio
import math

import pytest

from mock_gateway.option_calc import MISC_OPTIONS_FORMAT

ib_insync = pytest.importorskip("ib_insync")


def _run(coro):
    return asyncio.get_event_loop().run_until_complete(coro)


async def _near_the_money_call(ib):
    """A TSLA call near the money, qualified, and the underlying's price."""
    tsla = ib_insync.Stock("TSLA", "SMART", "USD")
    await ib.qualifyContractsAsync(tsla)
    [chain] = [c for c in await ib.reqSecDefOptParamsAsync("TSLA", "", "STK", tsla.conId) if c.exchange == "SMART"]
    [ticker] = await ib.reqTickersAsync(tsla)
    spot = ticker.marketPrice()
    strike = min(chain.strikes, key=lambda k: abs(k - spot))
    option = ib_insync.Option("TSLA", chain.expirations[1], strike, "C", "SMART", tradingClass=chain.tradingClass)
    await ib.qualifyContractsAsync(option)
    return option, spot


async def _calc(ib, msg_id: int, contract, value: float, under: float, misc: str = ""):
    """A 54/55 in the layout IB reads (ib_async PR #225: no count before the misc options); the computation."""
    req_id = ib.client.getReqId()
    future = ib.wrapper.startReq(req_id, contract)
    ib.client.send(msg_id, 3, req_id, contract, value, under, misc)
    try:
        return await asyncio.wait_for(future, 4)
    finally:
        ib.client.send(msg_id + 2, 1, req_id)


def _session(gw, client_id: int, body):
    async def run():
        ib = ib_insync.IB()
        await ib.connectAsync(gw.host, gw.port, clientId=client_id, timeout=5)
        errors: list[tuple[int, int, str]] = []
        ib.errorEvent += lambda req_id, code, text, contract: errors.append((req_id, code, text))
        try:
            return await body(ib), errors
        finally:
            ib.disconnect()
    return _run(run())


def test_ib_insyncs_own_call_is_refused_with_320_for_the_count_before_the_misc_options(mock_gateway):
    async def body(ib):
        option, spot = await _near_the_money_call(ib)
        return await ib.calculateImpliedVolatilityAsync(option, 5.0, spot)

    result, errors = _session(mock_gateway, 41, body)
    assert not result          # ib_insync ends the request with an empty result on the error
    assert [(code, text) for _, code, text in errors] == [(320, MISC_OPTIONS_FORMAT)]


def test_ib_async_calculate_option_price_is_refused_the_same_way(mock_gateway):
    ib_async = pytest.importorskip("ib_async")

    async def run():
        ib = ib_async.IB()
        await ib.connectAsync(mock_gateway.host, mock_gateway.port, clientId=42, timeout=5)
        errors = []
        ib.errorEvent += lambda req_id, code, text, contract: errors.append(code)
        try:
            tsla = ib_async.Stock("TSLA", "SMART", "USD")
            await ib.qualifyContractsAsync(tsla)
            chains = await ib.reqSecDefOptParamsAsync("TSLA", "", "STK", tsla.conId)
            [chain] = [c for c in chains if c.exchange == "SMART"]
            strike = sorted(chain.strikes)[len(chain.strikes) // 2]
            option = ib_async.Option("TSLA", chain.expirations[1], strike, "P", "SMART",
                                     tradingClass=chain.tradingClass)
            await ib.qualifyContractsAsync(option)
            return await ib.calculateOptionPriceAsync(option, 0.3, strike), errors
        finally:
            ib.disconnect()

    result, errors = _run(run())
    assert not result and errors == [320]


def test_option_price_is_black_scholes_with_greeks_at_the_given_volatility_and_underlying(mock_gateway):
    async def body(ib):
        option, spot = await _near_the_money_call(ib)
        return await _calc(ib, 55, option, 0.3, spot), spot

    (comp, spot), errors = _session(mock_gateway, 43, body)
    assert errors == []
    assert comp.impliedVol == 0.3 and comp.undPrice == spot
    assert 0.35 < comp.delta < 0.7 and comp.gamma > 0 and comp.vega > 0 and comp.theta < 0
    assert 0 < comp.optPrice < spot


def test_implied_volatility_inverts_the_option_price_and_leaves_the_greeks_uncomputed(mock_gateway):
    async def body(ib):
        option, spot = await _near_the_money_call(ib)
        priced = await _calc(ib, 55, option, 0.42, spot)
        implied = await _calc(ib, 54, option, priced.optPrice, spot)
        return priced, implied, spot

    (priced, implied, spot), errors = _session(mock_gateway, 44, body)
    assert errors == []
    assert math.isclose(implied.impliedVol, 0.42, abs_tol=1e-4)
    assert implied.optPrice == priced.optPrice and implied.undPrice == spot
    assert implied.delta is None


def test_a_price_no_volatility_can_give_is_answered_as_not_computed(mock_gateway):
    async def body(ib):
        option, spot = await _near_the_money_call(ib)
        below_intrinsic = await _calc(ib, 54, option, 0.01, option.strike * 2)
        above_the_stock = await _calc(ib, 54, option, spot * 1.5, spot)
        return below_intrinsic, above_the_stock

    (below, above), errors = _session(mock_gateway, 45, body)
    assert errors == []
    assert below.impliedVol is None and above.impliedVol is None


def test_tag_value_misc_options_are_accepted(mock_gateway):
    async def body(ib):
        option, spot = await _near_the_money_call(ib)
        return await _calc(ib, 55, option, 0.25, spot, "dividendYield=0;")

    comp, errors = _session(mock_gateway, 46, body)
    assert errors == [] and comp.impliedVol == 0.25 and comp.optPrice > 0


def test_a_contract_that_is_not_an_option_is_refused_with_321(mock_gateway):
    async def body(ib):
        tsla = ib_insync.Stock("TSLA", "SMART", "USD")
        await ib.qualifyContractsAsync(tsla)
        return await _calc(ib, 54, tsla, 5.0, 300.0)

    result, errors = _session(mock_gateway, 47, body)
    assert not result
    assert [code for _, code, _ in errors] == [321]


# ---------------------------------------------------------------------------------------------- official client 10.x
def _tsla_call_con_id_and_spot(gw) -> tuple[int, float]:
    async def body(ib):
        option, spot = await _near_the_money_call(ib)
        return option.conId, spot
    found, _ = _session(gw, 48, body)
    return found


@pytest.mark.parametrize("max_server_version", [193, 223], ids=["text", "protobuf"])
def test_the_official_client_gets_a_price_and_its_implied_volatility_back(mock_gateway_factory, max_server_version):
    import json
    import subprocess
    from pathlib import Path

    from .ibapi10 import official_client_python

    gw = mock_gateway_factory(max_server_version=max_server_version)
    con_id, spot = _tsla_call_con_id_and_spot(gw)
    done = subprocess.run([str(official_client_python("ibapi-stable")), str(Path(__file__).with_name(
        "option_calc_agent.py")), "calc", str(gw.port), "49", str(con_id), str(spot)], capture_output=True, text=True,
        timeout=120)
    assert done.returncode == 0, done.stderr[-4000:]
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    assert {"serverVersion": max_server_version} in lines
    assert not [x for x in lines if "timeout" in x or ("error" in x and x["error"][0] != -1)]
    comps = {row[0]: row for x in lines if "computation" in x for row in [x["computation"]]}
    priced, implied = comps[1], comps[2]
    assert priced[1] == implied[1] == 53
    assert priced[2] == 0.3 and priced[3] is not None and priced[9] == spot
    assert math.isclose(implied[2], 0.3, abs_tol=1e-4) and implied[3] is None and implied[4] == priced[4]


# ---------------------------------------------------------------------------------------------- official ibapi 9.81
def test_ibapi_981_writes_the_count_too_and_gets_the_same_320(mock_gateway):
    import threading

    pytest.importorskip("ibapi")
    from ibapi.contract import Contract

    from .conftest import wait_thread
    from .test_market_data_ibapi import TickApp

    app = TickApp()
    app.connect(mock_gateway.host, mock_gateway.port, clientId=50)
    reader = threading.Thread(target=app.run, name="ibapi-run", daemon=True)
    reader.start()
    try:
        wait_thread(lambda: app.got("nextValidId"), what="nextValidId")
        query = Contract()
        query.symbol, query.secType, query.exchange, query.currency = "TSLA", "OPT", "SMART", "USD"
        app.reqContractDetails(3, query)
        wait_thread(lambda: app.got("contractDetailsEnd"), what="the TSLA option chain")
        option = app.got("contractDetails")[0][1].contract
        app.calculateImpliedVolatility(4, option, 5.0, 300.0, [])
        wait_thread(lambda: any(r == 4 for r, *_ in app.got("error")), what="the answer to request 4")
    finally:
        app.disconnect()
        reader.join(5)
    assert [(c, t) for r, c, t in app.got("error") if r == 4] == [(320, MISC_OPTIONS_FORMAT)]
    assert not [c for c in app.got("tickOptionComputation") if c[0] == 4]
