"""The contract universe: index members, ETFs, indices, futures months, FX, crypto and option chains."""
from __future__ import annotations

from datetime import date

import pytest

from mock_gateway.sim import ContractBook, ContractQuery
from mock_gateway.sim.universe import FUTURE_ROOTS, chain_expiries, contract_months, index_members, strike_step

BOOK = ContractBook.default()


def one(**query) -> object:
    found = BOOK.match(ContractQuery(**query))
    assert len(found) == 1, found
    return found[0]


def test_the_sp500_and_nasdaq100_members_are_all_there_once():
    members = index_members()
    assert len(members) >= 500 and len({m.symbol for m in members}) == len(members)
    stocks = [s for s in BOOK if s.sec_type == "STK"]
    assert len(stocks) >= 530
    assert len({s.con_id for s in stocks}) == len(stocks)


@pytest.mark.parametrize("symbol, con_id, primary", [("AMZN", 3691937, "NASDAQ"), ("TSLA", 76792991, "NASDAQ"),
                                                     ("META", 107113386, "NASDAQ"), ("AAPL", 265598, "NASDAQ")])
def test_common_names_carry_ibs_conids(symbol, con_id, primary):
    spec = one(symbol=symbol, sec_type="STK", currency="USD")
    assert (spec.con_id, spec.primary_exchange, spec.min_tick) == (con_id, primary, 0.01)
    assert spec.listing_date and spec.long_name and spec.market_rule_ids


def test_a_member_without_a_known_conid_gets_a_stable_synthetic_one_with_its_isin_and_industry():
    spec = one(symbol="JNJ", sec_type="STK")
    again = ContractBook.default().match(ContractQuery(symbol="JNJ", sec_type="STK"))[0]
    assert spec.con_id == again.con_id and spec.primary_exchange == "NYSE"
    assert ("ISIN", "US4781601046") in spec.sec_ids and spec.industry


def test_class_shares_use_ibs_spelling():
    assert one(symbol="BRK B", sec_type="STK").local_symbol == "BRK B"


def test_large_etfs_and_indices():
    assert one(symbol="IWM", sec_type="STK").primary_exchange == "ARCA"
    for symbol, con_id in (("SPX", 416904), ("NDX", 416843), ("VIX", 13455763)):
        assert one(symbol=symbol, sec_type="IND").con_id == con_id


def test_front_futures_months_follow_each_exchanges_expiry_rule():
    es = {r.symbol: r for r in FUTURE_ROOTS}
    assert [e for e, _, _ in contract_months(es["ES"], date(2026, 11, 24), 2)] == [date(2026, 12, 18),
                                                                                  date(2027, 3, 19)]
    # CL January 2027: three business days before 25 December (a holiday-free weekday here)
    assert contract_months(es["CL"], date(2026, 11, 24), 1)[0] == (date(2026, 12, 22), 2027, 1)
    fut = one(local_symbol="CLF7", sec_type="FUT")
    assert (fut.multiplier, fut.exchange, fut.contract_month) == ("1000", "NYMEX", "202701")
    assert one(symbol="ES", sec_type="FUT", last_trade_date="202612").multiplier == "50"


def test_fx_majors_and_crypto_on_paxos():
    assert one(symbol="USD", sec_type="CASH", currency="JPY").local_symbol == "USD.JPY"
    btc = one(symbol="BTC", sec_type="CRYPTO", exchange="PAXOS")
    assert btc.currency == "USD" and btc.min_size < 1


def test_option_chains_are_made_for_any_stock_by_the_listing_rules():
    chain = BOOK.match(ContractQuery(symbol="NVDA", sec_type="OPT"))
    expiries = sorted({s.last_trade_date for s in chain})
    strikes = sorted({s.strike for s in chain})
    assert expiries == [f"{d:%Y%m%d}" for d in chain_expiries(date(2026, 11, 24))]
    assert all(date(int(e[:4]), int(e[4:6]), int(e[6:])).weekday() == 4 for e in expiries)
    assert strikes[0] < 180 < strikes[-1] and all(round(k / strike_step(180, False), 6).is_integer() for k in strikes)
    spx = BOOK.match(ContractQuery(symbol="SPX", sec_type="OPT"))
    assert spx and {s.under_sec_type for s in spx} == {"IND"} and "SPXW" in {s.trading_class for s in spx}


