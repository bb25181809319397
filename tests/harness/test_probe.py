"""Stage 6: the account probe against the mock gateway, and its live-account / live-port refusals."""
from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from harness.artifacts import load_artifact
from harness.probe import ProbeError, ProbeOptions, probe
from harness.safety import LiveAccountRefused
from mock_gateway.config import AccountConfig, GatewayConfig
from mock_gateway.server import GatewayThread

pytestmark = pytest.mark.timeout(60)
REPO = Path(__file__).resolve().parents[2]


def test_probe_reads_a_paper_account_and_its_trading_permissions():
    with GatewayThread(GatewayConfig(port=0, accounts=[AccountConfig("DU7654321", cash=250_000)])) as gw:
        doc = asyncio.run(probe(ProbeOptions(host=gw.host, port=gw.port, gateway_kind="mock")))
    assert doc["connected"] and doc["account_id"] == "DU7654321" and doc["account_type"] == "paper"
    assert doc["net_liquidation"] == pytest.approx(250_000) and doc["buying_power"] > 0
    assert doc["base_currency"] == "USD" and doc["server_version"] == 176
    assert doc["permissions"]["trading"]["STK"]["permitted"] and not doc["permissions"]["read_only"]
    assert "MKT" in doc["permissions"]["order_types"] and doc["permission_mismatch"] is False


def test_probe_refuses_a_live_account_before_sending_any_order_message(tmp_path):
    log = tmp_path / "events.jsonl"
    with GatewayThread(GatewayConfig(port=0, accounts=[AccountConfig("U1234567")], event_log=log)) as gw:
        with pytest.raises(LiveAccountRefused, match="U1234567"):
            asyncio.run(probe(ProbeOptions(host=gw.host, port=gw.port)))
    assert "placeOrder" not in log.read_text()


def test_probe_cli_refuses_a_live_port_without_connecting(tmp_path):
    out = tmp_path / "ACCOUNT_CONFIG.json"
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "probe", "--port", "4001", "--out", str(out)],
                          cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "4001" in proc.stdout + proc.stderr
    assert not out.exists()


def test_probe_cli_writes_account_config_for_a_mock_gateway(tmp_path):
    out = tmp_path / "ACCOUNT_CONFIG.json"
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "probe", "--mock", "baseline", "--out", str(out)],
                          cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = load_artifact(out)
    assert doc["gateway"]["kind"] == "mock" and doc["account_id"] == "DU1234567"


def test_an_unreachable_gateway_is_a_probe_error():
    with GatewayThread(GatewayConfig(port=0)) as gw:
        port = gw.port
    with pytest.raises(ProbeError, match="cannot connect"):
        asyncio.run(probe(ProbeOptions(port=port, timeout_s=2)))
