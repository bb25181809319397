"""How long each request kind holds the gateway's event loop, at its worst legal parameters (issue 11).

    python benchmarks/loop_hold_bench.py [--only SUBSTRING] [--repeat N]

The gateway runs in its own process (as `prelive gateway` does) with no faults (no pacing), and times
every callback its event loop runs (asyncio's Handle._run, wrapped in that process only). One client
(a plain socket; requests encoded by ib_insync's own Client, so the bytes are a real library's) sends
every request kind of the dispatch table (mock_gateway/handlers.py) except historical bars (their own
benchmark: hist_bench.py), one after another, each at its worst legal parameters, and waits for its
whole answer. A second client, in its own process, sends reqCurrentTime every 2 ms the whole time.

Per request kind it prints (target from issue 11: no hold above a few ms):

  * cpu_ms      the most CPU one callback of the gateway's loop took while the request was served (the
                gateway's own work: immune to other processes taking the core)
  * gc_ms       the longest garbage collection pause in that time (it runs inside a callback: part of its hold)
  * hold_ms     the longest single callback in wall time (includes time the OS gave the core to others)
  * wall_ms     the request's wall time, from sending to its last reply
  * ping p50/p99/max  the other client's reqCurrentTime round trip while the request was served (ms)
  * rss+MB      the gateway's resident memory growth over the request (peak RSS)
  * where       the callback that took the most CPU (the sliced work shows as a Task step)

Then the time the gateway takes to exit on SIGTERM while a long request is in progress.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from ping_child import ping, rss_peak_mb   # benchmarks/ is the script's folder, on sys.path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SERVER_VERSION = 176            # ib_insync 0.9.86's highest: every request at its newest layout
ACCOUNT = "DU1234567"


# ------------------------------------------------------------------------------------------ gateway child
def serve() -> None:
    """Child process: a gateway with no faults whose loop times every callback. Reads 'mark' lines on stdin
    and answers each with the longest callback since the previous mark and the peak RSS, as JSON."""
    import asyncio
    import asyncio.events

    from mock_gateway.config import AccountConfig, ExecutionConfig, GatewayConfig, OpenOrderConfig
    from mock_gateway.faults.base import FaultStack
    from mock_gateway.server import Gateway, settle_heap

    longest = [0.0, "", 0.0]     # wall hold, the callback that held longest in CPU, CPU hold
    original_run = asyncio.events.Handle._run

    def timed_run(self):   # one callback of the loop: its duration is how long it held the loop
        t0, c0 = time.perf_counter(), time.thread_time()
        original_run(self)
        held, cpu = time.perf_counter() - t0, time.thread_time() - c0
        longest[0] = max(longest[0], held)
        if cpu > longest[2]:   # CPU: the gateway's own work, not the time another process had the core
            longest[1], longest[2] = repr(self)[:120], cpu

    asyncio.events.Handle._run = timed_run

    import gc
    gc_pause = [0.0, 0.0]        # the running collection's start, the longest pause since the last mark

    def on_gc(phase, info):      # a collection runs inside whichever callback allocated: part of its hold
        if phase == "start":
            gc_pause[0] = time.thread_time()
        else:
            gc_pause[1] = max(gc_pause[1], time.thread_time() - gc_pause[0])

    gc.callbacks.append(on_gc)

    n_history = int(os.environ.get("LOOP_BENCH_HISTORY", "2000"))
    symbols = ("AAPL", "MSFT", "SPY", "IBM", "QQQ")
    account = AccountConfig(
        account_id=ACCOUNT,
        executions=[ExecutionConfig(symbols[i % 5], "BUY" if i % 2 else "SELL", 10, 100.0 + i % 7,
                                    ago_s=3600.0 + i) for i in range(n_history)],
        open_orders=[OpenOrderConfig(symbols[i % 5], "BUY", 1, "LMT", lmt_price=1.0 + i % 50 / 100)
                     for i in range(n_history // 2)])

    async def run() -> None:
        gw = Gateway(GatewayConfig(port=0, faults=FaultStack([]), log_market_data=False, accounts=[account]))
        await gw.start()
        settle_heap()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, stop.set)

        def on_stdin() -> None:
            line = sys.stdin.readline()
            if not line:
                loop.remove_reader(sys.stdin.fileno())
                return
            print(json.dumps({"hold_ms": longest[0] * 1000, "cpu_ms": longest[2] * 1000, "where": longest[1],
                              "gc_ms": gc_pause[1] * 1000, "rss_mb": rss_peak_mb(os.getpid())}), flush=True)
            longest[0], longest[1], longest[2], gc_pause[1] = 0.0, "", 0.0, 0.0

        loop.add_reader(sys.stdin.fileno(), on_stdin)
        profile_to = os.environ.get("LOOP_BENCH_PROFILE")     # a path: profile the gateway, dump there
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


# ------------------------------------------------------------------------------------------ ping child
# ------------------------------------------------------------------------------------------ the requests
def encoded(call: str, *args) -> bytes:
    """What ib_insync's Client writes for ``call(*args)``, framed: the bytes a real client sends."""
    from ib_insync.client import Client

    from mock_gateway.protocol import encode_frame

    out: list[str] = []

    class _Wrapper:
        def __getattr__(self, name):
            return lambda *a, **k: None

    client = Client(_Wrapper())
    client.connState = Client.CONNECTED
    client._serverVersion = SERVER_VERSION
    client.sendMsg = out.append
    getattr(client, call)(*args)
    return b"".join(encode_frame(msg.split("\0")[:-1]) for msg in out)


