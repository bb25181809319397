"""Long replies share the event loop (issue 11): a whole option chain, a day's executions and open orders
go out in slices while other clients are answered, byte for byte what the one-shot answer was, and a
cancel or the client leaving stops the work."""
from __future__ import annotations

import asyncio
import time

import ib_insync as ibi
import pytest

from mock_gateway import reference
from mock_gateway.config import AccountConfig, ExecutionConfig, OpenOrderConfig
from mock_gateway.protocol import encode_frame
from mock_gateway.protocol import messages as m
from mock_gateway.sim.contracts import ContractQuery

from .raw_client import RawClient

SV = 176


def _raw(gw, client_id: int) -> RawClient:
    c = RawClient(gw.host, gw.port, timeout_s=30)
    c.hello("v157..176")
    c.start(client_id)
    c.read_until(lambda ms: any(f[0] == "9" for f in ms))
    c.messages.clear()
    return c


def _chain_request(req_id: int, symbol: str, right: str = "") -> list[object]:
    """reqContractDetails (9) for every option on ``symbol`` (no expiry, no strike), as ib_insync writes it."""
    return [9, 8, req_id, 0, symbol, "OPT", "", 0, right, "", "SMART", "", "USD", "", "", 0, "", ""]


def _one_shot_chain(gw, req_id: int, query: ContractQuery) -> list[list[str]]:
    """The answer as the gateway gave it before slicing: every contract at once, then the end."""
    def build():
        now = gw.clock.now_datetime()
        return [m.contract_data(SV, req_id, spec, reference.details_at(spec, now))
                for spec in gw.world.contracts.match(query)] + [m.contract_data_end(req_id)]
    return gw.call(build, timeout_s=60)


def _sent_order(gw, *names: str) -> list[str]:
    """The gateway's outgoing messages of these names, in the order it wrote them (its event log)."""
    return [e["msg"] for e in gw.call(lambda: list(gw.event_log.events)) if e["dir"] == "out" and e["msg"] in names]


def test_another_clients_current_time_is_answered_while_a_whole_spx_chain_is_sent(mock_gateway):
    gw = mock_gateway

    async def run() -> int:
        chain_ib, ping_ib = ibi.IB(), ibi.IB()
        await chain_ib.connectAsync(gw.host, gw.port, clientId=1, timeout=10)
        await ping_ib.connectAsync(gw.host, gw.port, clientId=2, timeout=10)
        try:
            chain = asyncio.ensure_future(chain_ib.reqContractDetailsAsync(ibi.Option("SPX", exchange="SMART")))
            await asyncio.sleep(0.2)                         # the chain is being made on the gateway
            await asyncio.wait_for(ping_ib.reqCurrentTimeAsync(), 60)
            details = await asyncio.wait_for(chain, 300)
            return len({d.contract.conId for d in details})
        finally:
            chain_ib.disconnect()
            ping_ib.disconnect()

    contracts = asyncio.get_event_loop().run_until_complete(run())
    assert contracts > 10_000                                 # SPX lists ~20,000 options, every one came
    sent = _sent_order(gw, "currentTime", "contractData", "contractDataEnd")
    assert sent.index("currentTime") < sent.index("contractData")   # the other client was not kept waiting


def test_a_sliced_chain_is_the_one_shot_answer_message_for_message(mock_gateway):
    gw = mock_gateway
    with _raw(gw, 3) as c:
        c.send(*_chain_request(41, "SPY"))
        got = c.read_until(lambda ms: any(f[0] == "52" for f in ms), timeout_s=120)
    expected = _one_shot_chain(gw, 41, ContractQuery(symbol="SPY", sec_type="OPT", exchange="SMART", currency="USD"))
    assert len(expected) > 1000 and got == expected


def test_a_chain_that_matches_nothing_after_slicing_is_error_200(mock_gateway):
    gw = mock_gateway
    with _raw(gw, 4) as c:
        c.send(9, 8, 42, 0, "SPX", "OPT", "", 123456.0, "C", "", "SMART", "", "USD", "", "", 0, "", "")
        got = c.read_until(lambda ms: any(f[0] in ("4", "52") for f in ms), timeout_s=120)
    errors = [f for f in got if f[0] == "4"]
    assert errors and errors[0][2:4] == ["42", "200"] and not any(f[0] == "10" for f in got)


