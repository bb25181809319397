import itertools

import pytest
from pydantic import TypeAdapter, ValidationError

from mock_gateway.faults.schedule import Schedule


def first(schedule: Schedule, n: int, seed: int = 1) -> list[tuple[float, float]]:
    return list(itertools.islice(schedule.occurrences(seed, "f"), n))


def test_at_s_is_one_occurrence_lasting_duration_s():
    assert first(Schedule(at_s=10, duration_s=5), 5) == [(10, 15)]


def test_every_s_starts_at_start_s_and_stops_before_until_s():
    assert first(Schedule(every_s=10, start_s=5, until_s=35), 10) == [(5, 5), (15, 15), (25, 25)]


def test_every_s_without_until_goes_on_and_count_caps_it():
    assert len(first(Schedule(every_s=1), 100)) == 100
    assert first(Schedule(every_s=2, count=2, duration_s=1), 10) == [(0, 1), (2, 3)]


def test_window_is_one_occurrence_from_from_s_to_to_s():
    assert first(Schedule(from_s=30, to_s=90), 3) == [(30, 90)]


def test_random_occurrences_follow_the_rate_and_repeat_for_the_same_seed():
    sched = Schedule(rate_per_min=6, until_s=6000)
    a, b = first(sched, 10_000, seed=3), first(sched, 10_000, seed=3)
    assert a == b
    assert 500 < len(a) < 700  # 6/min over 100 min
    assert first(sched, 5, seed=4) != a[:5]


def test_active_inside_occurrences_only():
    sched = Schedule(every_s=10, duration_s=2).bind(0, "f")
    assert [sched.active(t) for t in (0, 1.9, 2, 9.9, 10, 11.5, 12)] == [True, True, False, False, True, True, False]


def test_active_when_occurrences_overlap():
    sched = Schedule(every_s=1, duration_s=3, count=2).bind(0, "f")
    assert [sched.active(t) for t in (0.5, 2.5, 3.5, 4.0)] == [True, True, True, False]


def test_active_answers_any_order_of_questions():
    sched = Schedule(from_s=5, to_s=6).bind(0, "f")
    assert [sched.active(t) for t in (100, 5.5, 0, 6)] == [False, True, False, False]


@pytest.mark.parametrize("params, message", [
    ({}, "exactly one of"),
    ({"at_s": 1, "every_s": 2}, "got at_s, every_s"),
    ({"from_s": 10}, "both from_s and to_s"),
    ({"from_s": 10, "to_s": 5}, "must be after from_s"),
    ({"from_s": 1, "to_s": 5, "duration_s": 2}, "own length"),
    ({"at_s": 1, "count": 2}, "only to every_s or rate_per_min"),
    ({"every_s": 5, "start_s": 10, "until_s": 10}, "until_s (10.0) must be after start_s"),
])
def test_invalid_schedules_say_what_is_wrong(params, message):
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        TypeAdapter(Schedule).validate_python(params)


def test_negative_or_zero_period_is_refused_at_its_field():
    with pytest.raises(ValidationError) as err:
        TypeAdapter(Schedule).validate_python({"every_s": 0})
    assert err.value.errors()[0]["loc"] == ("every_s",)


@pytest.mark.parametrize("params, message", [
    ({"every_s": 0.001}, "too short: at least 0.01 sim seconds"),
    ({"rate_per_min": 1e9}, "less than or equal to 6000"),
])
def test_a_schedule_that_would_keep_the_loop_busy_for_ever_is_refused(params, message):
    with pytest.raises(ValidationError, match=message):
        TypeAdapter(Schedule).validate_python(params)


def test_shifted_moves_every_time_and_keeps_the_lengths():
    assert first(Schedule(at_s=1, duration_s=2).shifted(10), 2) == [(11, 13)]
    assert first(Schedule(from_s=1, to_s=3).shifted(10), 2) == [(11, 13)]
    assert first(Schedule(every_s=5, until_s=12).shifted(100), 5) == [(100, 100), (105, 105), (110, 110)]
