"""Ansible filter: the docker_container options that recreate a running container's setup.

A rollback starts the previous release with exactly the configuration the current release
ran with (environment, networks and aliases, ports, mounts, labels, restart policy), whatever
created it: Compose, ``docker run`` or an earlier drill. Only what the container set on top
of its image is carried over, so the previous image keeps its own defaults (PATH, CMD,
healthcheck) unless the deployment overrode them.

    {{ handler_info.container | container_spec(current_image_info.images | first | default({})) }}
"""
from __future__ import annotations

from typing import Any

#: Labels that describe the old container, not the deployment; the rollback adds its own.
_VOLATILE_LABEL_PREFIXES = ("prelive.rolled_back_from", "prelive.standby.", "org.opencontainers.image.")


def _env_dict(entries: list[str] | None) -> dict[str, str]:
    pairs = (entry.partition("=") for entry in entries or [])
    return {key: value for key, _, value in pairs if key}


def _duration(ns: int | None) -> str | None:
    return f"{int(ns) // 1_000_000}ms" if ns else None


def _healthcheck(config: dict[str, Any], image_config: dict[str, Any]) -> dict[str, Any] | None:
    check = config.get("Healthcheck")
    if not check or check == image_config.get("Healthcheck"):
        return None
    spec = {"test": check.get("Test"), "interval": _duration(check.get("Interval")),
            "timeout": _duration(check.get("Timeout")), "start_period": _duration(check.get("StartPeriod")),
            "retries": check.get("Retries")}
    return {key: value for key, value in spec.items() if value}


def _networks(container: dict[str, Any]) -> list[dict[str, Any]]:
    short_id = container.get("Id", "")[:12]
    networks = []
    for name, settings in (container.get("NetworkSettings", {}).get("Networks") or {}).items():
        if name in ("bridge", "host", "none"):
            continue
        aliases = [a for a in (settings or {}).get("Aliases") or [] if a != short_id]
        networks.append({"name": name, "aliases": aliases} if aliases else {"name": name})
    return networks


def _published_ports(host_config: dict[str, Any]) -> list[str]:
    ports = []
    for container_port, bindings in (host_config.get("PortBindings") or {}).items():
        for binding in bindings or []:
            host_ip, host_port = binding.get("HostIp") or "", binding.get("HostPort") or ""
            prefix = f"{host_ip}:{host_port}:" if host_ip else (f"{host_port}:" if host_port else "")
            ports.append(prefix + container_port)
    return ports


def _mounts(container: dict[str, Any]) -> list[dict[str, Any]]:
    mounts = []
    for mount in container.get("Mounts") or []:
        kind = mount.get("Type")
        source = mount.get("Name") if kind == "volume" else mount.get("Source")
        if kind not in ("bind", "volume") or not source:
            continue
        mounts.append({"type": kind, "source": source, "target": mount["Destination"],
                       "read_only": not mount.get("RW", True)})
    return mounts


def container_spec(container: dict[str, Any], image: dict[str, Any] | None = None) -> dict[str, Any]:
    """docker_container options for a new container set up like ``container``.

    ``container`` is ``docker_container_info``'s ``container``; ``image`` is the inspect result
    of the image it runs (``docker_image_info``'s first image), used to leave image defaults out.
    Keys whose value the image already provides are omitted; use ``| default(omit)`` per key.
    """
    config = container.get("Config") or {}
    host_config = container.get("HostConfig") or {}
    image_config = (image or {}).get("Config") or {}

    image_env = _env_dict(image_config.get("Env"))
    env = {k: v for k, v in _env_dict(config.get("Env")).items() if image_env.get(k) != v}
    image_labels = image_config.get("Labels") or {}
    labels = {k: v for k, v in (config.get("Labels") or {}).items()
              if image_labels.get(k) != v and not k.startswith(_VOLATILE_LABEL_PREFIXES)}

    spec: dict[str, Any] = {
        "env": env,
        "labels": labels,
        "networks": _networks(container),
        "published_ports": _published_ports(host_config),
        "mounts": _mounts(container),
        "restart_policy": (host_config.get("RestartPolicy") or {}).get("Name") or "no",
        "init": bool(host_config.get("Init")),
        "extra_hosts": {h.partition(":")[0]: h.partition(":")[2] for h in host_config.get("ExtraHosts") or []},
    }
    if config.get("Cmd") and config.get("Cmd") != image_config.get("Cmd"):
        spec["command"] = config["Cmd"]
    if config.get("Entrypoint") and config.get("Entrypoint") != image_config.get("Entrypoint"):
        spec["entrypoint"] = config["Entrypoint"]
    for option, key in (("working_dir", "WorkingDir"), ("user", "User"), ("stop_signal", "StopSignal")):
        if config.get(key) and config.get(key) != image_config.get(key):
            spec[option] = config[key]
    if config.get("StopTimeout") is not None:
        spec["stop_timeout"] = config["StopTimeout"]
    network_mode = host_config.get("NetworkMode")
    if network_mode and network_mode not in ("default", "bridge") and not network_mode.startswith("container:"):
        spec["network_mode"] = network_mode
    if host_config.get("Memory"):
        spec["memory"] = str(host_config["Memory"])
    if host_config.get("NanoCpus"):
        spec["cpus"] = host_config["NanoCpus"] / 1e9
    healthcheck = _healthcheck(config, image_config)
    if healthcheck:
        spec["healthcheck"] = healthcheck
    return spec


def env_value(container: dict[str, Any], name: str, default: str = "") -> str:
    """One variable of a container's environment (``PRELIVE_KILL_FILE``, ``IB_CLIENT_ID``)."""
    return _env_dict((container.get("Config") or {}).get("Env")).get(name, default)


def user_ids(container: dict[str, Any]) -> list[int]:
    """[uid, gid] the container runs as, for files written into a container that is not running.

    Only numeric users (``10001:10001``, ``10001``) can be resolved without reading the
    container's /etc/passwd; a named user falls back to root.
    """
    user, _, group = ((container.get("Config") or {}).get("User") or "").partition(":")
    uid = int(user) if user.isdigit() else 0
    return [uid, int(group) if group.isdigit() else uid]


def host_path(container: dict[str, Any], path: str) -> str:
    """Where ``path`` inside the container lives on the Docker host, if on a volume or bind mount ('' if not).

    The Docker host's view: on the control host only when Docker runs there (check with ``is exists``).
    """
    for mount in container.get("Mounts") or []:
        target = (mount.get("Destination") or "").rstrip("/")
        if path and target and mount.get("Source") and (path == target or path.startswith(target + "/")):
            return mount["Source"].rstrip("/") + path[len(target):]
    return ""


def on_mount(container: dict[str, Any], path: str) -> bool:
    """Whether ``path`` inside the container lives on a volume or bind mount (so it outlives the container)."""
    return bool(host_path(container, path))


def position_map(positions: list[dict[str, Any]] | None) -> dict[str, float]:
    """``{"ACCOUNT:SYMBOL": quantity}`` for the positions that are not flat (ib_state output)."""
    return {f"{p['account']}:{p['symbol']}": float(p["position"])
            for p in positions or [] if float(p.get("position") or 0) != 0}


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"container_spec": container_spec, "container_env": env_value,
                "container_user_ids": user_ids, "position_map": position_map,
                "on_mount": on_mount, "host_path": host_path}
