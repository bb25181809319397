"""The kill switch as the playbooks run it: one process for the whole of step 1 of a rollback.

``prelive kill-switch`` first loads every command module (typer, rich, the gate engine with
pandas): ~0.6 s on an idle machine and more under load, all of it inside the timed recovery.
Each Ansible module task costs another 0.3-1 s (a Docker module ships and starts its own
Python), so this entry point does in one process what step 1 needs:

1. with ``--container``: look the handler's container up (Docker SDK; the same inspect data
   ``docker_container_info`` returns) and halt the handler: its kill file created here when its
   folder is on a mount this host sees, otherwise created inside the container and SIGUSR1 sent
   to PID 1 (``--halt-inside-container`` forces that);
2. the kill switch itself (harness.killswitch: interlock on the login, global cancel, verify);
3. with ``--facts-out``: the positions at the halt (for the reconciliation later) and, with
   ``--inspect-image``, the inspect data of the container's image and of the named images,
   written as JSON for the playbook to read instead of running more modules.

The container's environment may hold credentials, and whatever passes through an Ansible task
is written to its job events: the facts carry the variable names only (values ``<redacted>``),
and ``--env-file-out`` writes the variables the handler's image does not already set to a
0600 env file that the new container is created from (the playbook removes it at the end).

Exit codes and the one-line summary are those of ``prelive kill-switch``: 0 verified, 1 not
verified, 2 refused (live interlock; nothing was sent and no record written).

    python -m harness.drill.kill_switch_step --host H --port P --client-id N --account DU.. --out FILE
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from harness.artifacts import atomic_write_json
from harness.killswitch import DEFAULT_CLIENT_ID, kill_switch
from harness.safety import OVERRIDE_FLAG, LiveAccountRefused

#: What the halt runs inside the container when the kill file is not on a mount this host sees.
HALT_INSIDE = ["sh", "-c", 'if [ -n "$PRELIVE_KILL_FILE" ]; then : > "$PRELIVE_KILL_FILE"; fi; kill -USR1 1']


def _filters() -> Any:
    """The playbooks' own filter plugin (one definition of host_path / container_env)."""
    path = Path(__file__).resolve().parents[2] / "playbooks" / "filter_plugins" / "container_spec.py"
    spec = importlib.util.spec_from_file_location("prelive_container_filters", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def _docker() -> Any:
    from harness.docker.engine import connect

    return connect(timeout_s=10)


def lookup_container(client: Any, name: str) -> dict[str, Any] | None:
    """The container's inspect data, None when there is no such container."""
    import docker.errors

    try:
        return client.containers.get(name).attrs
    except docker.errors.NotFound:
        return None


def halt_handler(client: Any, container: dict[str, Any] | None, inside: bool) -> tuple[str | None, str]:
    """(kill file to create on this host, how the handler is halted). Runs the in-container halt now."""
    if container is None:
        return None, "no handler container"
    filters = _filters()
    in_container = filters.env_value(container, "PRELIVE_KILL_FILE")
    on_host = filters.host_path(container, in_container) if in_container else ""
    if on_host and Path(on_host).parent.is_dir() and not inside:
        return on_host, "kill file on the host"
    if (container.get("State") or {}).get("Running"):
        client.containers.get(container["Id"]).exec_run(HALT_INSIDE)
        return None, "kill file inside the container + SIGUSR1"
    return None, "handler container not running"


def inspect_images(client: Any, container: dict[str, Any] | None, names: list[str]) -> list[dict[str, Any]]:
    """The container's image first, then each named image that exists (as docker_image_info lists them)."""
    import docker.errors

    wanted = ([container["Image"]] if container else []) + names
    images, seen = [], set()
    for name in wanted:
        try:
            attrs = client.images.get(name).attrs
        except docker.errors.ImageNotFound:
            continue
        if attrs["Id"] not in seen:
            seen.add(attrs["Id"])
            images.append(attrs)
    return images


REDACTED = "<redacted>"
#: Environment variables whose values the facts keep (the contract's own, contracts §5, and the
#: image's plumbing); every other value is redacted.
ENV_KEPT = frozenset({"IB_HOST", "IB_PORT", "IB_CLIENT_ID", "IB_ACCOUNT", "PRELIVE_KILL_FILE", "PATH", "HOME",
                      "LANG", "LC_ALL", "TZ", "PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE", "VIRTUAL_ENV"})


def redact_env(container: dict[str, Any] | None) -> dict[str, Any] | None:
    """The inspect data with environment values replaced, except :data:`ENV_KEPT` (names always stay)."""
    if container is None:
        return None
    config = dict(container.get("Config") or {})
    config["Env"] = [entry if entry.partition("=")[0] in ENV_KEPT else f"{entry.partition('=')[0]}={REDACTED}"
                     for entry in config.get("Env") or []]
    return {**container, "Config": config}


def write_env_file(path: Path, container: dict[str, Any], image: dict[str, Any] | None) -> int:
    """The variables the container sets beyond its image's defaults, as a 0600 docker env file."""
    filters = _filters()
    image_env = filters._env_dict(((image or {}).get("Config") or {}).get("Env"))
    env = {k: v for k, v in filters._env_dict((container.get("Config") or {}).get("Env")).items()
           if image_env.get(k) != v and "\n" not in v}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write("".join(f"{k}={v}\n" for k, v in env.items()))
    return len(env)


def positions_at_halt(host: str, port: int, client_id: int) -> list[dict[str, Any]] | None:
    from harness.drill.ib_state import GatewayUnavailable, read_state

    try:
        return [asdict(p) for p in read_state(host, port, client_id, 5.0, positions=True).positions or []]
    except GatewayUnavailable:
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.drill.kill_switch_step", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4002)
    parser.add_argument("--client-id", type=int, default=DEFAULT_CLIENT_ID)
    parser.add_argument("--account", default=None)
    parser.add_argument("--kill-file", type=Path, default=None, help="the handler's kill file, created first")
    parser.add_argument("--container", default=None, help="the handler's container: look it up and halt it")
    parser.add_argument("--halt-inside-container", action="store_true",
                        help="halt inside the container even when its kill file is on a mount this host sees")
    parser.add_argument("--facts-out", type=Path, default=None,
                        help="write the container, its images and the positions at the halt here (JSON)")
    parser.add_argument("--inspect-image", action="append", default=[], help="also inspect this image (repeatable)")
    parser.add_argument("--env-file-out", type=Path, default=None,
                        help="write the container's own environment here (0600 env file) for recreating it")
    parser.add_argument("--flatten", action="store_true")
    parser.add_argument("--timeout", type=float, default=15.0)
    parser.add_argument("--out", type=Path, default=Path("KILL_SWITCH.json"))
    parser.add_argument(OVERRIDE_FLAG, dest="allow_live", action="store_true")
    args = parser.parse_args(argv)
    t0 = time.monotonic()
    facts: dict[str, Any] = {"container": None, "exists": False, "images": [], "positions": None, "halt": None}
    kill_file = args.kill_file
    client = None
    if args.container:
        try:
            client = _docker()
            container = lookup_container(client, args.container)
            facts.update(container=container, exists=container is not None)
            on_host, facts["halt"] = halt_handler(client, container, args.halt_inside_container)
            kill_file = kill_file or (Path(on_host) if on_host else None)
        except Exception as exc:  # the cancel must still run: a Docker failure is reported, not fatal
            facts["halt"] = f"handler not halted: {type(exc).__name__}: {exc}"
            print(f"warning: {facts['halt']}", file=sys.stderr)
    try:
        result = kill_switch(args.host, args.port, args.out, client_id=args.client_id, account=args.account or None,
                             kill_file=kill_file, flatten=args.flatten, timeout_s=args.timeout,
                             allow_live=args.allow_live)
    except LiveAccountRefused as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 2
    if args.facts_out is not None:
        if result.verified:
            facts["positions"] = positions_at_halt(args.host, args.port, args.client_id)
        if client is not None and args.inspect_image:
            facts["images"] = inspect_images(client, facts["container"], args.inspect_image)
        if args.env_file_out is not None and facts["container"] is not None:
            facts["env_file"] = str(args.env_file_out)
            facts["env_count"] = write_env_file(args.env_file_out, facts["container"],
                                                facts["images"][0] if facts["images"] else None)
        facts["container"] = redact_env(facts["container"])
        facts["images"] = [redact_env(i) for i in facts["images"]]
        facts["step_s"] = round(time.monotonic() - t0, 3)
        atomic_write_json(args.facts_out, facts)
    print(f"kill switch {'verified' if result.verified else 'NOT verified'}: open orders "
          f"{result.open_orders_before} -> {result.open_orders_after}, cancelled {result.cancelled}"
          + (f", flattened {result.flattened}" if args.flatten else "") + (f" ({result.error})" if result.error else "")
          + (f"; handler: {facts['halt']}" if args.container else ""))
    print(f"wrote {args.out}")
    if not result.verified:
        print(f"the kill switch could not verify zero open orders{': ' + result.error if result.error else ''}",
              file=sys.stderr)
    return 0 if result.verified and (result.flattened or not args.flatten) else 1


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["main", "lookup_container", "halt_handler", "inspect_images", "positions_at_halt"]