def test_cancel_contract_data_stops_a_chain_still_being_sent(mock_gateway):
    gw = mock_gateway
    with _raw(gw, 5) as c:
        c.send(*_chain_request(43, "SPX"))
        time.sleep(0.1)
        c.send(106, 43)                                      # cancelContractData
        c.send(49, 1)                                        # a marker: answered once the cancel was read
        c.read_until(lambda ms: any(f[0] == "49" for f in ms), timeout_s=60)
        try:
            c.read_until(lambda ms: False, timeout_s=1.0)
        except TimeoutError:
            pass
        got = c.messages
    assert not any(f[0] == "52" for f in got)                # no end: the answer was stopped, not finished
    assert sum(1 for f in got if f[0] == "10") < 19_000
    assert gw.call(lambda: dict(gw.desks.streams._tasks)) == {}   # and its work is gone


def test_a_client_that_leaves_mid_chain_leaves_no_work_behind(mock_gateway):
    gw = mock_gateway
    c = _raw(gw, 6)
    c.send(*_chain_request(44, "SPX", right="P"))
    time.sleep(0.1)
    c.close()
    deadline = time.monotonic() + 30
    while gw.call(lambda: dict(gw.desks.streams._tasks)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gw.call(lambda: dict(gw.desks.streams._tasks)) == {}


# ---------------------------------------------------------------------------------------------- order listings
@pytest.fixture(scope="module")
def busy_account_gateway(module_mock_gateway_factory):
    """An account with 1,500 fills earlier today and 800 working orders (placed by client 1)."""
    symbols = ("AAPL", "MSFT", "IBM", "SPY")
    account = AccountConfig(
        executions=[ExecutionConfig(symbols[i % 4], "BUY" if i % 2 else "SELL", 10, 100.0 + i % 7, ago_s=3600.0 + i)
                    for i in range(1500)],
        open_orders=[OpenOrderConfig(symbols[i % 4], "BUY", 1 + i % 3, "LMT", lmt_price=1.0 + i % 50 / 100)
                     for i in range(800)])
    return module_mock_gateway_factory(accounts=[account])


class _Recorder:
    """A reply channel that keeps what it is sent (the one-shot answer, built on the gateway's loop)."""

    conn_id, client_id, server_version, closed = 999, 0, SV, False

    def __init__(self) -> None:
        self.messages: list[list[str]] = []

    def send(self, kind, messages, *, fault=None) -> None:
        self.messages += list(messages)


def test_executions_listed_in_slices_are_the_one_shot_listing(busy_account_gateway):
    gw = busy_account_gateway
    with _raw(gw, 10) as c:
        c.send(7, 3, 51, 0, "", "", "", "", "", "")            # reqExecutions, empty filter
        got = c.read_until(lambda ms: any(f[0] == "55" for f in ms), timeout_s=60)

    def one_shot():
        desk, ch = gw.orders, _Recorder()
        msgs = []
        for fill in gw.world.orders.executions():
            msgs += [desk._exec_details(ch, 51, fill), desk._commission(fill.commission)]
        return msgs + [m.exec_details_end(51)]
    expected = gw.call(one_shot)
    assert len(expected) == 3001 and got == expected


def test_open_orders_listed_in_slices_are_the_one_shot_listing(busy_account_gateway):
    gw = busy_account_gateway
    with _raw(gw, 11) as c:
        c.send(16, 1)                                         # reqAllOpenOrders
        got = c.read_until(lambda ms: any(f[0] == "53" for f in ms), timeout_s=60)

    def one_shot():
        desk, ch = gw.orders, _Recorder()
        ch.client_id = 11
        msgs = []
        for order in gw.world.orders.open_orders(None):
            msgs += [desk._open_order(ch, order, order.status), desk._order_status(ch, order, order.status)]
        return msgs + [m.open_order_end()]
    expected = gw.call(one_shot)
    assert len(expected) == 1601 and got == expected


def test_a_current_time_request_overtakes_long_executions_listings(busy_account_gateway):
    gw = busy_account_gateway
    with _raw(gw, 12) as lister, _raw(gw, 13) as pinger:
        lister.send_raw(b"".join(encode_frame([7, 3, 60 + i, 0, "", "", "", "", "", ""]) for i in range(20)))
        time.sleep(0.05)                                     # 20 listings of 3,000 messages, read at once
        pinger.send(49, 1)
        pinger.read_until(lambda ms: any(f[0] == "49" for f in ms), timeout_s=120)
        lister.read_until(lambda ms: sum(1 for f in ms if f[0] == "55") == 20, timeout_s=120)
    sent = _sent_order(gw, "currentTime", "execDetailsEnd")
    assert "execDetailsEnd" in sent[sent.index("currentTime"):]   # answered before the listings all ended


# ---------------------------------------------------------------------------------------------- SIGTERM
def test_sigterm_during_a_whole_chain_stops_the_gateway_without_finishing_the_chain(tmp_path):
    """`prelive gateway` (a real process) told to stop mid-answer stops: the rest of the chain is not made
    (no contractDataEnd reaches the client), the process exits 0 and its event log ends with run_end."""
    import re
    import signal
    import subprocess
    import sys

    from mock_gateway.eventlog import read_events

    log = tmp_path / "events.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "harness.cli", "gateway", "--port", "0", "--event-log", str(log)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        match = re.search(r"listening on 127\.0\.0\.1:(\d+)", proc.stdout.readline())
        assert match, proc.stderr.read()
        c = RawClient("127.0.0.1", int(match.group(1)), timeout_s=30)
        c.hello("v157..176")
        c.start(1)
        c.read_until(lambda ms: any(f[0] == "9" for f in ms))
        c.send(*_chain_request(45, "SPX"))
        c.send(49, 1)
        c.read_until(lambda ms: any(f[0] == "49" for f in ms), timeout_s=60)   # the chain is in the making
        proc.send_signal(signal.SIGTERM)
        c.read_until_closed(timeout_s=60)
        code = proc.wait(60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert code == 0
    assert not any(f[0] == "52" for f in c.messages)          # stopped, not finished first
    assert read_events(log)[-1]["msg"] == "run_end"


# ---------------------------------------------------------------------------------------------- bursts
def test_a_current_time_request_is_answered_while_a_hundred_market_data_lines_start(mock_gateway_factory):
    """100 reqMktData read in one segment (each new name's first quote of the day and year of statistics are
    milliseconds): the lines' first ticks share the loop, another client's request is answered among them.
    No pacing fault (IB's 50 messages a second would refuse half the burst before any work)."""
    from ib_insync import Stock

    from mock_gateway.faults.base import FaultStack

    from .client_codecs import insync_fields

    gw = mock_gateway_factory(faults=FaultStack([]))
    symbols = gw.call(lambda: sorted(s.symbol for s in gw.world.contracts if s.sec_type == "STK"
                                     and s.currency == "USD"))[:100]
    burst = b"".join(encode_frame(insync_fields(SV, "reqMktData", 100 + i, Stock(sym, "SMART", "USD"), "165,236",
                                                False, False, [])) for i, sym in enumerate(symbols))
    with _raw(gw, 7) as lines, _raw(gw, 8) as pinger:
        lines.send_raw(burst)
        time.sleep(0.05)
        pinger.send(49, 1)
        pinger.read_until(lambda ms: any(f[0] == "49" for f in ms), timeout_s=120)
        wanted = {str(100 + i) for i in range(100)}
        started = lines.read_until(lambda ms: wanted <= {f[1] for f in ms if f[0] == "81"} | {f[2] for f in ms if f[0] == "4"},
                                   timeout_s=120)
    assert not [f for f in started if f[0] == "4"]
    assert len({f[1] for f in started if f[0] == "81"}) == 100      # every line started
    sent = _sent_order(gw, "currentTime", "tickReqParams")
    assert "tickReqParams" in sent[sent.index("currentTime"):]     # ... and the ping did not wait for all of them
