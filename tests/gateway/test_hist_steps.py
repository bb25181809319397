"""Historical bars answered in steps: the same reply as computing it in one go, encoded ahead with the same bytes
and the same event-log line, updates after the bars, and work that stops when nobody waits for it."""
from __future__ import annotations

import asyncio
import json
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

import mock_gateway.feeds as feeds_module
from mock_gateway.config import GatewayConfig
from mock_gateway.eventlog import EventLog, fields_json_steps
from mock_gateway.feeds import BarsRequest, Feeds, bar_rows
from mock_gateway.protocol import messages as m
from mock_gateway.protocol.framing import encode_frame_binary_id, encode_proto_frame
from mock_gateway.protocol.kinds import ReplyKind
from mock_gateway.protocol.proto import replies as proto_replies
from mock_gateway.protocol.proto import wire
from mock_gateway.protocol.time import ib_time
from mock_gateway.replies import PreparedReply
from mock_gateway.session import Session, frame, prepare_reply
from mock_gateway.sim import ContractQuery
from mock_gateway.sim.bar_rules import listing_epoch
from mock_gateway.sim.clock import SimClock
from mock_gateway.sim.history import HORIZON_S
from mock_gateway.sim.world import World
from mock_gateway.stepwise import ChunkSizer, StepRunner

DAY_S = 86400.0


class Channel:
    """A connection as the feed sees it, keeping what it is sent (optionally encoding ahead as a session does)."""

    conn_id = 1
    client_id = 1

    def __init__(self, server_version: int = 176, prepares: bool = True) -> None:
        self.server_version = server_version
        self.closed = False
        self.sent: list[tuple[ReplyKind, list[str]]] = []
        if prepares:
            self.prepare = lambda fields: prepare_reply(fields, self.server_version, 0)

    def send(self, kind, messages, *, fault=None) -> None:
        self.sent += [(kind, msg) for msg in messages]

    def error(self, req_id, code, text, *, fault=None, kind=ReplyKind.OTHER, advanced_json="") -> None:
        self.sent.append((kind, m.error(self.server_version, req_id, code, text)))


@pytest.fixture(scope="module")
def world():
    config = GatewayConfig(port=0)
    clock = SimClock(start=config.start)
    return World(config, clock), clock


@pytest.fixture
def feeds(world):
    return Feeds(*world)


def spec_of(world, symbol: str, sec_type: str = "STK"):
    """The contract ``symbol`` names (ARKK: listed 2014-10-31, in the universe's book)."""
    return world[0].contracts.match(ContractQuery(symbol=symbol, sec_type=sec_type, currency="USD"))[0]


def in_one_go(feeds: Feeds, server_version: int, req: BarsRequest, end: datetime | None, duration_s: float):
    """The reply as the gateway computed it before it worked in steps: one table, formatted at once."""
    end_s, work_s = feeds.history_window(req, end, duration_s)
    table = feeds._bar_table(req, end_s, work_s)
    epoch0 = feeds.market.epoch0
    head = m.historical_data(server_version, req.req_id, ib_time(epoch0 + max(end_s - duration_s, -HORIZON_S)),
                             ib_time(epoch0 + end_s), [])
    head[-1] = str(len(table))
    return head + bar_rows(server_version, req, table, epoch0)


def _requests(world):
    aapl, eur = spec_of(world, "AAPL"), spec_of(world, "EUR", "CASH")
    listed = spec_of(world, "ARKK")       # listed 2014-10-31: a 30-year window starts before it
    start = world[1].start
    past = start - timedelta(days=900)
    return [
        (BarsRequest(1, aapl, 1.0, "TRADES", False, 1), None, 1800.0),
        (BarsRequest(2, aapl, 60.0, "TRADES", False, 2), None, 2 * DAY_S),
        (BarsRequest(3, aapl, 60.0, "BID_ASK", True, 1), past, 3 * DAY_S),
        (BarsRequest(4, aapl, 1800.0, "MIDPOINT", False, 1), past, 30 * DAY_S),
        (BarsRequest(5, aapl, DAY_S, "TRADES", False, 1), None, 365 * DAY_S),
        (BarsRequest(6, aapl, DAY_S, "TRADES", False, 1, None, True), None, 3 * 365 * DAY_S),   # ADJUSTED_LAST
        (BarsRequest(7, aapl, 7 * DAY_S, "TRADES", False, 1), None, 5 * 365 * DAY_S),
        (BarsRequest(8, aapl, 30 * DAY_S, "TRADES", True, 1), past, 10 * 365 * DAY_S),
        (BarsRequest(9, eur, 3600.0, "MIDPOINT", False, 2), None, 20 * DAY_S),
        (BarsRequest(10, listed, DAY_S, "TRADES", False, 1, listing_epoch(listed.listing_date)), None,
         30 * 365 * DAY_S),
        (BarsRequest(11, listed, 7 * DAY_S, "TRADES", False, 1, listing_epoch(listed.listing_date)), None,
         30 * 365 * DAY_S),
    ]


