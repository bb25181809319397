"""Scenario files that start the account in a given state and set the API settings: validated up front."""
from __future__ import annotations

import pytest

from harness.scenario import ScenarioError, load_scenario


def write(tmp_path, text: str):
    path = tmp_path / "s.yaml"
    path.write_text(text)
    return path


BASE = """name: s
description: start state
duration_s: 60
"""


def test_the_shipped_restart_with_positions_scenario_loads_and_builds_its_account():
    scenario = load_scenario("restart_with_positions")
    config = scenario.gateway_config()
    [account] = config.accounts
    assert account.cash_by_currency == {"EUR": 25000.0, "GBP": -5000.0}
    assert [(p.symbol, p.qty) for p in account.positions] == [("AAPL", 300), ("MSFT", 120), ("IBM", -50)]
    assert [o.client_id for o in account.open_orders] == [1]       # the handler's client id by default


def test_a_position_in_a_symbol_outside_the_universe_is_refused_with_its_line(tmp_path):
    path = write(tmp_path, BASE + """accounts:
  - id: DU1
    positions:
      - {symbol: AAPL, qty: 1, avg_cost: 100}
      - {symbol: NOSUCH, qty: 1, avg_cost: 100}
""")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert err.value.field == "accounts[0].positions[1].symbol" and "NOSUCH" in err.value.message
    assert err.value.line == 8


def test_a_cash_account_cannot_start_short(tmp_path):
    path = write(tmp_path, BASE + """accounts:
  - {id: DU1, type: cash, positions: [{symbol: AAPL, qty: -5, avg_cost: 100}]}
""")
    with pytest.raises(ScenarioError, match="cash account cannot hold a short position"):
        load_scenario(path)


def test_a_limit_order_without_a_price_is_refused(tmp_path):
    path = write(tmp_path, BASE + """accounts:
  - {id: DU1, open_orders: [{symbol: AAPL, action: BUY, qty: 1, order_type: LMT}]}
""")
    with pytest.raises(ScenarioError, match="needs lmt_price"):
        load_scenario(path)


def test_api_settings_reach_the_gateway_config(tmp_path):
    path = write(tmp_path, BASE + """api: {read_only: true, master_client_id: 0, pacing: pace}
""")
    config = load_scenario(path).gateway_config()
    assert config.read_only_api and config.master_client_id == 0
    names = {f.name for f in config.faults.faults}
    assert {"read_only_api", "api_pacing"} <= names and "message_rate" not in names


def test_a_typo_in_the_api_block_is_named(tmp_path):
    path = write(tmp_path, BASE + "api: {read_onyl: true}\n")
    with pytest.raises(ScenarioError, match="did you mean 'read_only'"):
        load_scenario(path)


def test_a_currency_without_an_exchange_rate_is_refused(tmp_path):
    path = write(tmp_path, BASE + "accounts: [{id: DU1, cash_by_currency: {XYZ: 5}}]\n")
    with pytest.raises(ScenarioError, match="no exchange rate for XYZ"):
        load_scenario(path)


def test_an_absurd_balance_is_refused(tmp_path):
    path = write(tmp_path, BASE + "accounts: [{id: DU1, cash_by_currency: {EUR: 1e300}}]\n")
    with pytest.raises(ScenarioError, match="not a balance"):
        load_scenario(path)


def test_an_infinite_position_is_refused(tmp_path):
    path = write(tmp_path, BASE + "accounts: [{id: DU1, positions: [{symbol: AAPL, qty: .inf, avg_cost: 1}]}]\n")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert err.value.field == "accounts[0].positions[0].qty"
