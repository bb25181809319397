"""First requests into new date ranges do not hold the gateway's event loop; contract hours follow the simulated date.

The exchange calendars and session tables are built when the world is built, before the listener
opens; a first historical request into a new decade then reads the tables instead of building
them on the loop. Holds are measured by a lag monitor on the gateway's own loop (the bound is
generous: the machine is shared; a calendar built on the loop held it 0.3-1.8 s).
"""
from __future__ import annotations

import asyncio
import threading
import time
from datetime import datetime, timezone

import ib_insync

from mock_gateway.sim import calendar, history, sessions

from .raw_client import RawClient

#: A generous bound on one hold of the loop (the target is a few ms; CI machines are loaded).
HOLD_BOUND_MS = 250.0


async def _lag_monitor(holds_ms: list[float], period_s: float = 0.002) -> None:
    while True:
        t0 = time.perf_counter()
        await asyncio.sleep(period_s)
        holds_ms.append((time.perf_counter() - t0 - period_s) * 1000)


def _forget_calendars() -> None:
    """As in a fresh process: no calendar, no session table, no per-year session list built yet."""
    for cached in (calendar._build, calendar._schedule, sessions._day_table,
                   sessions.session_on, history._session_arrays_in_year, history._sessions_in_year):
        cached.cache_clear()


def _pinger(host: str, port: int, stop: threading.Event, rtts_ms: list[float]) -> None:
    with RawClient(host, port) as other:
        other.hello()
        other.start(77)
        other.read_until(lambda msgs: any(f[0] == "9" for f in msgs))
        while not stop.is_set():
            seen = len(other.messages)
            t0 = time.perf_counter()
            other.send(49, 1)
            other.read_until(lambda msgs: any(f[0] == "49" for f in msgs[seen:]))
            rtts_ms.append((time.perf_counter() - t0) * 1000)
            time.sleep(0.005)


def test_first_historical_requests_into_new_decades_do_not_stall_another_client(mock_gateway_factory):
    _forget_calendars()
    gw = mock_gateway_factory()
    holds_ms: list[float] = []
    monitor = gw.call(lambda: asyncio.ensure_future(_lag_monitor(holds_ms)))
    stop, rtts_ms = threading.Event(), []
    pinger = threading.Thread(target=_pinger, args=(gw.host, gw.port, stop, rtts_ms), daemon=True)
    pinger.start()
    answered = []
    try:
        with RawClient(gw.host, gw.port, timeout_s=30) as client:
            client.hello()
            client.start(1)
            client.read_until(lambda msgs: any(f[0] == "9" for f in msgs))
            for req_id, (end, bar, duration) in enumerate((
                    ("19900601 16:00:00 US/Eastern", "1 day", "1 Y"), ("20000601 16:00:00 US/Eastern", "1 hour", "1 M"),
                    ("20100601 12:00:00 US/Eastern", "1 day", "1 Y"), ("20200302 16:00:00 US/Eastern", "5 mins", "1 W")),
                    start=1):
                client.send(20, req_id, 0, "AAPL", "STK", "", 0, "", "", "SMART", "", "USD", "", "", 0,
                            end, bar, duration, 0, "TRADES", 2, 0, "")
                msgs = client.read_until(lambda m, r=str(req_id): any(f[0] == "17" and f[1] == r for f in m), 30)
                answered += [int(f[4]) for f in msgs if f[0] == "17" and f[1] == str(req_id)]
    finally:
        stop.set()
        pinger.join(10)
        gw.call(monitor.cancel)
    assert len(answered) == 4 and all(n > 0 for n in answered)
    assert rtts_ms, "the other client got no reqCurrentTime answer while the requests ran"
    assert max(holds_ms) < HOLD_BOUND_MS
    assert max(rtts_ms) < HOLD_BOUND_MS + 250


def test_contract_hours_start_at_the_simulated_date_after_midnight(mock_gateway_factory):
    # 23:59:58 New York on Friday 2026-12-04, 20 sim seconds a wall second: Saturday within 0.1 s
    gw = mock_gateway_factory(start=datetime(2026, 12, 5, 4, 59, 58, tzinfo=timezone.utc), speed=20.0)
    ib = ib_insync.IB()
    ib.connect(gw.host, gw.port, clientId=1, timeout=5)
    try:
        ib.sleep(0.5)
        [details] = ib.reqContractDetails(ib_insync.Stock("AAPL", "SMART", "USD"))
    finally:
        ib.disconnect()
    assert details.tradingHours.startswith("20261205:CLOSED;20261206:CLOSED;20261207:0400-20261207:2000")
    assert details.liquidHours.startswith("20261205:CLOSED;20261206:CLOSED;20261207:0930-20261207:1600")
