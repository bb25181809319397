"""Turn what a container run left behind into one coherent session event log.

In container mode the gateway process can die and come back (kill, restart): each lifetime
appends to the same JSONL file, starting again at seq 0, conn 1 and sim time 0, and a killed
lifetime ends without writing the disconnects of its sessions. The metrics read one log with one
timeline, so the lifetimes are stitched here:

* conn numbers are offset per lifetime, so a connection number names one connection;
* sim time continues across lifetimes on the wall clock (``speed`` sim seconds per wall second);
* a later lifetime's ``run_start`` becomes ``gateway_up``, an earlier lifetime's ``run_end``
  becomes ``gateway_down``, so there is one run_start and at most one run_end;
* sessions an earlier lifetime's shutdown ended (a restart mid-run) are gateway-side drops
  (reason "gateway container stopped", by "gateway"), not the run's own teardown;
* sessions a kill ended get a ``disconnect`` (by "gateway", reason "gateway container killed",
  attrs.synthetic = true) at the kill's time, and a ``gateway_down`` event;
* the ``container_fault`` events (source "docker") are merged in by wall time.
The raw gateway file stays next to it as evidence.
"""
from __future__ import annotations

import heapq
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from mock_gateway.eventlog import Event, EventLog, read_events

from .faults import EVENT as FAULT_EVENT
from .faults import SESSION_ENDING

#: Docker actions after which the gateway process is gone without having said goodbye.
KILLING_ACTIONS = SESSION_ENDING   # container faults that drop sessions without a goodbye


@dataclass
class Lifetime:
    events: list[Event] = field(default_factory=list)

    @property
    def start_wall(self) -> float | None:
        starts = [e["wall"] for e in self.events if e["dir"] == "sys" and e["msg"] == "run_start"]
        return starts[0] if starts else None

    @property
    def ended_cleanly(self) -> bool:
        return any(e["dir"] == "sys" and e["msg"] == "run_end" for e in self.events)

    def open_connections(self) -> dict[int, int | None]:
        """conn -> client_id of connections with no disconnect (or refusal) in this lifetime."""
        open_: dict[int, int | None] = {}
        for e in self.events:
            conn = e.get("conn")
            if conn is None:
                continue
            if e["dir"] == "sys" and e["msg"] == "connect":
                open_[conn] = e.get("client_id")
            elif e["dir"] == "sys" and e["msg"] in ("disconnect", "refused"):
                open_.pop(conn, None)
            elif conn in open_ and e.get("client_id") is not None:
                open_[conn] = e["client_id"]
        return open_

    @property
    def max_conn(self) -> int:
        return max((e["conn"] for e in self.events if isinstance(e.get("conn"), int)), default=0)


@dataclass
class MergeSummary:
    path: Path
    lifetimes: int
    events: int
    synthetic_disconnects: int
    container_faults: int


def split_lifetimes(events: Iterable[Event]) -> list[Lifetime]:
    """One :class:`Lifetime` per gateway process, cut at each ``run_start``."""
    lifetimes: list[Lifetime] = []
    for event in events:
        if not lifetimes or (event["dir"] == "sys" and event["msg"] == "run_start" and lifetimes[-1].events):
            lifetimes.append(Lifetime())
        lifetimes[-1].events.append(event)
    return lifetimes


