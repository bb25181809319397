"""Extreme numbers where the last attack run did not look: a scenario's own contracts, and a limit
price no tick grid reaches. Each is a specific answer, never an internal error."""
from __future__ import annotations

import ib_insync
import pytest
import yaml

from harness.scenario import ScenarioError, load_scenario


@pytest.mark.parametrize("contract, field", [
    ({"symbol": "ZZZ", "price": 1e308}, "price"),
    ({"symbol": "ZZZ", "price": 10.0, "min_tick": 1e-300}, "min_tick"),
    ({"symbol": "ZZZ", "price": 10.0, "min_tick": 1e300}, "min_tick"),
])
def test_a_scenario_contract_with_a_price_or_tick_no_market_has_is_refused_naming_the_field(tmp_path, contract, field):
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump({"name": "x", "description": "d", "duration_s": 60,
                                    "market": {"contracts": [contract]}}))
    with pytest.raises(ScenarioError, match=rf"market\.contracts\[0\]\.{field}"):
        load_scenario(path)


@pytest.mark.parametrize("price", [1e308, 1.5e308])   # (1.797...e308 is IB's "unset")
def test_a_limit_price_whose_ticks_overflow_gets_ibs_110_not_an_internal_error(mock_gateway, price):
    ib = ib_insync.IB()
    errors: list[tuple[int, str]] = []
    ib.errorEvent += lambda req_id, code, text, *_: errors.append((code, text))
    ib.connect(mock_gateway.host, mock_gateway.port, clientId=41, timeout=10)
    try:
        trade = ib.placeOrder(ib_insync.Stock("AAPL", "SMART", "USD"), ib_insync.LimitOrder("BUY", 1, price))
        for _ in range(40):
            ib.sleep(0.05)
            if errors:
                break
        assert (110, "The price does not conform to the minimum price variation for this contract.") in errors
        assert not [t for _, t in errors if "internal error" in t]
        assert trade.orderStatus.status != "Filled"
    finally:
        ib.disconnect()
