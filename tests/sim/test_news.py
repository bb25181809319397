"""Simulated news (opt-in): headlines from the simulated daily moves, marked simulated, ids that read back."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from mock_gateway.sim import news


def moves(n: int) -> list[news.DayMove]:
    days = [date(2026, 6, d) for d in (15, 16, 17, 18, 22, 23, 24, 25, 26, 29)][:n]
    return [news.DayMove(d, datetime(d.year, d.month, d.day, 20, tzinfo=timezone.utc).timestamp(), 100.0 + k, 99.0 + k)
            for k, d in enumerate(days)]


def test_headlines_are_the_newest_days_first_up_to_the_total_asked_with_has_more():
    rows, more = news.headlines(["BRFG"], 444857009, "PLTR", moves(6), 4)
    assert [r.time for r in rows] == ["2026-06-23 20:00:00.0", "2026-06-22 20:00:00.0", "2026-06-18 20:00:00.0",
                                      "2026-06-17 20:00:00.0"]
    assert more is True
    assert news.headlines(["BRFG"], 1, "X", moves(3), 10)[1] is False


def test_every_headline_says_it_is_simulated_and_how_the_day_moved():
    [row] = news.headlines(["BRFG"], 444857009, "PLTR", moves(1), 5)[0]
    assert row.headline.startswith(news.SIMULATED_MARK) and "PLTR closes up 1.0% at 100.00" in row.headline
    assert row.provider == "BRFG" and row.article_id == "BRFG$sim-444857009-20260615"


def test_providers_the_simulation_does_not_write_get_no_headlines():
    assert news.headlines(["BRFUPDN", "DJNL"], 1, "X", moves(5), 10) == ([], False)


def test_at_most_300_headlines_whatever_the_total_asked():
    many = [news.DayMove(date.fromordinal(date(2020, 1, 1).toordinal() + k), 1.6e9 + k * 86400, 10.0, 10.0)
            for k in range(400)]
    rows, more = news.headlines(["BRFG"], 1, "X", many, 10_000)
    assert len(rows) == news.MAX_HEADLINES and more


def test_an_article_id_reads_back_and_anything_else_is_not_one():
    assert news.parse_article_id(news.article_id("BRFG", 265598, date(2026, 6, 23))) == ("BRFG", 265598,
                                                                                        date(2026, 6, 23))
    for text in ("BRFG$04fb9da2", "BRFG$sim-1-20261399", "BRFG$sim-1-00010101", "", "x" * 10_000):
        assert news.parse_article_id(text) is None


@pytest.mark.parametrize("text", ["2026-06-01 00:00:00.0", "2026-06-01 00:00:00", "20260601 00:00:00",
                                  "20260601-00:00:00"])
def test_news_times_in_the_forms_clients_send(text):
    assert news.parse_news_time(text) == datetime(2026, 6, 1, tzinfo=timezone.utc)


def test_an_unreadable_news_time_is_refused_and_an_empty_one_is_open():
    assert news.parse_news_time("") is None
    with pytest.raises(ValueError, match="yyyy-MM-dd HH:mm:ss.0"):
        news.parse_news_time("yesterday")
    with pytest.raises(ValueError, match="outside"):
        news.parse_news_time("0001-01-01 00:00:00.0")
