"""Market scanners as the gateway serves them: reqScannerParameters' XML, reqScannerSubscription's ranked
rows (refreshed every 30 s while subscribed), cancelScannerSubscription, and IB's 162 errors.

The ranking itself is pure (:mod:`mock_gateway.sim.scanner`); this desk parses the request, samples the
simulated market over the universe's US stocks and ETFs, keeps the subscriptions per connection and
writes the replies. Handlers here are rows of the one request table in :mod:`mock_gateway.handlers`.
"""
from __future__ import annotations

import asyncio
import functools
import logging
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from .connection_table import ConnectionTable
from .errors import RequestError
from .protocol import messages as m
from .protocol.fields import field_at, parse_float, parse_int
from .protocol.kinds import ReplyKind
from .protocol.requests import Request
from .replies import ReplyChannel
from .sim.clock import SimClock
from .sim.contract_spec import ContractSpec
from .sim.periodic import Periodic
from .sim.scanner import SCAN_CODES, ScanFilter, ScanSample, rank, rows_wanted
from .sim.world import World

log = logging.getLogger(__name__)
K = ReplyKind

#: How often IB pushes a fresh list to a live scanner subscription (sim seconds).
SCANNER_REFRESH_S = 30.0
#: Simultaneous scanner subscriptions IB allows a client (the 11th is refused with error 162).
MAX_SCANNER_SUBSCRIPTIONS = 10
#: IB's answer to the 11th (users' live logs: "Error 322: Only 10 simultaneous API scanner subscriptions are allowed").
SCANNER_LIMIT = ("Error processing request:-'id' : cause - Only 10 simultaneous API scanner subscriptions are "
                 "allowed.")
#: At most this many tag=value pairs are read from a subscription's filter/option strings.
MAX_TAG_VALUES = 64
#: Daily turnover as a fraction of market capitalisation: the mock's market cap is price * average
#: volume / this (simulated: the universe carries no share counts).
TURNOVER_PER_CAP = 0.005

#: Scans that rank by the daily statistics (average volume, volatility) rather than the quote alone.
STATS_SCAN_CODES = frozenset({"HOT_BY_VOLUME", "HIGH_OPT_IMP_VOLAT", "LOW_OPT_IMP_VOLAT"})

_HMDS = "Historical Market Data Service error message:"
#: CPU a scan may hold the event loop before it yields to other sessions (the first scan of a simulated day
#: builds each stock's year of daily statistics: ~2.5 ms a contract, ~1.9 s over the universe in one piece).
SCAN_SLICE_S = 0.002
#: CPU a scan may take in one piece before the rest is sliced: a warm scan (6-14 ms) answers at once.
SCAN_SYNC_S = 0.015
#: Location codes served: code -> (name, primary exchanges, or None for every US listing).
LOCATIONS: dict[str, tuple[str, frozenset[str] | None]] = {
    "STK.US": ("US Stocks", None),
    "STK.US.MAJOR": ("Listed/NASDAQ", None),
    "STK.NASDAQ": ("NASDAQ", frozenset({"NASDAQ", "ISLAND"})),
    "STK.NYSE": ("NYSE", frozenset({"NYSE"})),
    "STK.ARCA": ("NYSE Arca", frozenset({"ARCA", "NYSEARCA"})),
    "STK.AMEX": ("NYSE American", frozenset({"AMEX"})),
    "STK.US.MINOR": ("US OTC", frozenset({"PINK", "OTC"})),
}
#: Display names of the scan codes (IB's own, as its XML lists them).
SCAN_NAMES = {"TOP_PERC_GAIN": "Top % Gainers", "TOP_PERC_LOSE": "Top % Losers", "MOST_ACTIVE": "Most Active",
              "MOST_ACTIVE_USD": "Most Active ($)", "HOT_BY_VOLUME": "Hot Contracts by Volume",
              "HOT_BY_PRICE": "Hot Contracts by Price", "HIGH_OPT_IMP_VOLAT": "Highest Option Imp Vol",
              "LOW_OPT_IMP_VOLAT": "Lowest Option Imp Vol", "TOP_PRICE_RANGE": "Top Price Range"}
#: Filter tags (scannerSubscriptionFilterOptions) served -> the ScanFilter field they set.
FILTER_TAGS = {"priceAbove": "above_price", "priceBelow": "below_price", "volumeAbove": "above_volume",
               "marketCapAbove1e6": "market_cap_above_musd", "marketCapBelow1e6": "market_cap_below_musd",
               "changePercAbove": "change_pct_above", "changePercBelow": "change_pct_below",
               "avgVolumeAbove": "above_avg_volume"}
