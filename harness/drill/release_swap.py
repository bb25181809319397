"""Rollback steps 2-3 without Ansible's Docker modules: the previous release made ready ahead of time.

Creating a container through ``community.docker.docker_container`` costs 1-8 s (the module is
shipped, starts its own Python, imports the Docker SDK and compares every option), all of it
inside the timed recovery. This tool talks to the engine directly, in one process per step:

* ``prepare`` (preflight, before the kill switch; not timed as recovery): create, but do not start,
  the previous release as a *standby* container with the current release's configuration (the
  playbooks' ``container_spec`` filter: environment, networks and aliases, ports, mounts, labels),
  with the kill file already in it when that file is not on a mount the new container shares. Best
  effort: when it cannot (image absent, Docker error) it says why and step 3 creates the container.
* ``start`` (step 3): check the standby was made from the container that was just stopped, remove
  the stopped current release, give the standby its name and start it; without a usable standby,
  create it now the same way. Prints the new container's inspect data, environment values redacted.
* ``discard`` (rescue/always): remove a standby nothing started.

The handler's environment goes from the engine to the engine: it never passes through a task
result, a fact or a file.

    python -m harness.drill.release_swap prepare --container NAME --image IMAGE [--drill-id ID] [--pull]
    python -m harness.drill.release_swap start --container NAME --image IMAGE [--drill-id ID] [--pull]
    python -m harness.drill.release_swap discard --container NAME
"""
from __future__ import annotations

import argparse
import io
import json
import sys
import tarfile
import time
from pathlib import PurePosixPath
from typing import Any

#: Labels on a standby: whose standby it is and which container it copies (its Id).
STANDBY_FOR = "prelive.standby.for"
STANDBY_FROM = "prelive.standby.from"
KILL_FILE_TEXT = b"engaged by the rollback drill; remove to resume trading\n"


class SwapError(Exception):
    """The previous release could not be made or started; the message says what to do."""


def standby_name(container: str) -> str:
    return f"{container}-prelive-standby"


def _filters() -> Any:
    from harness.drill.kill_switch_step import _filters as filters

    return filters()


def _api(timeout_s: float = 30.0) -> Any:
    from harness.docker.engine import connect

    return connect(timeout_s=timeout_s).api


def _inspect(api: Any, name: str) -> dict[str, Any] | None:
    import docker.errors

    try:
        return api.inspect_container(name)
    except docker.errors.NotFound:
        return None


def _image(api: Any, name: str) -> dict[str, Any] | None:
    import docker.errors

    try:
        return api.inspect_image(name)
    except docker.errors.ImageNotFound:
        return None
    except docker.errors.NotFound:
        return None


def _ensure_image(api: Any, image: str, pull: bool) -> None:
    if _image(api, image) is not None:
        return
    if pull:
        repository, _, tag = image.rpartition(":") if ":" in image.rsplit("/", 1)[-1] else (image, "", "latest")
        try:
            api.pull(repository, tag=tag or "latest")
        except Exception as exc:  # registry unreachable, unknown image
            raise SwapError(f"could not pull {image}: {exc}; the current release stays stopped and the kill switch "
                            "stays engaged") from None
        if _image(api, image) is not None:
            return
    raise SwapError(f"image {image} is not on this Docker host (docker load or docker pull it, or set "
                    "handler_image_previous); the current release stays stopped and the kill switch stays engaged")


def _ns(duration: str | None) -> int | None:
    """The filter's "1500ms" back to nanoseconds."""
    if not duration:
        return None
    return int(float(str(duration).removesuffix("ms")) * 1_000_000)


def _port_binding(published: str) -> tuple[str, Any]:
    """"127.0.0.1:8080:9000/tcp" -> ("9000/tcp", ("127.0.0.1", "8080")), as create_host_config takes it."""
    parts = published.split(":")
    container_port = parts[-1] if "/" in parts[-1] else parts[-1] + "/tcp"
    if len(parts) == 3:
        return container_port, (parts[0], parts[1] or None)
    if len(parts) == 2:
        return container_port, parts[0] or None
    return container_port, None


