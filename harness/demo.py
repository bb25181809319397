"""``prelive demo``: a short ib_insync session against the in-process mock gateway, told as it happens.

Connect, qualify a stock, watch a few ticks, fetch bars, buy at market (filled, with commission),
rest a limit order and cancel it, read the account. Every step goes over a real socket in the
real TWS API protocol, and all of it lands in the same event log the harness measures.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

#: Sim seconds per wall second: a few grid steps of quotes in a fraction of a second.
DEMO_SPEED = 10.0
STEP_TIMEOUT_S = 10.0


class DemoError(RuntimeError):
    """A demo step did not complete; the message says which and what to check."""


def _wait(ib, predicate: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + STEP_TIMEOUT_S
    while not predicate():
        if time.monotonic() > deadline:
            raise DemoError(f"the demo timed out after {STEP_TIMEOUT_S:g} s waiting for {what}; run "
                            "`prelive gateway -v --port 0` and connect a client to see the gateway's log")
        ib.waitOnUpdate(timeout=0.2)


def run_demo(seed: int = 42, event_log: Path | None = None, console=None) -> dict[str, object]:
    """Run the demo session; returns what happened (for tests), prints it on ``console``."""
    import ib_insync
    from rich.console import Console
    from rich.table import Table

    from mock_gateway.config import GatewayConfig
    from mock_gateway.server import GatewayThread

    console = console or Console()
    result: dict[str, object] = {}
    config = GatewayConfig(port=0, seed=seed, speed=DEMO_SPEED, event_log=event_log)
    with GatewayThread(config) as gw:
        console.rule("[bold]prelive demo: ib_insync against the mock IB Gateway")
        console.print(f"mock gateway on [cyan]{gw.host}:{gw.port}[/] (seed {seed}, {DEMO_SPEED:g}x sim speed, "
                      f"simulated start {gw.config.start:%Y-%m-%d %H:%M} UTC)")
        ib = ib_insync.IB()
        try:
            ib.connect(gw.host, gw.port, clientId=1, timeout=STEP_TIMEOUT_S)
        except (OSError, TimeoutError) as exc:
            raise DemoError(f"ib_insync could not connect to the mock gateway: {exc!r}") from exc
        try:
            result.update(_session(ib, ib_insync, console, Table))
        finally:
            ib.disconnect()
        events = gw.call(lambda: gw.event_log.events)
        wire = [e for e in events or [] if e["dir"] in ("in", "out")]
        result["messages"] = len(wire)
    console.print(f"\n[green]done[/]: {len(wire)} wire messages, all in the session event log"
                  + (f" ({event_log})" if event_log else "") + "; `prelive run <scenario>` measures them.")
    return result


def _session(ib, api, console, Table) -> dict[str, object]:
    out: dict[str, object] = {}
    console.print(f"[bold]1. connected[/]: server version {ib.client.serverVersion()}, "
                  f"accounts {', '.join(ib.managedAccounts())}")

    contract = api.Stock("AAPL", "SMART", "USD")
    if not ib.qualifyContracts(contract):
        raise DemoError("qualifyContracts(AAPL) returned nothing: the contract book has no AAPL")
    console.print(f"[bold]2. qualified[/] {contract.symbol}: conId {contract.conId}, "
                  f"primary exchange {contract.primaryExchange}")

    ticker = ib.reqMktData(contract)
    quotes: list[tuple[float, float, float]] = []
    ticker.updateEvent += lambda t: quotes.append((t.bid, t.ask, t.last))
    _wait(ib, lambda: len(quotes) >= 5, "five quote updates")
    ib.cancelMktData(contract)
    table = Table("bid", "ask", "last", title="3. streaming quotes (first five updates)")
    for bid, ask, last in quotes[:5]:
        table.add_row(f"{bid:.2f}", f"{ask:.2f}", f"{last:.2f}")
    console.print(table)
    out["ticks"] = len(quotes)

    bars = ib.reqHistoricalData(contract, "", "1 D", "1 hour", "TRADES", useRTH=False)
    if not bars:
        raise DemoError("reqHistoricalData returned no bars")
    table = Table("start", "open", "high", "low", "close", "volume", title=f"4. hourly bars ({len(bars)}, last five)")
    for b in bars[-5:]:
        table.add_row(f"{b.date:%m-%d %H:%M}", f"{b.open:.2f}", f"{b.high:.2f}", f"{b.low:.2f}", f"{b.close:.2f}",
                      f"{b.volume:,.0f}")
    console.print(table)
    out["bars"] = len(bars)

    trade = ib.placeOrder(contract, api.MarketOrder("BUY", 100))
    _wait(ib, lambda: trade.isDone() and trade.fills and trade.fills[-1].commissionReport.execId,
          "the market order's fill and commission report")
    fill = trade.fills[-1]
    console.print(f"[bold]5. market order[/] BUY 100: {trade.orderStatus.status} at {fill.execution.price:.2f} "
                  f"(exec {fill.execution.execId}, commission {fill.commissionReport.commission:.2f} USD)")
    out["fill_status"] = trade.orderStatus.status

    limit_price = round(fill.execution.price * 0.9, 2)
    resting = ib.placeOrder(contract, api.LimitOrder("BUY", 100, limit_price))
    _wait(ib, lambda: resting.orderStatus.status == "Submitted", "the limit order to rest")
    ib.cancelOrder(resting.order)
    _wait(ib, lambda: resting.orderStatus.status == "Cancelled", "the cancel")
    console.print(f"[bold]6. limit order[/] BUY 100 @ {limit_price:.2f}: Submitted, then "
                  f"{resting.orderStatus.status}")
    out["cancel_status"] = resting.orderStatus.status

    _wait(ib, lambda: any(p.contract.symbol == "AAPL" for p in ib.positions()), "the position")
    ib.reqAccountSummary()   # a fresh request: the subscription itself updates every 3 minutes, as TWS's does
    summary = {v.tag: v.value for v in ib.accountSummary()}
    table = Table("account value", "USD", title="7. account")
    for tag in ("NetLiquidation", "TotalCashValue", "BuyingPower", "GrossPositionValue"):
        table.add_row(tag, f"{float(summary[tag]):,.2f}")
    for p in ib.positions():
        table.add_row(f"position {p.contract.symbol}", f"{p.position:g} @ {p.avgCost:.4f}")
    console.print(table)
    out["net_liquidation"] = float(summary["NetLiquidation"])
    return out
