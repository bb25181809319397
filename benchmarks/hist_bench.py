"""Historical data at bounded cost: a grid of requests while another client measures its round trip.

    python benchmarks/hist_bench.py [--symbol AAPL] [--quick]

The gateway runs in its own process (as `prelive gateway` does) with no faults (no pacing). One
client (a plain socket, so the figure is the gateway's, not a client library's decoding) sends, one after another, a reqHistoricalData for every end date (1990..now) x every
legal bar size, each at the longest duration the mock serves for that bar size; a second client,
in its own process, sends reqCurrentTime in a loop the whole time. Prints (targets from issue 11):

  * worst-case wall latency of a historical request, and of one returning <= 5,000 bars  [<= 100 ms]
  * the gateway's peak resident memory before and after the grid                          [flat]
  * the other client's reqCurrentTime round trip p50 / p99 / max during the grid           [p99 < 5 ms]
  * the time the gateway takes to exit on SIGTERM after the grid                           [prompt]
"""
from __future__ import annotations

import argparse
import json
import math
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

from ping_child import ping, rss_peak_mb   # benchmarks/ is the script's folder, on sys.path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

END_DATES = ("19900601 16:00:00 US/Eastern", "20000103 16:00:00 US/Eastern", "20100601 12:00:00 US/Eastern",
             "20200302 16:00:00 US/Eastern", "20231006 20:00:00", "")


class HoldMeter:
    """Times every callback the gateway's event loop runs (each is one hold of the loop), in wall and in this
    thread's CPU time (on a loaded machine the wall figure includes time the process was not running).
    Installed in the benchmark's gateway process only; the parent keeps the holds inside the grid's window."""

    def __init__(self) -> None:
        import asyncio.events

        self.count = 0
        self.long: list[tuple[float, float, float, str]] = []    # (epoch at start, wall ms, CPU ms, what ran)
        meter, run = self, asyncio.events.Handle._run

        def describe(callback) -> str:
            owner = getattr(callback, "__self__", None)
            if isinstance(owner, asyncio.Task):
                return f"task {owner.get_coro().__qualname__}"
            name = getattr(callback, "__qualname__", type(callback).__name__)
            protocol = getattr(owner, "_protocol", None)
            return f"{name} ({type(protocol).__name__})" if protocol is not None else name

        def timed_run(handle) -> None:
            t0, c0 = time.perf_counter(), time.thread_time()
            try:
                run(handle)
            finally:
                ms = (time.perf_counter() - t0) * 1000
                meter.count += 1
                if ms >= 1.0:
                    meter.long.append((time.time() - ms / 1000, ms, (time.thread_time() - c0) * 1000,
                                       describe(handle._callback)))

        asyncio.events.Handle._run = timed_run

        # and every step of the step functions (mock_gateway.stepwise) the holds are made of, with where it paused
        from mock_gateway import stepwise

        self.steps: list[tuple[float, float, str]] = []     # (epoch at start, CPU ms, where the step ended)
        start = stepwise.StepRunner.start

        def timed_steps(inner):
            while True:
                t, c0 = time.time(), time.thread_time()
                try:
                    next(inner)
                except StopIteration as done:
                    meter.steps.append((t, (time.thread_time() - c0) * 1000, "the last step (send)"))
                    return done.value
                meter.steps.append((t, (time.thread_time() - c0) * 1000, _suspended_at(inner)))
                yield

        stepwise.StepRunner.start = lambda runner, steps: start(runner, timed_steps(steps))

        import gc
        self.collections: list[tuple[float, int, float]] = []     # (epoch at start, generation, ms) of each GC
        started = [0.0]

        def on_gc(phase: str, info: dict) -> None:
            if phase == "start":
                started[0] = time.perf_counter()
            else:
                ms = (time.perf_counter() - started[0]) * 1000
                self.collections.append((time.time() - ms / 1000, info["generation"], ms))

        gc.callbacks.append(on_gc)