@pytest.mark.parametrize("server_version", [157, 176])
def test_a_reply_built_in_small_chunks_is_the_reply_built_in_one_go(world, feeds, monkeypatch, server_version):
    # chunks of 37 slots and 11 rows: far more chunk boundaries than the time budget would ever make
    monkeypatch.setattr(feeds_module, "HISTORY_CHUNK_TARGET_S", 0.0)
    monkeypatch.setattr(feeds_module, "HISTORY_FIRST_SLOTS", 37)
    monkeypatch.setattr(feeds_module, "HISTORY_MIN_SLOTS", 37)
    monkeypatch.setattr(feeds_module, "HISTORY_FIRST_ROWS", 11)
    monkeypatch.setattr(feeds_module, "HISTORY_MIN_ROWS", 11)
    for req, end, duration_s in _requests(world):
        channel = Channel(server_version, prepares=False)
        feeds.send_historical_data(channel, req, end, duration_s, False)
        [(kind, reply)] = channel.sent
        assert kind is ReplyKind.HISTORICAL_DATA and reply[0] == "17", (req, reply)
        assert reply == in_one_go(feeds, server_version, req, end, duration_s), req


def test_a_request_without_bars_gets_162_with_the_historical_data_kind(world, feeds):
    listed = spec_of(world, "ARKK")       # listed 2014-10-31: a 30-year window starts before it
    req = BarsRequest(4, listed, DAY_S, "TRADES", False, 1, listing_epoch(listed.listing_date))
    channel = Channel()
    feeds.send_historical_data(channel, req, datetime(2001, 1, 5, tzinfo=timezone.utc), 30 * DAY_S, False)
    [(kind, reply)] = channel.sent
    assert kind is ReplyKind.HISTORICAL_DATA and reply[0] == "4" and reply[3] == "162"


def _reply(world, feeds, n_days: float = 5 * 365):
    channel = Channel(prepares=False)
    feeds.send_historical_data(channel, BarsRequest(1, spec_of(world, "AAPL"), DAY_S, "TRADES", False, 1), None,
                               n_days * DAY_S, False)
    return channel.sent[0][1]


@pytest.mark.parametrize("server_version", [157, 176, 201, 212, 213, 222])
def test_a_reply_encoded_ahead_has_the_bytes_the_session_sends_for_it(world, feeds, server_version):
    fields = _reply(world, feeds)
    now = datetime(2026, 1, 5, 15, tzinfo=timezone.utc)
    session = Session.__new__(Session)       # only its encoder: the version and the clock it reads
    session.server_version = server_version
    session.gw = SimpleNamespace(clock=SimpleNamespace(now_datetime=lambda: now))
    steps = prepare_reply(fields, server_version, int(now.timestamp() * 1000))
    chunks = 0
    while True:
        try:
            next(steps)
            chunks += 1
        except StopIteration as done:
            prepared = done.value
            break
    wire, encoding = session._encode(fields)
    assert isinstance(prepared, PreparedReply) and list(prepared) == fields
    assert (prepared.wire, prepared.encoding) == (wire, encoding)
    assert chunks > 5                    # 1,250 bars: encoded in many steps, not one
    assert json.loads(prepared.fields_json) == fields


def test_the_three_encoders_agree_with_their_one_go_forms(world, feeds):
    fields = _reply(world, feeds, 400)

    def run(steps):
        while True:
            try:
                next(steps)
            except StopIteration as done:
                return done.value
    proto = b"".join(encode_proto_frame(i, p) for i, p in run(proto_replies.to_protobuf_steps(fields)))
    assert proto == b"".join(encode_proto_frame(i, p) for i, p in proto_replies.to_protobuf(fields))
    assert run(prepare_reply(fields, 176, 0)).wire == frame(fields)
    assert run(prepare_reply(fields, 205, 0)).wire == encode_frame_binary_id(fields)
    assert run(fields_json_steps(fields)) == json.dumps(fields, separators=(",", ":"))


def test_the_event_log_line_of_a_reply_encoded_ahead_is_the_line_of_the_reply(tmp_path, world, feeds):
    fields = _reply(world, feeds, 400)
    steps = fields_json_steps(fields)
    while True:
        try:
            next(steps)
        except StopIteration as done:
            text = done.value
            break
    lines = []
    for name, ahead in (("plain", None), ("ahead", text)):
        path = tmp_path / f"{name}.jsonl"
        with EventLog(path) as log:
            log.write(dir="out", msg="historicalData", msg_id=17, fields=fields, attrs={"req_id": 1},
                      conn=3, client_id=7, sim=1.5, wall=1700000000.25, fields_json=ahead)
        lines.append(path.read_bytes())
    assert lines[0] == lines[1]
    assert json.loads(lines[1])["fields"] == fields


