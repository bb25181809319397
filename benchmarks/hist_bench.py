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
    from mock_gateway.server import Gateway

    async def run() -> None:
        gw = Gateway(GatewayConfig(port=0, faults=FaultStack([]), log_market_data=False))
        await gw.start()
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--symbol", default="AAPL")
    ap.add_argument("--quick", action="store_true", help="two end dates only")
    args = ap.parse_args()
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