def hold_report(holds: list, callbacks: int, since: float, until: float) -> list[str]:
    """Lines on the loop holds (HoldMeter) between ``since`` and ``until`` (epoch seconds)."""
    inside = [h for h in holds if since <= h[0] <= until]
    if not inside:
        return [f"gateway event-loop holds during the grid: none over 1 ms ({callbacks} callbacks in all)"]
    wall = max(h[1] for h in inside)
    cpu = max(h[2] for h in inside)
    lines = [f"gateway event-loop holds during the grid (every callback timed, {callbacks} in all): longest "
             f"{wall:.2f} ms wall / {cpu:.2f} ms CPU; over 1 / 2 / 5 ms CPU: "
             f"{sum(h[2] >= 1 for h in inside)} / {sum(h[2] >= 2 for h in inside)} / {sum(h[2] >= 5 for h in inside)}"]
    for _, ms, cpu_ms, what in sorted(inside, key=lambda h: -h[2])[:6]:
        lines.append(f"    {cpu_ms:7.2f} ms CPU {ms:7.2f} ms wall  {what}")
    return lines


def serve() -> None:
    """Child process: a gateway with no faults; prints its port, runs until SIGTERM, then prints what the
    event loop's holds were (HoldMeter) as one JSON line."""
    import asyncio

    from mock_gateway.config import GatewayConfig
    from mock_gateway.faults.base import FaultStack
    from mock_gateway.server import Gateway, settle_heap

    meter = HoldMeter()

    async def run() -> None:
        gw = Gateway(GatewayConfig(port=0, faults=FaultStack([]), log_market_data=False))
        await gw.start()
        if not os.environ.get("HIST_BENCH_NO_FREEZE"):   # as `prelive gateway` does (A/B: set it)
            settle_heap()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        profile_to = os.environ.get("HIST_BENCH_PROFILE")     # a path: profile the gateway, dump there
        if profile_to:
            import cProfile
            prof = cProfile.Profile()
            prof.enable()
        print(gw.port, flush=True)
        await stop.wait()
        if profile_to:
            prof.disable()
            prof.dump_stats(profile_to)
        await gw.stop()
        print(json.dumps({"callbacks": meter.count, "long": meter.long, "gc": meter.collections,
                          "steps": sorted(meter.steps, key=lambda st: -st[1])[:2000],
                          "loop_lag_max_ms": gw.loop_lag.stats.max_lag_real_s * 1000}), flush=True)

    asyncio.run(run())


def duration_for(bar_text: str) -> str:
    """The longest duration string the mock serves for this bar size (bar_rules' limits)."""
    from mock_gateway.sim.bar_rules import max_duration_s, parse_bar_size

    limit = max_duration_s(parse_bar_size(bar_text))
    if limit == math.inf:
        return "20 Y" if bar_text == "1 day" else "30 Y"
    if limit >= 365 * 86400:
        return f"{int(limit // (365 * 86400))} Y"
    if limit >= 86400:
        return f"{int(limit // 86400)} D"
    return f"{int(limit)} S"


class _Channel:
    """A connection for the in-process run: keeps what is sent; encodes large replies as a session does."""

    closed = False
    conn_id = 1
    client_id = 1

    def __init__(self, server_version: int) -> None:
        self.server_version = server_version
        self.sent: list = []

    def send(self, kind, messages, *, fault=None) -> None:
        self.sent += list(messages)

    def error(self, req_id, code, text, *, fault=None, kind=None, advanced_json="") -> None:
        self.sent.append(["4", "2", str(req_id), str(code), text])

    def prepare(self, fields):
        from mock_gateway.session import prepare_reply

        return (yield from prepare_reply(fields, self.server_version, 0))


