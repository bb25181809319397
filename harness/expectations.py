"""A scenario's ``expect`` block, whether its faults acted, and the verdict: pure functions of the event log.

Everything here reads the session's event log (as a frame), the computed metrics, the scenario and
a :class:`HandlerEnd` (how the handler's process ended); nothing starts or stops anything.

Verdicts (and their ``prelive run`` exit codes, :data:`EXIT_CODES`):

* ``PASS``: every expectation held and every fault of the scenario acted at least once;
* ``FAIL``: an expectation failed; :func:`first_cause` says what went wrong first;
* ``NOT EXERCISED``: nothing failed, but a fault never acted (or an error the handler had to
  survive never happened), so the run says nothing about it; each such fault is named with why;
* ``ERROR``: the run could not be set up (handler not found, libfaketime missing, port taken).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from . import metrics as M

if TYPE_CHECKING:
    from .scenario import Scenario

PASS, FAIL, NOT_EXERCISED, ERROR = "PASS", "FAIL", "NOT EXERCISED", "ERROR"
#: ``prelive run`` exit code per verdict (several scenarios: the worst, in this order of precedence:
#: ERROR, FAIL, NOT EXERCISED, PASS). 2 is a usage error (bad option, invalid scenario file).
EXIT_CODES = {PASS: 0, FAIL: 1, NOT_EXERCISED: 3, ERROR: 4}
_PRECEDENCE = (ERROR, FAIL, NOT_EXERCISED, PASS)

#: Faults that are rules applied to requests (a limit, a probability): they have acted once they saw a
#: request they apply to, whether or not it broke the rule. None: every inbound message.
RULE_FAULTS: dict[str, frozenset[str] | None] = {
    "message_rate": None,
    "historical_pacing": frozenset({"reqHistoricalData"}),
    "realtime_bars_pacing": frozenset({"reqRealTimeBars"}),
    "market_data_lines": frozenset({"reqMktData"}),
    "order_reject": frozenset({"placeOrder"}),
    "partial_fills": frozenset({"placeOrder"}),
    "slippage": frozenset({"placeOrder"}),
    "delayed_fills": frozenset({"placeOrder"}),
}

#: Faults whose effect is an error code the gateway sends (without marking the event with the fault).
EFFECT_CODES: dict[str, frozenset[int]] = {
    "linger_after_close": frozenset({326}),
    "message_rate": frozenset({100}),
    "historical_pacing": frozenset({162}),
    "market_data_lines": frozenset({101}),
}

#: Error codes that are notices, not failures (market data farm status, connectivity restored...).
_NOTICE_CODES = set(range(2100, 2200)) | {1101, 1102, 399, 10167}   # 399: order held until the open


@dataclass
class HandlerEnd:
    """How the handler's process ended, as the session runner saw it."""

    exited_early: bool = False
    exit_code: int | None = None
    exited_at_sim_s: float | None = None
    port: int | None = None
    log_tail: list[str] = field(default_factory=list)


@dataclass
class Expectation:
    kind: str                 # "metric" | "survive"
    name: str
    passed: bool
    observed: Any = None
    bound: dict[str, float] | None = None
    detail: str = ""
    exercised: bool = True    # False: the thing to survive never happened, the pass is vacuous

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "passed": self.passed, "observed": self.observed,
                "bound": self.bound, "detail": self.detail, "exercised": self.exercised}


@dataclass
class FaultActivity:
    """One fault of the scenario: how many events it marked, and why none if none."""

    name: str
    type: str
    acted: int
    why_not: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "acted": self.acted, "why_not": self.why_not}


# ---------------------------------------------------------------------------- metrics
def _observed(name: str, metrics: dict[str, Any], df: pd.DataFrame) -> Any:
    if name in metrics:
        return metrics[name]
    m = re.fullmatch(r"pacing_violations_(\d+)", name)
    if m:   # the pacing rule's errors only (a 162 "no data" is not a pacing violation)
        return int((M.pacing_violation_events(df)["code"] == int(m.group(1))).sum())
    return None


def check_metric(name: str, bound: Any, metrics: dict[str, Any], df: pd.DataFrame) -> Expectation:
    value = _observed(name, metrics, df)
    limits = {k: v for k, v in (("min", bound.min), ("max", bound.max)) if v is not None}
    if value is None or (isinstance(value, float) and math.isnan(value)):
        vacuous = name == "reconnect_time_s" and metrics.get("disconnects", 0) == 0
        return Expectation("metric", name, vacuous, None, limits,
                           "no disconnects, nothing to reconnect from" if vacuous else "not measured: no data",
                           exercised=not vacuous)
    ok = (bound.min is None or value >= bound.min) and (bound.max is None or value <= bound.max)
    detail = " and ".join(f"{'>=' if k == 'min' else '<='} {v:g}" for k, v in limits.items())
    return Expectation("metric", name, bool(ok), value, limits, f"{value:g} {'within' if ok else 'outside'} {detail}")


