"""The Node.js client @stoqey/ib (the TypeScript TWS API client most Node users run) against the mock
gateway over a real socket.

Each test starts one script of this folder with ``node`` (the package's compiled dist, no build step)
and checks the JSON line it prints against the gateway's own state. ``scripts/test.sh`` installs the
pinned package with ``npm ci``; without node the tests skip, except in CI (``CI=true``) where a
missing node or an uninstalled package is a failure.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
SCENARIO = HERE / "scenario.yaml"
ACCOUNT = "DU7654321"


def _unavailable(why: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{why} (CI=true: the Node client tests must run; scripts/test.sh installs them)")
    pytest.skip(why)


@pytest.fixture(scope="module")
def node() -> str:
    path = shutil.which("node")
    if path is None:
        _unavailable("node is not installed: install Node.js >= 18 to run the Node client tests")
    if not (HERE / "node_modules" / "@stoqey" / "ib" / "package.json").exists():
        _unavailable("@stoqey/ib is not installed: run `npm ci --prefix tests/node` (scripts/test.sh does)")
    return path


#: (gateway's maximum, version @stoqey/ib 1.6 speaks with it): the current stable gateway gives the client
#: its own maximum 193 (its text layouts up to the CME tagging fields); 187 has the RFQ fields that 190
#: removed again; 178 is the last layout ib_async knows.
VERSIONS = {"current": (None, 193), "rfq-187": (187, 187), "held-178": (178, 178)}


@pytest.fixture(scope="module", params=sorted(VERSIONS))
def gateway(request, module_mock_gateway_factory):
    max_version, expected = VERSIONS[request.param]
    gw = module_mock_gateway_factory(scenario=SCENARIO, **({"max_server_version": max_version} if max_version else {}))
    gw.expected_server_version = expected
    return gw


_client_ids = iter(range(101, 10_000))
_client_ids_lock = threading.Lock()


def _client_id() -> int:
    with _client_ids_lock:
        return next(_client_ids)


def run_node(node: str, script: str, gw, *extra: str, timeout_s: float = 60.0) -> dict:
    """Run ``script`` against ``gw`` and return its result; fail with its reason and stderr otherwise."""
    cmd = [node, str(HERE / script), "--port", str(gw.port), "--client-id", str(_client_id()), *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, cwd=HERE)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if not lines:
        pytest.fail(f"{script} printed no result (exit {proc.returncode}); stderr:\n{proc.stderr[-3000:]}")
    result = json.loads(lines[-1])
    if not result.get("ok"):
        pytest.fail(f"{script}: {result.get('reason')}; errors {result.get('errors')}; stderr:\n{proc.stderr[-3000:]}")
    return result


def test_connects_with_the_v100_handshake_and_reads_the_gateways_clock_and_user_info(node, gateway):
    result = run_node(node, "current_time.js", gateway)
    # @stoqey/ib 1.6 offers v100..193: a current gateway (223) answers its maximum
    assert result["serverVersion"] == gateway.expected_server_version
    assert result["managedAccounts"] == [ACCOUNT]
    assert result["nextValidId"] >= 1
    assert abs(result["currentTime"] - gateway.clock.epoch_now()) < 5
    assert result["whiteBrandingId"] == ""
    assert not result["errors"]


def test_qualifies_a_stock_every_month_of_a_future_and_an_option_from_its_chain(node, gateway):
    result = run_node(node, "contract_details.js", gateway)
    [amzn] = result["stock"]
    assert (amzn["conId"], amzn["secType"], amzn["primaryExch"], amzn["currency"]) == (3691937, "STK", "NASDAQ", "USD")
    futures = result["futures"]
    assert len(futures) >= 2 and {f["symbol"] for f in futures} == {"ES"}
    assert all(f["multiplier"] == 50 and f["minTick"] == 0.25 and f["exchange"] == "CME" for f in futures)
    assert len({f["contractMonth"] for f in futures}) == len(futures)   # one row per listed month
    [index] = result["underlying"]          # the future's underConId qualifies: IND ES on CME
    assert (index["conId"], index["secType"], index["symbol"], index["exchange"]) == (futures[0]["underConId"], "IND", "ES", "CME")
    # the chain is listed for the underlying's conId and the option asked from it qualifies to one contract
    assert {c["underConId"] for c in result["chains"]} == {3691937}
    assert any(c["exchange"] == "SMART" for c in result["chains"])
    [option] = result["option"]
    asked = result["asked"]
    assert (option["symbol"], option["secType"], option["right"]) == ("AMZN", "OPT", "C")
    assert (option["lastTradeDate"], option["strike"]) == (asked["expiry"], asked["strike"])
    assert option["underConId"] == 3691937 and option["multiplier"] == 100
    spec = gateway.call(lambda: gateway.world.contracts.get(option["conId"]))
    assert spec is not None and spec.local_symbol == option["localSymbol"]


def test_streams_top_of_book_that_matches_the_gateways_market(node, gateway):
    result = run_node(node, "market_data.js", gateway, "--ticks", "15")
    assert result["tickPrices"] >= 15
    prices, sizes = result["prices"], result["sizes"]
    assert {"BID", "ASK", "LAST"} <= set(prices)
    # bid and ask arrive as separate ticks, so the last pair seen can be one tick apart either way
    assert prices["BID"] > 0 and abs(prices["ASK"] - prices["BID"]) / prices["BID"] < 0.005
    assert sizes.get("BID_SIZE", 0) > 0 and sizes.get("ASK_SIZE", 0) > 0
    quote = gateway.call(lambda: gateway.world.market.quote(265598))
    assert abs(quote.bid - prices["BID"]) / quote.bid < 0.01   # the same market, seconds later
    assert abs(quote.ask - prices["ASK"]) / quote.ask < 0.01


def test_fetches_daily_and_intraday_bars_ending_now(node, gateway):
    result = run_node(node, "historical_data.js", gateway)
    daily, minutes = result["daily"]["rows"], result["minutes"]["rows"]
    assert 6 <= len(daily) <= 10        # 10 calendar days of sessions (Thanksgiving week)
    assert [d["time"] for d in daily] == sorted(d["time"] for d in daily) and all(len(d["time"]) == 8 for d in daily)
    assert len(minutes) == 12           # an hour of 5-minute bars at midday
    for bar in daily + minutes:
        assert bar["low"] <= min(bar["open"], bar["close"]) <= max(bar["open"], bar["close"]) <= bar["high"]
        assert bar["volume"] > 0
    steps = {int(b["time"]) - int(a["time"]) for a, b in zip(minutes, minutes[1:])}
    assert steps == {300}               # formatDate 2: epoch seconds, 5 minutes apart
    assert int(minutes[-1]["time"]) <= gateway.clock.epoch_now()


def test_places_and_cancels_a_limit_order_fills_a_market_order_and_cancels_globally(node, gateway):
    bid = gateway.call(lambda: gateway.world.market.quote(265598).bid)
    far = f"{round(bid * 0.5, 2)}"
    result = run_node(node, "orders.js", gateway, "--account", ACCOUNT, "--limit-price", far)
    limit, market = result["limit"], result["market"]
    assert (limit["conId"], limit["action"], limit["orderType"], limit["lmtPrice"]) == (265598, "BUY", "LMT", float(far))
    assert [s["status"] for s in limit["statuses"]][-1] == "Cancelled"
    assert any(s["status"] == "Submitted" for s in limit["statuses"])
    assert {"code": 202, "reqId": limit["orderId"]}.items() <= next(
        e for e in result["errors"] if e["reqId"] == limit["orderId"]).items()
    assert market["filled"] == 2 and market["statuses"][-1]["remaining"] == 0
    execution = market["execution"]
    assert (execution["conId"], execution["side"], execution["shares"], execution["acctNumber"]) == (265598, "BOT", 2, ACCOUNT)
    assert market["commission"]["execId"] == execution["execId"] and market["commission"]["commission"] > 0
    assert gateway.call(lambda: gateway.world.account(ACCOUNT).position(265598)) >= 2
    assert [s["status"] for s in result["globalCancel"]["statuses"]][-1] == "Cancelled"


def test_reads_the_scenarios_positions_and_account_summary(node, gateway):
    result = run_node(node, "positions.js", gateway)
    held = {p["symbol"]: (p["pos"], p["avgCost"]) for p in result["positions"] if p["account"] == ACCOUNT}
    assert held["MSFT"] == (40, pytest.approx(410.12))
    assert held["SPY"] == (-10, pytest.approx(595.50))
    summary = {(s["tag"], s["currency"]): s["value"] for s in result["summary"] if s["account"] == ACCOUNT}
    assert float(summary[("NetLiquidation", "USD")]) > 0
    assert summary[("AccountType", "")] == "INDIVIDUAL"
    assert float(summary[("TotalCashValue", "USD")]) == pytest.approx(
        gateway.call(lambda: gateway.world.account(ACCOUNT).cash), abs=0.01)


def test_an_unknown_symbol_is_200_and_an_illegal_bar_size_is_321_and_the_session_goes_on(node, gateway):
    result = run_node(node, "errors.js", gateway)
    assert result["unknownSymbol"]["code"] == 200
    assert result["unknownSymbol"]["message"] == "No security definition has been found for the request"
    assert result["contractRows"] == 0
    assert result["illegalBarSize"]["code"] == 321
    assert "Historical data bar size setting is invalid" in result["illegalBarSize"]["message"]
    assert result["currentTimeAfter"] > 0


def test_lists_the_default_news_providers_and_refuses_an_unsubscribed_one(node, gateway):
    result = run_node(node, "news.js", gateway)
    assert [p["providerCode"] for p in result["providers"]] == ["BRFG", "BRFUPDN", "DJNL"]
    assert result["headlines"] == [] and result["hasMore"] is False
    assert result["unsubscribed"] == {"code": 10276, "message": "News feed is not allowed"}


@pytest.fixture
def restartable_gateway(mock_gateway_factory) -> Iterator:
    yield mock_gateway_factory(scenario=SCENARIO)


def test_reconnects_after_the_gateway_drops_the_session_and_refuses_connections(node, restartable_gateway):
    """A gateway restart (the ``gateway_restart`` fault: sockets dropped, the port refusing while it
    is down) while the client is connected: the client sees the disconnect, retries, and is served
    again on a new session once the gateway listens again."""
    from mock_gateway.faults.connection import GatewayRestart
    from mock_gateway.faults.schedule import Schedule

    gw = restartable_gateway
    restart = GatewayRestart(name="node_restart", schedule=Schedule(at_s=0, duration_s=1))
    cmd = [node, str(HERE / "reconnect.js"), "--port", str(gw.port), "--client-id", str(_client_id()),
           "--retry-ms", "200", "--timeout-ms", "30000"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=HERE)
    try:
        ready = proc.stdout.readline()
        assert json.loads(ready).get("ready"), f"reconnect.js did not connect: {ready!r} {proc.stderr.read()[-2000:]}"
        gw.call(lambda: restart.begin(gw, 1.0))
        refused = threading.Event()
        threading.Timer(1.0, lambda: (gw.call(lambda: restart.end(gw)), refused.set())).start()
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert refused.is_set()
    result = json.loads([line for line in out.splitlines() if line.startswith("{")][-1])
    assert result["ok"], f"{result.get('reason')}: {err[-2000:]}"
    attempts = [e for e in result["events"] if e["name"] == "attempt"]
    assert attempts[-1]["outcome"] == "connected"
    assert any(e["outcome"] == "refused" for e in attempts)      # the port refused while the gateway was down
    assert result["after"] >= result["before"]


def _flap_with_handler(run_scenario, node: str, **env: str):
    from harness.scenario import load_scenario

    scenario = load_scenario("disconnect_flap")
    handler = scenario.handler.model_copy(update={"env": {**scenario.handler.env, **env}})
    scenario = scenario.model_copy(update={"handler": handler})
    return run_scenario(scenario, handler=f"{node} {HERE / 'bot.js'}", duration_s=400)


def test_a_node_handler_that_reconnects_passes_the_disconnect_flap_scenario(node, run_scenario):
    # `prelive run --handler "node bot.js"`: the handler on the scenario's clock, 4 dropped sessions
    outcome = _flap_with_handler(run_scenario, node)
    assert outcome.verdict == "PASS", outcome.cause
    assert outcome.metrics["disconnects"] >= 3 and outcome.metrics["duplicate_orders"] == 0


def test_the_same_node_handler_without_reconnecting_fails_it(node, run_scenario):
    outcome = _flap_with_handler(run_scenario, node, BOT_NO_RECONNECT="1")
    assert outcome.verdict == "FAIL"
    assert "not connected at the end" in str(outcome.cause)   # the first cause names the lost session


def test_node_fetch_adds_a_fault_over_the_control_api_while_the_client_runs(node, mock_gateway_factory):
    # the runtime fault API over HTTP (prelive gateway --control): Node tests need no Python to inject faults
    gw = mock_gateway_factory(scenario=SCENARIO, control="127.0.0.1:0")
    result = run_node(node, "control_api.js", gw, "--control", gw.control.url)
    assert result["addedStatus"] == 201 and result["added"]["type"] == "disconnect"
    assert "disconnected" in [e["name"] for e in result["events"]]
    assert result["acted"] == 1
    assert result["badStatus"] == 400 and "did you mean 'latency'" in result["badError"]
    assert (result["removedStatus"], result["missingStatus"]) == (200, 404)
    added = [e for e in gw.event_log.events if e["msg"] == "fault_added" and e["attrs"]["name"] == "node-drop"]
    assert added[0]["attrs"]["by"].startswith("127.0.0.1:")
