"""The event log streams to disk: memory stays flat however long the run, with or without a path."""
from __future__ import annotations

import gc
import os
import tracemalloc

from mock_gateway.eventlog import EventLog

TICK = ["1", "6", "1", "1", "187.25", "100", "0"]


def _grown_bytes(log: EventLog, n: int) -> int:
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(n):
            log.write(dir="out", msg="tickPrice", msg_id=1, fields=TICK, attrs={"req_id": i, "price": 187.25},
                      conn=1, client_id=7, sim=i * 0.01)
        return tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()


def test_a_log_without_a_path_streams_to_a_temporary_file_and_holds_no_events_in_memory():
    log = EventLog()
    grown = _grown_bytes(log, 50_000)   # about 10 MB of JSON lines
    assert grown < 512 * 1024, f"{grown} bytes kept in memory for 50,000 events"
    assert log.temporary and log.path.stat().st_size > 5_000_000
    events = log.events
    assert len(events) == 50_000 and events[-1]["attrs"]["req_id"] == 49_999
    log.close()


def test_the_temporary_file_goes_away_with_the_log():
    log = EventLog()
    log.write(dir="sys", msg="run_start")
    path = log.path
    log.close()
    del log
    gc.collect()
    assert not os.path.exists(path)


def test_a_log_with_a_path_reads_back_what_it_wrote(tmp_path):
    with EventLog(tmp_path / "run.jsonl") as log:
        log.write(dir="sys", msg="run_start")
        assert [e["msg"] for e in log.events] == ["run_start"]
    assert not log.temporary and (tmp_path / "run.jsonl").exists()