def stitch(gateway_events: Iterable[Event], docker_events: Iterable[Event], *, speed: float = 1.0,
           end_wall: float | None = None) -> tuple[list[Event], int]:
    """The merged event sequence (unnumbered) and the count of synthesized disconnects."""
    lifetimes = split_lifetimes(gateway_events)
    docker_list = sorted(docker_events, key=lambda e: e["wall"])
    t0 = next((lt.start_wall for lt in lifetimes if lt.start_wall is not None), None)
    if t0 is None:
        t0 = docker_list[0]["wall"] if docker_list else 0.0
    kills = [e["wall"] for e in docker_list if e["msg"] == FAULT_EVENT and e.get("fault") in KILLING_ACTIONS]

    def sim_at(wall: float) -> float:
        return round((wall - t0) * speed, 6)

    stitched: list[Event] = []      # the gateway's own events, in its order
    added: list[Event] = []         # synthesized and host-side (docker, harness) events
    synthetic = 0
    conn_offset = 0
    for index, lifetime in enumerate(lifetimes):
        last = index == len(lifetimes) - 1
        start = lifetime.start_wall
        sim_offset = sim_at(start) if (index > 0 and start is not None) else 0.0
        for event in lifetime.events:
            e = dict(event)
            if isinstance(e.get("conn"), int):
                e["conn"] += conn_offset
            if isinstance(e.get("sim"), (int, float)):
                e["sim"] = round(e["sim"] + sim_offset, 6)
            if e["dir"] == "sys" and e["msg"] == "run_start" and index > 0:
                e["msg"], e["attrs"] = "gateway_up", {**e["attrs"], "lifetime": index}
            elif e["dir"] == "sys" and e["msg"] == "run_end" and not last:
                e["msg"], e["attrs"] = "gateway_down", {**e["attrs"], "lifetime": index, "reason": "gateway stopped"}
            elif (e["dir"] == "sys" and e["msg"] == "disconnect" and not last
                  and "shut down" in str(e["attrs"].get("reason", ""))):
                # The gateway's own shutdown, but mid-run: for the handler a drop like any other.
                e["attrs"] = {**e["attrs"], "reason": "gateway container stopped", "by": "gateway",
                              "gateway_reason": e["attrs"].get("reason")}
            stitched.append(e)
        if not lifetime.ended_cleanly:
            last_wall = lifetime.events[-1]["wall"]
            next_start = lifetimes[index + 1].start_wall if not last else None
            kill = next((k for k in kills if k >= last_wall - 0.5 and (next_start is None or k <= next_start)), None)
            if kill is None and last:
                kill = end_wall  # it did not survive the run, and nothing says when it died
            if kill is None and not last:
                kill = last_wall
            if kill is not None:
                for conn, client_id in sorted(lifetime.open_connections().items()):
                    added.append(_sys(kill, sim_at(kill), "disconnect", conn + conn_offset, client_id,
                                         {"reason": "gateway container killed", "by": "gateway", "synthetic": True}))
                    synthetic += 1
                added.append(_sys(kill, sim_at(kill), "gateway_down", None, None,
                                     {"reason": "gateway process ended without shutdown", "lifetime": index,
                                      "synthetic": True}))
        conn_offset += lifetime.max_conn
    for e in docker_list:
        added.append({**e, "sim": sim_at(e["wall"]) if e.get("sim") is None else e["sim"]})
    if lifetimes and not lifetimes[-1].ended_cleanly and end_wall is not None:
        added.append(_sys(end_wall, sim_at(end_wall), "run_end", None, None,
                          {"synthetic": True, "reason": "the gateway was not running when the run ended"}))
    # Each producer keeps its own order (its wall stamps may jitter); producers merge by wall time.
    ordered = list(heapq.merge(stitched, sorted(added, key=lambda e: e["wall"]), key=lambda e: e["wall"]))
    for seq, e in enumerate(ordered):
        e["seq"] = seq
    return ordered, synthetic


def _sys(wall: float, sim: float, msg: str, conn: int | None, client_id: int | None, attrs: dict) -> Event:
    return {"seq": None, "wall": wall, "sim": sim, "source": "docker", "conn": conn, "client_id": client_id,
            "dir": "sys", "msg": msg, "msg_id": None, "fields": [], "attrs": attrs, "fault": None}


def write_merged(gateway_log: Path | None, docker_log: Path | None, out_path: Path, *, speed: float = 1.0,
                 end_wall: float | None = None) -> MergeSummary:
    """Write the stitched log to ``out_path`` (renumbered from seq 0) and return what went in."""
    gateway_events = read_events(gateway_log) if gateway_log and gateway_log.is_file() else []
    docker_events = read_events(docker_log) if docker_log and docker_log.is_file() else []
    merged, synthetic = stitch(gateway_events, docker_events, speed=speed, end_wall=end_wall)
    tmp = out_path.with_suffix(out_path.suffix + ".tmp")
    if tmp.exists():
        tmp.unlink()
    with EventLog(tmp) as log:
        for e in merged:
            log.write(dir=e["dir"], msg=e["msg"], sim=e.get("sim"), conn=e.get("conn"), client_id=e.get("client_id"),
                      msg_id=e.get("msg_id"), fields=e.get("fields"), attrs=e.get("attrs"), fault=e.get("fault"),
                      wall=e["wall"], source=e.get("source"))
    os.replace(tmp, out_path)
    return MergeSummary(out_path, len(split_lifetimes(gateway_events)), len(merged), synthetic,
                        sum(1 for e in docker_events if e["msg"] == FAULT_EVENT))
