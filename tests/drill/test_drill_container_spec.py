"""The filter that recreates a container's setup for the previous release (rollback step 3)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "playbooks" / "filter_plugins"))
from container_spec import container_spec, env_value, host_path, on_mount, position_map, user_ids  # noqa: E402

IMAGE = {"Config": {"Env": ["PATH=/usr/local/bin:/usr/bin", "LANG=C.UTF-8"], "Cmd": ["prelive", "gateway"],
                    "Labels": {"prelive.managed": "true", "org.opencontainers.image.title": "prelive"},
                    "User": "10001:10001", "Healthcheck": {"Test": ["CMD", "probe"], "Interval": 2_000_000_000}}}
CONTAINER = {
    "Id": "0123456789abcdef0123",
    "Config": {"Env": ["PATH=/usr/local/bin:/usr/bin", "LANG=C.UTF-8", "IB_HOST=ib-gateway", "IB_PORT=4004",
                       "PRELIVE_KILL_FILE=/data/KILL"],
               "Cmd": ["python", "-m", "harness.client"], "User": "10001:10001",
               "Labels": {"prelive.managed": "true", "org.opencontainers.image.title": "prelive",
                          "com.docker.compose.project": "stack", "com.docker.compose.service": "handler"},
               "Healthcheck": {"Test": ["NONE"]}},
    "HostConfig": {"NetworkMode": "stack_ib", "RestartPolicy": {"Name": "no"}, "Init": True,
                   "PortBindings": {"9000/tcp": [{"HostIp": "127.0.0.1", "HostPort": ""}]}, "ExtraHosts": None},
    "Mounts": [{"Type": "volume", "Name": "stack_data", "Source": "/var/lib/docker/volumes/stack_data/_data",
                "Destination": "/data", "RW": True}],
    "NetworkSettings": {"Networks": {"stack_ib": {"Aliases": ["stack-handler-1", "handler", "0123456789ab"]}}},
}


def test_only_what_the_container_set_over_its_image_is_carried():
    spec = container_spec(CONTAINER, IMAGE)
    assert spec["env"] == {"IB_HOST": "ib-gateway", "IB_PORT": "4004", "PRELIVE_KILL_FILE": "/data/KILL"}
    assert spec["labels"] == {"com.docker.compose.project": "stack", "com.docker.compose.service": "handler"}
    assert spec["command"] == ["python", "-m", "harness.client"]
    assert "user" not in spec


def test_networks_keep_their_aliases_but_not_the_old_container_id():
    spec = container_spec(CONTAINER, IMAGE)
    assert spec["networks"] == [{"name": "stack_ib", "aliases": ["stack-handler-1", "handler"]}]
    assert spec["network_mode"] == "stack_ib"


def test_mounts_ports_init_and_a_disabled_healthcheck_are_carried():
    spec = container_spec(CONTAINER, IMAGE)
    assert spec["mounts"] == [{"type": "volume", "source": "stack_data", "target": "/data", "read_only": False}]
    assert spec["published_ports"] == ["127.0.0.1::9000/tcp"]
    assert spec["init"] is True
    assert spec["healthcheck"] == {"test": ["NONE"]}


def test_without_image_information_everything_is_carried():
    spec = container_spec(CONTAINER)
    assert spec["env"]["PATH"] == "/usr/local/bin:/usr/bin"
    assert spec["user"] == "10001:10001"


def test_env_value_user_ids_and_position_map():
    assert env_value(CONTAINER, "PRELIVE_KILL_FILE") == "/data/KILL"
    assert env_value(CONTAINER, "MISSING", "x") == "x"
    assert user_ids(CONTAINER) == [10001, 10001]
    assert user_ids({"Config": {"User": "prelive"}}) == [0, 0]
    positions = [{"account": "DU1", "symbol": "AAPL", "position": 100.0},
                 {"account": "DU1", "symbol": "MSFT", "position": 0.0}]
    assert position_map(positions) == {"DU1:AAPL": 100.0}
    assert position_map(None) == {}


def test_a_kill_file_on_a_volume_outlives_the_container():
    assert on_mount(CONTAINER, "/data/KILL")
    assert on_mount(CONTAINER, "/data")
    assert not on_mount(CONTAINER, "/database/KILL")
    assert not on_mount(CONTAINER, "/tmp/KILL")
    assert not on_mount(CONTAINER, "")


def test_a_path_on_a_mount_maps_to_the_docker_hosts_path():
    assert host_path(CONTAINER, "/data/KILL") == "/var/lib/docker/volumes/stack_data/_data/KILL"
    assert host_path(CONTAINER, "/tmp/KILL") == ""
