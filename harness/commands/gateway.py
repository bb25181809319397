"""CLI commands of the gateway area: ``prelive gateway`` (run the mock IB Gateway) and ``prelive demo``."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from mock_gateway.protocol.versions import (
    DEFAULT_MAX_SERVER_VERSION, MAX_SUPPORTED, MAX_TEXT_SERVED, MIN_PROTOBUF_SUPPORTED, MIN_SUPPORTED, supported,
)

EXIT_FAILED, EXIT_USAGE = 1, 2


def _error(message: str, code: int = EXIT_USAGE) -> typer.Exit:
    from rich.console import Console

    Console(stderr=True, soft_wrap=True).print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


def build_config(host: str, port: int, seed: Optional[int], speed: Optional[float], accounts: list[str],
                 event_log: Optional[Path], scenario: Optional[Path], max_server_version: Optional[int]):
    """The GatewayConfig the options describe; a scenario file first, explicit options on top."""
    from mock_gateway.config import AccountConfig, GatewayConfig

    if speed is not None and speed <= 0:
        raise _error(f"--speed must be > 0 (sim seconds per wall second), got {speed:g}")
    if max_server_version is not None and not supported(max_server_version):
        raise _error(f"--max-server-version must be within {MIN_SUPPORTED}..{MAX_TEXT_SERVED} (text protocol) or "
                     f"{MIN_PROTOBUF_SUPPORTED}..{MAX_SUPPORTED} (protobuf), the versions this gateway emulates "
                     f"exactly; got {max_server_version}")
    if any(not a.strip() for a in accounts):
        raise _error("--account needs an account id, e.g. --account DU1234567")
    if scenario is not None:
        from harness.scenario import ScenarioError, load_scenario   # the scenario area's module, loaded on demand

        try:
            # the seed goes into the build: the faults are bound to it there, not only the world
            config = load_scenario(scenario).gateway_config(port=port, event_log=event_log,
                                                            **({"seed": seed} if seed is not None else {}))
        except ScenarioError as exc:
            raise _error(str(exc), EXIT_FAILED) from None
        config.host = host
    else:
        config = GatewayConfig(host=host, port=port, event_log=event_log)
    if seed is not None:
        config.seed = seed
    if speed is not None:
        config.speed = speed
    if accounts:
        config.accounts = [AccountConfig(account_id=a.strip()) for a in accounts]
    if max_server_version is not None:
        config.max_server_version = max_server_version
    return config


async def serve(config, announce) -> None:
    """Run the gateway until SIGINT/SIGTERM; ``announce(gateway)`` once it listens."""
    import asyncio
    import signal

    from mock_gateway.server import Gateway, settle_heap

    gateway = Gateway(config)
    await gateway.start()
    gateway.world.contracts.load_all()   # before the heap is settled: the universe is frozen with the world
    settle_heap()   # one gateway for the process's life: no full-collection stall of its loop later
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    announce(gateway)
    try:
        await stop.wait()
    finally:
        await gateway.stop()


def register(app: typer.Typer) -> None:
    """Add this area's commands to app."""

    @app.command("gateway")
    def gateway(
        host: Annotated[str, typer.Option(help="Interface to listen on (keep it on loopback unless you mean it).")]
            = "127.0.0.1",
        port: Annotated[int, typer.Option(min=0, max=65535, help="TCP port; 0 picks a free one and prints it.")]
            = 4002,
        seed: Annotated[Optional[int], typer.Option(help="Seed of every random stream (market, latency, faults).")]
            = None,
        speed: Annotated[Optional[float], typer.Option(help="Sim seconds per wall second.")] = None,
        account: Annotated[Optional[list[str]], typer.Option("--account", help="Managed account id (repeatable).")]
            = None,
        event_log: Annotated[Optional[Path], typer.Option("--event-log", help="Write the session event log (JSONL).")]
            = None,
        scenario: Annotated[Optional[Path], typer.Option(help="Scenario file: world and faults of the gateway.")]
            = None,
        max_server_version: Annotated[Optional[int], typer.Option(help="Highest API version to negotiate "
                                                                       f"({MIN_SUPPORTED}..{MAX_TEXT_SERVED} or "
                                                                       f"{MIN_PROTOBUF_SUPPORTED}..{MAX_SUPPORTED}; "
                                                                       f"default {DEFAULT_MAX_SERVER_VERSION}, "
                                                                       "the current stable IB Gateway).")] = None,
        verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log every session to stderr.")] = False,
        control: Annotated[Optional[str], typer.Option(
            "--control", metavar="HOST:PORT",
            help="Serve the HTTP fault-control API there (GET/POST/DELETE /faults, GET /status); off unless "
                 "given. Port 0 picks a free one and prints it. Off loopback it needs --control-token.")] = None,
        control_token: Annotated[Optional[str], typer.Option(
            "--control-token", envvar="PRELIVE_CONTROL_TOKEN", show_envvar=True,
            help="Bearer token the control API requires (prefer the environment variable: a command line is "
                 "visible to other users).")] = None,
    ) -> None:
        """Run the mock IB Gateway: real TWS API protocol, simulated market, until Ctrl-C."""
        import asyncio
        import logging

        logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, stream=sys.stderr,
                            format="%(asctime)s %(name)s %(levelname)s %(message)s")
        config = build_config(host, port, seed, speed, account or [], event_log, scenario, max_server_version)
        if control is not None:
            from mock_gateway.faults.http_api import ControlApiConfigError, check_bind, parse_address

            try:
                check_bind(parse_address(control)[0], control_token or None)
            except ControlApiConfigError as exc:
                raise _error(str(exc)) from None
            config.control, config.control_token = control, control_token or None

        def announce(gw) -> None:
            accounts = ",".join(gw.config.account_ids)
            typer.echo(f"mock IB Gateway listening on {gw.host}:{gw.port} (accounts {accounts}, seed "
                       f"{gw.config.seed}, speed {gw.config.speed:g})", err=False)
            if gw.control is not None:
                typer.echo(f"fault control API on {gw.control.url}" + (" (bearer token required)"
                                                                       if gw.config.control_token else ""))
            sys.stdout.flush()

        try:
            asyncio.run(serve(config, announce))
        except OSError as exc:
            from mock_gateway.faults.http_api import ControlListenError

            if isinstance(exc, ControlListenError):
                raise _error(exc.strerror or str(exc), EXIT_FAILED) from None
            raise _error(f"cannot listen on {config.host}:{config.port}: {exc.strerror or exc}. Is another gateway "
                         "running there? Pick another --port (0 chooses a free one).", EXIT_FAILED) from None
        except KeyboardInterrupt:
            pass

    @app.command("demo")
    def demo(
        event_log: Annotated[Optional[Path], typer.Option("--event-log", help="Also write the session event log.")]
            = None,
        seed: Annotated[int, typer.Option(help="Seed of the simulated market.")] = 42,
    ) -> None:
        """Start an in-process mock gateway and trade against it with ib_insync: what prelive tests with."""
        from harness.demo import DemoError, run_demo

        try:
            run_demo(seed=seed, event_log=event_log)
        except DemoError as exc:
            raise _error(str(exc), EXIT_FAILED) from None
