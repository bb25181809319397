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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

END_DATES = ("19900601 16:00:00 US/Eastern", "20000103 16:00:00 US/Eastern", "20100601 12:00:00 US/Eastern",
             "20200302 16:00:00 US/Eastern", "20231006 20:00:00", "")


def serve() -> None:
    """Child process: a gateway with no faults; prints its port and pid, runs until SIGTERM."""
    import asyncio

    from mock_gateway.config import GatewayConfig
    from mock_gateway.faults.base import FaultStack
    from mock_gateway.server import Gateway, settle_heap

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

    asyncio.run(run())


def ping(port: int) -> None:
    """Child process: reqCurrentTime round trips until stdin closes; prints the RTTs (ms) as JSON."""
    import select

    from mock_gateway.protocol import FrameDecoder, encode_frame, encode_handshake

    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    dec = FrameDecoder()

    def read_until(pred) -> None:
        while True:
            for _, fields in dec.feed(sock.recv(65536)):
                if pred(fields):
                    return

    sock.sendall(encode_handshake("v157..176"))
    read_until(lambda f: len(f) == 2)
    sock.sendall(encode_frame([71, 2, 99, ""]))
    read_until(lambda f: f[0] == "9")
    print("ready", flush=True)
    rtts: list[float] = []
    while not select.select([sys.stdin], [], [], 0)[0]:
        t0 = time.perf_counter()
        sock.sendall(encode_frame([49, 1]))
        read_until(lambda f: f[0] == "49")
        rtts.append((time.time(), (time.perf_counter() - t0) * 1000))
        time.sleep(0.002)
    print(json.dumps(rtts), flush=True)


def rss_peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return math.nan


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


def cpu_grid(symbol: str, end_dates) -> list[tuple[str, str, str, int, float, float]]:
    """The same grid in this process, timed in CPU seconds (immune to other processes' load): per request
    the CPU to build the answer, and the largest single hold of the event loop (one compute slice or one
    formatting slice, as feeds.py slices them)."""
    from datetime import datetime, timezone

    from mock_gateway.config import GatewayConfig
    from mock_gateway.feeds import HISTORY_FORMAT_ROWS, HISTORY_SLICE_SLOTS, BarsRequest, bar_rows
    from mock_gateway.handlers import qualify
    from mock_gateway.protocol.time import parse_end_datetime
    from mock_gateway.sim import ContractQuery
    from mock_gateway.sim.bar_rules import BarRuleError, check_window, listing_epoch, parse_bar_size, parse_duration
    from mock_gateway.sim.bar_rules import LEGAL_BAR_SIZES
    from mock_gateway.sim.clock import SimClock
    from mock_gateway.sim.market import group_calendar
    from mock_gateway.sim.world import World

    config = GatewayConfig(port=0)
    clock = SimClock(start=config.start)
    world = World(config, clock)
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
                out.append((end_text or "now", bar_text, duration_for(bar_text), 0, 0.0, 0.0))
                continue
            end_s = end_epoch - now_epoch
            size = min(bar.seconds, 86400.0)
            req = BarsRequest(1, spec, min(bar.seconds, 86400.0), "TRADES", False, 2, listed)
            total, worst, n = 0.0, 0.0, 0
            days = []
            t = end_s - duration.seconds
            while t < end_s:
                hi = min(t + HISTORY_SLICE_SLOTS * size, end_s)
                c0 = time.process_time()
                table = world.market.bar_table(spec.con_id, hi, hi - t, size, "TRADES")
                c1 = time.process_time() - c0
                total, worst = total + c1, max(worst, c1)
                if bar.calendar:
                    days.append(table)
                else:
                    for k in range(0, len(table), HISTORY_FORMAT_ROWS):
                        c0 = time.process_time()
                        bar_rows(176, req, table.select(slice(k, k + HISTORY_FORMAT_ROWS)), world.market.epoch0)
                        c1 = time.process_time() - c0
                        total, worst = total + c1, max(worst, c1)
                    n += len(table)
                t = hi
            if bar.calendar:
                from mock_gateway.sim.market import BarTable
                c0 = time.process_time()
                table = group_calendar(BarTable.concat(days), world.market.epoch0, bar.seconds >= 28 * 86400, "TRADES")
                c1 = time.process_time() - c0
                total, worst, n = total + c1, max(worst, c1), len(table)
                for k in range(0, len(table), HISTORY_FORMAT_ROWS):     # formatted in slices, as feeds.py does
                    c0 = time.process_time()
                    bar_rows(176, req, table.select(slice(k, k + HISTORY_FORMAT_ROWS)), world.market.epoch0)
                    c1 = time.process_time() - c0
                    total, worst = total + c1, max(worst, c1)
            send_ms, proto_ms = reply_cost(req, n, world) if n else (0.0, 0.0)
            out.append((end_text or "now", bar_text, duration_for(bar_text), n, total * 1000, worst * 1000,
                        send_ms, proto_ms))
    return out


