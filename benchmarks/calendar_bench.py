"""First requests into new date ranges: the longest event-loop hold, and another client's round trip meanwhile.

    python benchmarks/calendar_bench.py

The gateway runs in its own process (as `prelive gateway` does, no faults) with a loop-lag
monitor: a task that asks to wake every millisecond and records how late it woke (the time the
loop was held by something else). One client sends, one after another, the first requests into
new date ranges (daily, hourly and 5-minute bars ending in 1990, 2000, 2010, 2020 and now, for a
stock, a future and a currency pair, plus contractDetails); a second client sends reqCurrentTime
in a loop the whole time. Prints the gateway's start-up time, the longest hold per request and
over all, and the other client's round trip p50 / p99 / max.  [target: holds of a few ms]
"""
from __future__ import annotations

import asyncio
import json
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
sys.path.insert(0, str(ROOT / "benchmarks"))

END_DATES = ("19900601 16:00:00 US/Eastern", "20000601 16:00:00 US/Eastern", "20100601 12:00:00 US/Eastern",
             "20200302 16:00:00 US/Eastern", "")
#: (symbol, secType, exchange, currency, whatToShow): one contract per session rule.
CONTRACTS = (("AAPL", "STK", "SMART", "USD", "TRADES"), ("EUR", "CASH", "IDEALPRO", "USD", "MIDPOINT"))
BARS = (("1 day", "1 Y"), ("1 hour", "1 M"), ("5 mins", "1 W"))


async def lag_monitor(holds: list[tuple[float, float, float]], period_s: float = 0.001) -> None:
    """Record (wall time, ms late, CPU ms the process used meanwhile) each time the loop wakes this task
    more than 2 ms late. The CPU figure is the hold itself; the wall figure adds time the OS gave the
    CPU to other processes (a shared machine)."""
    while True:
        t0, c0 = time.perf_counter(), time.process_time()
        await asyncio.sleep(period_s)
        late_ms = (time.perf_counter() - t0 - period_s) * 1000
        if late_ms > 2.0:
            holds.append((time.time(), late_ms, (time.process_time() - c0) * 1000))


def serve() -> None:
    """Child process: a gateway with no faults and a lag monitor; prints start-up ms and port, on SIGTERM the holds."""
    t0 = time.perf_counter()
    from mock_gateway.config import GatewayConfig
    from mock_gateway.faults.base import FaultStack
    from mock_gateway.server import Gateway

    async def run() -> None:
        t1 = time.perf_counter()
        gw = Gateway(GatewayConfig(port=0, faults=FaultStack([]), log_market_data=False))
        await gw.start()
        t2 = time.perf_counter()
        holds: list[tuple[float, float]] = []
        monitor = asyncio.ensure_future(lag_monitor(holds))
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        print(json.dumps({"port": gw.port, "import_ms": (t1 - t0) * 1000, "construct_start_ms": (t2 - t1) * 1000}),
              flush=True)
        await stop.wait()
        monitor.cancel()
        print(json.dumps(holds), flush=True)
        await gw.stop()

    asyncio.run(run())


def main() -> None:
    from hist_bench import ping  # noqa: F401  (the same pinger, run as a child below)
    from mock_gateway.protocol import FrameDecoder, encode_frame, encode_handshake

    t_spawn = time.perf_counter()
    gw = subprocess.Popen([sys.executable, __file__, "--serve"], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    info = json.loads(gw.stdout.readline())
    spawn_ms = (time.perf_counter() - t_spawn) * 1000
    pinger = subprocess.Popen([sys.executable, str(ROOT / "benchmarks" / "hist_bench.py"), "--ping", str(info["port"])],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert pinger.stdout.readline().strip() == "ready"
    time.sleep(1.0)
    grid_from = time.time()
    sock = socket.create_connection(("127.0.0.1", info["port"]))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    dec = FrameDecoder()

    def read_until(pred) -> list[str]:
        while True:
            for _, fields in dec.feed(sock.recv(1 << 20)):
                if pred(fields):
                    return fields

    rows: list[tuple[str, float, float, str]] = []
    try:
        sock.sendall(encode_handshake("v157..176"))
        read_until(lambda f: len(f) == 2)
        sock.sendall(encode_frame([71, 2, 1, ""]))
        read_until(lambda f: f[0] == "9")
        req_id = 100
        for symbol, sec_type, exchange, currency, what in CONTRACTS:
            req_id += 1
            t0 = time.time()
            sock.sendall(encode_frame([9, 8, req_id, 0, symbol, sec_type, "", 0, "", "", exchange, "", currency, "",
                                       "", 0, "", ""]))
            read_until(lambda f: f[0] == "52" and f[2] == str(req_id) or f[0] == "4" and str(req_id) in f[1:3])
            rows.append((f"contractDetails {symbol}", t0, time.time(), "details"))
        for end in END_DATES:
            for symbol, sec_type, exchange, currency, what in CONTRACTS:
                for bar, duration in BARS:
                    req_id += 1
                    t0 = time.time()
                    sock.sendall(encode_frame([20, req_id, 0, symbol, sec_type, "", 0, "", "", exchange, "", currency,
                                               "", "", 0, end, bar, duration, 0, what, 2, 0, ""]))
                    reply = read_until(lambda f: (f[0] == "17" and f[1] == str(req_id))
                                       or (f[0] == "4" and str(req_id) in f[1:3]))
                    answer = f"{reply[4]} bars" if reply[0] == "17" else f"error {reply[3] if reply[2] == str(req_id) else reply[2]}"
                    rows.append((f"{symbol} {bar} x {duration} to {end or 'now'}", t0, time.time(), answer))
    finally:
        sock.close()
        pinger.stdin.close()
        samples = json.loads(pinger.stdout.readline())
        pinger.wait()
        os.kill(gw.pid, signal.SIGTERM)
        holds = json.loads(gw.stdout.readline())
        gw.wait(timeout=30)

    print(f"gateway start-up: {spawn_ms:.0f} ms to a listening port from process spawn "
          f"(imports {info['import_ms']:.0f} ms, Gateway() + start() {info['construct_start_ms']:.0f} ms)")
    print(f"{'request':<52} {'wall ms':>8} {'longest hold ms (wall / CPU)':>29}  answer")
    for label, t0, t1, answer in rows:
        mine = [(ms, cpu) for t, ms, cpu in holds if t - ms / 1000 <= t1 and t >= t0]   # holds overlapping the request
        hold, cpu = max(mine, default=(0.0, 0.0))
        print(f"{label:<52} {(t1 - t0) * 1000:>8.1f} {hold:>20.1f} / {cpu:>6.1f}  {answer}")
    rtts = [rtt for t, rtt in samples if t >= grid_from]
    q = statistics.quantiles(rtts, n=100)
    print()
    print(f"longest event-loop hold over the first requests: {max([0.0] + [ms for _, ms, _ in holds]):.1f} ms wall, "
          f"{max([0.0] + [cpu for _, _, cpu in holds]):.1f} ms CPU  [target: a few ms; holds under 2 ms are not recorded]")
    print(f"other client reqCurrentTime RTT meanwhile: p50 {q[49]:.2f} ms  p99 {q[98]:.2f} ms  max {max(rtts):.2f} ms "
          f"({len(rtts)} round trips)")
    print(f"machine load average (1 min): {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        serve()
    else:
        main()