def test_an_unknown_symbol_is_still_unknown():
    assert BOOK.match(ContractQuery(symbol="XXX", sec_type="STK")) == []
    assert BOOK.match(ContractQuery(symbol="XXX", sec_type="OPT")) == []


def test_a_scenario_adds_its_own_contract_and_cannot_shadow_a_listed_one():
    book = ContractBook.default(extra=[{"symbol": "ACME", "price": 42.0, "min_tick": 0.05, "exchange": "SMART",
                                        "primary_exchange": "NYSE", "listing_date": "20200102"}])
    acme = book.match(ContractQuery(symbol="ACME", sec_type="STK", currency="USD"))[0]
    assert (acme.initial_price, acme.min_tick, acme.primary_exchange, acme.listing_date) == (42.0, 0.05, "NYSE",
                                                                                           "20200102")
    with pytest.raises(ValueError, match="already in the universe"):
        ContractBook.default(extra=[{"symbol": "AAPL", "price": 1.0}])


def test_a_scenario_chooses_its_market_data_permission_and_contracts():
    from harness.scenario import MarketSpec

    spec = MarketSpec.model_validate({"data_permission": "delayed",
                                      "contracts": [{"symbol": "ACME", "price": 42.0}]})
    assert spec.data_permission == "delayed" and spec.contracts[0].sec_type == "STK"
    with pytest.raises(ValueError):
        MarketSpec.model_validate({"data_permission": "sometimes"})


def test_leaps_reach_three_years_out_in_january_and_also_december_on_index_etfs():
    # stoqey/ib's live test suite qualifies SPY 2028-12-15 750 C (a December LEAPS, 25 months out)
    spy_expiries = {s.last_trade_date for s in BOOK.match(ContractQuery(symbol="SPY", sec_type="OPT"))}
    assert {"20271217", "20280121", "20281215", "20290119"} <= spy_expiries
    assert "20291221" not in spy_expiries                                   # about three years, no further
    nvda_expiries = {s.last_trade_date for s in BOOK.match(ContractQuery(symbol="NVDA", sec_type="OPT"))}
    assert {"20280121", "20290119"} <= nvda_expiries
    assert not {"20271217", "20281215"} & nvda_expiries                      # single stocks: January only
    spy_750 = BOOK.match(ContractQuery(symbol="SPY", sec_type="OPT", last_trade_date="20281215", strike=750.0, right="C"))
    assert len(spy_750) == 1 and spy_750[0].local_symbol == "SPY   281215C00750000"


def test_the_index_a_future_names_as_its_underlying_is_listed_without_an_opt_chain():
    # stoqey/ib's live suite asks Index("ES") on CME; ES futures carry underConId 11004968
    for future in BOOK.match(ContractQuery(symbol="ES", sec_type="FUT")) + BOOK.match(ContractQuery(symbol="NQ", sec_type="FUT")):
        under = BOOK.get(future.under_con_id)
        assert under is not None and (under.sec_type, under.symbol, under.exchange) == ("IND", future.symbol, "CME")
    assert BOOK.match(ContractQuery(symbol="ES", sec_type="OPT")) == []     # options on ES are FOP on the future


# ---------------------------------------------------------------------------------------------- beyond the indices
@pytest.mark.parametrize("symbol, primary", [("AMC", "NYSE"), ("GME", "NYSE"), ("SOFI", "NASDAQ"), ("NIO", "NYSE")])
def test_widely_traded_us_names_outside_the_indices_are_listed_in_usd(symbol, primary):
    spec = one(symbol=symbol, sec_type="STK", currency="USD")
    assert (spec.primary_exchange, spec.exchange, spec.time_zone_id) == (primary, "SMART", "US/Eastern")


