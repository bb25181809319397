"""The handler on the scenario's clock: figures for issue 14 (not a timed test; prints what it measured).

    python benchmarks/clock_bench.py same-hour [--speeds 1,100] [--duration 3600]
        a plain sleep-driven bot (benchmarks/plain_bot.py) over the same simulated hour at each speed,
        run side by side: trades per speed and their spread (target: within 10 %), clock drift, CPU
    python benchmarks/clock_bench.py six-hour
        six_hour_session with its baseline, for the reference handler and the plain bot: wall seconds
        (target <= 60) and trades (target >= 50)
    python benchmarks/clock_bench.py matrix [--jobs 2]
        every shipped scenario with the reference handler: wall seconds (target <= 300) and verdicts,
        per scenario its floor (sim length / speed), wall, extra and the gateway's worst loop lag, and
        the sums, so the figure on a quiet machine can be inferred from one on a busy one
    python benchmarks/clock_bench.py loop-lag [--speeds 1,60,300,1000] [--seconds 5]
        the gateway's event-loop lag on this machine (real ms and simulated s) and the pacing tolerance
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from harness.runner import STARTUP_WALL_S, RunOptions, run_many, run_scenario
from harness.scenario import load_scenario, shipped_scenarios

PLAIN_BOT = f"{sys.executable} {Path(__file__).resolve().parent / 'plain_bot.py'}"


def _figures(outcome) -> str:  # type: ignore[no-untyped-def]
    clock = outcome.session.clock.to_json() if outcome.session and outcome.session.clock else {}
    return (f"verdict {outcome.verdict}, trades {outcome.metrics.get('trade_count')}, wall {outcome.wall_s:.1f} s, "
            f"drift max {clock.get('drift_max_abs_s')} sim s over {clock.get('drift_samples')} samples, "
            f"handler CPU {clock.get('handler_cpu_ms_per_sim_s')} ms per sim s (load {clock.get('handler_cpu_load')})"
            + (f"; error {outcome.error}" if outcome.error else ""))


def same_hour(speeds: list[float], duration_s: float, out: Path) -> int:
    scenario = load_scenario("baseline")
    results: dict[float, object] = {}

    def one(speed: float) -> None:
        options = RunOptions(out_dir=out / f"speed-{speed:g}", handler=PLAIN_BOT, speed=speed, duration_s=duration_s,
                             baseline=False)
        results[speed] = run_scenario(scenario, options)

    threads = [threading.Thread(target=one, args=(s,)) for s in speeds]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(f"plain bot, {duration_s:g} simulated seconds of '{scenario.name}', speeds {speeds} side by side, "
          f"{time.monotonic() - started:.1f} s wall")
    trades = {}
    for speed in speeds:
        outcome = results[speed]
        trades[speed] = outcome.metrics.get("trade_count") or 0  # type: ignore[attr-defined]
        print(f"  speed {speed:>6g}: {_figures(outcome)}")
    lo, hi = min(trades.values()), max(trades.values())
    spread = (hi - lo) / max(hi, 1) * 100
    print(f"  trades {trades}: spread {spread:.1f} % (target within 10 %)")
    return 0 if spread <= 10 else 1


def six_hour(out: Path) -> int:
    scenario = load_scenario("six_hour_session")
    ok = True
    for label, handler in (("reference handler", None), ("plain bot", PLAIN_BOT)):
        options = RunOptions(out_dir=out / label.replace(" ", "-"), handler=handler, baseline=True)
        started = time.monotonic()
        outcome = run_scenario(scenario, options)
        wall = time.monotonic() - started
        base = outcome.baseline
        print(f"six_hour_session + baseline, {label}: {wall:.1f} s wall (target <= 60); {_figures(outcome)}; "
              f"baseline exit {base.stop.exit_code if base and base.stop else None}")
        ok &= wall <= 60 and (outcome.metrics.get("trade_count") or 0) >= 50
    return 0 if ok else 1


def _makespan(walls: list[float], jobs: int) -> float:
    """Wall time of ``jobs`` workers taking the runs longest first (what --jobs would take on an idle machine)."""
    loads = [0.0] * jobs
    for w in sorted(walls, reverse=True):
        loads[loads.index(min(loads))] += w
    return max(loads)


def matrix(jobs: int, out: Path) -> int:
    scenarios = [load_scenario(p) for p in shipped_scenarios()]
    load_before = os.getloadavg()
    started = time.monotonic()
    outcomes = run_many(scenarios, RunOptions(out_dir=out), jobs=jobs)
    wall = time.monotonic() - started
    load_after = os.getloadavg()
    print(f"shipped matrix ({len(scenarios)} scenarios), reference handler, --jobs {jobs}: {wall:.1f} s wall "
          f"(target <= 300); machine load {load_before[0]:.1f} before, {load_after[0]:.1f} after "
          f"(5-min {load_after[1]:.1f}) on {os.cpu_count()} CPUs")
    failed = 0
    floors, walls = [], []
    print(f"  {'scenario':<24} {'verdict':<14} {'speed':>6} {'sim/speed':>9} {'wall':>7} {'extra':>6} "
          f"{'lag max':>8}  trades")
    for s, o in zip(scenarios, outcomes):
        bad = [f"{e.name}: {e.detail}" for e in o.failed]
        failed += len(bad) + bool(o.error) + (o.verdict not in ("PASS", "NOT EXERCISED"))
        floor = s.duration_s / s.speed
        floors.append(floor)
        walls.append(o.wall_s)
        clock = o.session.clock.to_json() if o.session and o.session.clock else {}
        lag = (clock.get("loop_lag") or {}).get("max_lag_ms")
        print(f"  {o.scenario:<24} {o.verdict:<14} {s.speed:>6g} {floor:>8.1f}s {o.wall_s:>6.1f}s "
              f"{o.wall_s - floor:>5.1f}s {lag if lag is not None else '-':>7}ms  {o.metrics.get('trade_count')}"
              + (f"  FAILED {bad}" if bad else "") + (f"  {o.not_exercised}" if o.not_exercised else "")
              + (f"  {o.cause}" if o.cause and o.verdict == "ERROR" else "") + (f"  {o.error}" if o.error else ""))
    print(f"  sum of sim length / speed: {sum(floors):.1f} s; sum of per-scenario wall: {sum(walls):.1f} s; "
          f"per-scenario extra (start-up, measuring): median {statistics.median(w - f for w, f in zip(walls, floors)):.1f} s")
    print(f"  longest-first schedule of these walls on {jobs} workers: {_makespan(walls, jobs):.1f} s; "
          f"of the floors plus {STARTUP_WALL_S:g} s each: {_makespan([f + STARTUP_WALL_S for f in floors], jobs):.1f} s")
    print(f"  expectations failed (or ERROR): {failed}")
    return 0 if wall <= 300 and not failed else 1


def loop_lag(speeds: list[float], seconds: float) -> int:
    """The gateway's event-loop lag on this machine, idle, at each speed; the pacing tolerance at each speed."""
    from mock_gateway.config import GatewayConfig
    from mock_gateway.faults.pacing import MessageRate
    from mock_gateway.server import GatewayThread

    print(f"idle gateway, {seconds:g} s real per speed; machine load {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    for speed in speeds:
        with GatewayThread(GatewayConfig(port=0, speed=speed)) as gw:
            time.sleep(seconds)
        st = gw.loop_lag.stats.to_json(speed)
        rate = MessageRate()
        print(f"  speed {speed:>6g}: {st['wakeups']} wake-ups, {st['late_wakeups']} late (>= 5 ms and 0.25 sim s), "
              f"max {st['max_lag_ms']} ms real = {st['max_lag_sim_s']:.2f} s sim, mean "
              f"{st['total_lag_ms'] / max(st['wakeups'], 1):.2f} ms; pacing tolerance {rate.tolerance_s(speed):.3f} sim s")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=("same-hour", "six-hour", "matrix", "loop-lag"))
    parser.add_argument("--speeds", default=None)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--duration", type=float, default=3600.0)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    if args.what == "loop-lag":
        return loop_lag([float(s) for s in (args.speeds or "1,60,300,1000").split(",")], args.seconds)
    out = args.out or Path(tempfile.mkdtemp(prefix="prelive-clock-bench-"))
    print(f"runs in {out}")
    if args.what == "same-hour":
        return same_hour([float(s) for s in (args.speeds or "1,100").split(",")], args.duration, out)
    if args.what == "six-hour":
        return six_hour(out)
    return matrix(args.jobs, out)


if __name__ == "__main__":
    sys.exit(main())
