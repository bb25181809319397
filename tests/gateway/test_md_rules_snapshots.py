"""Snapshots end when their ticks have come, or at IB's 11-second timeout when the live book never comes.

Sources (docs/fidelity.md, "Market data"): TWS API docs "Requesting Watchlist Data" ("the currently
available market data once before a tickSnapshotEnd event is sent 11 seconds later"); ib_insync's author
on PR #531 (2022: "Each snapshot should be finished in about 12 seconds").
"""
from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest

from mock_gateway.feeds import SNAPSHOT_TIMEOUT_S

from .raw_client import RawClient

SATURDAY = datetime(2026, 11, 28, 15, 0, tzinfo=timezone.utc)
EURUSD = ["", "EUR", "CASH", "", "", "", "", "IDEALPRO", "", "USD", "", ""]
AAPL = ["", "AAPL", "STK", "", "", "", "", "SMART", "", "USD", "", ""]
SPEED = 20.0


def _snapshot_frames(gw, contract: list[str], wait_s: float, regulatory: int = 0) -> list[tuple[float, list[str]]]:
    """(wall seconds after the request, frame) of one snapshot (request id 7)."""
    with RawClient(gw.host, gw.port) as c:
        c.hello("v157..178")
        c.start(5)
        c.read_until(lambda ms: any(x[0] == "9" for x in ms))
        n = len(c.messages)
        t0 = time.monotonic()
        c.send(1, 11, 7, *contract, 0, "", 1 - regulatory, regulatory, "")
        seen: list[tuple[float, list[str]]] = []
        deadline = t0 + wait_s
        while time.monotonic() < deadline:
            try:
                c.read_until(lambda ms: len(ms) > n, timeout_s=max(0.02, deadline - time.monotonic()))
            except TimeoutError:
                break
            now = time.monotonic() - t0
            seen += [(now, f) for f in c.messages[n:] if len(f) > 2 and (f[1] == "7" or f[2] == "7")]
            n = len(c.messages)
            if any(f[0] == "57" for _, f in seen):
                break
        return seen


@pytest.mark.parametrize("regulatory", [0, 1], ids=["snapshot", "regulatory"])
def test_outside_the_session_a_snapshot_sends_what_there_is_and_ends_at_the_timeout(mock_gateway_factory,
                                                                                    regulatory):
    gw = mock_gateway_factory(start=SATURDAY, speed=SPEED)
    frames = _snapshot_frames(gw, EURUSD, wait_s=3 * SNAPSHOT_TIMEOUT_S / SPEED, regulatory=regulatory)
    ends = [t for t, f in frames if f[0] == "57"]
    assert len(ends) == 1 and ends[0] >= 0.9 * SNAPSHOT_TIMEOUT_S / SPEED
    bids = [f for _, f in frames if f[0] == "1" and f[3] == "1"]
    assert bids and bids[0][4] == "-1"                               # the weekend book: -1, size 0
    assert max(t for t, f in frames if f[0] != "57") < ends[0]       # everything else came first


def test_in_the_session_a_snapshot_ends_at_once(mock_gateway_factory):
    gw = mock_gateway_factory(speed=SPEED)
    frames = _snapshot_frames(gw, AAPL, wait_s=3 * SNAPSHOT_TIMEOUT_S / SPEED)
    ends = [t for t, f in frames if f[0] == "57"]
    assert len(ends) == 1 and ends[0] < 0.5 * SNAPSHOT_TIMEOUT_S / SPEED
