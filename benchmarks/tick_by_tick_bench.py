"""Tick-by-tick cost: CPU per grid step for N subscriptions, and the numberOfTicks=1000 history a request sends.

    .venv/bin/python benchmarks/tick_by_tick_bench.py [--subs 3] [--steps 4000]

Prints figures (no thresholds): microseconds of the grid listener per step with N tick-by-tick subscriptions
on one contract (no reqMktData lines), and milliseconds to build the 1,000 past ticks of each type.
"""
from __future__ import annotations

import argparse
import time

from mock_gateway.config import GatewayConfig
from mock_gateway.faults.base import FaultStack
from mock_gateway.protocol.versions import MAX_TEXT
from mock_gateway.server import Gateway
from mock_gateway import tick_by_tick as tbt


class _Channel:
    """What a session is to the feed: a version, an id and a sink (frames are counted, not written)."""

    def __init__(self, conn_id: int) -> None:
        self.conn_id, self.client_id, self.server_version, self.closed = conn_id, conn_id, MAX_TEXT, False
        self.frames = 0

    def send(self, kind, msgs) -> None:
        self.frames += len(msgs)

    def error(self, *args, **kwargs) -> None:
        pass


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--subs", type=int, default=3)
    ap.add_argument("--steps", type=int, default=4000)
    args = ap.parse_args()
    gw = Gateway(GatewayConfig(port=0, faults=FaultStack([]), log_market_data=False))
    feeds, market = gw.feeds, gw.world.market
    spec = gw.world.contracts.match(__import__("mock_gateway.sim.contracts", fromlist=["ContractQuery"])
                                    .ContractQuery(symbol="AAPL", sec_type="STK", exchange="SMART", currency="USD"))[0]
    gw.clock.env.run(until=60.0)
    channels = [_Channel(k + 1) for k in range(args.subs)]
    for k, ch in enumerate(channels):
        feeds.start_tick_by_tick(ch, tbt.TickByTickSub(ch, 1, spec, 1 + k % 4), 0)
    dt = market.dt_s
    t0 = time.perf_counter()
    now = gw.clock.env.now
    for i in range(args.steps):
        feeds._on_grid_step(now + (i + 1) * dt)
    per_step_us = (time.perf_counter() - t0) / args.steps * 1e6
    frames = sum(ch.frames for ch in channels)
    print(f"grid listener: {per_step_us:.1f} us/step with {args.subs} tick-by-tick subs "
          f"({frames} ticks over {args.steps} steps)")
    for tick_type in (1, 3, 4):
        ch = _Channel(100 + tick_type)
        t0 = time.perf_counter()
        feeds.start_tick_by_tick(ch, tbt.TickByTickSub(ch, 2, spec, tick_type), 1000)
        ms = (time.perf_counter() - t0) * 1e3
        feeds.stop_tick_by_tick(ch, 2)
        print(f"numberOfTicks=1000 {dict((v, k) for k, v in tbt.TICK_TYPES.items())[tick_type]}: {ms:.1f} ms "
              f"({ch.frames} ticks)")


if __name__ == "__main__":
    main()
