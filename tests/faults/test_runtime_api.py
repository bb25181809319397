"""The runtime fault API from a test's own thread (the gateway runs its loop in another), its errors,
and how the harness accounts for a runtime fault: as for a scheduled one."""
import threading
import time

import pytest

from harness.expectations import NOT_EXERCISED, PASS, fault_activity, verdict
from harness.metrics import load_frame
from harness.scenario import Scenario, ScenarioError, load_scenario
from mock_gateway.config import GatewayConfig
from mock_gateway.faults.distributions import Fixed
from mock_gateway.faults.latency import Latency
from mock_gateway.faults.runtime import DuplicateFaultName, GatewayNotRunning, NoSuchFault
from mock_gateway.faults.spec import FaultSpecError, UnknownFaultType
from mock_gateway.server import GatewayThread

LATENCY_MS = 400


def wait_for(ib, predicate, timeout_s=5.0, what="condition"):
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s} s waiting for {what}")
        try:
            ib.sleep(0.02)
        except ConnectionError:   # a blocking wait raises when the socket drops: what the caller waits for
            pass


def round_trip_ms(ib):
    t0 = time.monotonic()
    ib.reqCurrentTime()
    return (time.monotonic() - t0) * 1000


@pytest.mark.parametrize("lib", ["ib_insync", "ib_async"])
def test_a_blocking_client_sees_a_fault_added_and_removed_from_the_test_thread(mock_gateway_factory, lib):
    client = pytest.importorskip(lib)
    gw = mock_gateway_factory()
    ib = client.IB()
    ib.connect(gw.host, gw.port, clientId=1, timeout=10)
    try:
        gw.faults.add("latency", distribution={"kind": "fixed", "ms": LATENCY_MS}, kinds=["other"])
        assert round_trip_ms(ib) >= LATENCY_MS
        gw.faults.remove("latency")
        assert round_trip_ms(ib) < LATENCY_MS
        gw.faults.add("disconnect", name="drop")
        wait_for(ib, lambda: not ib.isConnected(), what="the runtime disconnect")
        assert "drop" in gw.faults and gw.faults.get("drop").origin == "runtime"
    finally:
        ib.disconnect()


def test_many_threads_adding_and_removing_at_once_leave_a_consistent_stack(mock_gateway_factory):
    gw = mock_gateway_factory()
    errors = []

    def churn(i):
        try:
            for j in range(20):
                gw.faults.add("slippage", name=f"slip-{i}-{j}", ticks=1)
                gw.faults.remove(f"slip-{i}-{j}")
            gw.faults.add("slippage", name=f"kept-{i}", ticks=1)
        except Exception as exc:   # noqa: BLE001  (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=churn, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert sorted(f.name for f in gw.faults if f.origin == "runtime") == [f"kept-{i}" for i in range(4)]
    added = [e for e in gw.event_log.events if e["msg"] == "fault_added"]
    assert len(added) == 4 * 21


# ---------------------------------------------------------------------------- errors
@pytest.fixture
def gw(mock_gateway_factory):
    return mock_gateway_factory()


def test_an_unknown_kind_names_the_nearest_one(gw):
    with pytest.raises(UnknownFaultType, match=r"unknown fault type 'latncy' \(did you mean 'latency'\?\)") as err:
        gw.faults.add("latncy", distribution={"kind": "fixed", "ms": 5})
    assert err.value.suggestion == "latency"
    assert "connectivity_loss" in str(err.value)    # the known types are listed


def test_a_bad_parameter_gets_the_scenario_loaders_message_with_its_field(gw, tmp_path):
    with pytest.raises(FaultSpecError) as runtime:
        gw.faults.add("message_rate", name="strict", max_per_s=0)
    path = tmp_path / "s.yaml"
    path.write_text("name: s\ndescription: d\nduration_s: 60\nfaults:\n  - type: message_rate\n    max_per_s: 0\n")
    with pytest.raises(ScenarioError) as loaded:
        load_scenario(path)
    assert runtime.value.field == "max_per_s" and loaded.value.field == "faults[0].max_per_s"
    assert runtime.value.message == loaded.value.message == "Input should be greater than or equal to 1"


def test_an_unknown_parameter_suggests_the_one_meant(gw):
    with pytest.raises(FaultSpecError, match=r"max_per_sec: unknown field \(did you mean 'max_per_s'\?\)"):
        gw.faults.add("message_rate", max_per_sec=10, replace=True)


def test_a_missing_parameter_is_named(gw):
    with pytest.raises(FaultSpecError, match=r"fault 'latency': missing required field 'distribution'"):
        gw.faults.add("latency")


def test_a_schedule_is_checked_as_in_yaml(gw):
    with pytest.raises(FaultSpecError, match="lasts a while: give the schedule duration_s"):
        gw.faults.add("connectivity_loss", schedule={"at_s": 5})
    with pytest.raises(FaultSpecError, match=r"schedule: a schedule needs exactly one of"):
        gw.faults.add("disconnect", schedule={})