def test_recorded_conids_of_a_stock_and_a_leaps_option():
    # @stoqey/ib's live suite, run against a real TWS: PLTR 444857009, SPY 2028-12-15 750 C 843630132
    assert one(symbol="PLTR", sec_type="STK").con_id == 444857009
    option = one(symbol="SPY", sec_type="OPT", last_trade_date="20281215", strike=750.0, right="C", exchange="SMART")
    assert option.con_id == 843630132


@pytest.mark.parametrize("symbol, venue, currency, zone, hours", [
    ("SAP", "IBIS", "EUR", "Europe/Berlin", "0900-"), ("BP.", "LSE", "GBP", "Europe/London", "0800-"),
    ("MC", "SBF", "EUR", "Europe/Paris", "0900-"), ("ASML", "AEB", "EUR", "Europe/Amsterdam", "0900-"),
    ("NESN", "EBS", "CHF", "Europe/Zurich", "0900-")])
def test_european_index_members_list_on_their_venue_in_local_currency_and_hours(symbol, venue, currency, zone, hours):
    spec = one(symbol=symbol, sec_type="STK", currency=currency)
    assert (spec.primary_exchange, spec.exchange, spec.time_zone_id) == (venue, "SMART", zone)
    assert hours in spec.liquid_hours and "0400-" not in spec.trading_hours
    assert one(symbol=symbol, sec_type="STK", exchange=venue).con_id == spec.con_id   # directed to the venue
    options = BOOK.match(ContractQuery(symbol=symbol, sec_type="OPT"))   # ASML's are on its NASDAQ listing
    assert all(o.under_con_id != spec.con_id for o in options)           # no US option chain on the venue's


def test_a_symbol_listed_in_new_york_and_frankfurt_is_ambiguous_without_a_currency():
    # DTE is DTE Energy on NYSE and Deutsche Telekom on Xetra: IB answers both until the currency picks one
    both = BOOK.match(ContractQuery(symbol="DTE", sec_type="STK", exchange="SMART"))
    assert {(s.primary_exchange, s.currency) for s in both} == {("NYSE", "USD"), ("IBIS", "EUR")}
    assert one(symbol="DTE", sec_type="STK", exchange="SMART", currency="EUR").primary_exchange == "IBIS"


@pytest.mark.parametrize("symbol, exchange, currency", [("DAX", "EUREX", "EUR"), ("ESTX50", "EUREX", "EUR"),
                                                        ("CAC40", "MONEP", "EUR"), ("Z", "ICEEU", "GBP")])
def test_european_indices_are_ind_on_their_exchange_in_local_currency(symbol, exchange, currency):
    spec = one(symbol=symbol, sec_type="IND", exchange=exchange, currency=currency)
    assert spec.time_zone_id.startswith("Europe/") and spec.initial_price > 0


def test_ib_spells_lse_tickers_of_two_letters_with_a_dot_and_share_classes_after_a_dot():
    from mock_gateway.sim.universe import ib_symbol

    assert ib_symbol("BP.L", ".L", "LSE") == "BP."
    assert ib_symbol("BT-A.L", ".L", "LSE") == "BT.A"
    assert ib_symbol("VOW3.DE", ".DE", "IBIS") == "VOW3"


@pytest.mark.parametrize("base, quote, tick", [("EUR", "GBP", 0.00005), ("EUR", "JPY", 0.005), ("USD", "SEK", 0.00005)])
def test_idealpro_lists_the_crosses_a_european_book_trades(base, quote, tick):
    pair = one(symbol=base, sec_type="CASH", currency=quote, exchange="IDEALPRO")
    assert (pair.local_symbol, pair.min_tick) == (f"{base}.{quote}", tick)


def test_a_scenario_prices_a_european_listing_by_symbol_and_currency():
    book = ContractBook.default(initial_prices={"SAP.EUR": 210.0})
    [sap] = book.match(ContractQuery(symbol="SAP", sec_type="STK", currency="EUR"))
    assert sap.initial_price == 210.0
