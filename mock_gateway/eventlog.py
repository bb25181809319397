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

The log always streams to a file, so its memory stays flat however long the run: without a
path it is a temporary file (removed when the :class:`EventLog` is garbage collected), and
:attr:`EventLog.events` reads the events back from it.
"""
from __future__ import annotations

import json
import os
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

from .protocol.redact import redact_message

Event = dict[str, Any]

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=True, default=str).encode

#: A message from a client is logged up to this many characters (fields and string attributes);
#: the rest is cut and ``attrs.log_cut`` says how much there was. One 16 MiB frame of control
#: characters was 144 MB of log (JSON escapes each as six bytes): a client could fill the disk.
MAX_LOGGED_IN_CHARS = 64 * 1024


def _cut(text: str, keep: int) -> str:
    return text[:keep] + f"...[{len(text) - keep} more characters not logged]"


def _cap_strings(value: Any, keep: int) -> Any:
    """``value`` with every string longer than ``keep`` cut (dicts and lists of attributes walked)."""
    if isinstance(value, str):
        return _cut(value, keep) if len(value) > keep else value
    if isinstance(value, dict):
        return {k: _cap_strings(v, keep) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_cap_strings(v, keep) for v in value]
    return value


def bounded_inbound(fields: list[str], attrs: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
    """An inbound message as logged: whole when small, else its first MAX_LOGGED_IN_CHARS characters
    of fields (the field crossing the bound cut, the fields after it dropped), its string attributes
    cut to 1,024 characters each, and ``attrs.log_cut`` (fields and characters the message had)."""
    chars = sum(map(len, fields))
    if chars <= MAX_LOGGED_IN_CHARS and len(_dumps(attrs)) <= MAX_LOGGED_IN_CHARS:
        return fields, attrs
    kept: list[str] = []
    budget = MAX_LOGGED_IN_CHARS
    for field in fields:
        if len(field) > budget:
            kept.append(_cut(field, budget))
            break
        kept.append(field)
        budget -= len(field)
    return kept, {**_cap_strings(attrs, 1024), "log_cut": {"fields": len(fields), "chars": chars}}


#: The keys of an event before and after "fields", in the order every line has them.
_HEAD_KEYS = ("seq", "wall", "sim", "source", "conn", "client_id", "dir", "msg", "msg_id")
_TAIL_KEYS = ("attrs", "fault")
#: Fields JSON-encoded per step by fields_json_steps: ~0.1 ms of CPU.
FIELDS_JSON_CHUNK = 2000


def fields_json_steps(fields: list[str]) -> Generator[None, None, str]:
    """A message's fields as the event log encodes them, in steps (``yield`` between chunks): the JSON of
    a 5,000-bar reply's 40,000 fields takes ~2 ms, longer than one turn of the gateway's loop may."""
    parts: list[str] = []
    for k in range(0, len(fields), FIELDS_JSON_CHUNK):
        parts.append(_dumps(fields[k:k + FIELDS_JSON_CHUNK])[1:-1])
        yield
    return "[" + ",".join(parts) + "]"


class EventLog:
    """Append-only JSONL writer. ``path=None`` streams to a temporary file; ``.events`` reads the log back.

    ``keep_in_memory=True`` also keeps every event in a list (small logs built in tests only:
    memory then grows with the log)."""

    def __init__(self, path: str | os.PathLike[str] | None = None, *, source: str = "mock",
                 keep_in_memory: bool = False) -> None:
        self.source = source
        if path is None:
            fd, name = tempfile.mkstemp(prefix="prelive-events-", suffix=".jsonl")
            os.close(fd)
            self.path = Path(name)
            self.temporary = True
            self._finalizer = weakref.finalize(self, _unlink_quietly, name)
        else:
            self.path = Path(path)
            self.temporary = False
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd: int | None = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self._memory: list[Event] | None = [] if keep_in_memory else None
        self._seq = 0
        self._lock = threading.Lock()  # the tap and the harness may write from threads
        self._observers: list[Callable[[Event], None]] = []

    def add_observer(self, observer: Callable[[Event], None]) -> None:
        """Call ``observer(event)`` after each event is written (under the log's lock: keep it quick and
        never write to this log from it). For tallies kept while the run goes on, e.g. how often a fault acted."""
        self._observers.append(observer)

    @property
    def events(self) -> list[Event]:
        """Every event written so far, in order (read back from the file: a fresh list each time)."""
        if self._memory is not None:
            return list(self._memory)
        return read_events(self.path)

    def __len__(self) -> int:
        return self._seq

    def write(self, *, dir: str, msg: str, sim: float | None = None, conn: int | None = None,
              client_id: int | None = None, msg_id: int | None = None, fields: list[str] | None = None,
              attrs: dict[str, Any] | None = None, fault: str | None = None, wall: float | None = None,
              source: str | None = None, fields_json: str | None = None) -> Event:
        """Append one event. ``fields_json``: ``fields`` already JSON-encoded (:func:`fields_json_steps`, for a
        large reply encoded in steps between other sessions' work); the line is the same either way."""
        logged, attrs = redact_message(dir, fields, attrs)  # credentials never reach a log
        if dir == "in":   # what a client sends is bounded in the log: a client cannot fill the disk
            logged, attrs = bounded_inbound(logged or [], attrs or {})
        if logged is not fields:
            fields_json = None
        fields = logged
        with self._lock:
            event: Event = {
                "seq": self._seq, "wall": time.time() if wall is None else wall, "sim": sim,
                "source": source or self.source, "conn": conn, "client_id": client_id, "dir": dir,
                "msg": msg, "msg_id": msg_id, "fields": fields or [], "attrs": attrs or {}, "fault": fault,
            }
            self._seq += 1
            if self._fd is not None:
                if fields_json is None:
                    line = _dumps(event)
                else:   # the same text _dumps(event) gives, with the fields' part encoded ahead
                    head = {k: event[k] for k in _HEAD_KEYS}
                    tail = {k: event[k] for k in _TAIL_KEYS}
                    line = f'{_dumps(head)[:-1]},"fields":{fields_json},{_dumps(tail)[1:]}'
                os.write(self._fd, line.encode("ascii") + b"\n")
            if self._memory is not None:
                self._memory.append(event)
            for observer in self._observers:
                observer(event)
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


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


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