# ---------------------------------------------------------------------------- survive
def _connected_at_end(df: pd.DataFrame, client_id: int) -> bool:
    """The handler's client id had a ready session that was still open when the harness stopped it."""
    stops = df[(df["dir"] == "sys") & (df["msg"] == "handler_stop")]
    end_seq = int(stops["seq"].min()) if len(stops) else int(df["seq"].max()) + 1
    sessions = M.sessions(df)
    ready = sessions[(sessions["client_id"] == client_id) & sessions["t_ready"].notna()]
    if ready.empty:
        return False
    disconnects = df[(df["dir"] == "sys") & (df["msg"] == "disconnect") & (df["seq"] < end_seq)]
    closed = set(M.frame.as_int(disconnects["conn"]).dropna().astype(int))
    return any(int(c) not in closed for c in ready["conn"])


def fault_occurrences(df: pd.DataFrame, name: str) -> int:
    """Events whose ``fault`` field (comma-separated fault names) names ``name``.

    Scheduled faults write it on their ``fault`` sys events; per-connection and per-message faults
    (handshake stalls, latency, late replies, pacing) on the connect or message events they acted on;
    container faults on their ``container_fault`` events.
    """
    if "fault" not in df:
        return 0
    marked = df["fault"].dropna()
    return int(sum(name in (part.strip() for part in str(f).split(",")) for f in marked))


def check_survive(item: int | str, df: pd.DataFrame, client_id: int, end: HandlerEnd | None = None,
                  **legacy: Any) -> Expectation:
    name = str(item)
    if isinstance(item, int):
        codes = M.frame.as_int(M.frame.attr(M.frame.select(df, "out", "error"), "code"))
        occurred = int((codes == item).sum())
    elif item == "disconnect":
        occurred = M.disconnects(df)
    else:
        occurred = int(((df["dir"] == "sys") & (df["msg"] == item)).sum()) + fault_occurrences(df, item)
    if end is not None and end.exited_early:
        return Expectation("survive", name, False, occurred, None, f"handler exited early (exit code {end.exit_code})")
    if not occurred:
        return Expectation("survive", name, True, 0, None, "did not occur", exercised=False)
    if not _connected_at_end(df, client_id):
        return Expectation("survive", name, False, occurred, None,
                           f"occurred {occurred}x; handler (client {client_id}) not connected at the end")
    if item == "disconnect" and M.unrecovered_disconnects(df):
        return Expectation("survive", name, False, occurred, None, "a disconnect was never recovered from")
    return Expectation("survive", name, True, occurred, None, f"occurred {occurred}x; handler connected at the end")


def _bounded_at_zero(scenario: Scenario) -> set[int]:
    """Error codes the scenario says must not happen (``pacing_violations_<code>: {max: 0}``)."""
    out = set()
    for name, bound in scenario.expect.metrics.items():
        m = re.fullmatch(r"pacing_violations_(\d+)", name)
        if m and bound.max is not None and bound.max <= 0:
            out.add(int(m.group(1)))
    return out


def evaluate_expectations(scenario: Scenario, df: pd.DataFrame, metrics: dict[str, Any],
                          end: HandlerEnd | None) -> list[Expectation]:
    out = [check_survive(item, df, scenario.handler.client_id, end) for item in scenario.expect.survive]
    for e in out:   # an error the scenario bounds at zero: its absence is the handler keeping to the rule
        if not e.exercised and e.name.isdigit() and int(e.name) in _bounded_at_zero(scenario):
            e.exercised, e.detail = True, "did not occur: the handler kept within the rule (bounded at 0)"
    out += [check_metric(name, bound, metrics, df) for name, bound in scenario.expect.metrics.items()]
    if end is not None and end.exited_early and not scenario.expect.survive:
        out.append(Expectation("survive", "handler_alive", False, end.exit_code, None,
                               f"handler exited before the end (exit code {end.exit_code})"))
    return out


# ---------------------------------------------------------------------------- did the faults act
def _first_connect_s(df: pd.DataFrame) -> float | None:
    connects = df[(df["dir"] == "sys") & (df["msg"] == "connect")]
    first = pd.to_numeric(connects["sim"], errors="coerce").min()
    return None if first != first else float(first)