Done = Callable[[list[list[str]]], bool]


def ends_with(msg_id: int, req_id: int | None = None, at: int = 2) -> Done:
    """Done once a message ``msg_id`` (for ``req_id``, at field ``at``) or an error for ``req_id`` arrived."""
    def done(msgs: list[list[str]]) -> bool:
        for f in msgs:
            if f[0] == str(msg_id) and (req_id is None or (len(f) > at and f[at] == str(req_id))):
                return True
            if f[0] == "4" and req_id is not None and len(f) > 2 and f[2] == str(req_id):
                return True
        return False
    return done


def count_of(msg_id: int, n: int) -> Done:
    return lambda msgs: sum(1 for f in msgs if f[0] == str(msg_id)) >= n


def requests(stock_symbols: list[str], market_rule_ids: list[int], lines: int):
    """(label, bytes to send, done predicate, bytes to send after, e.g. a cancel) for every request kind."""
    from ib_insync import (ExecutionFilter, Future, FuturesOption, Index, LimitOrder, MarketOrder, Option,
                           ScannerSubscription, Stock)

    from mock_gateway.sim.account import SUMMARY_TAGS   # IB's AccountSummaryTags.AllTags

    from mock_gateway.protocol import encode_frame

    aapl, spx = Stock("AAPL", "SMART", "USD"), Index("SPX", "CBOE", "USD")
    all_generic = "100,101,104,105,106,165,221,225,233,236,258,293,294,295,318,411,456"
    out = []
    r = iter(range(1000, 100000))

    def add(label: str, call: str, *args, done: Done, after: bytes = b"") -> None:
        out.append((label, encoded(call, *args), done, after))

    rid = next(r)
    add("reqContractDetails Option(SPY) chain", "reqContractDetails", rid, Option("SPY", exchange="SMART"),
        done=ends_with(52, rid))
    rid = next(r)
    add("reqContractDetails Option(SPX) chain", "reqContractDetails", rid, Option("SPX", exchange="SMART"),
        done=ends_with(52, rid))
    rid = next(r)
    add("reqContractDetails FuturesOption(ES)", "reqContractDetails", rid, FuturesOption("ES", exchange="CME"),
        done=ends_with(52, rid))
    rid = next(r)
    add("reqContractDetails Future(ES) all", "reqContractDetails", rid, Future("ES", exchange="CME"),
        done=ends_with(52, rid))
    rid = next(r)
    add("reqContractDetails Stock('') miss", "reqContractDetails", rid, Stock("ZZZZQ", "SMART", "USD"),
        done=ends_with(52, rid))
    rid = next(r)
    add("reqSecDefOptParams SPX", "reqSecDefOptParams", rid, "SPX", "", "IND", 0, done=ends_with(76, rid, 1))
    rid = next(r)
    add("reqSecDefOptParams SPY", "reqSecDefOptParams", rid, "SPY", "", "STK", 0, done=ends_with(76, rid, 1))
    rid = next(r)
    add("reqMatchingSymbols 'A'", "reqMatchingSymbols", rid, "A", done=ends_with(79, rid, 1))
    for what, reply in (("TRADES", 98), ("BID_ASK", 97), ("MIDPOINT", 96)):
        rid = next(r)
        add(f"reqHistoricalTicks 1000 {what}", "reqHistoricalTicks", rid, aapl, "", "20261124 14:45:00 UTC", 1000, what,
            False, False,
            [], done=ends_with(reply, rid, 1))
    rid = next(r)
    add("reqHistogramData 52 weeks", "reqHistogramData", rid, aapl, False, "52 weeks", done=ends_with(89, rid, 1))
    rid = next(r)
    add("reqHeadTimeStamp", "reqHeadTimeStamp", rid, aapl, "TRADES", True, 1, done=ends_with(88, rid, 1))
    for tick_type in ("Last", "AllLast", "BidAsk", "MidPoint"):
        rid = next(r)
        add(f"reqTickByTickData {tick_type} 1000", "reqTickByTickData", rid, aapl, tick_type, 1000, False,
            done=count_of(99, 1000), after=encoded("cancelTickByTickData", rid))
    first = next(r)
    burst = b"".join(encoded("reqMktData", first + i, Stock(sym, "SMART", "USD"), all_generic, False, False, [])
                     for i, sym in enumerate(stock_symbols[:lines]))
    cancel = b"".join(encoded("cancelMktData", first + i) for i in range(lines))
    wanted = {str(first + i) for i in range(lines)}
    out.append((f"reqMktData x{lines} lines, all generic ticks", burst,
                lambda msgs: wanted <= {f[2] for f in msgs if f[0] == "1" and len(f) > 2}, cancel))
    for _ in range(lines):
        next(r)
    rid = next(r)
    add("reqMktData snapshot SPX", "reqMktData", rid, spx, "", True, False, [], done=ends_with(57, rid, 2))
    rid = next(r)
    add("reqMktDepth SMART 50 rows", "reqMktDepth", rid, aapl, 50, True, [],
        done=lambda msgs: any(f[0] in ("12", "13") for f in msgs) or ends_with(0, rid)(msgs),
        after=encoded("cancelMktDepth", rid, True))
    rid = next(r)
    add("reqRealTimeBars", "reqRealTimeBars", rid, aapl, 5, "TRADES", False, [], done=ends_with(50, rid, 2),
        after=encoded("cancelRealTimeBars", rid))
    oid = 1
    burst = b"".join(encoded("placeOrder", oid + i, aapl, MarketOrder("BUY" if i % 2 else "SELL", 1))
                     for i in range(300))
    burst += b"".join(encoded("placeOrder", oid + 300 + i, aapl, LimitOrder("BUY", 1, 1.0 + i / 100))
                      for i in range(300))
    out.append(("placeOrder x600 (300 MKT, 300 LMT)", burst, count_of(3, 600), b""))
    add("reqAllOpenOrders", "reqAllOpenOrders", done=ends_with(53))
    add("reqOpenOrders", "reqOpenOrders", done=ends_with(53))
    add("reqCompletedOrders", "reqCompletedOrders", False, done=ends_with(102))
    rid = next(r)
    add("reqExecutions all", "reqExecutions", rid, ExecutionFilter(), done=ends_with(55, rid, 2))
    add("reqPositions", "reqPositions", done=ends_with(62), after=encoded("cancelPositions"))
    add("reqAccountUpdates", "reqAccountUpdates", True, ACCOUNT, done=ends_with(54),
        after=encoded("reqAccountUpdates", False, ACCOUNT))
    rid = next(r)
    add("reqAccountSummary all tags", "reqAccountSummary", rid, "All", ",".join(SUMMARY_TAGS) + ",$LEDGER:ALL",
        done=ends_with(64, rid, 2), after=encoded("cancelAccountSummary", rid))
    rid = next(r)
    add("reqPositionsMulti", "reqPositionsMulti", rid, "", "", done=ends_with(72, rid, 2),
        after=encoded("cancelPositionsMulti", rid))
    rid = next(r)
    add("reqAccountUpdatesMulti", "reqAccountUpdatesMulti", rid, "", "", False, done=ends_with(74, rid, 2),
        after=encoded("cancelAccountUpdatesMulti", rid))
    rid = next(r)
    add("reqPnL", "reqPnL", rid, ACCOUNT, "", done=ends_with(94, rid, 1), after=encoded("cancelPnL", rid))
    rid = next(r)
    add("reqGlobalCancel", "reqGlobalCancel", done=lambda msgs: len(msgs) >= 300)
    add("reqScannerParameters", "reqScannerParameters", done=ends_with(19))
    rid = next(r)
    sub = ScannerSubscription(instrument="STK", locationCode="STK.US", scanCode="HOT_BY_VOLUME", numberOfRows=50)
    add("reqScannerSubscription HOT_BY_VOLUME first of day", "reqScannerSubscription", rid, sub, [], [],
        done=ends_with(20, rid, 2), after=encoded("cancelScannerSubscription", rid))
    rules = b"".join(encoded("reqMarketRule", i) for i in market_rule_ids)
    out.append((f"reqMarketRule x{len(market_rule_ids)} (all)", rules, count_of(93, len(market_rule_ids)), b""))
    add("reqFamilyCodes", "reqFamilyCodes", done=ends_with(78))
    add("reqNewsProviders", "reqNewsProviders", done=ends_with(85))
    rid = next(r)
    add("reqUserInfo", "reqUserInfo", rid, done=ends_with(107, rid, 1))
    add("reqMktDepthExchanges", "reqMktDepthExchanges", done=ends_with(80))
    rid = next(r)
    add("reqSmartComponents", "reqSmartComponents", rid, "9c0001", done=ends_with(82, rid, 1))
    rid = next(r)
    add("reqSoftDollarTiers", "reqSoftDollarTiers", rid, done=ends_with(77, rid, 1))
    add("reqManagedAccts", "reqManagedAccts", done=ends_with(15))
    add("reqIds", "reqIds", 1, done=ends_with(9))
    out.append(("reqCurrentTimeInMillis", encode_frame([105]), ends_with(109), b""))
    return out


