"""``prelive init``: CI workflows and a starting evidence set in the user's repository."""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer

#: Wall seconds the observation run lasts at most slowed: room for the handler's start-up and first requests.
OBSERVE_WALL_S = 10.0


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
        scenarios: Annotated[str | None, typer.Option(help="What the shard jobs run (files, globs or shipped names, "
                                                       "space-separated; default: scenarios/*.yaml when the "
                                                       "repository has that folder, else every shipped "
                                                       "scenario).")] = None,
    ) -> None:
        """Write a GitHub Actions workflow, a GitLab CI job, GOVERNANCE.md and a drafted INTERFACE_MAP.yaml."""
        from harness.init_ci import (InitError, default_scenarios, init_files, operations_in_event_log, scenario_names,
                                     write_files)

        if not directory.is_dir():
            typer.echo(f"error: {directory} is not a directory", err=True)
            raise typer.Exit(2)
        operations: list[str] = []
        if observe:
            from harness.runner import RunOptions, run_scenario
            from harness.scenario import load_scenario

            with tempfile.TemporaryDirectory(prefix="prelive-init-") as tmp:
                typer.echo(f"observing `{handler}` for {observe_s:g} sim s of the baseline scenario ...")
                baseline = load_scenario("baseline")
                # the handler's start-up (imports, connect) costs wall time whatever the speed: at the
                # scenario's own speed a one-minute look could end before the handler sends a request
                speed = min(baseline.speed, max(1.0, observe_s / OBSERVE_WALL_S))
                outcome = run_scenario(baseline,
                                       RunOptions(out_dir=Path(tmp), handler=handler, duration_s=observe_s,
                                                  speed=speed, baseline=False))
                log = Path(tmp) / "baseline" / "events.jsonl"
                if outcome.error or not log.is_file():
                    typer.echo(f"error: the observation run failed: {outcome.error or 'no event log'}; "
                               "fix the handler or use --no-observe", err=True)
                    raise typer.Exit(1)
                operations = operations_in_event_log(log)
        try:
            selected = scenarios if scenarios is not None else default_scenarios(directory)
            files = init_files(handler, operations, strategy, install, scenarios=selected,
                               scenarios_run=scenario_names(directory, selected))
            written = write_files(directory, files, force=force)
        except InitError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None
        for path in written:
            typer.echo(f"wrote {path}")

    evidence_app = typer.Typer(help="Evidence files for the gates, from CI jobs.", no_args_is_help=True)
    app.add_typer(evidence_app, name="evidence")

    @evidence_app.command("merge")
    def evidence_merge_cmd(
        inputs: Annotated[list[Path], typer.Argument(help="The shards' JUnit files (*.xml) and run folders "
                                                          "(or their summary.json).")],
        junit_xml: Annotated[Path | None, typer.Option("--junit-xml", help="Write the merged JUnit here "
                                                       "(junit-stages.xml for gate 5).")] = None,
        summary: Annotated[Path | None, typer.Option(help="Write the merged summary.json here.")] = None,
        shards: Annotated[int | None, typer.Option(min=1, help="The matrix size: every shard 1..N must be "
                                                   "among the inputs.")] = None,
    ) -> None:
        """Merge CI shards' JUnit files and summaries into one of each (nothing is written on an error).

        Exit codes: 0 merged (whatever the scenarios' verdicts: the gates judge them), 2 an input
        cannot be merged (malformed, duplicated, a shard missing)."""
        from harness.evidence_merge import EvidenceMergeError, merge_evidence, split_inputs

        if junit_xml is None and summary is None:
            typer.echo("error: give --junit-xml OUT, --summary OUT or both", err=True)
            raise typer.Exit(2)
        for out in (junit_xml, summary):
            if out is not None and out.is_dir():
                typer.echo(f"error: {out} is a directory; give a file path", err=True)
                raise typer.Exit(2)
        try:
            junit_in, summary_in = split_inputs(inputs)
            if junit_xml is None:
                junit_in = []
            if summary is None:
                summary_in = []
            result = merge_evidence(junit_in, summary_in, junit_out=junit_xml, summary_out=summary,
                                    expect_shards=shards)
        except EvidenceMergeError as exc:
            typer.echo(f"error: {exc}\nNothing was written.", err=True)
            raise typer.Exit(2) from None
        if result.junit is not None:
            c = result.junit
            typer.echo(f"{junit_xml}: {c.tests} test(s) from {len(junit_in)} file(s): {c.passed} passed, "
                       f"{c.failures} failed, {c.errors} errors, {c.skipped} skipped")
        if result.summary is not None:
            s = result.summary
            counts = ", ".join(f"{n} {v}" for v, n in s["counts"].items() if n)
            typer.echo(f"{summary}: {len(s['scenarios'])} scenario(s) from {len(summary_in)} shard(s): "
                       f"{counts or 'none'}; overall {s['verdict']}")
