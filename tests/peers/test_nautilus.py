"""nautilus_trader's Interactive Brokers adapter (a TradingNode with its IB data and execution
clients, as its examples build one) against the mock gateway, over a real socket.

The node runs in ``.venv-nautilus`` (see ``nautilus.py``); the agent reports what the adapter saw.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from .nautilus import run_agent

# one worker runs the module: the healthy session is made once (a 20 s node), not once per worker
pytestmark = [pytest.mark.timeout(300), pytest.mark.xdist_group("nautilus")]


@pytest.fixture(scope="module")
def healthy_session(module_mock_gateway_factory) -> dict:
    """One 20 s TradingNode session on a healthy gateway (seconds of market at speed 1)."""
    gw = module_mock_gateway_factory()
    return run_agent(gw.port, gw.config.account_ids[0], 20)


def test_the_instrument_provider_loads_a_stock_a_pair_a_future_and_an_option(healthy_session):
    assert healthy_session["instrument_types"] == {
        "AAPL.NASDAQ": "Equity",
        "EUR/USD.IDEALPRO": "CurrencyPair",
        "ESZ6.CME": "FuturesContract",
        "AAPL261218C00200000.CBOE": "OptionContract",
    }


def test_quote_ticks_stream_for_every_loaded_instrument(healthy_session):
    quotes = healthy_session["quotes"]
    assert set(quotes) == set(healthy_session["instrument_types"])
    assert all(n >= 20 for n in quotes.values()), quotes


def test_no_quote_tick_is_locked_or_crossed(healthy_session):
    # nautilus builds a QuoteTick after every tickPrice from the last bid and ask it holds: the mock
    # must move the side that leads first, or the book looks crossed between two ticks
    assert healthy_session["crossed_quotes"] == {}, healthy_session.get("crossed_example")


def test_trade_ticks_stream_from_tick_by_tick_all_last(healthy_session):
    # subscribe_trade_ticks is reqTickByTickData(AllLast): refused with 10089 before the mock served it
    assert healthy_session.get("trade_ticks", {}).get("AAPL.NASDAQ", 0) >= 5, healthy_session.get("trade_ticks")
    assert "bad_trade_ticks" not in healthy_session, healthy_session.get("bad_trade_ticks")


def test_historical_and_live_bars_arrive(healthy_session):
    assert healthy_session["historical_bars"] >= 60     # 2 h of 1-minute bars requested
    assert healthy_session["live_bars"] >= 2            # 5-second real-time bars over 20 s


def test_a_market_order_is_filled_with_a_commission(healthy_session):
    assert healthy_session["rejects"] == []
    [fill] = healthy_session["fills"]
    assert fill["qty"] == "10"
    assert float(fill["px"]) > 0
    assert fill["commission"].endswith(" USD") and float(fill["commission"].split()[0]) > 0


def test_the_adapter_reconnects_and_resubscribes_after_the_gateway_drops_the_socket(mock_gateway_factory, tmp_path: Path):
    scenario = tmp_path / "drop_once.yaml"
    scenario.write_text(
        "name: drop_once\n"
        "description: the socket dropped once, 12 s in\n"
        "seed: 5\nspeed: 1\nduration_s: 120\n"
        "handler: {command: [python, -c, 'pass'], client_id: 11}\n"
        "faults:\n"
        "  - type: disconnect\n"
        "    schedule: {at_s: 12}\n")
    gw = mock_gateway_factory(scenario=scenario)
    seen = run_agent(gw.port, gw.config.account_ids[0], 40)
    per_second = {int(k): v for k, v in seen["quotes_per_second"].items()}
    assert any(n > 0 for s, n in per_second.items() if s < 10), per_second     # streaming before the drop
    assert sum(n for s, n in per_second.items() if s >= 30) > 20, per_second  # and again after the reconnect
    assert len(seen["fills"]) == 1                                              # one market order, one fill
    events = gw.call(lambda: list(gw.event_log.events))
    assert [e for e in events if e["dir"] == "sys" and e["msg"] == "fault" and e["fault"] == "disconnect"]
    handshakes = [e for e in events if e["dir"] == "sys" and e["msg"] == "connect"]
    assert len(handshakes) >= 2, "the adapter never came back after the drop"
    # and it asked for its quotes again on the new connection
    after_drop = [e for e in events if e["dir"] == "in" and e["msg"] == "reqMktData" and e["conn"] != handshakes[0]["conn"]]
    assert after_drop


def test_a_resting_limit_order_is_accepted_repriced_and_canceled(healthy_session):
    events = healthy_session["resting_events"]
    assert events[0] == "accepted" and events[-2:] == ["updated", "canceled"], events
    assert float(healthy_session["resting_price_after_update"]) > 0
