"""Replay a recorded session's client requests, in order and with their timing, against a mock gateway.

Each recorded connection gets its own socket, opened when the session's opened; each request
is re-sent as the recorded fields in the negotiated framing at its recorded offset (divided by
``speed``). What the mock answered is read from its own event log, the same schema the session
was recorded in. The replay never connects anywhere but the mock it starts itself.
"""
from __future__ import annotations

import asyncio
import contextlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from mock_gateway.eventlog import Event, read_events
from mock_gateway.protocol.framing import encode_frame, encode_frame_binary_id, encode_handshake
from mock_gateway.protocol.versions import PROTOBUF

from harness.calibrate.latency import event_time_s, latency_clock

#: Wall seconds the replay waits after the last request for late answers (times ``1/speed`` of a sim second).
SETTLE_S = 1.0


class ReplayError(RuntimeError):
    """The replay could not run (no mock, an unreadable session); the message says what to do."""


@dataclass
class _Step:
    at_s: float                 # seconds since the session's first event, on its latency clock
    frame: bytes | None         # None: close the connection
    name: str = ""


@dataclass
class ReplayPlan:
    """Per recorded connection (in connect order): when to open it and what to send when."""

    connections: list[list[_Step]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    duration_s: float = 0.0


def plan_replay(events: list[Event]) -> ReplayPlan:
    """What to send on which connection at which offset (pure)."""
    clock = latency_clock(events)
    times = [t for e in events if (t := event_time_s(e, clock)) is not None]
    t0 = min(times) if times else 0.0
    order: dict[int, int] = {}
    plan = ReplayPlan()
    binary: dict[int, bool] = {}
    for e in events:
        conn, t = e.get("conn"), event_time_s(e, clock)
        if not isinstance(conn, int) or t is None:
            continue
        offset = t - t0
        plan.duration_s = max(plan.duration_s, offset)
        if e["dir"] == "sys" and e["msg"] == "handshake":
            version = e["attrs"].get("server_version")
            binary[conn] = isinstance(version, int) and version >= PROTOBUF
            continue
        if e["dir"] == "sys" and e["msg"] == "disconnect" and conn in order:
            plan.connections[order[conn]].append(_Step(offset, None, "disconnect"))
            continue
        if e["dir"] != "in":
            continue
        if conn not in order:
            order[conn] = len(plan.connections)
            plan.connections.append([])
        steps = plan.connections[order[conn]]
        fields = [str(f) for f in e.get("fields") or []]
        if e["msg"] == "handshake":
            steps.append(_Step(offset, encode_handshake(fields[0] if fields else "v157..176"), "handshake"))
            continue
        if not fields:
            plan.skipped.append(f"connection {order[conn]}: {e['msg']} has no recorded fields")
            continue
        if e["attrs"].get("encoding") == "protobuf":
            plan.skipped.append(f"connection {order[conn]}: {e['msg']} was sent as protobuf; replayed in the "
                                "text layout")
        try:
            frame = encode_frame_binary_id(fields) if binary.get(conn) else encode_frame(fields)
        except ValueError:
            plan.skipped.append(f"connection {order[conn]}: {e['msg']} has a non-numeric message id")
            continue
        steps.append(_Step(offset, frame, e["msg"]))
    return plan


async def _drain(reader: asyncio.StreamReader) -> None:
    with contextlib.suppress(ConnectionError, OSError):
        while await reader.read(65536):
            pass


async def _run_connection(host: str, port: int, steps: list[_Step], start: float, speed: float) -> None:
    if not steps:
        return
    await asyncio.sleep(max(0.0, start + steps[0].at_s / speed - time.monotonic()))
    try:
        reader, writer = await asyncio.open_connection(host, port)
    except OSError:
        return
    drain = asyncio.ensure_future(_drain(reader))
    try:
        for step in steps:
            await asyncio.sleep(max(0.0, start + step.at_s / speed - time.monotonic()))
            if step.frame is None or drain.done():
                break
            writer.write(step.frame)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        await asyncio.sleep(SETTLE_S / speed + 0.2)
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()
        drain.cancel()
        with contextlib.suppress(BaseException):
            await drain


async def replay(plan: ReplayPlan, host: str, port: int, speed: float) -> None:
    start = time.monotonic() + 0.05
    await asyncio.gather(*(_run_connection(host, port, steps, start, speed) for steps in plan.connections))


def replay_against_mock(events: list[Event], scenario: object, log_path: str | os.PathLike[str],
                        speed: float | None = None) -> list[Event]:
    """Start the scenario's mock (its own event log at ``log_path``), replay, stop; the mock's events."""
    from mock_gateway.server import GatewayThread

    plan = plan_replay(events)
    if not plan.connections:
        raise ReplayError("the session has no client connection with requests to replay")
    sendable = [s for steps in plan.connections for s in steps if s.frame is not None and s.name != "handshake"]
    if not sendable or not any(steps and steps[0].name == "handshake" for steps in plan.connections):
        raise ReplayError("the session's requests carry no wire fields (or no handshake was recorded), so they "
                          "cannot be re-sent; record with `prelive tap` (it logs every field). "
                          "`prelive calibrate` still works on this log")
    speed = speed or float(getattr(scenario, "speed", 1.0))
    log_path = Path(log_path)
    log_path.unlink(missing_ok=True)   # the event log appends: a stale replay must not mix in
    config = scenario.gateway_config(event_log=log_path, speed=speed)  # type: ignore[attr-defined]
    with GatewayThread(config) as gateway:
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(replay(plan, gateway.host, gateway.port, speed))
        finally:
            loop.close()
    return read_events(log_path)
