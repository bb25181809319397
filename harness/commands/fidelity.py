"""CLI commands ``calibrate`` (a recorded session -> a scenario) and ``diff`` (the mock vs the session)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

EXIT_FAILED, EXIT_USAGE = 1, 2


def _die(message: str, code: int = EXIT_FAILED) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def register(app: typer.Typer) -> None:
    """Add this area's commands to app."""

    @app.command("calibrate")
    def calibrate(
        session: Annotated[Path, typer.Argument(help="A recorded session's event log (prelive tap, or a mock run).")],
        out: Annotated[Path, typer.Option("-o", "--out", help="Scenario file to write; latency CSVs go in "
                                                              "data/ beside it.")] = Path("scenarios/calibrated.yaml"),
        name: Annotated[Optional[str], typer.Option(help="Scenario name (default: the output file's stem).")] = None,
        seed: Annotated[int, typer.Option(help="Seed of the calibrated scenario.")] = 42,
        allow_truncated: Annotated[bool, typer.Option("--allow-truncated", help="Use the complete events of a log "
                                                      "whose last line was cut off.")] = False,
    ) -> None:
        """Write a scenario that reproduces a recorded session: latencies, errors, outages, day, universe."""
        from harness.calibrate.scenario_writer import calibrate_events, write_calibration
        from harness.calibrate.session import SessionLogError, read_session
        from harness.scenario import ScenarioError

        try:
            events = read_session(session, allow_truncated=allow_truncated)
            cal = calibrate_events(events, name or out.stem, seed=seed)
            path = write_calibration(cal, out, source=session.name)
        except SessionLogError as exc:
            raise _die(str(exc)) from None
        except ScenarioError as exc:
            raise _die(f"the calibrated scenario does not validate (a calibrate bug; nothing was written):\n{exc}") from None
        except OSError as exc:
            raise _die(f"cannot write {out}: {exc}") from None
        typer.echo(f"wrote {path} ({len(cal.scenario['faults'])} fault(s), {len(cal.samples_files)} latency file(s))")
        for line in cal.inferred:
            typer.echo(f"  inferred: {line}")
        for line in cal.not_inferred:
            typer.echo(f"  not inferred: {line}")
