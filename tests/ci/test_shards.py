"""``--shard i/n`` splits a scenario matrix by expected wall time, so CI jobs finish together."""
from __future__ import annotations

import random

import pytest

from harness.runner import STARTUP_WALL_S, expected_wall_s, select_shard
from harness.scenario import load_scenario, shipped_scenarios


@pytest.fixture(scope="module")
def matrix() -> list:
    return [load_scenario(p) for p in shipped_scenarios()]


def test_a_scenarios_expected_wall_time_is_its_length_over_its_speed_plus_start_up(matrix) -> None:
    s = matrix[0]
    assert expected_wall_s(s) == pytest.approx(s.duration_s / s.speed + STARTUP_WALL_S)
    assert expected_wall_s(s, speed=s.speed * 2) < expected_wall_s(s)


def test_four_shards_of_the_shipped_matrix_differ_by_at_most_a_quarter_in_expected_time(matrix) -> None:
    loads = [sum(expected_wall_s(s) for s in select_shard(matrix, (i, 4))) for i in range(1, 5)]
    assert max(loads) <= 1.25 * min(loads), loads


@pytest.mark.parametrize("n", [1, 2, 3, 4, 7])
def test_shards_are_disjoint_and_cover_the_matrix(matrix, n: int) -> None:
    shards = [select_shard(matrix, (i, n)) for i in range(1, n + 1)]
    names = [s.name for shard in shards for s in shard]
    assert sorted(names) == sorted(s.name for s in matrix)


def test_every_ci_job_computes_the_same_split_whatever_order_the_files_came_in(matrix) -> None:
    shuffled = matrix[:]
    random.Random(7).shuffle(shuffled)
    for i in range(1, 5):
        assert {s.name for s in select_shard(matrix, (i, 4))} == {s.name for s in select_shard(shuffled, (i, 4))}


def test_the_longest_scenario_gets_a_shard_of_its_own_when_it_outweighs_the_rest() -> None:
    class S:
        def __init__(self, name: str, duration_s: float) -> None:
            self.name, self.duration_s, self.speed = name, duration_s, 1.0
    items = [S("long", 1000), *(S(f"s{k}", 100) for k in range(6))]
    assert [s.name for s in select_shard(items, (1, 2))] == ["long"]
