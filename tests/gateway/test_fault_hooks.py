"""The server calls every fault hook at its point and implements the control surface faults act through."""
from __future__ import annotations

import ib_insync
import pytest

from mock_gateway.faults.base import AcceptAction, Fault, FaultStack, ReplyKind, Verdict
from mock_gateway.protocol import encode_handshake

from .conftest import out_messages, sys_events, wait_for, wait_thread
from .raw_client import RawClient


class AckLatency(Fault):
    name = "ack_latency"

    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s

    def reply_delay(self, kind, now):
        return self.delay_s if kind is ReplyKind.ORDER_ACK else 0.0


class Suppress(Fault):
    name = "suppress"

    def __init__(self, message: str) -> None:
        self.message = message

    def suppress_reply(self, session, name, now):
        return name == self.message


class OnAccept(Fault):
    name = "on_accept"

    def __init__(self, action: AcceptAction) -> None:
        self.action = action

    def on_accept(self, now):
        return self.action


class RejectCurrentTime(Fault):
    name = "reject_current_time"

    def on_request(self, session, request, now):
        if request.name == "reqCurrentTime":
            return Verdict(errors=[(-1, 100, "Max rate of messages per second has been exceeded")], drop=True,
                           fault=self.name)
        return None


class Linger(Fault):
    name = "linger"

    def linger_after_close(self, client_id, now):
        return 3600.0


class Scheduled(Fault):
    """Acts through GatewayControl at sim t = 1 s: the way scheduled faults do."""

    name = "scheduled"

    def __init__(self, action: str) -> None:
        self.action = action

    def install(self, ctl):
        def story():
            yield ctl.env.timeout(1.0)
            ctl.log_fault(self.name, action=self.action)
            if self.action == "broadcast":
                ctl.broadcast_error(1100, "Connectivity between IB and Trader Workstation has been lost.")
            elif self.action == "drop":
                ctl.drop_all_sessions("gateway restart")
                ctl.refuse_connections(True)
        ctl.env.process(story())


def _connect(gw, client_id=1, timeout=5):
    ib = ib_insync.IB()
    ib.connect(gw.host, gw.port, clientId=client_id, timeout=timeout)
    return ib


def test_reply_delay_holds_order_acks_for_the_injected_sim_time_and_fills_never_overtake(mock_gateway_factory):
    gw = mock_gateway_factory(speed=20.0, faults=FaultStack([AckLatency(2.0)]))
    ib = _connect(gw)
    try:
        contract = ib_insync.Stock("AAPL", "SMART", "USD")
        ib.qualifyContracts(contract)
        trade = ib.placeOrder(contract, ib_insync.MarketOrder("BUY", 1))
        wait_for(ib, trade.isDone, what="the delayed fill")
    finally:
        ib.disconnect()
    placed = next(e for e in gw.event_log.events if e["dir"] == "in" and e["msg"] == "placeOrder")
    acks = [e for e in out_messages(gw, "openOrder") if e["attrs"]["order_id"] == trade.order.orderId]
    fills = [e for e in out_messages(gw, "execDetails")]
    assert acks[0]["sim"] - placed["sim"] == pytest.approx(2.0, abs=0.01) and acks[0]["fault"] == "ack_latency"
    assert fills[0]["seq"] > acks[0]["seq"] and fills[0]["sim"] >= acks[0]["sim"]
    statuses = [e["attrs"]["status"] for e in out_messages(gw, "orderStatus")]
    assert statuses == ["PreSubmitted", "Filled"]    # filled at once: TWS never says Submitted


def test_suppressed_reply_is_not_sent_and_is_logged(mock_gateway_factory):
    gw = mock_gateway_factory(faults=FaultStack([Suppress("positionEnd")]))
    with RawClient(gw.host, gw.port) as client:
        client.hello()
        client.start(1)
        client.send(61, 1)
        client.send(49, 1)
        messages = client.read_until(lambda msgs: any(f[0] == "49" for f in msgs))
    assert not any(f[0] == "62" for f in messages)
    (event,) = sys_events(gw, "suppressed")
    assert event["attrs"]["msg"] == "positionEnd" and event["fault"] == "suppress"


def test_stalled_handshake_never_answers_the_hello(mock_gateway_factory):
    gw = mock_gateway_factory(faults=FaultStack([OnAccept(AcceptAction.STALL_HANDSHAKE)]))
    with RawClient(gw.host, gw.port) as client:
        client.send_raw(encode_handshake())
        with pytest.raises(TimeoutError):
            client.read_until(lambda msgs: msgs, timeout_s=0.3)
    assert sys_events(gw, "connect")[0]["fault"] == "on_accept"


def test_stalled_start_gives_no_accounts_so_ib_insync_times_out(mock_gateway_factory):
    gw = mock_gateway_factory(faults=FaultStack([OnAccept(AcceptAction.STALL_START)]))
    ib = ib_insync.IB()
    with pytest.raises((TimeoutError, ConnectionError)):
        ib.connect(gw.host, gw.port, clientId=1, timeout=0.3)
    ib.disconnect()


def test_refused_connection_is_closed_at_once(mock_gateway_factory):
    gw = mock_gateway_factory(faults=FaultStack([OnAccept(AcceptAction.REFUSE)]))
    with RawClient(gw.host, gw.port) as client:
        client.send_raw(b"API\x00")
        assert client.read_until_closed() == [] and client.eof
    assert sys_events(gw, "refused")[0]["fault"] == "on_accept"


