"""What a session showed besides latency: errors and their rates, connectivity, disconnects, day, universe.

Pure functions over the events; times are seconds since the session's first event on its
latency clock, so they become scenario ``at_s`` values directly.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone

from mock_gateway.eventlog import Event

from .latency import event_time_s, latency_clock

#: Connectivity notices (IB error codes): lost, restored with data lost, restored with data kept.
CONNECTIVITY_LOST, CONNECTIVITY_DATA_LOST, CONNECTIVITY_RESTORED = 1100, 1101, 1102
#: Farm broken -> farm OK, per farm kind (market data, HMDS, sec-def), and "inactive" (2108 -> 2107... OK).
FARM_BROKEN = {2103: "market", 2105: "hmds", 2157: "secdef"}
FARM_OK = {2104: "market", 2106: "hmds", 2158: "secdef"}
#: Pacing and capacity errors the real rules produce (the scenario keeps ``default_pacing``).
PACING_CODES = {100: "message rate", 101: "market data lines", 162: "historical data pacing",
                420: "real-time bars pacing"}


@dataclass
class ErrorStat:
    code: int
    count: int
    text: str                 # the most common text for the code
    per_request: str          # the request kind the rate is taken over
    rate: float               # count / requests of that kind


@dataclass
class Outage:
    """An interval the session was without something: connectivity, a farm, the socket."""

    what: str
    at_s: float
    duration_s: float | None  # None: not restored before the log ends
    detail: str = ""


@dataclass
class SessionPatterns:
    clock: str
    start: datetime | None
    duration_s: float
    symbols: list[str]
    accounts: list[str]
    client_ids: list[int]
    server_versions: list[int]
    requests: Counter = field(default_factory=Counter)
    errors: list[ErrorStat] = field(default_factory=list)
    connectivity: list[Outage] = field(default_factory=list)
    farms: list[Outage] = field(default_factory=list)
    disconnects: list[Outage] = field(default_factory=list)


def _origin(events: list[Event], clock: str) -> float:
    times = [t for e in events if (t := event_time_s(e, clock)) is not None]
    return min(times) if times else 0.0


def _request_of_error(code: int) -> str:
    if code in (201, 202, 399, 10147, 10148, 103, 110):
        return "placeOrder"
    if code in (162, 165, 166, 366):
        return "reqHistoricalData"
    if code == 420:
        return "reqRealTimeBars"
    if code in (101, 354, 10167, 10168, 10089, 10090):
        return "reqMktData"
    if code == 200:
        return "reqContractDetails"
    return "*"


def _by_gateway(event: Event) -> bool:
    """A disconnect the gateway made (tap: ``by: gateway``; mock: a fault or a shutdown), not the client."""
    by = event["attrs"].get("by")
    if by is not None:
        return by == "gateway"
    reason = str(event["attrs"].get("reason", ""))
    return reason.startswith(("fault:", "disconnected by fault", "gateway"))


def find_patterns(events: list[Event]) -> SessionPatterns:
    """Errors with rates, connectivity and farm outages, disconnects, the day and the universe."""
    clock = latency_clock(events)
    t0 = _origin(events, clock)

    def at(e: Event) -> float | None:
        t = event_time_s(e, clock)
        return None if t is None else round(t - t0, 3)

    walls = [e["wall"] for e in events if isinstance(e.get("wall"), (int, float))]
    start = None
    for e in events:   # a mock log names its calendar start; a tap log is on the wall clock
        if e["dir"] == "sys" and e["msg"] == "run_start" and isinstance(e["attrs"].get("start"), str):
            try:
                start = datetime.fromisoformat(e["attrs"]["start"].replace("Z", "+00:00"))
            except ValueError:
                start = None
            break
    if start is None and walls and min(walls) > 1e9:   # no calendar start logged: the wall clock's day
        start = datetime.fromtimestamp(min(walls), tz=timezone.utc).replace(microsecond=0)
    ends = [a for e in events if (a := at(e)) is not None]
    requests = Counter(e["msg"] for e in events if e["dir"] == "in" and e["msg"] not in ("handshake",))
    symbols = sorted({s for e in events if e["dir"] == "in" and isinstance(s := e["attrs"].get("symbol"), str) and s})
    accounts: list[str] = []
    for e in events:
        if e["dir"] == "out" and e["msg"] == "managedAccounts":
            for a in str(e["attrs"].get("accounts", "")).split(","):
                if a and a not in accounts:
                    accounts.append(a)
    out = SessionPatterns(
        clock=clock, start=start, duration_s=max(ends) if ends else 0.0, symbols=symbols, accounts=accounts,
        client_ids=sorted({c for e in events if isinstance(c := e.get("client_id"), int)}),
        server_versions=sorted({v for e in events if e["msg"] == "handshake" and e["dir"] == "sys"
                                and isinstance(v := e["attrs"].get("server_version"), int)}),
        requests=requests)

    codes: Counter = Counter()
    texts: dict[int, Counter] = {}
    lost_at: float | None = None
    farm_down: dict[str, tuple[float, int]] = {}
    seen_notice: set[tuple[float, int]] = set()
    for e in events:
        if e["dir"] != "out" or e["msg"] != "error":
            continue
        code, t = e["attrs"].get("code"), at(e)
        if not isinstance(code, int) or t is None:
            continue
        if (t, code) in seen_notice and code >= 1100 and (code < 1103 or code in FARM_BROKEN or code in FARM_OK):
            continue   # the same broadcast notice on another connection
        seen_notice.add((t, code))
        if code == CONNECTIVITY_LOST:
            lost_at = t if lost_at is None else lost_at
        elif code in (CONNECTIVITY_DATA_LOST, CONNECTIVITY_RESTORED):
            if lost_at is not None:
                out.connectivity.append(Outage("connectivity", lost_at, round(t - lost_at, 3),
                                               "data lost (1101)" if code == CONNECTIVITY_DATA_LOST else "data kept (1102)"))
            lost_at = None
        elif code in FARM_BROKEN:
            farm_down.setdefault(FARM_BROKEN[code], (t, code))
        elif code in FARM_OK and FARM_OK[code] in farm_down:
            down_t, down_code = farm_down.pop(FARM_OK[code])
            out.farms.append(Outage(FARM_OK[code], down_t, round(t - down_t, 3), str(e["attrs"].get("text", ""))))
        elif not (2100 <= code < 2200):
            codes[code] += 1
            texts.setdefault(code, Counter())[str(e["attrs"].get("text", ""))] += 1
    if lost_at is not None:
        out.connectivity.append(Outage("connectivity", lost_at, None, "not restored before the log ends"))
    for farm, (down_t, _) in farm_down.items():
        out.farms.append(Outage(farm, down_t, None, "not restored before the log ends"))
    for code, count in sorted(codes.items()):
        per = _request_of_error(code)
        total = requests.get(per, 0) if per != "*" else sum(requests.values())
        out.errors.append(ErrorStat(code, count, texts[code].most_common(1)[0][0], per,
                                    round(count / total, 6) if total else 0.0))

    down_since: float | None = None
    for e in events:   # a disconnect the gateway side made, and how long until the next handshake
        if e["dir"] != "sys" or (t := at(e)) is None:
            continue
        if e["msg"] == "disconnect" and down_since is None and _by_gateway(e):
            reason = str(e["attrs"].get("reason", ""))
            down_since = t
            out.disconnects.append(Outage("disconnect", t, None, reason))
        elif e["msg"] == "handshake" and down_since is not None:
            out.disconnects[-1].duration_s = round(t - down_since, 3)
            down_since = None
    return out
