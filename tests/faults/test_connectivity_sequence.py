"""The order and wording of connectivity messages around a loss and a restore, as real gateways send them."""
import pytest
from pydantic import TypeAdapter, ValidationError

from mock_gateway.faults.base import FaultStack
from mock_gateway.faults.connectivity import ConnectivityLoss, FarmStatus
from mock_gateway.faults.registry import FaultSpec
from mock_gateway.faults.schedule import Schedule
from test_scheduled import START


def run(ctl, *faults, until=1000):
    FaultStack(f.bound(1, START) for f in faults).install(ctl)
    ctl.env.run(until=until)
    return [(t, arg) for t, what, arg in ctl.actions() if what == "error"]


def test_a_loss_with_server_notice_and_broken_farms_comes_in_the_real_order(ctl):
    errors = run(ctl, ConnectivityLoss(server_notice=True, farms_break=True, schedule=Schedule(at_s=10, duration_s=30)))
    assert [(t, code) for t, (code, _) in errors] == [
        (10, 2110), (10, 1100), (10, 2103), (10, 2105), (10, 2157), (40, 1102), (40, 2104), (40, 2106), (40, 2158)]
    assert errors[0][1][1] == "Connectivity between Trader Workstation and server is broken. It will be restored automatically."
    assert errors[4][1][1] == "Sec-def data farm connection is broken:secdefnj"


def test_1102_lists_the_farms_that_did_not_come_back_and_they_report_ok_later(ctl):
    errors = run(ctl, ConnectivityLoss(farms=["cashfarm", "cashhmds", "secdefil"], farms_not_restored=["cashhmds"],
                                       farms_back_after_s=20, schedule=Schedule(at_s=0, duration_s=60)))
    assert errors[-2] == (60, (1102, "Connectivity between IBKR and Trader Workstation has been restored - data "
                                     "maintained. The following farms are connected: cashfarm; secdefil. The "
                                     "following farms are not connected: cashhmds."))
    assert errors[-1] == (80, (2106, "HMDS data farm connection is OK:cashhmds"))


def test_data_lost_also_drops_account_subscriptions_when_the_gateway_can(ctl):
    cleared = []
    ctl.clear_account_subscriptions = lambda: cleared.append(ctl.env.now)
    run(ctl, ConnectivityLoss(data_lost=True, schedule=Schedule(at_s=5, duration_s=5)))
    assert cleared == [10]


def test_unknown_or_inconsistent_farms_are_refused():
    ta = TypeAdapter(FaultSpec)
    with pytest.raises(ValidationError, match="unknown farm"):
        ta.validate_python({"type": "connectivity_loss", "farms": ["nofarm"], "schedule": {"at_s": 1, "duration_s": 2}})
    with pytest.raises(ValidationError, match="not in farms"):
        ta.validate_python({"type": "connectivity_loss", "farms_not_restored": ["cashhmds"],
                            "schedule": {"at_s": 1, "duration_s": 2}})


def test_secdef_farm_broken_then_ok_is_2157_then_2158(ctl):
    assert run(ctl, FarmStatus(farm="secdef", schedule=Schedule(at_s=1, duration_s=2))) == [
        (1, (2157, "Sec-def data farm connection is broken:secdefnj")),
        (3, (2158, "Sec-def data farm connection is OK:secdefnj"))]


def test_an_inactive_hmds_farm_is_2107(ctl):
    assert run(ctl, FarmStatus(farm="hmds", inactive=True, schedule=Schedule(at_s=1))) == [
        (1, (2107, "HMDS data farm connection is inactive but should be available upon demand.ushmds"))]
