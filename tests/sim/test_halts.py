"""Trading halts (pure): tick 49's value over time, and the session timeline with the halt cut out."""
from __future__ import annotations

import math

import pytest

from mock_gateway.sim.halts import AlwaysOpen, HaltBook, HaltConfigError, HaltedTimeline, HaltWindow


class Session:
    """Open [0, 100) and [200, 300): a stand-in for one rule's sessions."""

    def state(self, t):
        for a, b in ((0.0, 100.0), (200.0, 300.0)):
            if a <= t < b:
                return True, a, b
        if t < 0:
            return False, -math.inf, 0.0
        return (False, 100.0, 200.0) if t < 200 else (False, 300.0, math.inf)


def test_tick_49_is_1_for_a_general_halt_2_for_a_volatility_pause_and_0_outside():
    book = HaltBook.from_config([{"symbol": "aapl", "start_s": 10, "duration_s": 5},
                                 {"symbol": "AAPL", "start_s": 50, "duration_s": 5, "kind": "volatility"}])
    assert [book.status("AAPL", t) for t in (9.9, 10, 14.9, 15, 52, 55)] == [0, 1, 1, 0, 2, 0]
    assert book.status("MSFT", 12) == 0


def test_a_halt_closes_the_session_until_it_ends_and_an_open_stretch_ends_where_a_halt_starts():
    timeline = HaltedTimeline(Session(), (HaltWindow("AAPL", 40.0, 60.0),))
    assert timeline.state(10.0) == (True, 0.0, 40.0)
    assert timeline.state(45.0) == (False, 40.0, 60.0)
    assert timeline.state(70.0) == (True, 60.0, 100.0)
    assert timeline.state(150.0) == (False, 100.0, 200.0)          # the night is untouched


def test_a_halt_without_an_end_holds_the_market_for_the_rest_of_the_run():
    timeline = HaltedTimeline(AlwaysOpen(), (HaltWindow("AAPL", 5.0, math.inf),))
    assert timeline.state(1e9)[0] is False and timeline.close_after(10.0) == math.inf


@pytest.mark.parametrize("entry", [{"start_s": 1}, {"symbol": "AAPL", "kind": "lunch"},
                                   {"symbol": "AAPL", "start_s": -1}, {"symbol": "AAPL", "duration_s": 0}])
def test_a_bad_halt_is_refused_with_a_clear_error(entry):
    with pytest.raises(HaltConfigError):
        HaltBook.from_config([entry])


def test_a_scenario_declares_halts_and_dividends():
    from harness.scenario import MarketSpec

    spec = MarketSpec.model_validate({"halts": [{"symbol": "AAPL", "start_s": 60, "duration_s": 300,
                                                 "kind": "volatility"}],
                                      "dividends": {"ZZ": [{"ex_date": "20261102", "amount": 0.5}]}})
    assert spec.halts[0].kind == "volatility" and spec.dividends["ZZ"][0].amount == 0.5
    with pytest.raises(ValueError):
        MarketSpec.model_validate({"halts": [{"symbol": "AAPL", "start_s": 60, "kind": "forever"}]})
