"""Stitching a container run's gateway lifetimes and container faults into one event log (no Docker needed)."""
from __future__ import annotations

from pathlib import Path

from harness.docker.collect import split_lifetimes, stitch, write_merged
from harness.metrics.connectivity import disconnect_events, disconnects
from harness.metrics.frame import events_frame
from mock_gateway.eventlog import EventLog, read_events


def ev(wall, msg, *, dir="sys", conn=None, client_id=None, sim=None, source="mock", attrs=None, fault=None):
    return {"seq": 0, "wall": wall, "sim": sim if sim is not None else wall - 1000.0, "source": source,
            "conn": conn, "client_id": client_id, "dir": dir, "msg": msg, "msg_id": None, "fields": [],
            "attrs": attrs or {}, "fault": fault}


def session(t, conn, client_id=1, sim0=1000.0):
    """connect + handshake + startApi + nextValidId: a ready session, as the gateway logs it."""
    return [ev(t, "connect", conn=conn, sim=t - sim0), ev(t + 0.01, "handshake", conn=conn, sim=t + 0.01 - sim0),
            ev(t + 0.02, "startApi", dir="in", conn=conn, client_id=client_id, sim=t + 0.02 - sim0),
            ev(t + 0.03, "nextValidId", dir="out", conn=conn, client_id=client_id, sim=t + 0.03 - sim0)]


def killed_and_restarted():
    """Lifetime 0 runs 1000..1010 and is SIGKILLed at 1010; lifetime 1 starts at 1012 (sim from 0 again)."""
    first = [ev(1000.0, "run_start", sim=0.0), *session(1000.5, 1, sim0=1000.0),
             ev(1005.0, "placeOrder", dir="in", conn=1, client_id=1, sim=5.0)]
    second = [ev(1012.0, "run_start", sim=0.0), *session(1013.0, 1, sim0=1012.0),
              ev(1020.0, "disconnect", conn=1, client_id=1, sim=8.0, attrs={"reason": "peer closed"}),
              ev(1020.1, "run_end", sim=8.1)]
    docker = [ev(1010.0, "container_fault", source="docker", sim=None, fault="kill_gateway",
                 attrs={"action": "kill_gateway"}),
              ev(1011.9, "container_fault", source="docker", sim=None, fault="start_gateway",
                 attrs={"action": "start_gateway"})]
    for e in docker:
        e["sim"] = None
    return first + second, docker


def test_a_run_start_opens_each_gateway_lifetime():
    gateway, _ = killed_and_restarted()
    assert [len(lt.events) for lt in split_lifetimes(gateway)] == [6, 7]


def test_a_killed_lifetime_gets_a_gateway_side_disconnect_at_the_kill_time():
    gateway, docker = killed_and_restarted()
    merged, synthetic = stitch(gateway, docker)
    assert synthetic == 1
    drop = [e for e in merged if e["msg"] == "disconnect" and e["attrs"].get("synthetic")]
    assert drop[0]["wall"] == 1010.0 and drop[0]["conn"] == 1 and drop[0]["client_id"] == 1
    assert drop[0]["attrs"]["by"] == "gateway"


def test_connection_numbers_and_sim_time_continue_across_lifetimes():
    gateway, docker = killed_and_restarted()
    merged, _ = stitch(gateway, docker)
    second_connect = [e for e in merged if e["msg"] == "connect"][1]
    assert second_connect["conn"] == 2
    assert second_connect["sim"] == 13.0          # 1013 - 1000 on the first lifetime's clock
    sims = [e["sim"] for e in merged]
    assert sims == sorted(sims)


def test_one_run_start_and_one_run_end_remain():
    gateway, docker = killed_and_restarted()
    merged, _ = stitch(gateway, docker)
    names = [e["msg"] for e in merged if e["dir"] == "sys"]
    assert names.count("run_start") == 1 and names.count("run_end") == 1
    assert "gateway_up" in names and "gateway_down" in names


def test_container_faults_are_merged_by_wall_time():
    gateway, docker = killed_and_restarted()
    merged, _ = stitch(gateway, docker)
    walls = [e["wall"] for e in merged]
    assert walls == sorted(walls)
    faults = [e for e in merged if e["msg"] == "container_fault"]
    assert [f["fault"] for f in faults] == ["kill_gateway", "start_gateway"]
    assert faults[0]["sim"] == 10.0


def test_the_metrics_count_the_kill_as_a_disconnect_with_its_reconnect_time(tmp_path: Path):
    gateway, docker = killed_and_restarted()
    raw, dock = tmp_path / "raw.jsonl", tmp_path / "docker.jsonl"
    for path, events in ((raw, gateway), (dock, docker)):
        with EventLog(path) as log:
            for e in events:
                log.write(**{k: e[k] for k in ("dir", "msg", "sim", "conn", "client_id", "attrs", "fault", "wall",
                                               "source")})
    summary = write_merged(raw, dock, tmp_path / "events.jsonl")
    events = read_events(summary.path)
    assert [e["seq"] for e in events] == list(range(len(events)))
    df = events_frame(events)
    assert disconnects(df) == 1                       # the kill; the handler's own close does not count
    assert abs(disconnect_events(df)["reconnect_s"][0] - 3.03) < 1e-6


def test_a_gateway_dead_at_the_end_gets_a_run_end_and_unrecovered_disconnect():
    gateway = [ev(1000.0, "run_start", sim=0.0), *session(1000.5, 1, sim0=1000.0)]
    docker = [ev(1004.0, "container_fault", source="docker", fault="kill_gateway")]
    docker[0]["sim"] = None
    merged, synthetic = stitch(gateway, docker, end_wall=1009.0)
    assert synthetic == 1
    assert merged[-1]["msg"] == "run_end" and merged[-1]["wall"] == 1009.0
    df = events_frame(merged)
    assert disconnects(df) == 1


def test_a_mid_run_shutdown_is_a_gateway_side_drop_but_the_final_one_is_teardown():
    first = [ev(1000.0, "run_start", sim=0.0), *session(1000.5, 1, sim0=1000.0),
             ev(1005.0, "disconnect", conn=1, client_id=1, sim=5.0, attrs={"reason": "gateway shut down"}),
             ev(1005.1, "run_end", sim=5.1)]
    second = [ev(1007.0, "run_start", sim=0.0), *session(1007.5, 1, sim0=1007.0),
              ev(1010.0, "disconnect", conn=1, client_id=1, sim=3.0, attrs={"reason": "gateway shut down"}),
              ev(1010.1, "run_end", sim=3.1)]
    merged, synthetic = stitch(first + second, [])
    df = events_frame(merged)
    drops = disconnect_events(df)
    assert synthetic == 0 and len(drops) == 1
    assert drops["reason"][0] == "gateway container stopped" and abs(drops["reconnect_s"][0] - 2.53) < 1e-6


def test_host_side_harness_events_are_placed_by_their_wall_time():
    gateway, docker = killed_and_restarted()
    docker.append(ev(1000.2, "handler_start", source="harness"))
    docker.append(ev(1019.0, "handler_stop", source="harness"))
    for e in docker:
        e["sim"] = None
    merged, _ = stitch(gateway, docker)
    names = [e["msg"] for e in merged]
    assert names.index("handler_start") == names.index("run_start") + 1
    assert names.index("handler_stop") < names.index("run_end")
    assert [e["seq"] for e in merged] == list(range(len(merged)))
