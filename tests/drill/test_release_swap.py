"""Rollback steps 2-3 on the engine's API (harness.drill.release_swap), against a real Docker engine: the
previous release is made ready at preflight (created, not started) and step 3 only swaps and starts it."""
from __future__ import annotations

import io
import json
import secrets
import tarfile

import pytest

from harness.drill import release_swap
from harness.drill.release_swap import STANDBY_FOR, SwapError, standby_name

pytestmark = [pytest.mark.docker, pytest.mark.slow]
SECRET = f"planted-{secrets.token_hex(6)}"


@pytest.fixture
def release(docker_client, prelive_image, run_labels):
    """A "current release" container (on its own network, a published port, a secret in its environment, the
    kill file not on a mount) and a second tag of the image as the previous release."""
    tag = secrets.token_hex(3)
    current_image = f"local/prelive:swap-{tag}-current"
    previous_image = f"local/prelive:swap-{tag}-previous"
    for name in (current_image, previous_image):
        repository, _, version = name.rpartition(":")
        docker_client.images.get(prelive_image).tag(repository, version)
    network = docker_client.networks.create(f"swap-{tag}", labels=run_labels)
    name = f"swap-{tag}-handler"
    container = docker_client.containers.create(
        current_image, ["sleep", "300"], name=name, labels={**run_labels, "app.role": "handler"},
        environment={"BROKER_API_SECRET": SECRET, "PRELIVE_KILL_FILE": "/tmp/KILL", "IB_PORT": "4004"},
        ports={"9000/tcp": ("127.0.0.1", None)}, network=network.name, init=True)
    network.disconnect(container)
    network.connect(container, aliases=["handler"])
    container.start()
    yield {"name": name, "current": current_image, "previous": previous_image, "network": network.name}
    for c in docker_client.containers.list(all=True, filters={"name": name}):
        c.remove(force=True)
    network.remove()
    for image in (current_image, previous_image):
        docker_client.images.remove(image, noprune=True)


def read_file(docker_client, container: str, path: str) -> bytes | None:
    try:
        stream, _ = docker_client.api.get_archive(container, path)
    except Exception:
        return None
    with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
        member = tar.getmembers()[0]
        return tar.extractfile(member).read()


def test_prepare_creates_the_previous_release_with_the_current_setup_and_does_not_start_it(docker_client, release):
    api = docker_client.api
    made = release_swap.prepare(api, release["name"], release["previous"], "t1", pull=False)
    standby = api.inspect_container(standby_name(release["name"]))
    assert made["id"] == standby["Id"] and standby["State"]["Status"] == "created"
    assert standby["Config"]["Image"] == release["previous"]
    assert f"BROKER_API_SECRET={SECRET}" in standby["Config"]["Env"]          # engine to engine, never a file
    assert standby["Config"]["Labels"]["app.role"] == "handler"
    assert standby["Config"]["Labels"][STANDBY_FOR] == release["name"]
    assert "handler" in standby["NetworkSettings"]["Networks"][release["network"]]["Aliases"]
    assert standby["HostConfig"]["PortBindings"]["9000/tcp"][0]["HostIp"] == "127.0.0.1"
    assert standby["HostConfig"]["Init"] is True
    # the kill file is not on a mount: it is put into the new container, so it never runs un-halted
    assert read_file(docker_client, standby["Id"], "/tmp/KILL") == release_swap.KILL_FILE_TEXT


def test_start_swaps_in_the_standby_and_starts_it(docker_client, release):
    api = docker_client.api
    made = release_swap.prepare(api, release["name"], release["previous"], "t2", pull=False)
    api.stop(release["name"], timeout=1)
    started = release_swap.start(api, release["name"], release["previous"], "t2", pull=False)
    now = api.inspect_container(release["name"])
    assert started["how"] == "standby made at preflight" and now["Id"] == made["id"]
    assert now["State"]["Running"] and now["Config"]["Image"] == release["previous"]
    assert now["Config"]["Labels"]["prelive.rolled_back_from"] == release["current"]
    # what goes back to the playbook has the environment redacted
    assert SECRET not in json.dumps(started) and "BROKER_API_SECRET=<redacted>" in started["container"]["Config"]["Env"]
    assert not docker_client.containers.list(all=True, filters={"name": standby_name(release["name"])})


def test_a_standby_made_from_another_container_is_not_used(docker_client, release):
    api = docker_client.api
    stale = release_swap.prepare(api, release["name"], release["previous"], "t3", pull=False)
    # the current release is redeployed after the preflight: same name, another container
    old = docker_client.containers.get(release["name"])
    old.rename(release["name"] + "-old")
    docker_client.containers.create(release["current"], ["sleep", "300"], name=release["name"],
                                    environment={"PRELIVE_KILL_FILE": "/tmp/KILL", "GENERATION": "2"})
    old.remove(force=True)
    started = release_swap.start(api, release["name"], release["previous"], "t3", pull=False)
    now = api.inspect_container(release["name"])
    assert started["how"].startswith("created now") and now["Id"] != stale["id"]
    assert "GENERATION=2" in now["Config"]["Env"] and now["State"]["Running"]


def test_start_refuses_while_the_current_release_still_runs(docker_client, release):
    with pytest.raises(SwapError, match="still running"):
        release_swap.start(docker_client.api, release["name"], release["previous"], "t4", pull=False)
    assert docker_client.containers.get(release["name"]).attrs["Config"]["Image"] == release["current"]


def test_a_missing_previous_image_is_named_and_the_current_release_is_kept(docker_client, release):
    api = docker_client.api
    missing = release["previous"] + "-nope"
    with pytest.raises(SwapError, match="is not on this Docker host"):
        release_swap.prepare(api, release["name"], missing, "t5", pull=False)
    api.stop(release["name"], timeout=1)
    with pytest.raises(SwapError, match="is not on this Docker host"):
        release_swap.start(api, release["name"], missing, "t5", pull=False)
    kept = api.inspect_container(release["name"])
    assert kept["Config"]["Image"] == release["current"] and not kept["State"]["Running"]


def test_discard_removes_only_a_standby(docker_client, release):
    api = docker_client.api
    release_swap.prepare(api, release["name"], release["previous"], "t6", pull=False)
    assert release_swap.discard(api, release["name"]) is True
    assert release_swap.discard(api, release["name"]) is False
    # a container that merely has the standby's name, without the label, is not ours to remove
    docker_client.containers.create(release["current"], ["true"], name=standby_name(release["name"]))
    assert release_swap.discard(api, release["name"]) is False
    docker_client.containers.get(standby_name(release["name"])).remove(force=True)
    assert docker_client.containers.get(release["name"]).status == "running"


def test_the_command_line_prints_one_json_object_and_fails_with_the_reason(docker_client, release, capsys):
    assert release_swap.main(["start", "--container", release["name"], "--image", release["previous"]]) == 1
    out = json.loads(capsys.readouterr().out)
    assert "still running" in out["error"]
