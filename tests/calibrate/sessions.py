"""Record mock sessions for the calibrate/diff tests: ib_insync trading against the mock, the mock's own log."""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import yaml

from harness.scenario import load_scenario
from mock_gateway.server import GatewayThread


def write_scenario(folder: Path, body: dict[str, Any], name: str = "truth") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"name": name, "description": "test", **body}, sort_keys=False))
    return path


async def _trade(host: str, port: int, rounds: int, symbols: list[str]) -> None:
    import ib_insync

    ib = ib_insync.IB()
    await ib.connectAsync(host, port, clientId=1, timeout=10)
    try:
        for i in range(rounds):
            stock = ib_insync.Stock(symbols[i % len(symbols)], "SMART", "USD")
            await ib.reqContractDetailsAsync(stock)
            trade = ib.placeOrder(stock, ib_insync.MarketOrder("BUY" if i % 2 == 0 else "SELL", 10))
            for _ in range(400):
                if trade.isDone() or trade.orderStatus.status == "Inactive":   # 201 ends in Inactive
                    break
                await asyncio.sleep(0.005)
            await ib.reqPositionsAsync()
    finally:
        ib.disconnect()
        await asyncio.sleep(0.05)


async def _trade_through_tap(host: str, port: int, log_path: Path, rounds: int, symbols: list[str]) -> None:
    from harness.tap import start_tap
    from mock_gateway.eventlog import EventLog

    with EventLog(log_path, source="tap") as log:
        async with start_tap(host, port, log) as tap:
            await _trade(tap.host, tap.port, rounds, symbols)


def record_mock_session(scenario_file: Path, log_path: Path, rounds: int = 60, speed: float = 200.0,
                        via_tap: bool = False) -> Path:
    """Run ib_insync for ``rounds`` rounds (contract details, a market order, positions) and return the log:
    the mock's own (sim clock), or with ``via_tap`` the one `prelive tap` records in front of it (wall clock)."""
    scenario = load_scenario(scenario_file)
    config = scenario.gateway_config(event_log=None if via_tap else log_path, speed=speed)
    with GatewayThread(config) as gateway:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)   # ib_insync looks the loop up itself
        try:
            symbols = scenario.market.symbols
            loop.run_until_complete(_trade_through_tap(gateway.host, gateway.port, log_path, rounds, symbols)
                                    if via_tap else _trade(gateway.host, gateway.port, rounds, symbols))
        finally:
            loop.close()
    return log_path