def create_release(api: Any, current: dict[str, Any], image: str, name: str, *, labels: dict[str, str]) -> str:
    """Create (not start) ``image`` as ``name`` with ``current``'s setup; returns the new container's Id."""
    import docker.types

    filters = _filters()
    current_image = _image(api, current.get("Image") or current["Config"]["Image"]) or {}
    spec = filters.container_spec(current, current_image)
    bindings: dict[str, list[Any]] = {}
    for published in spec["published_ports"]:
        port, binding = _port_binding(published)
        bindings.setdefault(port, []).append(binding)
    networks = spec["networks"]
    network_mode = spec.get("network_mode") or (networks[0]["name"] if networks else None)
    host_config = api.create_host_config(
        port_bindings={p: (b[0] if len(b) == 1 else b) for p, b in bindings.items()} or None,
        mounts=[docker.types.Mount(m["target"], m["source"], type=m["type"], read_only=m["read_only"])
                for m in spec["mounts"]] or None,
        restart_policy={"Name": spec["restart_policy"]} if spec["restart_policy"] != "no" else None,
        init=spec["init"] or None, extra_hosts=spec["extra_hosts"] or None, network_mode=network_mode,
        mem_limit=int(spec["memory"]) if spec.get("memory") else None,
        nano_cpus=int(float(spec["cpus"]) * 1e9) if spec.get("cpus") else None)
    first = next((n for n in networks if n["name"] == network_mode), None)
    networking = (api.create_networking_config({first["name"]: api.create_endpoint_config(
        aliases=first.get("aliases") or None)}) if first else None)
    healthcheck = spec.get("healthcheck")
    created = api.create_container(
        image, name=name, command=spec.get("command"), entrypoint=spec.get("entrypoint"),
        environment=spec["env"], labels={**spec["labels"], **labels}, working_dir=spec.get("working_dir"),
        user=spec.get("user"), stop_signal=spec.get("stop_signal"), stop_timeout=spec.get("stop_timeout"),
        ports=list(bindings) or None, host_config=host_config, networking_config=networking,
        healthcheck=({"test": healthcheck.get("test"), "interval": _ns(healthcheck.get("interval")),
                      "timeout": _ns(healthcheck.get("timeout")), "start_period": _ns(healthcheck.get("start_period")),
                      "retries": healthcheck.get("retries")} if healthcheck else None))
    new_id = created["Id"]
    try:
        for network in networks:
            if network is not first:
                api.connect_container_to_network(new_id, network["name"], aliases=network.get("aliases") or None)
        _carry_kill_file(api, current, new_id)
    except BaseException:
        api.remove_container(new_id, force=True)
        raise
    return new_id


def _carry_kill_file(api: Any, current: dict[str, Any], new_id: str) -> bool:
    """Put the engaged kill file into the new container unless it lives on a mount both share."""
    filters = _filters()
    kill_file = filters.env_value(current, "PRELIVE_KILL_FILE")
    if not kill_file or filters.on_mount(current, kill_file):
        return False
    path = PurePosixPath(kill_file)
    uid, gid = filters.user_ids(current)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo(path.name)
        info.size, info.mode, info.uid, info.gid, info.mtime = len(KILL_FILE_TEXT), 0o644, uid, gid, int(time.time())
        tar.addfile(info, io.BytesIO(KILL_FILE_TEXT))
    if not api.put_archive(new_id, str(path.parent), buffer.getvalue()):
        raise SwapError(f"could not put the kill file {kill_file} into the new container")
    return True


def _labels(current: dict[str, Any], container: str, drill_id: str) -> dict[str, str]:
    return {"prelive.rolled_back_from": current["Config"]["Image"], "prelive.drill": drill_id,
            STANDBY_FOR: container, STANDBY_FROM: current["Id"]}


