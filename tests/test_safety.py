import pytest

from harness.safety import LiveAccountRefused, check_paper_target


def test_paper_account_on_paper_port_passes():
    check_paper_target(4002, ["DU1234567"])


@pytest.mark.parametrize("port", [4001, 7496])
def test_live_port_is_refused_with_the_reason(port):
    with pytest.raises(LiveAccountRefused, match=str(port)):
        check_paper_target(port, ["DU1"])


def test_live_account_is_refused_even_among_paper_ones():
    with pytest.raises(LiveAccountRefused, match="U7654321"):
        check_paper_target(4002, "DU1,U7654321")


def test_override_lets_a_live_target_through():
    check_paper_target(4001, ["U1"], allow_live=True)
