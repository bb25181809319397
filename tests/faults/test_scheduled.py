from datetime import datetime, timezone

import pytest
from pydantic import TypeAdapter, ValidationError

from mock_gateway.faults.base import AcceptAction, FaultStack
from mock_gateway.faults.connection import DailyRestart, Disconnect, GatewayRestart
from mock_gateway.faults.connectivity import ConnectivityLoss, FarmStatus
from mock_gateway.faults.registry import FaultSpec
from mock_gateway.faults.schedule import Schedule

START = datetime(2026, 11, 24, 14, 30, tzinfo=timezone.utc)  # 09:30 New York


def run(ctl, *faults, until=1000):
    FaultStack(f.bound(1, START) for f in faults).install(ctl)
    ctl.env.run(until=until)
    return ctl.actions()


def test_disconnect_drops_every_session_at_each_occurrence(ctl):
    assert run(ctl, Disconnect(schedule=Schedule(every_s=100, start_s=50, count=2))) == [
        (50, "drop", "fault:disconnect"), (150, "drop", "fault:disconnect")]


def test_scheduled_faults_log_begin_and_end(ctl):
    run(ctl, GatewayRestart(schedule=Schedule(at_s=10, duration_s=5)))
    assert [c for c in ctl.calls if c[1] == "log"] == [(10, "log", ("gateway_restart", "begin")),
                                                         (15, "log", ("gateway_restart", "end"))]


def test_gateway_restart_refuses_connections_for_its_length(ctl):
    fault = GatewayRestart(schedule=Schedule(at_s=10, duration_s=30)).bound(1, START)
    FaultStack([fault]).install(ctl)
    ctl.env.run(until=20)
    assert fault.on_accept(20) == AcceptAction.REFUSE
    ctl.env.run(until=100)
    assert ctl.actions() == [(10, "refuse", True), (10, "drop", "fault:gateway_restart"), (40, "refuse", False)]
    assert fault.on_accept(100) is None


def test_daily_restart_comes_at_its_local_time_every_day(ctl):
    # start 09:30 New York; 23:45 is 14.25 h later, then every 24 h
    acts = run(ctl, DailyRestart(time="23:45", duration_s=60), until=2 * 86400)
    downs = [t for t, what, arg in acts if what == "refuse" and arg]
    assert downs == [14.25 * 3600, 14.25 * 3600 + 86400]


def test_daily_restart_validates_time_and_zone():
    ta = TypeAdapter(FaultSpec)
    with pytest.raises(ValidationError, match="HH:MM"):
        ta.validate_python({"type": "daily_restart", "time": "25:00"})
    with pytest.raises(ValidationError, match="unknown time zone"):
        ta.validate_python({"type": "daily_restart", "timezone": "Mars/Olympus"})


def test_restart_without_a_length_is_refused():
    with pytest.raises(ValidationError, match="lasts a while"):
        TypeAdapter(FaultSpec).validate_python({"type": "gateway_restart", "schedule": {"at_s": 5}})


def test_disconnect_without_a_schedule_is_refused():
    with pytest.raises(ValidationError, match="needs a schedule"):
        TypeAdapter(FaultSpec).validate_python({"type": "disconnect"})


def test_connectivity_loss_with_data_lost_clears_subscriptions_then_sends_1101(ctl):
    acts = run(ctl, ConnectivityLoss(data_lost=True, schedule=Schedule(from_s=60, to_s=150)))
    assert acts == [
        (60, "flowing", False),
        (60, "error", (1100, "Connectivity between IBKR and Trader Workstation has been lost.")),
        (150, "clear", None),
        (150, "flowing", True),
        (150, "error", (1101, "Connectivity between IBKR and Trader Workstation has been restored - data lost.")),
    ]


def test_connectivity_loss_with_data_maintained_resumes_ticks_and_sends_1102(ctl):
    acts = run(ctl, ConnectivityLoss(schedule=Schedule(at_s=10, duration_s=20)))
    assert acts[-2:] == [(30, "flowing", True), (30, "error", (
        1102, "Connectivity between IBKR and Trader Workstation has been restored - data maintained. All data farms are "
              "connected: usfarm; ushmds; secdefnj."))]
    assert not any(what == "clear" for _, what, _ in acts)


def test_connectivity_loss_can_repeat_1100_during_the_outage(ctl):
    acts = run(ctl, ConnectivityLoss(repeat_every_s=10, schedule=Schedule(at_s=0, duration_s=35)))
    assert [t for t, what, arg in acts if what == "error" and arg[0] == 1100] == [0, 10, 20, 30]


def test_farm_status_reports_broken_then_ok(ctl):
    acts = run(ctl, FarmStatus(farm="hmds", schedule=Schedule(at_s=5, duration_s=10)))
    assert acts == [(5, "error", (2105, "HMDS data farm connection is broken:ushmds")),
                    (15, "error", (2106, "HMDS data farm connection is OK:ushmds"))]


def test_farm_inactive_is_2108(ctl):
    acts = run(ctl, FarmStatus(inactive=True, schedule=Schedule(at_s=5)))
    assert acts == [(5, "error", (2108, "Market data farm connection is inactive but should be available "
                                        "upon demand.usfarm"))]


def test_random_disconnects_repeat_for_the_same_seed(ctl):
    fault = Disconnect(schedule=Schedule(rate_per_min=2, until_s=3600))
    first = run(ctl, fault, until=3600)
    from fault_fakes import FakeControl
    again = run(FakeControl(), fault, until=3600)
    assert first == again and 30 < len(first) < 200


def test_the_sunday_restart_needs_a_login_and_stays_down_until_it_comes(ctl):
    # start Saturday 2026-11-28 12:00 New York: Saturday 23:45 auto-restarts, Sunday 23:45 needs a login
    sat = datetime(2026, 11, 28, 17, 0, tzinfo=timezone.utc)
    fault = DailyRestart(time="23:45", duration_s=60, login_after_s=600).bound(1, sat)
    FaultStack([fault]).install(ctl)
    ctl.env.run(until=3 * 86400)
    refuse = [(t, arg) for t, what, arg in ctl.actions() if what == "refuse"]
    first = 11.75 * 3600
    assert refuse[:4] == [(first, True), (first + 60, False), (first + 86400, True), (first + 86400 + 600, False)]
    assert (first + 86400, "log", ("daily_restart", "reauth_required")) in ctl.calls


def test_a_held_down_gateway_never_comes_back_without_a_login(ctl):
    sun = datetime(2026, 11, 29, 17, 0, tzinfo=timezone.utc)    # Sunday noon New York
    fault = DailyRestart(time="23:45", duration_s=60).bound(1, sun)
    FaultStack([fault]).install(ctl)
    ctl.env.run(until=5 * 86400)
    refuse = [(t, arg) for t, what, arg in ctl.actions() if what == "refuse"]
    assert refuse == [(11.75 * 3600, True)]


def test_weekday_restarts_come_back_by_themselves(ctl):
    acts = run(ctl, DailyRestart(time="23:45", duration_s=60, reauth_day=None), until=8 * 86400)
    ups = [t for t, what, arg in acts if what == "refuse" and arg is False]
    assert len(ups) == 8
