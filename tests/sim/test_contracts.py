"""Contract lookup behaves like IB's contract details service."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from mock_gateway.sim import ContractBook, ContractQuery
from mock_gateway.sim.contracts import occ_symbol, option_expiries, quarterly_expiries

BOOK = ContractBook.default()


def test_a_stock_by_symbol_sectype_and_currency_is_unique_with_the_primary_exchange_filled_in():
    [aapl] = BOOK.match(ContractQuery(symbol="AAPL", sec_type="STK", exchange="SMART", currency="USD"))
    assert (aapl.con_id, aapl.primary_exchange, aapl.exchange, aapl.min_tick) == (265598, "NASDAQ", "SMART", 0.01)
    assert aapl.long_name == "APPLE INC" and ("ISIN", "US0378331005") in aapl.sec_ids


def test_a_conid_alone_identifies_the_contract():
    [spy] = BOOK.match(ContractQuery(con_id=756733))
    assert (spy.symbol, spy.primary_exchange) == ("SPY", "ARCA")


def test_an_unknown_symbol_or_conid_matches_nothing():
    assert BOOK.match(ContractQuery(symbol="NOSUCH", sec_type="STK")) == []
    assert BOOK.match(ContractQuery(con_id=1)) == []
    assert BOOK.get(1) is None


def test_a_directed_venue_is_accepted_and_echoed():
    [ibm] = BOOK.match(ContractQuery(symbol="IBM", sec_type="STK", exchange="NYSE", currency="USD"))
    assert (ibm.con_id, ibm.exchange) == (8314, "NYSE")


def test_a_wrong_primary_exchange_matches_nothing_and_island_means_nasdaq():
    assert BOOK.match(ContractQuery(symbol="AAPL", sec_type="STK", exchange="SMART", primary_exchange="NYSE")) == []
    assert len(BOOK.match(ContractQuery(symbol="AAPL", sec_type="STK", exchange="SMART",
                                        primary_exchange="ISLAND"))) == 1


def test_a_futures_query_without_expiry_is_ambiguous_between_the_front_and_next_month():
    months = BOOK.match(ContractQuery(symbol="ES", sec_type="FUT", exchange="CME"))
    assert len(months) == 2
    assert {m.multiplier for m in months} == {"50"} and {m.min_tick for m in months} == {0.25}


def test_a_futures_month_or_local_symbol_makes_it_unique_and_globex_is_cme():
    front = min(BOOK.match(ContractQuery(symbol="NQ", sec_type="FUT")), key=lambda s: s.last_trade_date)
    assert BOOK.match(ContractQuery(symbol="NQ", sec_type="FUT", exchange="GLOBEX",
                                    last_trade_date=front.contract_month)) == [front]
    assert BOOK.match(ContractQuery(sec_type="FUT", local_symbol=front.local_symbol)) == [front]
    assert front.multiplier_value == 20.0


def test_an_option_needs_expiry_strike_and_right_to_be_unique():
    chain = BOOK.match(ContractQuery(symbol="AAPL", sec_type="OPT", exchange="SMART"))
    assert len(chain) > 100   # the whole listed chain: expiries x strikes x rights
    one = chain[0]
    expiry = BOOK.match(ContractQuery(symbol="AAPL", sec_type="OPT", last_trade_date=one.last_trade_date))
    assert 10 <= len(expiry) < len(chain) and len(expiry) % 2 == 0
    assert BOOK.match(ContractQuery(symbol="AAPL", sec_type="OPT", exchange="SMART", last_trade_date=one.last_trade_date,
                                    strike=one.strike, right="CALL" if one.right == "C" else "PUT")) == [one]
    assert one.multiplier == "100" and one.under_con_id == 265598


def test_option_strikes_bracket_the_underlying_start_price():
    strikes = sorted({s.strike for s in BOOK.match(ContractQuery(symbol="SPY", sec_type="OPT"))})
    assert strikes[0] < 590.0 < strikes[-1] and len(strikes) > 20


def test_forex_is_found_the_way_ib_insync_spells_it():
    [eur] = BOOK.match(ContractQuery(symbol="EUR", sec_type="CASH", exchange="IDEALPRO", currency="USD"))
    assert (eur.local_symbol, eur.min_tick, eur.con_id) == ("EUR.USD", 0.00005, 12087792)
    assert BOOK.match(ContractQuery(local_symbol="GBP.USD", sec_type="CASH"))[0].symbol == "GBP"


def test_isin_lookup_finds_the_stock():
    assert [s.symbol for s in BOOK.match(ContractQuery(sec_id_type="ISIN", sec_id="US5949181045"))] == ["MSFT"]


def test_a_wire_contract_parses_into_a_query():
    q = ContractQuery.from_wire(["0", "AAPL", "STK", "", "0", "", "", "SMART", "", "USD", "", ""])
    assert BOOK.match(q)[0].con_id == 265598


def test_the_universe_can_be_narrowed_and_start_prices_overridden():
    book = ContractBook.default(symbols=["MSFT", "EUR.USD"], initial_prices={"MSFT": 100.0})
    assert {s.local_symbol for s in book} == {"MSFT", "EUR.USD"}
    assert book.get(272093).initial_price == 100.0


def test_trading_hours_are_dated_from_the_start_and_weekends_are_closed():
    aapl = BOOK.get(265598)
    days = aapl.liquid_hours.split(";")
    assert days[0] == "20261124:0930-20261124:1600" and "20261128:CLOSED" in days
    assert aapl.trading_hours.startswith("20261124:0400-20261124:2000")


@pytest.mark.parametrize("start, expected", [
    (datetime(2026, 11, 24, tzinfo=timezone.utc), ["20261218", "20270319"]),
    (datetime(2026, 12, 19, tzinfo=timezone.utc), ["20270319", "20270618"]),
])
def test_futures_months_are_the_next_two_quarterly_expiries(start, expected):
    assert [f"{d:%Y%m%d}" for d in quarterly_expiries(start.date(), 2)] == expected


def test_option_expiries_are_a_weekly_and_a_later_monthly():
    weekly, monthly = option_expiries(datetime(2026, 11, 24).date())
    assert (f"{weekly:%Y%m%d}", f"{monthly:%Y%m%d}") == ("20261127", "20261218")


def test_option_local_symbols_are_occ_symbols():
    assert occ_symbol("AAPL", datetime(2026, 12, 18).date(), "C", 230.0) == "AAPL  261218C00230000"
