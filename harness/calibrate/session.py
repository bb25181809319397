"""Read a recorded session's event log strictly: a calibration from a broken log would mislead.

The metrics reader (:func:`mock_gateway.eventlog.iter_events`) skips a cut-off last line
silently, which suits a metric; here each way a log can be unusable gets its own message.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from mock_gateway.eventlog import Event

#: Keys every line of the current event-log schema carries (mock_gateway/eventlog.py).
SCHEMA_KEYS = ("seq", "wall", "sim", "source", "conn", "client_id", "dir", "msg", "msg_id", "fields", "attrs", "fault")
#: Largest log read (bytes): read whole into memory (several times its size as Python objects), so bounded;
#: a trading day of orders and data requests stays far below it (record with log_market_data: false if not).
MAX_LOG_BYTES = 128 * 1024 ** 2


class SessionLogError(ValueError):
    """The event log cannot be calibrated from or replayed; the message says why and what to do."""


def read_session(path: str | os.PathLike[str], *, allow_truncated: bool = False) -> list[Event]:
    """Every event of a recorded session, checked: complete lines, current schema, some client requests."""
    file = Path(path)
    if not file.is_file():
        raise SessionLogError(f"{file}: no such event log (record one with `prelive tap` or a mock run's --event-log)")
    size = file.stat().st_size
    if size == 0:
        raise SessionLogError(f"{file}: the event log is empty: nothing was recorded")
    if size > MAX_LOG_BYTES:
        raise SessionLogError(f"{file}: {size} bytes is more than the {MAX_LOG_BYTES} this reads; "
                              "record shorter sessions or set log_market_data: false")
    events: list[Event] = []
    with open(file, "rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            if not raw.endswith(b"\n"):
                if allow_truncated:
                    break
                raise SessionLogError(
                    f"{file}:{lineno}: the log is truncated (the last line is cut off: the recorder was killed "
                    f"mid-write); {len(events)} complete events precede it. Pass --allow-truncated to use them.")
            if not raw.strip():
                continue
            try:
                event = json.loads(raw)
            except ValueError:
                raise SessionLogError(f"{file}:{lineno}: not a JSON line: this is not a prelive event log, "
                                      "or it was corrupted") from None
            if not isinstance(event, dict):
                raise SessionLogError(f"{file}:{lineno}: a JSON {type(event).__name__}, not an event object: "
                                      "this is not a prelive event log")
            missing = [k for k in SCHEMA_KEYS if k not in event]
            if missing:
                raise SessionLogError(
                    f"{file}:{lineno}: the event lacks {', '.join(missing)}: the log was written by an older "
                    "prelive (or another tool) whose schema this version cannot read faithfully; "
                    "record the session again with this version's `prelive tap`.")
            if event["dir"] not in ("in", "out", "sys") or not isinstance(event["attrs"], dict):
                raise SessionLogError(f"{file}:{lineno}: dir {event['dir']!r} / attrs are not of the event-log "
                                      "schema (docs/contracts.md §1)")
            events.append(event)
    starts = [i for i, e in enumerate(events) if e["dir"] == "sys" and e["msg"] == "run_start"]
    if len(starts) > 1:
        raise SessionLogError(f"{file}: the log holds {len(starts)} recordings (an event log appends: a run_start at "
                              f"events {', '.join(str(events[i]['seq']) for i in starts[:5])}); their clocks and "
                              "connection numbers restart, so calibrate one recording per file")
    requests = [e for e in events if e["dir"] == "in" and e["msg"] not in ("handshake", "startApi")]
    if not requests:
        raise SessionLogError(f"{file}: {len(events)} events but no client requests (only a connection, or "
                              "nothing): there is nothing to measure latency from or to replay. Record a session "
                              "in which the handler trades or asks for data.")
    return events
