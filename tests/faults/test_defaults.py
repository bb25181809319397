from mock_gateway.config import GatewayConfig
from mock_gateway.faults.defaults import build_fault_stack, default_fault_stack
from mock_gateway.faults.hist_pacing import HistoricalPacing
from mock_gateway.faults.latency import Latency
from mock_gateway.faults.distributions import Fixed


def types(stack):
    return [f.type for f in stack.faults]


def test_a_healthy_gateway_enforces_the_real_pacing_rules():
    stack = default_fault_stack(GatewayConfig(market_data_lines=3))
    assert types(stack) == ["message_rate", "historical_pacing", "realtime_bars_pacing", "market_data_lines"]
    assert stack.faults[-1].max_lines == 3


def test_a_scenario_fault_of_a_default_type_replaces_the_default():
    stack = build_fault_stack(GatewayConfig(), [HistoricalPacing(mode="silent"), Latency(distribution=Fixed(ms=1))])
    assert types(stack) == ["message_rate", "realtime_bars_pacing", "market_data_lines", "historical_pacing", "latency"]
    assert stack.faults[3].mode == "silent"


def test_pacing_can_be_switched_off():
    assert types(build_fault_stack(GatewayConfig(), [], default_pacing=False)) == []


def test_each_build_gets_fresh_fault_state_and_the_config_seed():
    shared = HistoricalPacing()
    a = build_fault_stack(GatewayConfig(seed=9), [shared]).faults[-1]
    b = build_fault_stack(GatewayConfig(seed=9), [shared]).faults[-1]
    assert a is not b and a._rules is not b._rules and a.seed == 9
