"""CLI: ``prelive drill`` (rollback drill) and ``prelive switchover`` (mock -> paper stack)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Optional

import typer

INVENTORY_HELP = "mock | paper | path to an Ansible inventory"
SET_HELP = "override an inventory variable, KEY=VALUE (YAML value); repeatable"
LIVE_HELP = "allow a live account or live port (4001/7496): only if you really mean live money"


def parse_overrides(pairs: Sequence[str]) -> dict[str, Any]:
    """``["gateway_port=4002", "flatten_positions=true"]`` -> typed values (YAML scalars, lists, maps)."""
    import yaml

    overrides: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="--set")
        overrides[key.strip()] = yaml.safe_load(value) if value else ""
    return overrides


def render_steps(title: str, record: Mapping[str, Any], window_key: str, window_label: str) -> None:
    """A table of the steps with their timings, then the verdict line."""
    from rich.console import Console
    from rich.table import Table

    marks = {"ok": "[green]ok[/]", "failed": "[bold red]FAILED[/]", "skipped": "[dim]skipped[/]"}
    table = Table(title=title, title_justify="left")
    table.add_column("step")
    table.add_column("tag", style="dim")
    table.add_column("result")
    table.add_column("seconds", justify="right")
    for step in record["steps"]:
        table.add_row(step["name"], step["tag"], marks.get(step["result"], step["result"]), f"{step['duration_s']:.2f}")
    console = Console()
    console.print(table)
    window = record.get(window_key)
    threshold = record.get("threshold_s")
    limit = f" (threshold {threshold:g} s)" if threshold else ""
    console.print(f"{window_label}: {window:.2f} s{limit}" if window is not None else f"{window_label}: n/a")
    if record.get("failed_step"):
        console.print(f"[bold red]FAILED at step {record['failed_step']}[/]: {record.get('failure') or ''}")
    console.print("[bold green]PASSED[/]" if record["passed"] else "[bold red]NOT PASSED[/]")


def register(app: typer.Typer) -> None:
    """Add this area's commands to app."""

    @app.command()
    def drill(
        inventory: str = typer.Option("mock", "--inventory", "-i", help=INVENTORY_HELP),
        out: Path = typer.Option(Path("."), "--out", help="evidence folder for ROLLBACK_DRILL.json and KILL_SWITCH.json"),
        env_file: Optional[Path] = typer.Option(None, "--env-file", help="paper inventory: env file with IB_ACCOUNT (default compose/paper.env)"),
        set_: list[str] = typer.Option([], "--set", help=SET_HELP),
        threshold: Optional[float] = typer.Option(None, "--threshold", help="recovery threshold in s (inventory: recovery_threshold_s, default 30)"),
        live: bool = typer.Option(False, "--i-understand-this-is-live", help=LIVE_HELP),
    ) -> None:
        """Rollback drill: kill switch, previous release, handshake, reconciled state; timed (gate 8)."""
        from harness.drill.rollback import run_drill

        overrides = parse_overrides(set_)
        if env_file is not None:
            overrides["paper_env_file"] = str(env_file.resolve())
        outcome = _guarded(lambda: run_drill(inventory, out, overrides=overrides, threshold_s=threshold,
                                             allow_live=live))
        render_steps(f"Rollback drill ({outcome.record['target']})", outcome.record, "total_recovery_s", "recovery")
        typer.echo(f"wrote {outcome.path}")
        raise typer.Exit(0 if outcome.record["passed"] else 1)

    @app.command()
    def switchover(
        inventory: str = typer.Option("paper", "--inventory", "-i", help=INVENTORY_HELP),
        out: Path = typer.Option(Path("."), "--out", help="evidence folder for SWITCHOVER.json and ACCOUNT_CONFIG.json"),
        env_file: Optional[Path] = typer.Option(None, "--env-file", help="env file with TWS_USERID, TWS_PASSWORD, IB_ACCOUNT (default compose/paper.env)"),
        set_: list[str] = typer.Option([], "--set", help=SET_HELP),
        live: bool = typer.Option(False, "--i-understand-this-is-live", help=LIVE_HELP),
    ) -> None:
        """Move the handler from the mock stack to the paper stack; restore the mock stack if a check fails."""
        from harness.switchover import run_switchover

        overrides = parse_overrides(set_)
        if env_file is not None:
            overrides["paper_env_file"] = str(env_file.resolve())
        outcome = _guarded(lambda: run_switchover(inventory, out, overrides=overrides, allow_live=live))
        record = outcome.record
        render_steps(f"Switchover {record.get('from_target')} -> {record.get('to_target')}", record,
                     "switchover_s", "switchover")
        if record.get("restored"):
            typer.echo(f"restored the previous target: {record.get('from_target')}")
        typer.echo(f"wrote {outcome.path}")
        raise typer.Exit(0 if record["passed"] else 1)


def _guarded(action: Any) -> Any:
    """Run a drill; a refused target or a runner that cannot start is a clear one-line error."""
    from harness.drill.runner import PlaybookError
    from harness.safety import LiveAccountRefused

    try:
        return action()
    except LiveAccountRefused as exc:
        typer.echo(f"REFUSED: {exc}", err=True)
        raise typer.Exit(2) from None
    except PlaybookError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
