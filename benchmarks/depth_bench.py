"""Market depth cost: CPU of the depth grid listener per step, and of opening a line.

    .venv/bin/python benchmarks/depth_bench.py [--steps 2000]

Prints figures (no thresholds): microseconds per grid step for (a) the 3 securities an account may hold, 20 rows
each, SMART (L2) depth; (b) 1,000 lines of one security with the same rows (one book, computed once per step:
the cost is the messages); (c) one line, 5 rows. Frames are counted, not written.
"""
from __future__ import annotations

import argparse
import time

from mock_gateway.config import GatewayConfig
from mock_gateway.depth import depth_venue
from mock_gateway.faults.base import FaultStack
from mock_gateway.protocol.versions import MAX_TEXT
from mock_gateway.server import Gateway
from mock_gateway.sim.contracts import ContractQuery


class _Channel:
    """What a session is to the desk: a version, an id and a sink."""

    def __init__(self, conn_id: int) -> None:
        self.conn_id, self.client_id, self.server_version, self.closed = conn_id, conn_id, MAX_TEXT, False
        self.frames = 0

    def send(self, kind, msgs) -> None:
        self.frames += len(msgs)

    def error(self, *args, **kwargs) -> None:
        pass


def run(label: str, lines: list[tuple[str, int]], steps: int, lines_cap: int = 100) -> None:
    gw = Gateway(GatewayConfig(port=0, faults=FaultStack([]), log_market_data=False, market_data_lines=lines_cap))
    desk, market = gw.depth, gw.world.market
    gw.clock.env.run(until=60.0)
    channels: list[_Channel] = []
    t0 = time.perf_counter()
    for k, (symbol, rows) in enumerate(lines):
        spec = gw.world.contracts.match(ContractQuery(symbol=symbol, sec_type="STK", exchange="SMART",
                                                      currency="USD"))[0]
        ch = _Channel(k // 100 + 1)
        channels.append(ch)
        desk.start(ch, k + 1, spec, depth_venue(spec, "SMART", True), rows)
    open_ms = (time.perf_counter() - t0) * 1e3 / len(lines)
    now, dt = gw.clock.env.now, market.dt_s
    t0 = time.perf_counter()
    for i in range(steps):
        desk._on_grid_step(now + (i + 1) * dt)
    per_step_us = (time.perf_counter() - t0) / steps * 1e6
    frames = sum(ch.frames for ch in channels)
    print(f"{label}: {per_step_us:.1f} us/step, {frames / steps:.1f} depth messages/step, "
          f"{open_ms:.3f} ms to open a line")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=2000)
    args = ap.parse_args()
    run("3 securities x 20 rows", [("AAPL", 20), ("MSFT", 20), ("SPY", 20)], args.steps)
    run("1,000 lines of AAPL x 20 rows", [("AAPL", 20)] * 1000, args.steps // 10, lines_cap=1000)
    run("1 line x 5 rows", [("AAPL", 5)], args.steps)


if __name__ == "__main__":
    main()