def test_request_verdict_sends_its_errors_and_drops_the_request(mock_gateway_factory):
    gw = mock_gateway_factory(faults=FaultStack([RejectCurrentTime()]))
    with RawClient(gw.host, gw.port) as client:
        client.hello()
        client.start(1)
        client.send(49, 1)
        client.send(8, 1, 1)    # reqIds: answered normally
        messages = client.read_until(lambda msgs: sum(f[0] == "9" for f in msgs) >= 2)
    assert [f[3] for f in messages if f[0] == "4"][-1] == "100" and not any(f[0] == "49" for f in messages)
    logged = next(e for e in gw.event_log.events if e["dir"] == "in" and e["msg"] == "reqCurrentTime")
    assert logged["fault"] == "reject_current_time"


def test_lingering_client_id_is_refused_with_326_on_reconnect(mock_gateway_factory):
    gw = mock_gateway_factory(faults=FaultStack([Linger()]))
    _connect(gw, client_id=5).disconnect()
    wait_thread(lambda: not gw.sessions, what="the first session to close")
    with RawClient(gw.host, gw.port) as client:
        client.hello()
        client.start(5)
        messages = client.read_until_closed()
    assert [f[3] for f in messages if f[0] == "4"] == ["326"]


def test_scheduled_fault_broadcasts_an_error_to_every_session(mock_gateway_factory):
    gw = mock_gateway_factory(speed=10.0, faults=FaultStack([Scheduled("broadcast")]))
    a, b = _connect(gw, 1), _connect(gw, 2)
    codes = {1: [], 2: []}
    a.errorEvent += lambda req_id, code, *rest: codes[1].append(code)
    b.errorEvent += lambda req_id, code, *rest: codes[2].append(code)
    try:
        wait_for(a, lambda: codes[1] and codes[2], what="1100 on both clients")
    finally:
        a.disconnect()
        b.disconnect()
    assert codes == {1: [1100], 2: [1100]}
    assert sys_events(gw, "fault")[0]["attrs"] == {"name": "scheduled", "action": "broadcast"}


def test_drop_all_sessions_and_refuse_connections(mock_gateway_factory):
    gw = mock_gateway_factory(speed=2.0, faults=FaultStack([Scheduled("drop")]))   # drops at 0.5 s wall
    ib = _connect(gw)
    dropped = []
    ib.disconnectedEvent += lambda: dropped.append(True)
    try:
        wait_for(ib, lambda: dropped, what="the dropped session")
    except ConnectionError:
        pass    # ib_insync's blocking wait raises 'Socket disconnect' when the peer closes
    assert dropped
    assert any(e["attrs"]["reason"] == "gateway restart" for e in sys_events(gw, "disconnect"))
    with pytest.raises(ConnectionRefusedError):
        RawClient(gw.host, gw.port)
    assert len(sys_events(gw, "connect")) == 1   # the refused attempt never reached the gateway


def test_refusing_closes_the_listener_and_serving_again_reopens_it_on_the_same_port(mock_gateway_factory):
    gw = mock_gateway_factory()
    with RawClient(gw.host, gw.port) as open_before:
        open_before.hello()
        open_before.start(1)
        gw.call(gw.refuse_connections, True)
        with pytest.raises(ConnectionRefusedError):
            RawClient(gw.host, gw.port)
        open_before.send(49, 1)   # reqCurrentTime: a session opened before the window is not touched
        assert any(f[0] == "49" for f in open_before.read_until(lambda msgs: any(f[0] == "49" for f in msgs)))
        gw.call(gw.refuse_connections, False)
        with RawClient(gw.host, gw.port) as client:
            assert client.hello()[0].isdigit()


@pytest.mark.parametrize("action", ["silence", "lose_subscriptions"])
def test_market_data_stops_when_a_fault_says_so(mock_gateway_factory, action):
    gw = mock_gateway_factory(speed=10.0)
    ib = _connect(gw)
    try:
        contract = ib_insync.Stock("AAPL", "SMART", "USD")
        ib.qualifyContracts(contract)
        ticker = ib.reqMktData(contract)
        wait_for(ib, lambda: ticker.bid > 0, what="the first quote")
        if action == "silence":
            gw.call(gw.set_market_data_flowing, False)
        else:
            gw.call(gw.clear_market_data_subscriptions)
        ticks_at_fault = len(out_messages(gw, "tickPrice"))
        ib.sleep(0.3)      # 3 sim seconds = 12 grid steps that would have ticked
        assert len(out_messages(gw, "tickPrice")) == ticks_at_fault
        if action == "lose_subscriptions":
            assert gw.call(lambda: [s.market_data_lines for s in gw.sessions.values()]) == [0]
    finally:
        ib.disconnect()


def test_default_fault_stack_enforces_the_message_rate(mock_gateway):
    with RawClient(mock_gateway.host, mock_gateway.port) as client:
        client.hello()
        client.start(1)
        for _ in range(60):
            client.send(49, 1)
        messages = client.read_until(lambda msgs: any(f[0] == "4" and f[3] == "100" for f in msgs))
    assert any(f[0] == "4" and f[3] == "100" for f in messages)