def cpu_grid(symbol: str, end_dates, server_version: int = 176) -> list[tuple]:
    """The same grid in this process, timed in CPU seconds (immune to other processes' load): per request the
    CPU to build and encode the answer, and its longest single step (feeds.py's steps between which the work may
    yield: the loop is held for at most one time budget plus one step)."""
    from mock_gateway.config import GatewayConfig
    from mock_gateway.feeds import BarsRequest, Feeds
    from mock_gateway.protocol.time import parse_end_datetime
    from mock_gateway.sim import ContractQuery
    from mock_gateway.sim.bar_rules import LEGAL_BAR_SIZES, BarRuleError, check_window, listing_epoch
    from mock_gateway.sim.bar_rules import parse_bar_size, parse_duration
    from mock_gateway.sim.clock import SimClock
    from mock_gateway.sim.world import World

    from mock_gateway.server import settle_heap

    config = GatewayConfig(port=0)
    clock = SimClock(start=config.start)
    world = World(config, clock)
    feeds = Feeds(world, clock)
    settle_heap()          # as the gateway process does: no full collection walks the world mid-request
    spec = world.contracts.match(ContractQuery(symbol=symbol, sec_type="STK", currency="USD"))[0]
    now_epoch = config.start.timestamp()
    out = []
    for end_text in end_dates:
        for bar_text in LEGAL_BAR_SIZES:
            bar, duration = parse_bar_size(bar_text), parse_duration(duration_for(bar_text))
            end = parse_end_datetime(end_text)
            end_epoch = now_epoch if end is None else min(now_epoch, end.timestamp())
            listed = listing_epoch(spec.listing_date) if spec.listing_date else None
            try:
                check_window(bar, duration, "TRADES", "STK", symbol, "SMART", end_epoch, now_epoch, listed)
            except BarRuleError:
                out.append((end_text or "now", bar_text, duration_for(bar_text), 0, 0.0, 0.0, 0, ""))
                continue
            req = BarsRequest(1, spec, bar.seconds, "TRADES", False, 2, listed)
            channel = _Channel(server_version)
            end_s, work_s = feeds.history_window(req, end, duration.seconds)
            steps = feeds._answer_bars(channel, req, end_s, duration.seconds, work_s, False)
            total, worst, count, where = 0.0, 0.0, 0, ""
            while True:
                c0 = time.thread_time()
                try:
                    next(steps)
                except StopIteration:
                    break
                finally:
                    c1 = time.thread_time() - c0
                    total, count = total + c1, count + 1
                    if c1 > worst:
                        worst, where = c1, _suspended_at(steps)
            reply = channel.sent[-1]
            n = int(reply[4]) if reply[0] == "17" else 0
            out.append((end_text or "now", bar_text, duration_for(bar_text), n, total * 1000, worst * 1000, count,
                        where))
    return out


def yield_overhead(symbol: str, runs: int = 5) -> tuple[float, float, int]:
    """What yielding costs a large request: (best wall ms run to the end in one go, best wall ms driven by the
    gateway's StepRunner on an otherwise idle event loop, loop turns it took) for 6 D of 1-minute bars."""
    import asyncio

    from mock_gateway.config import GatewayConfig
    from mock_gateway.feeds import BarsRequest, Feeds
    from mock_gateway.sim import ContractQuery
    from mock_gateway.sim.clock import SimClock
    from mock_gateway.sim.world import World
    from mock_gateway.stepwise import StepRunner

    config = GatewayConfig(port=0)
    clock = SimClock(start=config.start)
    feeds = Feeds(World(config, clock), clock)
    spec = feeds.world.contracts.match(ContractQuery(symbol=symbol, sec_type="STK", currency="USD"))[0]
    req = BarsRequest(1, spec, 60.0, "TRADES", False, 2)
    end_s, work_s = feeds.history_window(req, None, 6 * 86400.0)

    def steps():
        return feeds._answer_bars(_Channel(176), req, end_s, 6 * 86400.0, work_s, False)

    for _ in steps():          # warm: calendars, the normal table
        pass
    at_once, stepped, turns = math.inf, math.inf, 0

    async def driven() -> tuple[float, int]:
        runner = StepRunner()
        t0 = time.perf_counter()
        runner.start(steps())
        n = 0
        while runner.active:
            n += 1
            await asyncio.sleep(0)
        return (time.perf_counter() - t0) * 1000, n

    for _ in range(runs):
        t0 = time.perf_counter()
        for _ in steps():
            pass
        at_once = min(at_once, (time.perf_counter() - t0) * 1000)
        ms, n = asyncio.run(driven())
        if ms < stepped:
            stepped, turns = ms, n
    return at_once, stepped, turns