def _acted_on_the_handler(df: pd.DataFrame, name: str) -> int:
    """Events a fault marked, a scheduled fault's own ``fault`` events counting only once the handler had
    connected (a drop or outage with nobody connected tested nothing)."""
    if "fault" not in df:
        return 0
    names = df["fault"].map(lambda f: isinstance(f, str) and name in (p.strip() for p in f.split(",")))
    marked = df[names.astype(bool)]
    fired = (marked["dir"] == "sys") & (marked["msg"] == "fault")
    first_connect = _first_connect_s(df)
    fired_connected = 0
    if first_connect is not None:
        fired_connected = int((pd.to_numeric(marked.loc[fired, "sim"], errors="coerce") >= first_connect).sum())
    return int((~fired).sum()) + fired_connected


def _connected_ever(df: pd.DataFrame) -> bool:
    return bool(((df["dir"] == "sys") & (df["msg"] == "connect")).any())


def fault_activity(scenario: Scenario, df: pd.DataFrame, end: HandlerEnd | None,
                   sim_length_s: float | None = None) -> list[FaultActivity]:
    """Each fault of the scenario (gateway and container faults) with how often it acted and, if never, why."""
    length = float(sim_length_s or scenario.duration_s)
    out: list[FaultActivity] = []
    for fault in scenario.faults:
        name, kind = str(fault.name), str(getattr(fault, "type", type(fault).__name__))
        acted = _acted_on_the_handler(df, name)
        first = _first_fault_s(fault, scenario)
        if not acted and kind in EFFECT_CODES:
            acted = _errors_sent(df, EFFECT_CODES[kind])
        if not acted and kind in RULE_FAULTS:
            acted = _requests_seen(df, RULE_FAULTS[kind], first)
        why = None if acted else _why_not(df, end, first, length, RULE_FAULTS.get(kind, frozenset()),
                                          _last_fault_s(fault))
        out.append(FaultActivity(name, kind, acted, why))
    known = {str(f.name) for f in scenario.faults}
    for added in runtime_faults(df):   # added while the gateway ran (gw.faults.add): accounted the same way
        if added.name in known:
            continue
        known.add(added.name)
        acted = _acted_on_the_handler(df, added.name)
        if not acted and added.kind in EFFECT_CODES:
            acted = _errors_sent(df, EFFECT_CODES[added.kind])
        if not acted and added.kind in RULE_FAULTS:
            acted = _requests_seen(df, RULE_FAULTS[added.kind], added.first_s, added.last_s)
        why = None if acted else _why_not(df, end, added.first_s, length, RULE_FAULTS.get(added.kind, frozenset()),
                                          added.last_s)
        out.append(FaultActivity(added.name, added.kind, acted, why))
    container = df[(df["dir"] == "sys") & (df["msg"] == "container_fault")]
    for i, cf in enumerate(scenario.container_faults):
        # a restart with a duration runs as stop_gateway (attrs.scheduled = restart_gateway), then start
        named = (container["fault"] == cf.action) | (M.frame.attr(container, "scheduled") == cf.action)
        ok = M.frame.attr(container, "ok", True) != False  # noqa: E712
        acted = int((named & ok).sum())
        out.append(FaultActivity(f"container_faults[{i}] {cf.action}", cf.action, acted,
                                 None if acted else _why_not(df, end, cf.at_s, length, last_s=cf.at_s)))
    return out


@dataclass(frozen=True)
class RuntimeFault:
    """A fault the log says was added while the gateway ran (``fault_added``, origin runtime)."""

    name: str
    kind: str
    first_s: float | None      # when it could first act: its schedule's first start, else when it was added
    last_s: float | None       # when it was removed (None: still active at the end)


def runtime_faults(df: pd.DataFrame) -> list[RuntimeFault]:
    """Runtime faults in the order they were added, from the ``fault_added`` / ``fault_removed`` events."""
    sys_events = df[df["dir"] == "sys"]
    added = sys_events[sys_events["msg"] == "fault_added"]
    removed = sys_events[sys_events["msg"] == "fault_removed"]
    out: list[RuntimeFault] = []
    for idx in added.index:
        attrs = added.at[idx, "attrs"] if isinstance(added.at[idx, "attrs"], dict) else {}
        if attrs.get("origin") != "runtime" or not isinstance(attrs.get("name"), str):
            continue
        name, at = attrs["name"], pd.to_numeric(added.at[idx, "sim"], errors="coerce")
        schedule = (attrs.get("params") or {}).get("schedule") or {}
        starts = [schedule.get(k) for k in ("at_s", "from_s", "start_s") if isinstance(schedule.get(k), (int, float))]
        first = float(starts[0]) if starts else (None if at != at else float(at))
        later = removed[(removed["seq"] > added.at[idx, "seq"])
                        & (M.frame.attr(removed, "name") == name)]
        last = pd.to_numeric(later["sim"], errors="coerce").min() if len(later) else None
        out.append(RuntimeFault(name, str(attrs.get("type", "")), first,
                                None if last is None or last != last else float(last)))
    return out