_FILTER_NAMES = {"priceAbove": "Price Above", "priceBelow": "Price Below", "volumeAbove": "Volume Above",
                 "marketCapAbove1e6": "Market Cap Above ($M)", "marketCapBelow1e6": "Market Cap Below ($M)",
                 "changePercAbove": "Change % Above", "changePercBelow": "Change % Below",
                 "avgVolumeAbove": "Average Volume Above"}


@functools.lru_cache(maxsize=1)
def scanner_parameters_xml() -> str:
    """The reqScannerParameters document in IB's layout (ScanParameterResponse: InstrumentList, LocationTree,
    ScanTypeList, FilterList), listing exactly what this mock serves."""
    root = ET.Element("ScanParameterResponse")
    instruments = ET.SubElement(root, "InstrumentList", varName="instrumentList")
    inst = ET.SubElement(instruments, "Instrument")
    for tag, text in (("name", "US Stocks"), ("type", "STK"), ("filters", ",".join(FILTER_TAGS)),
                      ("group", "STK.GLOBAL"), ("shortName", "US")):
        ET.SubElement(inst, tag).text = text
    tree = ET.SubElement(root, "LocationTree", varName="locationTree")
    top = ET.SubElement(tree, "Location")
    for tag, text in (("name", "US Stocks"), ("locationCode", "STK.US"), ("instruments", "STK"),
                      ("routeExchange", "SMART"), ("delayedOnly", "false"), ("access", "unrestricted")):
        ET.SubElement(top, tag).text = text
    sub_tree = ET.SubElement(top, "LocationTree")
    for code, (name, _) in LOCATIONS.items():
        if code == "STK.US":
            continue
        loc = ET.SubElement(sub_tree, "Location")
        for tag, text in (("name", name), ("locationCode", code), ("instruments", "STK"),
                          ("routeExchange", "SMART"), ("delayedOnly", "false"), ("access", "unrestricted")):
            ET.SubElement(loc, tag).text = text
    scans = ET.SubElement(root, "ScanTypeList", varName="scanTypeList")
    for code in SCAN_CODES:
        st = ET.SubElement(scans, "ScanType")
        for tag, text in (("vendor", "IB"), ("displayName", SCAN_NAMES.get(code, code)), ("scanCode", code),
                          ("instruments", "STK"), ("absoluteColumns", "false"), ("supportsSorting", "true"),
                          ("respSizeLimit", "2147483647"), ("snapshotSizeLimit", "2147483647"),
                          ("searchDefault", "false"), ("access", "unrestricted")):
            ET.SubElement(st, tag).text = text
    filters = ET.SubElement(root, "FilterList", varName="filterList")
    for code, name in _FILTER_NAMES.items():
        rf = ET.SubElement(filters, "RangeFilter")
        ET.SubElement(rf, "id").text = code.upper()
        ET.SubElement(rf, "category").text = "Price & Volume"
        ET.SubElement(rf, "access").text = "unrestricted"
        fields = ET.SubElement(rf, "AbstractField", type="scanner.filter.DoubleField")
        ET.SubElement(fields, "code").text = code
        ET.SubElement(fields, "displayName").text = name
        ET.SubElement(fields, "varName").text = code
        ET.SubElement(fields, "skipNotEditableField").text = "true"
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")


@dataclass(frozen=True)
class ScanRequest:
    """One reqScannerSubscription, parsed."""

    req_id: int
    rows: int
    instrument: str
    location: str
    scan_code: str
    where: ScanFilter


def _number(text: str, what: str) -> float | None:
    try:
        return parse_float(text.strip())
    except ValueError:
        raise ValueError(f"reqScannerSubscription: {what} {text[:20]!r} is not a number") from None


def _tag_values(text: str) -> list[tuple[str, str]]:
    """'tag=value;tag=value;' -> pairs (at most MAX_TAG_VALUES; blanks skipped)."""
    out = []
    for part in text.split(";", MAX_TAG_VALUES)[:MAX_TAG_VALUES]:
        tag, _, value = part.partition("=")
        if tag.strip():
            out.append((tag.strip(), value.strip()))
    return out


