"""The session event log: one JSON object per line, append-only, written straight to the kernel.

One observation point for mock runs and for real paper sessions recorded by the tap, so the
metrics code never needs to know which it is reading. Schema of one line (keys always present):

    seq        int    position in this log, from 0
    wall       float  wall-clock epoch seconds when the message crossed the socket
    sim        float|null  SimPy time in seconds since the run started (null for the tap)
    source     str    "mock" | "tap" | "harness" | "docker"
    conn       int|null  connection number (one per accepted socket), null for run-level events
    client_id  int|null  the API client id once startApi was seen
    dir        str    "in" (client -> gateway), "out" (gateway -> client), "sys" (no wire message)
    msg        str    message name as the clients call it ("placeOrder", "orderStatus", "error")
                      or, for dir == "sys", the event ("run_start", "connect", "handshake",
                      "disconnect", "refused", "fault", "gateway_down", "gateway_up", "run_end", ...)
    msg_id     int|null  wire message id (null for sys)
    fields     list[str] the decoded fields (empty for sys)
    attrs      dict   named values: see mock_gateway.protocol.describe for wire messages; for
                      sys events the event's own details (reason, server_version, fault params)
    fault      str|null  name of the fault that acted on this message (delayed it, dropped it,
                      produced it), or for a "fault" sys event, the fault's name

Because each line goes out in a single ``os.write`` on an ``O_APPEND`` descriptor, a killed
run leaves every line written up to the kill, and at worst one truncated last line, which
:func:`read_events` skips.
"""
from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .protocol.redact import redact_message

Event = dict[str, Any]

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=True, default=str).encode


class EventLog:
    """Append-only JSONL writer. ``path=None`` keeps events in memory only (``.events``)."""

    def __init__(self, path: str | os.PathLike[str] | None = None, *, source: str = "mock",
                 keep_in_memory: bool = False) -> None:
        self.path = Path(path) if path is not None else None
        self.source = source
        self._fd: int | None = None
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self.events: list[Event] | None = [] if (keep_in_memory or self.path is None) else None
        self._seq = 0
        self._lock = threading.Lock()  # the tap and the harness may write from threads

    def write(self, *, dir: str, msg: str, sim: float | None = None, conn: int | None = None,
              client_id: int | None = None, msg_id: int | None = None, fields: list[str] | None = None,
              attrs: dict[str, Any] | None = None, fault: str | None = None, wall: float | None = None,
              source: str | None = None) -> Event:
        fields, attrs = redact_message(dir, fields, attrs)  # credentials never reach a log
        with self._lock:
            event: Event = {
                "seq": self._seq, "wall": time.time() if wall is None else wall, "sim": sim,
                "source": source or self.source, "conn": conn, "client_id": client_id, "dir": dir,
                "msg": msg, "msg_id": msg_id, "fields": fields or [], "attrs": attrs or {}, "fault": fault,
            }
            self._seq += 1
            if self._fd is not None:
                os.write(self._fd, _dumps(event).encode("ascii") + b"\n")
            if self.events is not None:
                self.events.append(event)
        return event

    def sys(self, msg: str, **kwargs: Any) -> Event:
        """A run-level or connection-level event that is not a wire message."""
        return self.write(dir="sys", msg=msg, **kwargs)

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def __enter__(self) -> EventLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def iter_events(path: str | os.PathLike[str]) -> Iterator[Event]:
    """Events of a log file in order; a truncated or corrupt line (a killed writer) is skipped."""
    with open(path, "rb") as fh:
        for raw in fh:
            if not raw.endswith(b"\n"):
                return  # the writer was killed mid-line
            try:
                yield json.loads(raw)
            except ValueError:
                continue


def read_events(path: str | os.PathLike[str]) -> list[Event]:
    return list(iter_events(path))