def test_a_secret_message_is_redacted_even_when_its_fields_were_encoded_ahead(tmp_path):
    fields = ["69", "1", "api-data", "challenge"]
    with EventLog(tmp_path / "e.jsonl") as log:
        log.write(dir="out", msg="verifyAndAuthMessageApi", msg_id=69, fields=fields,
                  fields_json=json.dumps(fields))
    assert "challenge" not in (tmp_path / "e.jsonl").read_text()


def run_loop_until(predicate, timeout_s: float = 20.0) -> None:
    async def wait() -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while not predicate():
            assert loop.time() < deadline, "the steps did not finish"
            await asyncio.sleep(0)
    asyncio.run(wait())


def test_a_keep_up_to_date_request_gets_no_update_before_its_bars(world, feeds):
    feeds._steps.budget_s = 0.0          # every step yields: the request spans many turns of the loop
    channel = Channel()
    req = BarsRequest(5, spec_of(world, "AAPL"), 60.0, "TRADES", False, 1)
    ticks_before_bars: list[int] = []

    async def scenario() -> None:
        feeds.send_historical_data(channel, req, None, 2 * DAY_S, True)
        while not channel.sent:
            feeds._historical_update_tick(feeds.env.now)     # the 5 s update timer firing meanwhile
            ticks_before_bars.append(len(channel.sent))
            await asyncio.sleep(0)
        while feeds._steps.active:          # the update passes started meanwhile found nothing to send
            await asyncio.sleep(0)
    asyncio.run(scenario())
    assert ticks_before_bars and channel.sent[0][1][0] == "17"
    feeds._historical_update_tick(feeds.env.now)
    assert [msg[0] for _, msg in channel.sent] == ["17", "90"]


def test_keep_up_to_date_updates_go_out_a_subscription_per_step(world, feeds):
    feeds._steps.budget_s = 0.0
    channels = [Channel() for _ in range(3)]
    for i, channel in enumerate(channels):
        channel.conn_id = i + 1
        feeds.send_historical_data(channel, BarsRequest(20 + i, spec_of(world, "AAPL"), 60.0, "TRADES", False, 1),
                                   None, 3600.0, True)          # no loop: the bars go out at once
    sent_per_turn: list[int] = []

    async def scenario() -> None:
        feeds._historical_update_tick(feeds.env.now)
        feeds._historical_update_tick(feeds.env.now)      # due while the first pass is under way: skipped
        while feeds._steps.active:
            sent_per_turn.append(sum(len(c.sent) for c in channels))
            await asyncio.sleep(0)
    asyncio.run(scenario())
    assert [[msg[0] for _, msg in c.sent] for c in channels] == [["17", "90"]] * 3
    assert sent_per_turn == [3, 4, 5, 6]   # one subscription's update per turn of the loop (the bars before)


def test_cancelling_a_keep_up_to_date_request_before_its_bars_stops_it(world, feeds):
    feeds._steps.budget_s = 0.0
    channel = Channel()
    req = BarsRequest(6, spec_of(world, "AAPL"), 60.0, "TRADES", False, 1)

    async def scenario() -> None:
        feeds.send_historical_data(channel, req, None, 2 * DAY_S, True)
        await asyncio.sleep(0)
        assert feeds.stop_historical_updates(channel, 6)
        while feeds._steps.active:
            await asyncio.sleep(0)
    asyncio.run(scenario())
    assert channel.sent == []


def test_a_closed_connection_stops_the_work_under_way(world, feeds):
    feeds._steps.budget_s = 0.0
    channel = Channel()
    turns = 0

    async def scenario() -> None:
        nonlocal turns
        feeds.send_historical_data(channel, BarsRequest(7, spec_of(world, "AAPL"), 60.0, "TRADES", False, 1), None,
                                   5 * DAY_S, False)
        await asyncio.sleep(0)
        channel.closed = True
        while feeds._steps.active:
            turns += 1
            await asyncio.sleep(0)
    asyncio.run(scenario())
    assert channel.sent == [] and turns <= 2


def test_a_request_that_fits_one_budget_is_answered_before_send_historical_data_returns(world, feeds):
    feeds._steps.budget_s = 10.0         # a budget no machine's load can overrun: the steps run at once
    channel = Channel()

    async def scenario() -> None:
        feeds.send_historical_data(channel, BarsRequest(8, spec_of(world, "AAPL"), 3600.0, "TRADES", False, 1),
                                   None, 2 * DAY_S, False)
        assert channel.sent and feeds._steps.active == 0
    asyncio.run(scenario())


