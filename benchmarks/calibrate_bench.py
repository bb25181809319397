"""Calibrate and compare cost on a long synthetic session log: read, calibrate, pair answers.

    python benchmarks/calibrate_bench.py [--orders 20000]

Writes a tap-shaped log (placeOrder -> openOrder, orderStatus x2, execDetails; reqContractDetails
-> contractData, contractDetailsEnd; reqPositions -> position, positionEnd per round), then prints
its size, the seconds and the process's peak RSS after each of read_session, calibrate_events and
answers_of, and events per second.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import resource
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.calibrate.scenario_writer import calibrate_events  # noqa: E402
from harness.calibrate.session import read_session  # noqa: E402
from harness.diff.answers import answers_of  # noqa: E402


def synthetic_log(path: Path, rounds: int) -> int:
    t, seq = 1764599400.0, 0
    lines = []

    def ev(dir_: str, msg: str, msg_id: int | None, **attrs: object) -> None:
        nonlocal seq
        lines.append(json.dumps({"seq": seq, "wall": t, "sim": None, "source": "tap", "conn": 1, "client_id": 1,
                                 "dir": dir_, "msg": msg, "msg_id": msg_id, "fields": [], "attrs": attrs,
                                 "fault": None}))
        seq += 1

    ev("sys", "run_start", None)
    ev("sys", "handshake", None, server_version=176)
    for i in range(rounds):
        oid = 100 + i
        ev("in", "placeOrder", 3, order_id=oid, symbol="AAPL")
        t += 0.03
        ev("out", "openOrder", 5, order_id=oid, symbol="AAPL", action="BUY", total_qty=10.0, order_type="MKT")
        ev("out", "orderStatus", 3, order_id=oid, status="PreSubmitted", filled=0.0, remaining=10.0)
        t += 0.2
        ev("out", "execDetails", 11, req_id=-1, order_id=oid, symbol="AAPL", side="BOT", shares=10.0)
        ev("out", "orderStatus", 3, order_id=oid, status="Filled", filled=10.0, remaining=0.0)
        ev("in", "reqContractDetails", 9, req_id=i, symbol="AAPL")
        t += 0.1
        ev("out", "contractData", 10, req_id=i)
        ev("out", "contractDetailsEnd", 52, req_id=i)
        ev("in", "reqPositions", 61)
        t += 0.04
        ev("out", "position", 61, account="DU1", symbol="AAPL", position=10.0 * i)
        ev("out", "positionEnd", 62)
        t += 1.0
    path.write_text("\n".join(lines) + "\n")
    return seq


def timed(label: str, fn):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - start
    print(f"{label:<18} {seconds:8.2f} s   process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:8.1f} MiB")
    return result, seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=20000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "session.jsonl"
        n = synthetic_log(log, args.orders)
        print(f"log: {n} events, {log.stat().st_size / 2**20:.1f} MiB")
        events, s_read = timed("read_session", lambda: read_session(log))
        _, s_cal = timed("calibrate_events", lambda: calibrate_events(events, "bench"))
        _, s_ans = timed("answers_of", lambda: answers_of(events))
        print(f"throughput: {n / (s_read + s_cal + s_ans):,.0f} events/s (read + calibrate + pair)")


if __name__ == "__main__":
    main()
