"""Dividend back-adjustment for ADJUSTED_LAST (pure): factors per ex-date, multiplied back in time."""
from __future__ import annotations

import numpy as np
import pytest

from mock_gateway.sim.corporate_actions import (
    CorporateActionError,
    DividendBook,
    adjustment_factors,
    dividend_factors,
)


def test_each_bar_before_an_ex_date_gets_that_dividends_factor_and_older_bars_the_product():
    bars = np.array([0.0, 10.0, 20.0, 30.0])
    f = adjustment_factors(bars, [15.0, 25.0], [0.99, 0.98])
    assert f.tolist() == pytest.approx([0.99 * 0.98, 0.99 * 0.98, 0.98, 1.0])


def test_the_factor_is_one_minus_the_dividend_over_the_close_before_and_future_ex_dates_are_ignored():
    book = DividendBook({"XYZ": [{"ex_date": "20240510", "amount": 1.0}, {"ex_date": "20990101", "amount": 1.0}]})
    exs, fs = dividend_factors(book.dividends("XYZ"), "America/New_York", now_epoch=2_000_000_000.0,
                               close_before=lambda ex: 50.0)
    assert len(exs) == 1 and fs == [pytest.approx(0.98)]


def test_a_declared_row_replaces_the_built_in_one_and_unknown_symbols_have_none():
    assert len(DividendBook().dividends("AAPL")) >= 8
    assert len(DividendBook({"AAPL": [{"ex_date": "20240510", "amount": 0.25}]}).dividends("aapl")) == 1
    assert DividendBook().dividends("TSLA") == ()


@pytest.mark.parametrize("row", [{"ex_date": "2024-05-10", "amount": 1.0}, {"ex_date": "20240510", "amount": -1.0}])
def test_a_bad_dividend_is_refused_with_a_clear_error(row):
    with pytest.raises(CorporateActionError):
        DividendBook({"XYZ": [row]})