def parse_scan_request(r: Request) -> ScanRequest:
    """The text layout (server >= 143): 22, reqId, numberOfRows, instrument, locationCode, scanCode, abovePrice,
    belowPrice, aboveVolume, marketCapAbove, marketCapBelow, ... stockTypeFilter (22), filterOptions (23), options (24)."""
    f = r.fields
    req_id = r.required_id()
    rows_asked = parse_int(field_at(f, 2).strip() or "-1", -1)
    limits: dict[str, float | None] = {}
    for i, name in ((6, "above_price"), (7, "below_price"), (8, "above_volume"),
                    (9, "market_cap_above_musd"), (10, "market_cap_below_musd")):
        limits[name] = _number(field_at(f, i), name)
    for tag, value in _tag_values(field_at(f, 23)):
        name = FILTER_TAGS.get(tag)
        if name is None:
            raise RequestError(req_id, 162, f"{_HMDS}Scanner filter {tag[:40]} is disabled.")
        limits[name] = _number(value, tag[:40])
    where = ScanFilter(**limits)
    return ScanRequest(req_id, rows_wanted(rows_asked), field_at(f, 3).strip(), field_at(f, 4).strip(),
                       field_at(f, 5).strip(), where)


@dataclass
class _Connection:
    channel: ReplyChannel
    scans: dict[int, ScanRequest] = field(default_factory=dict)