def reply_cost(req, n: int, world) -> tuple[float, float]:
    """CPU (ms) of the one step that sends the answer: the text frame plus its event-log line (one hold of the
    loop, in session.py), and the protobuf encoding a client at server version 208+ gets instead of the frame."""
    from mock_gateway.eventlog import EventLog
    from mock_gateway.feeds import bar_rows
    from mock_gateway.protocol import messages as m
    from mock_gateway.protocol.proto import replies as proto_replies
    from mock_gateway.session import frame

    table = world.market.bar_table(req.spec.con_id, 0.0, n * min(req.bar_size_s, 86400.0) * 1.6,
                                   min(req.bar_size_s, 86400.0), "TRADES")
    table = table.select(slice(max(0, len(table) - n), len(table)))
    head = m.historical_data(176, 1, "20000101 00:00:00", "20000101 00:00:00", [])
    head[-1] = str(len(table))
    fields = head + bar_rows(176, req, table, world.market.epoch0)
    log = EventLog(None)
    c0 = time.process_time()
    frame(fields)
    log.write(dir="out", msg="historicalData", msg_id=17, fields=fields, conn=1, client_id=1, sim=0.0)
    send = time.process_time() - c0
    c0 = time.process_time()
    proto_replies.to_protobuf(fields, now_ms=0)
    return send * 1000, (time.process_time() - c0) * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--symbol", default="AAPL")
    ap.add_argument("--quick", action="store_true", help="two end dates only")
    ap.add_argument("--cpu-only", action="store_true", help="only the in-process CPU figures (no sockets)")
    args = ap.parse_args()
    ends = END_DATES[-2:] if args.quick else END_DATES
    cpu = cpu_grid(args.symbol, ends)
    served = [r for r in cpu if r[3]]
    print("in-process CPU (independent of the machine's load), per request that returns bars:")
    print(f"  worst CPU to build an answer:          {max(r[4] for r in served):.1f} ms "
          f"({max(served, key=lambda r: r[4])[3]} bars)")
    print(f"  worst CPU, answers of <= 5,000 bars:   {max(r[4] for r in served if r[3] <= 5000):.1f} ms")
    print(f"  longest single event-loop hold:        {max(r[5] for r in served):.1f} ms (one compute or format slice)")
    print(f"  sending the answer (frame + event log): {max(r[6] for r in served):.1f} ms worst "
          f"({max(served, key=lambda r: r[6])[3]} bars; one hold, session.py)")
    print(f"  protobuf encoding instead (sv 208+):    {max(r[7] for r in served):.1f} ms worst "
          f"({max(served, key=lambda r: r[7])[3]} bars; one hold, protocol/proto/replies.py)")
    print(f"  (first request includes loading the exchange calendars and the universe)")
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
    except BaseException:
        pinger.kill()
        gw.kill()
        raise
    sock.close()
    rss_after = rss_peak_mb(gw.pid)
    pinger.stdin.close()
    samples = json.loads(pinger.stdout.readline())
    baseline = [rtt for t, rtt in samples if t < grid_from]
    rtts = [rtt for t, rtt in samples if t >= grid_from]
    pinger.wait()
    t0 = time.perf_counter()
    os.kill(gw.pid, signal.SIGTERM)
    gw.wait(timeout=30)
    stop_ms = (time.perf_counter() - t0) * 1000

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
    print(f"gateway peak RSS before / after grid: {rss_before:.0f} MB / {rss_after:.0f} MB")
    for label, xs in (("idle gateway (baseline)", baseline), ("during the grid", rtts)):
        q = statistics.quantiles(xs, n=100)
        print(f"other client reqCurrentTime RTT, {label + ':':<25} p50 {q[49]:.2f} ms  p99 {q[98]:.2f} ms  "
              f"max {max(xs):.2f} ms  ({len(xs)} round trips)")
    print("   [target: p99 < 5 ms during the grid; compare with the baseline on a loaded machine]")
    print(f"machine load average (1 min) at the end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print(f"gateway exit after SIGTERM:           {stop_ms:.0f} ms")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        serve()
    elif len(sys.argv) > 2 and sys.argv[1] == "--ping":
        ping(int(sys.argv[2]))
    else:
        main()