def test_numbers_must_be_finite(gw):
    with pytest.raises(FaultSpecError, match="must be a finite number"):
        gw.faults.add("slippage", ticks=float("inf"))
    with pytest.raises(FaultSpecError, match="for_s: must be a positive finite number"):
        gw.faults.add("order_reject", for_s=float("nan"))


@pytest.mark.parametrize("name", ["a,b", "slow:identical", "x" * 65, "-lead"])
def test_a_name_the_event_log_could_not_tell_apart_is_refused(gw, name):
    with pytest.raises(FaultSpecError, match="is not a fault name"):
        gw.faults.add("order_reject", name=name)


def test_a_schedule_that_would_flood_the_loop_is_refused(gw):
    with pytest.raises(FaultSpecError, match=r"schedule.every_s: a period of 1e-09 s is too short: at least 0.01 sim seconds"):
        gw.faults.add("disconnect", schedule={"every_s": 1e-9})
    with pytest.raises(FaultSpecError, match="repeat_every_s"):
        gw.faults.add("connectivity_loss", repeat_every_s=1e-9)


def test_the_faults_can_still_be_listed_after_the_gateway_stopped():
    thread = GatewayThread(GatewayConfig(port=0))
    gw = thread.start()
    gw.faults.add("order_reject", name="margin")
    thread.stop()
    assert "margin" in [f.name for f in gw.faults.list()]


def test_a_duplicate_name_is_refused_and_says_how_to_resolve_it(gw):
    with pytest.raises(DuplicateFaultName, match=r"'message_rate' is already active \(message_rate, scenario"):
        gw.faults.add("message_rate", max_per_s=5)
    assert gw.faults.add("message_rate", max_per_s=5, replace=True).params["max_per_s"] == 5
    assert [f.name for f in gw.faults].count("message_rate") == 1


def test_removing_an_unknown_name_lists_the_active_ones(gw):
    gw.faults.add("order_reject", name="margin")
    with pytest.raises(NoSuchFault, match=r"no active fault named 'margn' \(did you mean 'margin'\?\); active faults: "):
        gw.faults.remove("margn")


def test_schedule_and_after_s_together_are_refused(gw):
    with pytest.raises(FaultSpecError, match="either a schedule or after_s/for_s"):
        gw.faults.add("disconnect", schedule={"at_s": 1}, after_s=1)


def test_a_built_fault_is_accepted_as_is(gw):
    added = gw.faults.add(Latency(name="base", distribution=Fixed(ms=1)))
    assert (added.name, added.kind, added.origin) == ("base", "latency", "runtime")


def test_a_stopped_gateway_refuses_new_faults():
    thread = GatewayThread(GatewayConfig(port=0))
    gw = thread.start()
    thread.stop()
    with pytest.raises(GatewayNotRunning, match="has stopped"):
        gw.faults.add("order_reject")


# ---------------------------------------------------------------------------- accounting
def test_runtime_faults_are_accounted_like_scheduled_ones_acted_or_not_exercised(tmp_path):
    from ib_insync import IB

    log = tmp_path / "events.jsonl"
    with GatewayThread(GatewayConfig(port=0, event_log=log)) as gw:
        ib = IB()
        ib.connect(gw.host, gw.port, clientId=1, timeout=10)
        gw.faults.add("latency", name="slow", distribution={"kind": "fixed", "ms": 50}, kinds=["other"])
        ib.reqCurrentTime()
        gw.faults.add("order_reject", name="margin")       # no order is ever placed: it never acts
        gw.faults.remove("slow")
        ib.disconnect()
        time.sleep(0.1)
    df = load_frame(log)
    scenario = Scenario(name="runtime", description="faults added at runtime", duration_s=60)
    activity = {a.name: a for a in fault_activity(scenario, df, None)}
    assert activity["slow"].acted >= 1 and activity["slow"].type == "latency"
    assert activity["margin"].acted == 0 and "placeOrder" in activity["margin"].why_not
    assert verdict([], list(activity.values())) == NOT_EXERCISED
    assert verdict([], [activity["slow"]]) == PASS


# ---------------------------------------------------------------------------- every type, the YAML form
#: The parameters a type cannot do without; every other type is added with its defaults.
REQUIRED = {
    "latency": {"distribution": {"kind": "fixed", "ms": 5}},
    "delayed_fills": {"delay": {"kind": "fixed", "ms": 5}},
    "suppress_reply": {"replies": ["positionEnd"]},
}


def test_every_fault_type_in_the_registry_can_be_added_listed_and_removed_at_runtime(mock_gateway_factory):
    from ib_insync import IB

    from mock_gateway.faults.registry import FAULT_TYPES

    gw = mock_gateway_factory()
    for kind in sorted(FAULT_TYPES):
        added = gw.faults.add(kind, name=f"rt-{kind}", **REQUIRED.get(kind, {}))
        assert (added.kind, added.origin) == (kind, "runtime")
        assert f"rt-{kind}" in gw.faults
        assert gw.faults.remove(f"rt-{kind}").name == f"rt-{kind}"
        assert f"rt-{kind}" not in gw.faults
    assert sorted(f.name for f in gw.faults) == [
        "historical_pacing", "market_data_lines", "message_rate", "realtime_bars_pacing"]   # the defaults remain
    ib = IB()
    ib.connect(gw.host, gw.port, clientId=1, timeout=10)   # nothing a removed fault set is left behind
    try:
        assert ib.reqCurrentTime() is not None and ib.isConnected()
    finally:
        ib.disconnect()


