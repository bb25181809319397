"""``prelive scenarios``: list the shipped scenarios, check scenario files, list fault types."""
from __future__ import annotations

import inspect
from pathlib import Path
from typing import Annotated

import typer


def _one_line(doc: str | None) -> str:
    return inspect.cleandoc(doc or "").split("\n\n")[0].replace("\n", " ")


def register(app: typer.Typer) -> None:
    """Add this area's commands to app."""
    scenarios = typer.Typer(help="Shipped scenarios, scenario file checks, fault types.", add_completion=False)

    @scenarios.callback(invoke_without_command=True)
    def list_scenarios(ctx: typer.Context) -> None:
        """List the shipped scenarios with a one-line description."""
        if ctx.invoked_subcommand is not None:
            return
        from harness.scenario import SCENARIOS_DIR, ScenarioError, load_scenario, shipped_scenarios

        files = shipped_scenarios()
        if not files:
            typer.echo(f"no scenario files in {SCENARIOS_DIR}", err=True)
            raise typer.Exit(1)
        rows, broken = [], []
        for f in files:
            try:
                s = load_scenario(f)
            except ScenarioError as e:
                broken.append(str(e))
                continue
            wall_s = s.duration_s / s.speed
            rows.append((s.name, f"{s.duration_s:g} s @ x{s.speed:g} (~{wall_s:.0f} s wall)", s.description))
        width = max(len(r[0]) for r in rows) if rows else 0
        twidth = max(len(r[1]) for r in rows) if rows else 0
        for name, timing, desc in rows:
            typer.echo(f"{name:<{width}}  {timing:<{twidth}}  {desc}")
        for problem in broken:
            typer.echo(f"invalid: {problem}", err=True)
        if broken:
            raise typer.Exit(1)

    @scenarios.command("validate")
    def validate(files: Annotated[list[Path], typer.Argument(help="scenario files (or shipped names)")],
                 data_dir: Annotated[list[Path] | None, typer.Option(
                     "--data-dir", help="a folder a scenario may name files in besides its own (repeatable; "
                                        "default: PRELIVE_DATA_DIRS)")] = None) -> None:
        """Check scenario files without starting anything; exit 1 if any is broken."""
        from harness.scenario import ScenarioError, load_scenario

        failed = 0
        for f in files:
            try:
                s = load_scenario(f, data_dirs=data_dir or None)
            except ScenarioError as e:
                failed += 1
                typer.echo(str(e), err=True)
                continue
            typer.echo(f"{s.source}: ok ({s.name}: {len(s.faults)} fault(s), {s.duration_s:g} s at x{s.speed:g})")
        if failed:
            raise typer.Exit(1)

    @scenarios.command("faults")
    def fault_types() -> None:
        """List the fault types a scenario's ``faults:`` may use, with their parameters."""
        import dataclasses

        from mock_gateway.faults.registry import FAULT_TYPES

        for name, cls in FAULT_TYPES.items():
            params = [f.name for f in dataclasses.fields(cls) if f.init and f.name not in ("type", "seed")]
            typer.echo(f"{name}: {_one_line(cls.__doc__)}")
            typer.echo(f"    params: {', '.join(params)}")

    app.add_typer(scenarios, name="scenarios")