def _errors_sent(df: pd.DataFrame, codes: frozenset[int]) -> int:
    codes_sent = M.frame.as_int(M.frame.attr(M.frame.select(df, "out", "error"), "code"))
    return int(codes_sent.isin(list(codes)).sum())


def _requests_seen(df: pd.DataFrame, names: frozenset[str] | None, from_s: float | None,
                   until_s: float | None = None) -> int:
    """Inbound requests (of ``names``; None: any) from ``from_s`` on (before ``until_s``, when a runtime
    fault was removed then): what a rule fault was applied to."""
    inbound = df[(df["dir"] == "in") & (df["msg"] != "handshake")]
    if names is not None:
        inbound = inbound[inbound["msg"].isin(names)]
    if from_s is not None:
        inbound = inbound[pd.to_numeric(inbound["sim"], errors="coerce") >= from_s]
    if until_s is not None:
        inbound = inbound[pd.to_numeric(inbound["sim"], errors="coerce") < until_s]
    return int(len(inbound))


def _why_not(df: pd.DataFrame, end: HandlerEnd | None, first_s: float | None, length_s: float,
             applies_to: frozenset[str] | None = frozenset(), last_s: float | None = None) -> str:
    if first_s is not None and first_s >= length_s:
        return f"its first time ({first_s:g} s) is after the end of the run ({length_s:g} s)"
    if end is not None and end.exited_early and end.exited_at_sim_s is not None and \
            (first_s is None or end.exited_at_sim_s < first_s):
        when = f", before the fault's time ({first_s:g} s)" if first_s is not None else ""
        return f"the handler exited at {end.exited_at_sim_s:.1f} s{when}"
    if not _connected_ever(df):
        return "the handler never connected"
    first_connect = _first_connect_s(df)
    if last_s is not None and first_connect is not None and first_connect > last_s:
        return (f"its time (up to {last_s:g} s) was over before the handler first connected ({first_connect:.1f} s): "
                "the handler's real start-up times the speed; lower --speed")
    wanted = f" ({', '.join(sorted(applies_to))})" if applies_to else ""
    if first_s is not None:
        return (f"nothing it applies to happened in its window (from {first_s:g} s): the handler sent no request "
                f"it acts on{wanted}, or no session was open then")
    return f"the handler never sent a request it applies to{wanted}"


# ---------------------------------------------------------------------------- verdict
def verdict(expectations: list[Expectation], activity: list[FaultActivity], error: str | None = None) -> str:
    if error:
        return ERROR
    if any(not e.passed for e in expectations):
        return FAIL
    if any(a.acted == 0 for a in activity) or any(not e.exercised for e in expectations):
        return NOT_EXERCISED
    return PASS


def worst(verdicts: list[str]) -> str:
    for v in _PRECEDENCE:
        if v in verdicts:
            return v
    return PASS


def not_exercised_reasons(expectations: list[Expectation], activity: list[FaultActivity]) -> list[str]:
    out = [f"fault {a.name} ({a.type}) never acted: {a.why_not}" for a in activity if a.acted == 0]
    out += [f"{e.kind} {e.name}: {e.detail}" for e in expectations if e.passed and not e.exercised]
    return out


