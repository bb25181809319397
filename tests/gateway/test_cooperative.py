"""One time budget per turn of the event loop, shared by all long work; the turn's first caller always advances."""
import asyncio
import time

from mock_gateway.cooperative import turn_slice, turn_spent


def busy(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def test_the_first_caller_of_a_turn_gets_a_step_even_with_no_budget():
    async def main():
        loop = asyncio.get_running_loop()
        first, second = turn_spent(loop, 0.0), turn_spent(loop, 0.0)
        await asyncio.sleep(0)
        return first, second, turn_spent(loop, 0.0)

    assert asyncio.run(main()) == (False, True, False)     # a new turn starts a new budget


def test_work_in_one_turn_shares_one_budget():
    async def main():
        loop = asyncio.get_running_loop()
        budget = turn_slice(loop, 0.002)
        assert turn_slice(loop, 1.0) is budget and not budget.spent()
        busy(0.003)
        return turn_spent(loop, 1.0)

    assert asyncio.run(main()) is True