def _shipped_faults():
    import yaml

    from harness.scenario import SCENARIOS_DIR

    for path in sorted(SCENARIOS_DIR.glob("*.yaml")):
        for i, spec in enumerate(yaml.safe_load(path.read_text()).get("faults") or []):
            yield pytest.param(spec, id=f"{path.stem}[{i}]")


@pytest.mark.parametrize("spec", list(_shipped_faults()))
def test_every_fault_of_the_shipped_scenarios_can_be_added_at_runtime_as_written(gw, spec, monkeypatch):
    from harness.scenario import SCENARIOS_DIR

    monkeypatch.chdir(SCENARIOS_DIR)   # a data file a fault names is relative to its scenario's folder
    added = gw.faults.add(spec, replace=True)
    assert added.kind == spec["type"] and added.name == spec.get("name", spec["type"])
    gw.faults.remove(added.name)


def test_a_rule_fault_removed_before_any_request_it_applies_to_never_acted(tmp_path):
    from ib_insync import IB, MarketOrder, Stock

    log = tmp_path / "events.jsonl"
    with GatewayThread(GatewayConfig(port=0, event_log=log)) as gw:
        ib = IB()
        ib.connect(gw.host, gw.port, clientId=1, timeout=10)
        gw.faults.add("partial_fills", name="pieces")
        gw.faults.remove("pieces")
        [aapl] = ib.qualifyContracts(Stock("AAPL", "SMART", "USD"))
        trade = ib.placeOrder(aapl, MarketOrder("BUY", 1))     # after the removal: not the fault's
        wait_for(ib, trade.isDone, what="the fill")
        ib.disconnect()
        time.sleep(0.1)
    [pieces] = [a for a in fault_activity(Scenario(name="r", description="d", duration_s=60), load_frame(log), None)
                if a.name == "pieces"]
    assert pieces.acted == 0 and pieces.why_not


def test_schedule_fields_may_be_given_flat_and_are_checked_as_in_yaml(gw):
    added = gw.faults.add("connectivity_loss", name="outage", at_s=5, duration_s=60)
    assert added.params["schedule"] == {"at_s": pytest.approx(added.added_at_s + 5), "duration_s": 60}
    with pytest.raises(FaultSpecError, match="lasts a while: give the schedule duration_s"):
        gw.faults.add("connectivity_loss", name="no_end", at_s=5)
    with pytest.raises(FaultSpecError, match="either flat or in schedule="):
        gw.faults.add("disconnect", name="both", at_s=1, schedule={"at_s": 2})
    restart = gw.faults.add("daily_restart", duration_s=300)     # its own field, not the schedule's
    assert restart.params["duration_s"] == 300 and restart.params["schedule"] is None


def test_the_factory_takes_faults_in_the_scenario_file_form(mock_gateway_factory):
    gw = mock_gateway_factory(faults=[{"type": "message_rate", "max_per_s": 5},
                                      {"type": "order_reject", "name": "margin", "probability": 0.5}])
    listed = {f.name: f for f in gw.faults}
    assert listed["message_rate"].params["max_per_s"] == 5       # replaces the default rule of its type
    assert listed["margin"].origin == "scenario" and "historical_pacing" in listed
    with pytest.raises(FaultSpecError, match="probability: Input should be less than or equal to 1"):
        mock_gateway_factory(faults=[{"type": "order_reject", "probability": 2}])
    flap = mock_gateway_factory(scenario="disconnect_flap", faults=[{"type": "latency", "name": "extra",
                                                                     "distribution": {"kind": "fixed", "ms": 1}}])
    assert {"disconnect", "extra"} <= {f.name for f in flap.faults}


def test_run_scenario_takes_more_faults_and_accounts_for_them_like_the_files_own(run_scenario, tmp_path):
    from pathlib import Path

    idle = Path(__file__).resolve().parents[1] / "harness" / "handlers" / "idle_ib.py"
    path = tmp_path / "idle.yaml"
    path.write_text("name: idle\ndescription: an idle handler\nspeed: 30\nduration_s: 60\n"
                    f"handler:\n  command: [python, {idle}]\n  grace_period_s: 2\n")
    outcome = run_scenario(path, faults=[
        {"type": "latency", "name": "slow_start", "distribution": {"kind": "fixed", "ms": 20}, "kinds": ["other"]},
        {"type": "order_reject", "name": "margin"}])
    acted = {f.name: f.acted for f in outcome.faults}
    assert acted["slow_start"] > 0 and acted["margin"] == 0      # the idle handler never places an order
    assert outcome.verdict == "NOT EXERCISED"
    assert any("margin" in reason for reason in outcome.not_exercised)
    with pytest.raises(FaultSpecError, match="unknown field"):
        run_scenario(path, faults=[{"type": "order_reject", "reasn": "x"}])