# ------------------------------------------------------------------------------------------ main
def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default="", help="run only the request kinds whose label contains this")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for one request's answer")
    args = ap.parse_args()

    from mock_gateway.config import GatewayConfig
    from mock_gateway.protocol import FrameDecoder, encode_frame, encode_handshake
    from mock_gateway.sim.clock import SimClock
    from mock_gateway.sim.contract_spec import MARKET_RULES
    from mock_gateway.sim.world import World

    config = GatewayConfig(port=0)
    world = World(config, SimClock(start=config.start))
    stocks = sorted({s.symbol for s in world.contracts if s.sec_type == "STK" and s.currency == "USD"})
    todo = requests(stocks, sorted(MARKET_RULES), config.market_data_lines)
    todo = [t for t in todo if args.only.lower() in t[0].lower()]

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    gw = subprocess.Popen([sys.executable, __file__, "--serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          text=True, env=env)
    port = int(gw.stdout.readline())
    pinger = subprocess.Popen([sys.executable, __file__, "--ping", str(port)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env=env)
    assert pinger.stdout.readline().strip() == "ready"

    def mark() -> dict:
        gw.stdin.write("mark\n")
        gw.stdin.flush()
        return json.loads(gw.stdout.readline())

    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    dec = FrameDecoder()
    sock.sendall(encode_handshake("v157..176"))
    msgs: list[list[str]] = []

    def read_until(done: Done, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while not done(msgs):
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            sock.settimeout(left)
            try:
                data = sock.recv(1 << 20)
            except TimeoutError:
                return False
            if not data:
                return False
            msgs.extend(fields for _, fields in dec.feed(data))
        return True

    read_until(lambda ms: bool(ms), 10)
    sock.sendall(encode_frame([71, 2, 0, ""]))
    read_until(ends_with(9), 10)
    time.sleep(0.5)
    msgs.clear()
    base = mark()
    rows = []
    for label, data, done, after in todo:
        msgs.clear()
        rss0 = mark()["rss_mb"]
        t_wall0, t0 = time.time(), time.perf_counter()
        sock.sendall(data)
        complete = read_until(done, args.timeout)
        wall_ms = (time.perf_counter() - t0) * 1000
        t_wall1 = time.time()
        if after:
            sock.sendall(after)
        time.sleep(0.05)
        got = mark()
        rows.append((label, got["cpu_ms"], got["gc_ms"], got["hold_ms"], wall_ms, t_wall0, t_wall1, got["rss_mb"] - rss0, got["where"], complete,
                     len(msgs)))
    pinger.stdin.write("x\n")
    pinger.stdin.flush()
    rtts = json.loads(pinger.stdout.readline())

    print(f"gateway RSS at start {base['rss_mb']:.0f} MB; ping client: {len(rtts)} reqCurrentTime round trips")
    head = f"{'request (worst legal parameters)':52s} {'cpu_ms':>7s} {'gc_ms':>6s} {'hold_ms':>8s} {'wall_ms':>9s} {'p50':>6s} {'p99':>6s} " \
           f"{'max':>6s} {'rss+MB':>7s} {'msgs':>6s}  where"
    print(head)
    print("-" * len(head))
    for label, cpu, gc_ms, hold, wall, a, b, rss, where, complete, n in rows:
        during = [ms for t, ms in rtts if a <= t <= b + 0.002]
        flag = "" if complete else "  INCOMPLETE"
        print(f"{label[:52]:52s} {cpu:7.1f} {gc_ms:6.1f} {hold:8.1f} {wall:9.1f} {percentile(during, .5):6.1f} {percentile(during, .99):6.1f} "
              f"{max(during, default=float('nan')):6.1f} {rss:7.1f} {n:6d}  {where[:60]}{flag}")
    over = [r for r in rows if r[1] > 5.0]
    print(f"\nkinds holding the loop > 5 ms of CPU: {len(over)} of {len(rows)}"
          + (": " + ", ".join(r[0] for r in over) if over else ""))

    # SIGTERM while the longest request is in progress
    spx_rid = 99999
    sock.sendall(encoded("reqContractDetails", spx_rid, __import__("ib_insync").Option("SPX", exchange="SMART",
                                                                                        right="C")))
    time.sleep(0.05)
    t0 = time.perf_counter()
    gw.send_signal(signal.SIGTERM)
    sock.settimeout(30)
    try:                     # keep reading (a client that stops reading holds the close of its socket)
        while sock.recv(1 << 20):
            pass
    except OSError:
        pass
    try:
        gw.wait(timeout=30)
        print(f"SIGTERM during a whole-chain reqContractDetails: gateway exited in "
              f"{(time.perf_counter() - t0) * 1000:.0f} ms (exit code {gw.returncode})")
    except subprocess.TimeoutExpired:
        print("SIGTERM during a whole-chain reqContractDetails: gateway still running after 30 s")
        gw.kill()
    sock.close()
    pinger.wait(timeout=10)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        serve()
    elif len(sys.argv) > 1 and sys.argv[1] == "--ping":
        ping(int(sys.argv[2]))
    else:
        main()
