"""Turn what a session showed into a scenario file (+ its latency CSVs), validated before it is kept.

Files are written to temporary names and renamed into place only after ``load_scenario``
accepts the result, so a failed calibration leaves nothing half-written.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mock_gateway.eventlog import Event
from mock_gateway.protocol.kinds import ReplyKind

from .latency import CALIBRATED_KINDS, LatencySamples, reply_latencies
from .patterns import PACING_CODES, SessionPatterns, find_patterns

#: Fewer samples than this for a kind: no distribution is fitted (a percentile of 3 values misleads).
MIN_SAMPLES = 5
#: Most disconnects / outages written as single scheduled faults; more become a Poisson rate.
MAX_SCHEDULED = 50
#: Known farm names the farm_status fault uses per farm kind (IB's US defaults).
_FARM_KIND = {"market": "market", "hmds": "hmds", "secdef": "secdef"}


@dataclass
class Calibration:
    """A calibrated scenario (as a dict), its latency samples per kind, and what could not be inferred."""

    name: str
    scenario: dict[str, Any]
    latency: LatencySamples
    patterns: SessionPatterns
    samples_files: dict[str, list[float]] = field(default_factory=dict)   # relative path -> ms samples
    not_inferred: list[str] = field(default_factory=list)
    inferred: list[str] = field(default_factory=list)


def _safe_name(text: str) -> str:
    name = re.sub(r"[^\w.-]+", "_", text).strip("._") or "calibrated"
    return name if name[0].isalnum() else f"s{name}"


def calibrate_events(events: list[Event], name: str, *, data_dir: str = "data", seed: int = 42) -> Calibration:
    """The scenario a session implies; pure (no files written)."""
    name = _safe_name(name)
    lat = reply_latencies(events)
    pat = find_patterns(events)
    cal = Calibration(name, {}, lat, pat)
    faults: list[dict[str, Any]] = []

    for kind in CALIBRATED_KINDS:
        samples = lat.samples_ms.get(kind, [])
        if len(samples) < MIN_SAMPLES:
            cal.not_inferred.append(f"latency {kind.value}: {len(samples)} request/reply pair(s) in the session, fewer "
                                    f"than {MIN_SAMPLES}; the mock answers this kind without added latency")
            continue
        rel = f"{data_dir}/{name}_{kind.value}_ms.csv"
        cal.samples_files[rel] = samples
        faults.append({"type": "latency", "name": f"latency_{kind.value}", "kinds": [kind.value],
                       "distribution": {"kind": "empirical", "file": rel}})
        ordered = sorted(samples)
        cal.inferred.append(f"latency {kind.value}: {len(samples)} samples, p50 {_q(ordered, 0.5):.1f} ms, "
                            f"p95 {_q(ordered, 0.95):.1f} ms ({lat.clock} clock)")
    if ReplyKind.ORDER_FILL.value in [f["kinds"][0] for f in faults if f["type"] == "latency"]:
        cal.not_inferred.append("latency order_fill is measured placeOrder -> execDetails, so it includes the "
                                "market's time to fill; the mock adds it to fills that can never come before "
                                "their acknowledgement")

    for err in pat.errors:
        if err.code == 201 and err.per_request == "placeOrder" and err.rate > 0:
            reason = err.text.split("reason:", 1)[1].strip() if "reason:" in err.text else err.text
            fault = {"type": "order_reject", "name": "order_reject_201", "reason": reason or "rejected",
                     **reject_scope(events)}
            faults.append(fault)
            scope = ", ".join(f"{k} {fault[k]}" for k in ("symbols", "actions") if k in fault) or "every order"
            cal.inferred.append(f"error 201: {err.count} of {pat.requests.get('placeOrder', 0)} orders rejected; "
                                f"{fault['probability']:.1%} of {scope}, reason {reason!r}")
        elif err.code in PACING_CODES:
            cal.inferred.append(f"error {err.code} ({PACING_CODES[err.code]}): {err.count} seen; reproduced by the "
                                "real pacing rules (default_pacing), which depend on the handler's request rate")
        else:
            cal.not_inferred.append(f"error {err.code} x{err.count} ({err.text[:80]!r}, {err.rate:.2%} of "
                                    f"{err.per_request} requests): no fault reproduces it as a rate; the mock "
                                    "answers it only where its own rules do")

    for i, o in enumerate(pat.connectivity[:MAX_SCHEDULED]):
        fault: dict[str, Any] = {"type": "connectivity_loss", "name": f"connectivity_loss_{i + 1}",
                                 "schedule": {"at_s": o.at_s, "duration_s": o.duration_s or max(1.0, pat.duration_s - o.at_s)}}
        if "1101" in o.detail:
            fault["data_lost"] = True
        faults.append(fault)
    for i, o in enumerate(pat.farms[:MAX_SCHEDULED]):
        faults.append({"type": "farm_status", "name": f"farm_{o.what}_{i + 1}", "farm": _FARM_KIND[o.what],
                       "schedule": {"at_s": o.at_s, "duration_s": o.duration_s or max(1.0, pat.duration_s - o.at_s)}})
    if len(pat.connectivity) + len(pat.farms) > 2 * MAX_SCHEDULED:
        cal.not_inferred.append(f"only the first {MAX_SCHEDULED} connectivity and farm outages are scheduled")
    downs = pat.disconnects
    if len(downs) > MAX_SCHEDULED:
        rate = len(downs) / max(pat.duration_s / 60.0, 1e-9)
        faults.append({"type": "disconnect", "name": "disconnects", "schedule": {"rate_per_min": round(rate, 6)}})
        cal.inferred.append(f"{len(downs)} gateway-side disconnects: a Poisson rate of {rate:.3g}/min")
    else:
        for i, o in enumerate(downs):
            faults.append({"type": "disconnect", "name": f"disconnect_{i + 1}", "schedule": {"at_s": o.at_s}})
    if downs:
        back = [o.duration_s for o in downs if o.duration_s is not None]
        cal.inferred.append(f"{len(downs)} gateway-side disconnect(s) at {', '.join(f'{o.at_s:g}' for o in downs[:10])} s"
                            + (f"; the client was back after {min(back):g}..{max(back):g} s (its own reconnect, "
                               "not scheduled)" if back else ""))
    faults = [f for f in faults if "schedule" not in f or f["schedule"].get("at_s", 0) < max(pat.duration_s, 1.0)]

    scenario: dict[str, Any] = {
        "name": name,
        "description": f"Calibrated from a recorded session ({pat.clock} clock, {pat.duration_s:.0f} s, "
                       f"{sum(pat.requests.values())} requests)",
        "seed": seed, "speed": 1, "duration_s": max(1.0, round(pat.duration_s + 1.0, 3)),
    }
    if pat.start is not None:
        scenario["start"] = pat.start.isoformat().replace("+00:00", "Z")
        cal.inferred.append(f"trading day: starts {scenario['start']}")
    else:
        cal.not_inferred.append("trading day: the log has no calendar time; the default New York open is used")
    if pat.symbols:
        scenario["market"] = {"symbols": pat.symbols}
        cal.inferred.append(f"universe: {', '.join(pat.symbols)}")
    else:
        cal.not_inferred.append("universe: no request named a symbol; the default universe is used")
    if pat.accounts:
        scenario["accounts"] = [{"id": a} for a in pat.accounts]
        cal.not_inferred.append("account cash, positions and open orders at the start: the log carries only "
                                "what the handler asked for; the default cash is used")
    if pat.client_ids:
        scenario["handler"] = {"client_id": pat.client_ids[0]}
    cal.not_inferred.append("market prices and volatility: they come from the real market, not the gateway")
    scenario["faults"] = faults
    cal.scenario = scenario
    return cal


def reject_scope(events: list[Event]) -> dict[str, Any]:
    """Which orders error 201 hit: the symbols (and side) it was confined to, and its rate among them.

    A reject confined to some symbols (not shortable, no permissions) is a property of those symbols,
    not a coin flipped for every order; a rate over all orders would reject the wrong ones."""
    orders: dict[tuple[object, int], tuple[str, str]] = {}
    rejected: set[tuple[object, int]] = set()
    for e in events:
        oid = e["attrs"].get("order_id") if e["msg"] == "placeOrder" else e["attrs"].get("req_id")
        if not isinstance(oid, int):
            continue
        if e["dir"] == "in" and e["msg"] == "placeOrder":
            orders[(e.get("conn"), oid)] = (str(e["attrs"].get("symbol", "")), str(e["attrs"].get("action", "")))
        elif e["dir"] == "out" and e["msg"] == "error" and e["attrs"].get("code") == 201:
            rejected.add((e.get("conn"), oid))
    hit = [orders[k] for k in rejected if k in orders]
    if not orders or not hit:
        return {"probability": 1.0 if orders and len(rejected) >= len(orders) else
                round(min(1.0, len(rejected) / max(len(orders), 1)), 6)}
    scope: dict[str, Any] = {}
    symbols = sorted({sym for sym, _ in hit})
    if symbols != sorted({sym for sym, _ in orders.values()}):
        scope["symbols"] = symbols
    actions = sorted({act for _, act in hit})
    in_symbols = [o for o in orders.values() if o[0] in symbols]
    if len(actions) == 1 and actions[0] in ("BUY", "SELL") and any(a != actions[0] for _, a in in_symbols):
        scope["actions"] = actions
    eligible = [o for o in in_symbols if "actions" not in scope or o[1] in scope["actions"]]
    scope["probability"] = round(min(1.0, len(hit) / max(len(eligible), 1)), 6)
    return scope


def _q(ordered: list[float], p: float) -> float:
    if not ordered:
        return float("nan")
    pos = p * (len(ordered) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def write_calibration(cal: Calibration, out: str | os.PathLike[str], *, source: str = "") -> Path:
    """Write the scenario and its CSVs beside it; validate with ``load_scenario``; nothing stays if it fails."""
    from harness.scenario import load_scenario

    target = Path(out)
    folder = target.parent
    folder.mkdir(parents=True, exist_ok=True)
    written: list[tuple[Path, Path]] = []
    try:
        for rel, samples in cal.samples_files.items():
            final = folder / rel
            final.parent.mkdir(parents=True, exist_ok=True)
            tmp = final.with_name(f".{final.name}.tmp")
            tmp.write_text(f"# order of the session's request/reply pairs, ms{' from ' + source if source else ''}\n"
                           "latency_ms\n" + "".join(f"{v:g}\n" for v in samples))
            written.append((tmp, final))
        header = "# Calibrated by `prelive calibrate`" + (f" from {source}" if source else "") + ".\n"
        header += "".join(f"# not inferred: {line}\n" for line in cal.not_inferred)
        tmp_yaml = target.with_name(f".{target.name}.tmp")
        tmp_yaml.write_text(header + yaml.safe_dump(cal.scenario, sort_keys=False, allow_unicode=True))
        written.append((tmp_yaml, target))
        for tmp, final in written[:-1]:
            os.replace(tmp, final)
        load_scenario(tmp_yaml)   # validated with the CSVs in place; raises ScenarioError
        os.replace(tmp_yaml, target)
    except BaseException:
        for tmp, final in written:
            tmp.unlink(missing_ok=True)
            if final != target and final.exists() and not target.exists():
                final.unlink(missing_ok=True)
        raise
    return target
