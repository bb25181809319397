"""A heavy stretch of work lets other ready work run once its time budget is spent."""
import asyncio
import time

from mock_gateway.cooperative import TimeSlice


def busy(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def test_work_yields_once_its_budget_is_spent_and_other_work_runs_between():
    async def main():
        seen: list[float] = []
        stop = False

        async def pinger():
            while not stop:
                seen.append(time.perf_counter())
                await asyncio.sleep(0)

        task = asyncio.get_running_loop().create_task(pinger())
        await asyncio.sleep(0)
        slicer = TimeSlice(budget_s=0.002)
        async for _ in slicer.each(range(40)):
            busy(0.0005)                      # 20 ms of work in all
        stop = True
        await task
        return slicer.yields, seen

    yields, seen = asyncio.run(main())
    assert yields >= 5                          # 20 ms in budgets of 2 ms
    gaps = [b - a for a, b in zip(seen, seen[1:])]
    assert len(seen) > yields and max(gaps) < 0.015       # never held for the whole 20 ms


def test_short_work_does_not_yield():
    async def main():
        slicer = TimeSlice(budget_s=1.0)
        async for _ in slicer.each(range(10)):
            pass
        return slicer.yields

    assert asyncio.run(main()) == 0