def first_cause(scenario: Scenario, df: pd.DataFrame, end: HandlerEnd | None,
                expectations: list[Expectation] | None = None) -> str | None:
    """What went wrong first, in one line a user can act on (None when nothing stands out).

    When no error, early exit or missing connection explains the failure, the first failed
    expectation does (e.g. a metric out of its bound: "metric orders_held: 40 outside <= 2")."""
    parts: list[str] = []
    connected = _connected_ever(df) if len(df) else False
    if not connected:
        port = f" on port {end.port}" if end is not None and end.port else ""
        parts.append(f"the handler never connected to the gateway{port} (IB_HOST/IB_PORT in its environment); "
                     "is it hard-wired to another port, or did it fail before connecting?")
    err = _first_unprovoked_error(df)
    breach = _first_metric_breach(df, expectations or []) if len(df) else None
    if breach is not None and (err is None or breach[1] <= err[2]):
        parts.append(breach[0])   # e.g. orders stacked at the close, before the rejections they lead to
        breach = None
    if err is not None:
        code, text, sim = err
        line = f"first error sent to the handler: {code} {text!r} at {sim:.1f} s"
        if code == 200:
            symbols = ", ".join(scenario.market.symbols or []) or "the default universe"
            line += (f" (a contract outside the scenario's universe: {symbols}; adapt the scenario with "
                     f"--symbols or --set)")
        parts.append(line)
    if end is not None and end.exited_early:
        firsts = [s for s in (_first_fault_s(f, scenario) for f in scenario.faults) if s is not None]
        firsts += [cf.at_s for cf in scenario.container_faults]
        when = f"at {end.exited_at_sim_s:.1f} s" if end.exited_at_sim_s is not None else "early"
        rel = ""
        if firsts and end.exited_at_sim_s is not None:
            delta = end.exited_at_sim_s - min(firsts)
            rel = (f", {-delta:.1f} s before the first fault ({min(firsts):g} s)" if delta < 0
                   else f", {delta:.1f} s after the first fault ({min(firsts):g} s)")
        parts.append(f"the handler exited {when} (exit code {end.exit_code}){rel}")
    if end is not None and end.log_tail and (end.exited_early or not connected):
        parts.append("its output ends with: " + " | ".join(end.log_tail))
    if breach is not None:
        parts.append(breach[0])
    if not parts:
        failed = [e for e in expectations or [] if not e.passed]
        if failed:
            parts.append(f"{failed[0].kind} {failed[0].name}: {failed[0].detail}")
    return "; ".join(parts) or None


def _first_metric_breach(df: pd.DataFrame, expectations: list[Expectation]) -> tuple[str, float] | None:
    """The failed metric bound that was crossed first, with when (sim s), for metrics that can say when."""
    if M.latency_clock(df) != "sim":
        return None
    found = []
    for e in expectations:
        if e.kind != "metric" or e.passed or not isinstance(e.bound, dict) or "max" not in e.bound:
            continue
        t = M.working.first_breach_s(df, e.name, float(e.bound["max"]))
        if t is not None:
            found.append((t, f"metric {e.name}: {e.detail}, first above {e.bound['max']:g} at {t:.1f} s"))
    if not found:
        return None
    t, line = min(found)
    return line, t


def _last_fault_s(fault: Any) -> float | None:
    """The latest sim second a scheduled fault can act (a window's end, a one-off's time); None: open-ended."""
    schedule = getattr(fault, "schedule", None)
    if schedule is None:
        return None
    if getattr(schedule, "to_s", None) is not None:
        return float(schedule.to_s)
    if getattr(schedule, "at_s", None) is not None:
        return float(schedule.at_s) + float(getattr(schedule, "duration_s", None) or 0.0)
    return None


def _first_fault_s(fault: Any, scenario: Scenario | None = None) -> float | None:
    """Sim second a fault first acts: its schedule's first start, or its first occurrence (daily restart)."""
    schedule = getattr(fault, "schedule", None)
    first = getattr(schedule, "first_start_s", None) if schedule is not None else None
    if first is None and scenario is not None and hasattr(fault, "bound"):
        try:
            first = float(next(iter(fault.bound(scenario.seed, scenario.start_at).occurrences()))[0])
        except Exception:   # a fault without occurrences (always on)
            first = None
    return first


def _first_unprovoked_error(df: pd.DataFrame) -> tuple[int, str, float] | None:
    """The first error the gateway sent that no fault caused and that is not a notice."""
    errors = M.frame.select(df, "out", "error")
    if errors.empty:
        return None
    codes = M.frame.as_int(M.frame.attr(errors, "code"))
    texts = M.frame.attr(errors, "text", "")
    for idx in errors.index:
        code = codes.get(idx)
        if code is None or (isinstance(code, float) and math.isnan(code)) or int(code) in _NOTICE_CODES:
            continue
        if isinstance(errors.at[idx, "fault"], str) and errors.at[idx, "fault"]:
            continue
        sim = errors.at[idx, "sim"]
        return int(code), str(texts.get(idx) or ""), float(sim) if sim == sim and sim is not None else 0.0
    return None


def log_tail(path: Path, lines: int = 4, max_chars: int = 600) -> list[str]:
    """The last non-empty lines of the handler's output, shortened for a console line."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, 2)
            size = fh.tell()
            fh.seek(max(0, size - 16384))
            text = fh.read().decode(errors="replace")
    except OSError:
        return []
    tail = [ln.strip() for ln in text.splitlines() if ln.strip()][-lines:]
    out, used = [], 0
    for ln in reversed(tail):
        ln = ln if len(ln) <= 200 else ln[:197] + "..."
        if used + len(ln) > max_chars:
            break
        out.insert(0, ln)
        used += len(ln)
    return out
