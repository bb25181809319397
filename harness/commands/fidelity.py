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

    @app.command("diff")
    def diff(
        session: Annotated[Path, typer.Argument(help="A recorded session's event log (prelive tap, or a mock run).")],
        scenario: Annotated[Optional[Path], typer.Option(help="Scenario of the mock to replay against (default: "
                                                              "the session calibrated on the fly).")] = None,
        out: Annotated[Path, typer.Option(help="Directory for FIDELITY_DIFF.json / FIDELITY_DIFF.md.")] = Path("."),
        speed: Annotated[Optional[float], typer.Option(help="Replay this many times faster than recorded "
                                                            "(default: the scenario's speed).")] = None,
        allow_truncated: Annotated[bool, typer.Option("--allow-truncated")] = False,
    ) -> None:
        """Replay a session's requests against the mock; compare the answers request by request."""
        import tempfile

        from harness.calibrate.scenario_writer import calibrate_events, write_calibration
        from harness.calibrate.session import SessionLogError, read_session
        from harness.diff.answers import compare_sessions
        from harness.diff.replay import ReplayError, plan_replay, replay_against_mock
        from harness.diff.report import table_lines, write_report
        from harness.scenario import ScenarioError, load_scenario

        if speed is not None and not speed > 0:
            raise _die("--speed must be > 0", EXIT_USAGE)
        try:
            events = read_session(session, allow_truncated=allow_truncated)
            out.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(prefix="prelive-diff-") as tmp:
                if scenario is None:
                    cal = calibrate_events(events, "calibrated")
                    sc = load_scenario(write_calibration(cal, Path(tmp) / "calibrated.yaml", source=session.name))
                else:
                    sc = load_scenario(scenario)
                replayed = replay_against_mock(events, sc, out / "replay_events.jsonl", speed=speed)
            report = compare_sessions(events, replayed)
        except SessionLogError as exc:
            raise _die(str(exc)) from None
        except ScenarioError as exc:
            raise _die(str(exc)) from None
        except (ReplayError, OSError) as exc:
            raise _die(f"replay failed: {exc}") from None
        meta = {"session": str(session), "scenario": str(scenario or "calibrated from the session"),
                "replay_log": str(out / "replay_events.jsonl"),
                "not_replayed": plan_replay(events).skipped[:20]}
        json_path, md_path = write_report(report, out, meta)
        for line in table_lines(report):
            typer.echo(line)
        typer.echo(f"wrote {json_path} and {md_path}")
