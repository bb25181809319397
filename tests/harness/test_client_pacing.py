"""The reference client's pacers, on a fake clock."""
from __future__ import annotations

import asyncio

from harness.client.pacing import HistoricalPacer, TokenBucket


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_token_bucket_never_lets_more_than_burst_plus_rate_through_in_a_second():
    clock = FakeClock()
    bucket = TokenBucket(rate_per_s=35, burst=5, clock=clock)
    sent = []
    for step in range(2000):  # 2 s in 1 ms steps, always asking
        clock.t = 1000.0 + step / 1000
        while bucket.try_take() == 0.0:
            sent.append(clock.t)
    worst = max(sum(1 for s in sent if t0 <= s < t0 + 1.0) for t0 in sent)
    assert worst <= 40
    assert len(sent) >= 70  # and it does let the allowed rate through


def test_token_bucket_acquire_waits_instead_of_failing():
    async def go():
        bucket = TokenBucket(rate_per_s=100, burst=1)
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        for _ in range(6):
            await bucket.acquire()
        return loop.time() - t0

    assert asyncio.run(go()) >= 0.045


def test_historical_pacer_spaces_identical_requests_by_more_than_15_s():
    clock = FakeClock()
    pacer = HistoricalPacer(clock=clock)
    pacer.record("AAPL", ("AAPL", "1 D", "1 min"))
    clock.t += 10
    assert pacer.wait_time("AAPL", ("AAPL", "1 D", "1 min")) > 5
    assert pacer.wait_time("MSFT", ("MSFT", "1 D", "1 min")) == 0.0


def test_historical_pacer_holds_the_sixth_request_for_one_contract_within_2_s():
    clock = FakeClock()
    pacer = HistoricalPacer(clock=clock)
    for i in range(5):
        assert pacer.wait_time("AAPL", i) == 0.0
        pacer.record("AAPL", i)
    assert pacer.wait_time("AAPL", 99) > 2.0


def test_historical_pacer_keeps_under_60_per_10_minutes_and_counts_bid_ask_twice():
    clock = FakeClock()
    pacer = HistoricalPacer(clock=clock)
    for i in range(27):
        clock.t += 3
        pacer.record(f"C{i}", i, weight=2)
    clock.t += 3
    assert pacer.wait_time("new", "new") == 0.0
    assert pacer.wait_time("new", "new", weight=2) > 0.0