# ---------------------------------------------------------------------------------------------- the runner
def _steps(log: list[str], name: str, n: int, busy_s: float = 0.0):
    for i in range(n):
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < busy_s:
            pass
        log.append(f"{name}{i}")
        yield


def test_work_under_way_advances_a_step_at_a_time_in_turn_with_other_sessions():
    log: list[str] = []

    async def scenario() -> None:
        runner = StepRunner(budget_s=0.0)        # every turn of the loop: one step, then the others' callbacks
        assert runner.start(_steps(log, "A", 3)) is False and runner.start(_steps(log, "B", 2)) is False
        asyncio.get_running_loop().call_soon(log.append, "other session")
        while runner.active:
            await asyncio.sleep(0)
    asyncio.run(scenario())
    assert log == ["A0", "other session", "B0", "A1", "B1", "A2"]


def test_a_burst_of_requests_shares_one_budget_per_turn():
    """Fifty requests arriving in one read must not each take a budget before the loop turns."""
    log: list[str] = []

    async def scenario() -> None:
        runner = StepRunner(budget_s=0.002)
        runner.start(_steps(log, "A", 5, busy_s=0.0015))
        started_at_once = list(log)
        runner.start(_steps(log, "B", 5, busy_s=0.0015))
        assert not any(x.startswith("B") for x in log), "B ran in a turn whose budget A had spent"
        assert started_at_once[:1] == ["A0"]
        while runner.active:
            await asyncio.sleep(0)
    asyncio.run(scenario())
    assert sorted(log) == [f"{n}{i}" for n in "AB" for i in range(5)]


def test_work_that_fits_the_budget_is_done_before_start_returns():
    log: list[str] = []

    async def scenario() -> None:
        assert StepRunner(budget_s=10.0).start(_steps(log, "A", 3)) is True
        assert log == ["A0", "A1", "A2"]
    asyncio.run(scenario())


def test_the_runner_without_a_loop_runs_the_steps_to_the_end():
    done = []

    def work():
        yield
        yield
        done.append(True)
    assert StepRunner(budget_s=0.0).start(work()) is True and done == [True]


def test_a_failing_step_function_is_logged_and_ends(caplog):
    def work():
        yield
        raise RuntimeError("bug")

    async def scenario() -> None:
        runner = StepRunner(budget_s=0.0)
        runner.start(work())
        while runner.active:
            await asyncio.sleep(0)
    asyncio.run(scenario())
    assert "stepwise work failed" in caplog.text


def test_chunks_grow_when_cheap_and_shrink_when_dear_by_at_most_twice():
    sizer = ChunkSizer(target_s=0.001, first=100, minimum=10, maximum=1000)
    sizer.observe(100, 0.0001)                 # a tenth of the target: grows, but only 2x
    assert sizer.size() == 200
    sizer.observe(200, 0.0008)                 # near the target: about the same
    assert sizer.size() == 250
    sizer.observe(250, 0.01)                   # ten times over: halves (a preempted chunk must not swing it)
    assert sizer.size() == 125
    for _ in range(10):
        sizer.observe(sizer.size(), 1.0)
    assert sizer.size() == 10                  # never under the minimum


@pytest.mark.parametrize("what, bar_size_s", [("TRADES", 60.0), ("BID_ASK", 3600.0), ("MIDPOINT", DAY_S)])
def test_the_protobuf_bars_of_a_real_reply_are_the_generic_encoders_bytes(world, feeds, what, bar_size_s):
    channel = Channel(222, prepares=False)
    feeds.send_historical_data(channel, BarsRequest(1, spec_of(world, "AAPL"), bar_size_s, what, False, 1), None,
                               300 * bar_size_s, False)
    fields = channel.sent[0][1]
    generic = [(proto_replies.PROTOBUF_MSG_ID + rid, wire.encode(name, values))
               for rid, name, values in proto_replies.build(fields, now_ms=0)]
    assert int(fields[4]) > 100 and proto_replies.to_protobuf(fields, now_ms=0) == generic


def test_a_request_over_the_slot_bound_is_refused_whole_not_served_in_chunks(world, feeds, monkeypatch):
    monkeypatch.setattr(feeds_module, "MAX_SLOTS_PER_REQUEST", 1000)
    channel = Channel()
    feeds.send_historical_data(channel, BarsRequest(12, spec_of(world, "AAPL"), 60.0, "TRADES", False, 1), None,
                               2000 * 60.0, False)
    [(kind, reply)] = channel.sent
    assert reply[0] == "4" and reply[3] == "162" and "Time length exceed max" in reply[4]