class ScannerDesk:
    """Every scanner subscription of one gateway, per connection, refreshed every SCANNER_REFRESH_S."""

    def __init__(self, world: World, clock: SimClock) -> None:
        self.world, self.env, self.market = world, clock.env, world.market
        self._conns: ConnectionTable[_Connection] = ConnectionTable(_Connection)
        self._refresh = Periodic(SCANNER_REFRESH_S, lambda: any(c.scans for c in self._conns.live()),
                                 self._refresh_tick)
        self._tasks: set[asyncio.Task[None]] = set()                # sliced scans in progress (held strongly)
        self._in_flight: set[tuple[int, int]] = set()               # (conn, reqId) with a scan being computed

    def session_closed(self, s: ReplyChannel) -> None:
        self._conns.drop(s.conn_id)

    def subscriptions(self, conn_id: int) -> int:
        conn = self._conns.get(conn_id)
        return len(conn.scans) if conn is not None else 0

    # ------------------------------------------------------------------ requests
    def parameters(self, s: ReplyChannel) -> None:
        s.send(K.CONTRACT_DATA, [m.scanner_parameters(scanner_parameters_xml())])

    def subscribe(self, s: ReplyChannel, req: ScanRequest) -> None:
        conn = self._conns.of(s)
        open_scans = sum(len(c.scans) for c in self._conns.live())   # IB's limit is the login's, not a client's
        if req.req_id not in conn.scans and open_scans >= MAX_SCANNER_SUBSCRIPTIONS:
            raise RequestError(req.req_id, 322, SCANNER_LIMIT)
        if req.scan_code not in SCAN_CODES:
            raise RequestError(req.req_id, 162, f"{_HMDS}Scanner type with code {req.scan_code[:40]!r} is not "
                                                "supported: ask reqScannerParameters for the scan codes served")
        if req.instrument != "STK" or req.location not in LOCATIONS:
            raise RequestError(req.req_id, 162, f"{_HMDS}Invalid instrument/location {req.instrument[:20]}/"
                                                f"{req.location[:40]}: this gateway scans STK over STK.US* locations")
        conn.scans[req.req_id] = req
        self._answer(s, req, self.env.now)
        self._refresh.ensure(self.env)

    def cancel(self, s: ReplyChannel, req_id: int) -> None:
        conn = self._conns.get(s.conn_id)
        if conn is not None and conn.scans.pop(req_id, None) is not None:
            s.error(req_id, 162, f"{_HMDS}API scanner subscription cancelled: {req_id}")

    # ------------------------------------------------------------------ the market
    def _universe(self, location: str) -> list[ContractSpec]:
        exchanges = LOCATIONS[location][1]
        return [c for c in self.world.contracts if c.sec_type == "STK" and c.currency == "USD"
                and (exchanges is None and c.primary_exchange not in ("PINK", "OTC")
                     or exchanges is not None and c.primary_exchange in exchanges)]

    def _sample(self, spec: ContractSpec, now_s: float, needs_stats: bool) -> ScanSample:
        """The contract's quote now; its year of daily statistics only when the scan ranks or filters by them
        or it has not traded yet (building those costs ~2.5 ms a contract the first time each day)."""
        last, close, volume = self.market.last_close_volume_at(spec.con_id, now_s)   # no quote chunk kept per stock
        last = float(last)
        if not (needs_stats or volume <= 0):
            return ScanSample(spec.con_id, last, float(close), float(volume), 0.0, 0.0, float("nan"))
        stats = self.market.contract_stats(spec.con_id, now_s)
        avg_volume = float(stats.avg_volume)
        return ScanSample(spec.con_id, last, float(close), float(volume), avg_volume, float(stats.hist_vol),
                          last * avg_volume / TURNOVER_PER_CAP / 1e6)

    def _needs_stats(self, req: ScanRequest) -> bool:
        w = req.where
        return req.scan_code in STATS_SCAN_CODES or any(
            v is not None for v in (w.market_cap_above_musd, w.market_cap_below_musd, w.above_avg_volume))

    def _rows(self, req: ScanRequest, now_s: float) -> list[tuple[int, ContractSpec, str, str, str, str]]:
        specs = {spec.con_id: spec for spec in self._universe(req.location)}
        needs_stats = self._needs_stats(req)
        samples = [self._sample(spec, now_s, needs_stats) for spec in specs.values()]
        return self._picked(req, specs, samples)

    @staticmethod
    def _picked(req: ScanRequest, specs: dict[int, ContractSpec],
                samples: list[ScanSample]) -> list[tuple[int, ContractSpec, str, str, str, str]]:
        picked = rank(samples, req.scan_code, req.where, req.rows)
        return [(i, specs[x.con_id], "", "", "", "") for i, x in enumerate(picked)]

    def _answer(self, s: ReplyChannel, req: ScanRequest, now_s: float) -> None:
        """Send the scan's rows: at once when they are cheap (statistics already built today), else the rest
        computed in slices between other sessions' work (the first scan of a day builds each stock's year)."""
        key = (s.conn_id, req.req_id)
        if key in self._in_flight:      # the previous refresh of this scan is still being computed
            return
        specs = {spec.con_id: spec for spec in self._universe(req.location)}
        needs_stats = self._needs_stats(req)
        pending = list(specs.values())
        samples: list[ScanSample] = []
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        started = time.perf_counter()
        while pending and (loop is None or time.perf_counter() - started <= SCAN_SYNC_S):
            samples.append(self._sample(pending.pop(), now_s, needs_stats))
        if not pending:
            s.send(K.CONTRACT_DATA, [m.scanner_data(req.req_id, self._picked(req, specs, samples))])
            return
        assert loop is not None
        self._in_flight.add(key)
        task = loop.create_task(self._answer_sliced(s, req, now_s, key, specs, pending, samples))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer_sliced(self, s: ReplyChannel, req: ScanRequest, now_s: float, key: tuple[int, int],
                             specs: dict[int, ContractSpec], pending: list[ContractSpec],
                             samples: list[ScanSample]) -> None:
        try:
            needs_stats = self._needs_stats(req)
            started = time.perf_counter()
            while pending:
                samples.append(self._sample(pending.pop(), now_s, needs_stats))
                if time.perf_counter() - started > SCAN_SLICE_S:
                    await asyncio.sleep(0)
                    started = time.perf_counter()
                    conn = self._conns.get(s.conn_id)
                    if s.closed or conn is None or conn.scans.get(req.req_id) is not req:
                        return           # cancelled (or replaced, or the client left): the rest is not computed
            conn = self._conns.get(s.conn_id)
            if s.closed or conn is None or conn.scans.get(req.req_id) is not req:
                return                   # cancelled (or replaced, or the client left) while it was computed
            s.send(K.CONTRACT_DATA, [m.scanner_data(req.req_id, self._picked(req, specs, samples))])
        except Exception:               # a bug must not leave the client waiting silently: say so, once
            log.exception("scanner subscription %s failed", req.req_id)
            s.error(req.req_id, 162, f"{_HMDS}API scanner subscription cancelled: {req.req_id}")
        finally:
            self._in_flight.discard(key)

    def _refresh_tick(self, now_s: float) -> None:
        for conn in self._conns.live():
            s = conn.channel
            if s.closed:
                continue
            for req in list(conn.scans.values()):
                self._answer(s, req, now_s)


__all__ = ["LOCATIONS", "MAX_SCANNER_SUBSCRIPTIONS", "SCANNER_REFRESH_S", "ScanRequest", "ScannerDesk",
           "parse_scan_request", "scanner_parameters_xml"]