def _suspended_at(steps) -> str:
    """Where a step function paused (its innermost generator's name and line): what the step before it ran."""
    while getattr(steps, "gi_yieldfrom", None) is not None:
        steps = steps.gi_yieldfrom
    frame = getattr(steps, "gi_frame", None)
    return f"{steps.__name__}:{frame.f_lineno}" if frame is not None else "the last step"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--symbol", default="AAPL")
    ap.add_argument("--quick", action="store_true", help="two end dates only")
    ap.add_argument("--cpu-only", action="store_true", help="only the in-process CPU figures (no sockets)")
    args = ap.parse_args()
    ends = END_DATES[-2:] if args.quick else END_DATES
    for sv, label in ((176, "text frames"), (213, "protobuf (server version 213)")):
        cpu = cpu_grid(args.symbol, ends, sv)
        served = [r for r in cpu if r[3]]
        print(f"in-process CPU (independent of the machine's load), {label}, per request that returns bars:")
        worst = max(served, key=lambda r: r[4])
        print(f"  worst CPU to build and encode an answer: {worst[4]:.1f} ms ({worst[3]} bars, {worst[6]} steps)")
        print(f"  worst CPU, answers of <= 5,000 bars:     {max(r[4] for r in served if r[3] <= 5000):.1f} ms")
        longest = max(served, key=lambda r: r[5])
        print(f"  longest single step:                     {longest[5]:.2f} ms ({longest[1]} x {longest[2]}, "
              f"end {longest[0]}, before {longest[7]}; a turn of the loop is one time budget (cooperative.SLICE_BUDGET_S) plus at most one step)")
        later = max(served[1:], key=lambda r: r[5])
        print(f"  longest step after the first request:    {later[5]:.2f} ms ({later[1]} x {later[2]}, end {later[0]}, "
              f"before {later[7]})")
        print("  (the first request includes loading the exchange calendars and the universe)")
        print()
    at_once, stepped, turns = yield_overhead(args.symbol)
    print(f"one request of 6 D x 1 min (best of 5, wall): {at_once:.1f} ms in one go, {stepped:.1f} ms in steps on an "
          f"idle loop ({turns} turns of the loop): yielding costs {stepped - at_once:.1f} ms")
    print()
    if args.cpu_only:
        return
    from mock_gateway.sim.bar_rules import LEGAL_BAR_SIZES

    gw = subprocess.Popen([sys.executable, __file__, "--serve"], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    port = int(gw.stdout.readline())
    pinger = subprocess.Popen([sys.executable, __file__, "--ping", str(port)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert pinger.stdout.readline().strip() == "ready"
    time.sleep(2.0)                     # the other client's baseline: an idle gateway
    rss_before = rss_peak_mb(gw.pid)
    rows = []
    histograms: list[tuple[str, int, float]] = []
    grid_from = time.time()

    from mock_gateway.protocol import FrameDecoder, encode_frame, encode_handshake

    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    dec = FrameDecoder()

    def read_until(pred) -> list[str]:
        while True:
            for _, fields in dec.feed(sock.recv(1 << 20)):
                if pred(fields):
                    return fields

    try:
        sock.sendall(encode_handshake("v157..176"))
        read_until(lambda f: len(f) == 2)
        sock.sendall(encode_frame([71, 2, 1, ""]))
        read_until(lambda f: f[0] == "9")
        req_id = 100
        for end in END_DATES[-2:] if args.quick else END_DATES:
            for bar in LEGAL_BAR_SIZES:
                duration = duration_for(bar)
                req_id += 1
                t0 = time.perf_counter()
                sock.sendall(encode_frame([20, req_id, 0, args.symbol, "STK", "", 0, "", "", "SMART", "", "USD", "",
                                           "", 0, end, bar, duration, 0, "TRADES", 2, 0, ""]))
                reply = read_until(lambda f: (f[0] == "17" and f[1] == str(req_id))
                                   or (f[0] == "4" and str(req_id) in f[1:3]))
                wall_ms = (time.perf_counter() - t0) * 1000
                n = int(reply[4]) if reply[0] == "17" else 0
                code = 0 if reply[0] == "17" else int(reply[3] if reply[2] == str(req_id) else reply[2])
                rows.append((end or "now", bar, duration, n, wall_ms, code))
        for period in ("1 week", "1 month", "12 months"):      # reqHistogramData: the same path's bars, binned
            req_id += 1
            t0 = time.perf_counter()
            sock.sendall(encode_frame([88, req_id, 0, args.symbol, "STK", "", 0, "", "", "SMART", "", "USD", "", "",
                                       0, 0, period]))
            reply = read_until(lambda f: f[0] in ("89", "4") and f[1:3].count(str(req_id)))
            histograms.append((period, int(reply[2]) if reply[0] == "89" else 0, (time.perf_counter() - t0) * 1000))
    except BaseException:
        pinger.kill()
        gw.kill()
        raise
    grid_to = time.time()
    sock.close()
    rss_after = rss_peak_mb(gw.pid)
    pinger.stdin.close()
    samples = json.loads(pinger.stdout.readline())
    baseline = [rtt for t, rtt in samples if t < grid_from]
    rtts = [rtt for t, rtt in samples if t >= grid_from]
    pinger.wait()
    t0 = time.perf_counter()
    os.kill(gw.pid, signal.SIGTERM)
    tail, _ = gw.communicate(timeout=30)     # read while it exits: its report may not fit the pipe's buffer
    stop_ms = (time.perf_counter() - t0) * 1000
    holds = json.loads(tail.strip().splitlines()[-1]) if tail.strip() else {}

    print(f"{'end':<30} {'bar':<9} {'duration':<9} {'bars':>6} {'wall ms':>8}  answer")
    for end, bar, duration, n, wall_ms, code in rows:
        print(f"{end:<30} {bar:<9} {duration:<9} {n:>6} {wall_ms:>8.1f}  {'bars' if n else f'error {code}'}")
    served = [r for r in rows if r[3] > 0]
    small = [r for r in rows if r[3] <= 5000]
    worst = max(rows, key=lambda r: r[4])
    print()
    print(f"requests: {len(rows)} ({len(served)} with bars, {len(rows) - len(served)} refused as IB refuses)")
    print(f"worst wall latency, any request:      {worst[4]:.1f} ms  ({worst[3]} bars: {worst[1]} x {worst[2]}, "
          f"end {worst[0]})")
    print(f"worst wall latency, <= 5,000 bars:    {max(r[4] for r in small):.1f} ms   [target <= 100 ms]")
    print(f"most bars in one answer:              {max(r[3] for r in rows)}")
    for period, levels, wall_ms in histograms:
        print(f"reqHistogramData {period:<10} {levels:>4} price levels in {wall_ms:6.1f} ms wall")
    print(f"gateway peak RSS before / after grid: {rss_before:.0f} MB / {rss_after:.0f} MB")
    for label, xs in (("idle gateway (baseline)", baseline), ("during the grid", rtts)):
        q = statistics.quantiles(xs, n=100)
        print(f"other client reqCurrentTime RTT, {label + ':':<25} p50 {q[49]:.2f} ms  p99 {q[98]:.2f} ms  "
              f"max {max(xs):.2f} ms  ({len(xs)} round trips)")
    print("   [target: p99 < 5 ms during the grid; compare with the baseline on a loaded machine]")
    print(f"machine load average (1 min) at the end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print(f"gateway exit after SIGTERM:           {stop_ms:.0f} ms")
    if holds:
        for line in hold_report(holds["long"], holds["callbacks"], grid_from, grid_to):
            print(line)
        print(f"LoopLagMonitor's latest wake-up (whole run): {holds['loop_lag_max_ms']:.1f} ms")
        steps = [st for st in holds.get("steps", []) if grid_from <= st[0] <= grid_to]
        if steps:
            print("longest steps of historical requests in the gateway, by where the step ended (CPU ms):")
            worst: dict[str, float] = {}
            for _, ms, where in steps:
                worst[where] = max(worst.get(where, 0.0), ms)
            for where, ms in sorted(worst.items(), key=lambda kv: -kv[1])[:8]:
                print(f"    {ms:7.2f} ms  {where}")
        gcs = [c for c in holds.get("gc", []) if grid_from <= c[0] <= grid_to]
        if gcs:
            worst_gc = max(gcs, key=lambda c: c[2])
            print(f"garbage collections during the grid: {len(gcs)}, longest {worst_gc[2]:.2f} ms (generation "
                  f"{worst_gc[1]}), {sum(c[1] == 2 for c in gcs)} full")

if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        serve()
    elif len(sys.argv) > 2 and sys.argv[1] == "--ping":
        ping(int(sys.argv[2]))
    else:
        main()
