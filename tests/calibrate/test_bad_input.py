"""Bad session logs each get a clear, specific message, from the reader and from both commands; nothing is written."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from harness.calibrate.session import SessionLogError, read_session
from harness.cli import app


def _event(seq, dir, msg, **extra):
    e = {"seq": seq, "wall": 1764600000.0 + seq, "sim": float(seq), "source": "mock", "conn": 1, "client_id": 1,
         "dir": dir, "msg": msg, "msg_id": None, "fields": [], "attrs": {}, "fault": None}
    e.update(extra)
    return e


def _write(path, events, tail=""):
    path.write_text("".join(json.dumps(e) + "\n" for e in events) + tail)
    return path


GOOD = [_event(0, "sys", "run_start"), _event(1, "in", "handshake", fields=["v100..176"]),
        _event(2, "in", "startApi", msg_id=71, fields=["71", "2", "1", ""]),
        _event(3, "in", "reqCurrentTime", msg_id=49, fields=["49", "1"]),
        _event(4, "out", "currentTime", msg_id=49, fields=["49", "1", "1764600000"])]


def test_a_complete_log_is_read(tmp_path):
    assert len(read_session(_write(tmp_path / "s.jsonl", GOOD))) == 5


def test_a_truncated_log_names_the_cut_line_and_the_way_out(tmp_path):
    log = _write(tmp_path / "s.jsonl", GOOD, tail='{"seq": 5, "wall": 17646')
    with pytest.raises(SessionLogError, match=r"s.jsonl:6: the log is truncated .* 5 complete events .*--allow-truncated"):
        read_session(log)
    assert len(read_session(log, allow_truncated=True)) == 5


def test_a_log_from_an_older_prelive_names_the_missing_keys(tmp_path):
    old = [{k: v for k, v in e.items() if k not in ("source", "fault")} for e in GOOD]
    with pytest.raises(SessionLogError, match=r":1: the event lacks source, fault: .*older prelive.*record the session again"):
        read_session(_write(tmp_path / "s.jsonl", old))


def test_a_log_without_requests_says_there_is_nothing_to_measure(tmp_path):
    with pytest.raises(SessionLogError, match="no client requests"):
        read_session(_write(tmp_path / "s.jsonl", GOOD[:3]))


def test_a_file_that_is_not_an_event_log_is_refused(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text("time,price\n1,2\n")
    with pytest.raises(SessionLogError, match=":1: not a JSON line"):
        read_session(path)


def test_two_recordings_appended_to_one_file_are_refused(tmp_path):
    second = [{**e, "seq": e["seq"] + 5} for e in GOOD]
    with pytest.raises(SessionLogError, match="holds 2 recordings"):
        read_session(_write(tmp_path / "s.jsonl", GOOD + second))


def test_an_empty_or_missing_log_is_refused(tmp_path):
    (tmp_path / "empty.jsonl").write_text("")
    with pytest.raises(SessionLogError, match="empty"):
        read_session(tmp_path / "empty.jsonl")
    with pytest.raises(SessionLogError, match="no such event log"):
        read_session(tmp_path / "absent.jsonl")


@pytest.mark.parametrize("command", ["calibrate", "diff"])
def test_both_commands_print_the_message_exit_1_and_write_nothing(tmp_path, command):
    log = _write(tmp_path / "s.jsonl", GOOD, tail='{"seq": 5')
    out = tmp_path / "out"
    args = [command, str(log)] + (["-o", str(out / "x.yaml")] if command == "calibrate" else ["--out", str(out)])
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    assert "error: " in result.output and "truncated" in result.output
    assert not out.exists() or not any(out.rglob("*"))


def test_diff_of_a_log_without_wire_fields_says_it_cannot_replay_it(tmp_path):
    bare = [{**e, "fields": []} for e in GOOD]
    result = CliRunner().invoke(app, ["diff", str(_write(tmp_path / "s.jsonl", bare)), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1
    assert "carry no wire fields" in result.output and "calibrate` still works" in result.output
    assert not (tmp_path / "o" / "FIDELITY_DIFF.json").exists()