def _check_current(current: dict[str, Any] | None, container: str, image: str) -> dict[str, Any]:
    if current is None:
        raise SwapError(f"no container named {container}: nothing to roll back")
    if current["Config"]["Image"] == image:
        raise SwapError(f"{container} already runs {image}: nothing to roll back to (set handler_image_previous "
                        "to the release to go back to)")
    return current


def discard(api: Any, container: str) -> bool:
    """Remove ``container``'s standby if one exists and was never started; True if one was removed."""
    standby = _inspect(api, standby_name(container))
    if standby is None or (standby["Config"].get("Labels") or {}).get(STANDBY_FOR) != container:
        return False
    if standby["State"].get("Running"):
        return False
    api.remove_container(standby["Id"], v=False, force=True)
    return True


def prepare(api: Any, container: str, image: str, drill_id: str, pull: bool) -> dict[str, Any]:
    """Make the standby now (an earlier one is replaced: the current container may have changed)."""
    current = _check_current(_inspect(api, container), container, image)
    discard(api, container)
    _ensure_image(api, image, pull)
    new_id = create_release(api, current, image, standby_name(container), labels=_labels(current, container, drill_id))
    return {"standby": standby_name(container), "id": new_id, "from": current["Id"]}


def start(api: Any, container: str, image: str, drill_id: str, pull: bool) -> dict[str, Any]:
    """Replace the stopped current release with the previous one (the standby when it matches) and start it."""
    current = _check_current(_inspect(api, container), container, image)
    if current["State"].get("Running"):
        raise SwapError(f"{container} is still running: stop the current release first (step 2)")
    standby = _inspect(api, standby_name(container))
    labels = (standby or {}).get("Config", {}).get("Labels") or {}
    usable = (standby is not None and labels.get(STANDBY_FOR) == container and labels.get(STANDBY_FROM) == current["Id"]
              and standby["Config"]["Image"] == image and not standby["State"].get("Running"))
    how = "standby made at preflight"
    if not usable:
        how = "created now" + (" (the standby did not match the stopped release)" if standby is not None else "")
        discard(api, container)
        _ensure_image(api, image, pull)
        new_id = create_release(api, current, image, standby_name(container),
                                labels=_labels(current, container, drill_id))
    else:
        new_id = standby["Id"]
    # the current release goes (volumes stay); the previous one takes its name and starts
    api.remove_container(current["Id"], v=False)
    api.rename(new_id, container)
    api.start(new_id)
    from harness.drill.kill_switch_step import redact_env

    return {"how": how, "container": redact_env(api.inspect_container(new_id))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.drill.release_swap", description=__doc__.split("\n")[0])
    parser.add_argument("action", choices=["prepare", "start", "discard"])
    parser.add_argument("--container", required=True, help="the handler's container name")
    parser.add_argument("--image", default="", help="the previous release's image")
    parser.add_argument("--drill-id", default="manual")
    parser.add_argument("--pull", action="store_true", help="docker pull the image when it is not on the host")
    args = parser.parse_args(argv)
    t0 = time.monotonic()
    try:
        api = _api()
        if args.action == "discard":
            result: dict[str, Any] = {"discarded": discard(api, args.container)}
        elif not args.image:
            raise SwapError("--image is required")
        elif args.action == "prepare":
            result = prepare(api, args.container, args.image, args.drill_id, args.pull)
        else:
            result = start(api, args.container, args.image, args.drill_id, args.pull)
    except SwapError as exc:
        print(json.dumps({"error": str(exc)}))
        print(str(exc), file=sys.stderr)
        return 1
    except Exception as exc:  # the engine refused: say what it said, on one line
        message = f"{args.action} {args.container} failed: {type(exc).__name__}: {exc}".replace("\n", " ")
        print(json.dumps({"error": message}))
        print(message, file=sys.stderr)
        return 1
    result["step_s"] = round(time.monotonic() - t0, 3)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
