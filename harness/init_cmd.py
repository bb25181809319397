"""``prelive init``: CI workflows and a starting evidence set in the user's repository."""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    @app.command("init")
    def init_cmd(
        handler: Annotated[str, typer.Option(help="Your handler's command line (e.g. \"python bot.py\").")],
        directory: Annotated[Path, typer.Option("--dir", help="The repository to write into.")] = Path("."),
        force: Annotated[bool, typer.Option("--force", help="Overwrite files that exist.")] = False,
        observe: Annotated[bool, typer.Option("--observe/--no-observe", help="Run the handler against the baseline "
                                              "scenario briefly to draft INTERFACE_MAP.yaml from what it sends.")] = True,
        observe_s: Annotated[float, typer.Option(help="Sim seconds of that run.")] = 60.0,
        install: Annotated[str, typer.Option(help="What the CI jobs pip install.")] = "prelive",
        strategy: Annotated[str, typer.Option(help="Strategy name for GOVERNANCE.md.")] = "my strategy",
    ) -> None:
        """Write a GitHub Actions workflow, a GitLab CI job, GOVERNANCE.md and a drafted INTERFACE_MAP.yaml."""
        from harness.init_ci import InitError, init_files, operations_in_event_log, write_files

        if not directory.is_dir():
            typer.echo(f"error: {directory} is not a directory", err=True)
            raise typer.Exit(2)
        operations: list[str] = []
        if observe:
            from harness.runner import RunOptions, run_scenario
            from harness.scenario import load_scenario

            with tempfile.TemporaryDirectory(prefix="prelive-init-") as tmp:
                typer.echo(f"observing `{handler}` for {observe_s:g} sim s of the baseline scenario ...")
                outcome = run_scenario(load_scenario("baseline"),
                                       RunOptions(out_dir=Path(tmp), handler=handler, duration_s=observe_s,
                                                  baseline=False))
                log = Path(tmp) / "baseline" / "events.jsonl"
                if outcome.error or not log.is_file():
                    typer.echo(f"error: the observation run failed: {outcome.error or 'no event log'}; "
                               "fix the handler or use --no-observe", err=True)
                    raise typer.Exit(1)
                operations = operations_in_event_log(log)
        try:
            written = write_files(directory, init_files(handler, operations, strategy, install), force=force)
        except InitError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None
        for path in written:
            typer.echo(f"wrote {path}")
