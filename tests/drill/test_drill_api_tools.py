"""The API tools the playbooks run (state reader, kill switch entry), against the in-process mock gateway."""
import json
import subprocess
import sys

from drill_support import TEST_CLIENT_ID, place_resting_orders

from harness.drill.ib_state import main, read_state
from mock_gateway.config import AccountConfig


def test_a_handshake_yields_the_server_version_and_the_accounts(mock_gateway):
    state = read_state(mock_gateway.host, mock_gateway.port, client_id=991)
    assert state.server_version >= 157 and state.accounts == ["DU1234567"] and state.next_valid_id is not None
    assert state.open_orders is None and state.positions is None


def test_every_clients_open_orders_are_listed(mock_gateway):
    placed = place_resting_orders(mock_gateway.host, mock_gateway.port, 2)
    state = read_state(mock_gateway.host, mock_gateway.port, client_id=991, open_orders=True, positions=True)
    assert sorted(o.order_id for o in state.open_orders) == sorted(placed)
    assert {(o.client_id, o.symbol, o.action, o.order_type) for o in state.open_orders} == {
        (TEST_CLIENT_ID, "AAPL", "BUY", "LMT")}
    assert state.positions == []


def test_nothing_listening_exits_2_with_the_reason(capsys):
    assert main(["--port", "1", "--timeout", "1"]) == 2
    assert "cannot connect" in json.loads(capsys.readouterr().out)["error"]


def test_a_gateway_serving_a_live_account_exits_3_when_paper_is_required(mock_gateway_factory, capsys):
    gateway = mock_gateway_factory(accounts=[AccountConfig(account_id="U7654321")])
    assert main(["--host", gateway.host, "--port", str(gateway.port), "--require-paper"]) == 3
    assert json.loads(capsys.readouterr().out)["accounts"] == ["U7654321"]
    assert main(["--host", gateway.host, "--port", str(gateway.port)]) == 0


def test_positions_are_read_with_their_quantity(mock_gateway):
    from ib_insync import IB, MarketOrder, Stock

    ib = IB()
    ib.connect(mock_gateway.host, mock_gateway.port, clientId=TEST_CLIENT_ID, timeout=10)
    try:
        contract = ib.qualifyContracts(Stock("MSFT", "SMART", "USD"))[0]
        trade = ib.placeOrder(contract, MarketOrder("BUY", 10))
        while not trade.isDone():
            ib.sleep(0.05)
    finally:
        ib.disconnect()
    state = read_state(mock_gateway.host, mock_gateway.port, client_id=991, positions=True)
    assert [(p.account, p.symbol, p.sec_type, p.position) for p in state.positions] == [("DU1234567", "MSFT", "STK", 10.0)]
    assert state.positions[0].avg_cost > 0


def kill_switch_step(*args):
    """Run the entry as the playbook does: its own process (it owns an asyncio loop)."""
    return subprocess.run([sys.executable, "-m", "harness.drill.kill_switch_step", *args], capture_output=True,
                          text=True, timeout=60)


def test_the_drills_kill_switch_entry_cancels_every_order_and_writes_the_record(mock_gateway, tmp_path):
    place_resting_orders(mock_gateway.host, mock_gateway.port, 2)
    out = tmp_path / "KILL_SWITCH.json"
    done = kill_switch_step("--host", mock_gateway.host, "--port", str(mock_gateway.port), "--client-id", "990",
                            "--account", "DU1234567", "--kill-file", str(tmp_path / "KILL"), "--out", str(out))
    record = json.loads(out.read_text())
    assert done.returncode == 0 and record["verified"]
    assert (record["open_orders_before"], record["open_orders_after"]) == (2, 0)
    assert (tmp_path / "KILL").exists()
    assert read_state(mock_gateway.host, mock_gateway.port, client_id=991, open_orders=True).open_orders == []
    assert "kill switch verified: open orders 2 -> 0" in done.stdout


def test_the_drills_kill_switch_entry_refuses_a_live_port(tmp_path):
    done = kill_switch_step("--port", "4001", "--out", str(tmp_path / "K.json"))
    assert done.returncode == 2 and "4001 is a live trading port" in done.stderr
