"""CLI commands of the harness area: ``run``, ``probe``, ``paper``, ``tap``, ``kill-switch``."""
from __future__ import annotations

import math
import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from harness.safety import OVERRIDE_FLAG

if TYPE_CHECKING:
    from harness.scenario import Scenario

LiveOpt = typer.Option(False, OVERRIDE_FLAG, help="Allow a live account or live port (4001/7496). Dangerous.")
EXIT_FAILED, EXIT_USAGE = 1, 2

RUN_EPILOG = (
    "Exit codes: 0 every scenario PASSED (each expectation held and each fault acted); "
    "1 an expectation FAILED (the console names its first cause); "
    "2 usage error (bad option, invalid scenario file or --set); "
    "3 NOT EXERCISED (nothing failed but a fault never acted, or an error to survive never happened: "
    "the run proves nothing about it); "
    "4 setup error (handler not found, libfaketime missing, port taken, Docker unavailable); "
    "130 interrupted. With several scenarios the first of 4, 1, 3 that occurs wins."
)


def _parse_sets(items: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise _die(f"--set takes KEY=VALUE (e.g. --set seed=7), got {item!r}")
        out[key.strip()] = value
    return out


def _console(stderr: bool = False):  # type: ignore[no-untyped-def]
    from rich.console import Console
    return Console(stderr=stderr, soft_wrap=True)


def _die(message: str, code: int = EXIT_USAGE) -> typer.Exit:
    _console(stderr=True).print(f"[bold red]error:[/] {message}", highlight=False, markup=True)
    return typer.Exit(code)


def _sigterm_as_interrupt() -> None:
    """SIGTERM stops a run the way Ctrl-C does: the handler and gateway are stopped in finally blocks."""
    def raise_interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, raise_interrupt)


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _check_out_dir(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise _die(f"--out {out} exists and is not a directory")


def _load_scenarios(names: list[str], overrides: dict[str, str] | None = None) -> list[Scenario]:
    from harness.scenario import ScenarioError, load_scenario
    loaded, problems = [], []
    for name in names:
        try:
            loaded.append(load_scenario(name, overrides))
        except ScenarioError as exc:
            problems.append(str(exc))
    if problems:
        raise _die("\n".join(problems))
    return loaded


def register(app: typer.Typer) -> None:
    """Add this area's commands to app."""

    @app.command("run", epilog=RUN_EPILOG)
    def run(
        scenarios: Annotated[list[str], typer.Argument(help="Scenario files or shipped names (baseline, ...).")],
        handler: Annotated[Optional[str], typer.Option(help="Handler command line or package.module:function "
                                                            "(default: the scenario's handler).")] = None,
        jobs: Annotated[int, typer.Option("--jobs", "-j", help="Scenarios run in parallel.")] = 1,
        shard: Annotated[Optional[str], typer.Option(help="Run only shard i of n (e.g. 2/4), for CI matrices.")] = None,
        out: Annotated[Path, typer.Option(help="Output directory (one sub-directory per scenario).")] = Path("prelive-runs"),
        junit_xml: Annotated[Optional[Path], typer.Option("--junit-xml", help="Also write JUnit XML here: one "
                                                          "testcase per scenario, the first cause as the failure "
                                                          "message.")] = None,
        summary: Annotated[Optional[Path], typer.Option(help="Where to write summary.json (every scenario's "
                                                         "verdict, first cause, metrics, wall time; default: "
                                                         "OUT/summary.json).")] = None,
        mode: Annotated[str, typer.Option(help="inprocess (default) or container.")] = "inprocess",
        speed: Annotated[Optional[float], typer.Option(help="Override the scenarios' clock speed.")] = None,
        duration: Annotated[Optional[float], typer.Option(help="Override the scenarios' length (sim seconds).")] = None,
        baseline: Annotated[Optional[bool], typer.Option("--baseline/--no-baseline",
                                                         help="Also run the fault-free baseline (default: only when "
                                                              "an expectation needs it).")] = None,
        gates_config: Annotated[Optional[Path], typer.Option(help="Gates config for the METRICS.csv targets.")] = None,
        real_clock: Annotated[bool, typer.Option("--real-clock", help="Run the handler on the real clock (no "
                                                  "libfaketime): for static binaries or handlers that must not be "
                                                  "faked; timers then ignore --speed.")] = False,
        symbols: Annotated[Optional[str], typer.Option(help="Comma list of symbols replacing the scenarios' market "
                                                            "(same as --set market.symbols=[A,B]).")] = None,
        set_: Annotated[Optional[list[str]], typer.Option("--set", help="KEY=VALUE into the scenario file before "
                                                          "validation, dotted (seed=7, market.volatility_annual=0.3, "
                                                          "faults.0.max_per_s=40, handler.env.MY_VAR=x); "
                                                          "repeatable.")] = None,
    ) -> None:
        """Run scenarios against a handler on the scenario's clock; the exit code says the verdict (below)."""
        from harness.runner import RunError, RunOptions, parse_shard, run_many, select_shard

        if mode not in ("inprocess", "container"):
            raise _die(f"--mode must be inprocess or container, got {mode!r}")
        _check_out_dir(out)
        for report in (junit_xml, summary):
            if report is not None and report.is_dir():
                raise _die(f"{report} is a directory; give a file path for --junit-xml and --summary")
        if speed is not None and speed <= 0 or duration is not None and duration <= 0:
            raise _die("--speed and --duration must be positive")
        overrides = _parse_sets(set_ or [])
        if symbols is not None:
            names = [x.strip() for x in symbols.split(",") if x.strip()]
            if not names:
                raise _die("--symbols needs at least one symbol, e.g. --symbols EURUSD,GBPUSD")
            overrides["market.symbols"] = "[" + ", ".join(names) + "]"
        try:
            selected = select_shard(_load_scenarios(scenarios, overrides), parse_shard(shard))
        except RunError as exc:
            raise _die(str(exc)) from None
        if not selected:
            _console().print(f"shard {shard}: no scenarios to run")
            # Empty reports still say the shard ran (prelive evidence merge counts every shard 1..n).
            _write_ci_reports([], summary or out / "summary.json", junit_xml, shard, time.time())
            return
        options = RunOptions(out_dir=out, handler=handler, mode=mode, speed=speed, duration_s=duration,
                             baseline=baseline, gates_config=gates_config, real_clock=real_clock,
                             overrides=overrides)
        _sigterm_as_interrupt()
        started_at = time.time()
        try:
            outcomes = _with_progress(lambda cb: run_many(selected, options, jobs, cb), selected, options)
        except RunError as exc:
            raise _die(str(exc)) from None
        except KeyboardInterrupt:
            raise _die("interrupted; handlers and gateways stopped", 130) from None
        _write_ci_reports(outcomes, summary or out / "summary.json", junit_xml, shard, started_at)
        _summary_table(outcomes)
        from harness.expectations import EXIT_CODES, worst
        code = EXIT_CODES[worst([o.verdict for o in outcomes])]
        if code:
            raise typer.Exit(code)

    @app.command("probe")
    def probe_cmd(
        host: Annotated[str, typer.Option(help="Gateway host.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Gateway API port (paper: 4002 Gateway, 7497 TWS).")] = 4002,
        client_id: Annotated[int, typer.Option(help="Client id of the probe's own connection.")] = 998,
        account: Annotated[Optional[str], typer.Option(help="Account to probe (default: the first managed).")] = None,
        expect: Annotated[str, typer.Option(help="Trading permissions the account must have (comma list of "
                                                 "security types).")] = "STK",
        mock: Annotated[Optional[str], typer.Option(help="Start this scenario's mock gateway in-process and probe "
                                                         "it (ignores --host/--port).")] = None,
        out: Annotated[Path, typer.Option(help="Where to write ACCOUNT_CONFIG.json.")] = Path("ACCOUNT_CONFIG.json"),
        timeout: Annotated[float, typer.Option(help="Seconds per request.")] = 10.0,
        i_understand_this_is_live: bool = LiveOpt,
    ) -> None:
        """Stage 6: probe the account behind a gateway -> ACCOUNT_CONFIG.json."""
        import asyncio

        from harness.artifacts import atomic_write_json
        from harness.probe import ProbeError, ProbeOptions, not_connected_document, probe
        from harness.safety import LiveAccountRefused

        expected = tuple(s.strip().upper() for s in expect.split(",") if s.strip())
        options = ProbeOptions(host=host, port=port, client_id=client_id, account=account,
                               expect_permissions=expected, sec_types=tuple(dict.fromkeys(("STK", "CASH") + expected)),
                               timeout_s=timeout, allow_live=i_understand_this_is_live,
                               gateway_kind="mock" if mock else None)   # else the gateway's replies decide
        unknown = [s for s in options.sec_types if s not in ("STK", "CASH")]
        if unknown:
            raise _die(f"--expect: no probe contract for {', '.join(unknown)} (known: STK, CASH)")
        gateway = None
        try:
            if mock:
                from mock_gateway.server import GatewayThread
                [scenario] = _load_scenarios([mock])
                gateway = GatewayThread(scenario.gateway_config(port=0))
                gw = gateway.start()
                options.host, options.port = gw.host, gw.port
            document = asyncio.run(probe(options))
        except LiveAccountRefused as exc:
            raise _die(f"refused: {exc}") from None
        except ProbeError as exc:
            atomic_write_json(out, not_connected_document(options, str(exc)))
            raise _die(f"{exc} (wrote {out} with connected: false)", EXIT_FAILED) from None
        finally:
            if gateway is not None:
                gateway.stop()
        atomic_write_json(out, document)
        c = _console()
        c.print(f"account {document['account_id']} ({document['account_type']}), "
                f"buying power {_fmt(document['buying_power'])} {document['base_currency']}, "
                f"net liquidation {_fmt(document['net_liquidation'])}, server version {document['server_version']}")
        trading = document["permissions"]["trading"]
        c.print("permissions: " + ", ".join(f"{k} {'yes' if v['permitted'] else 'no'}" for k, v in trading.items())
                + ("; READ-ONLY API" if document["permissions"]["read_only"] else ""))
        if document["permission_mismatch"]:
            c.print(f"[yellow]permission mismatch: missing {', '.join(document['permissions']['missing']) or '-'}"
                    f"{' (read-only API)' if document['permissions']['read_only'] else ''}[/]")
        if document["gateway"]["kind"] == "mock":
            c.print(f"[yellow]SIMULATED evidence: the gateway is prelive's mock ({document['gateway']['detected_by']})[/]")
        c.print(f"wrote {out}")

    @app.command("paper")
    def paper_cmd(
        scenario: Annotated[Optional[str], typer.Option(help="Mock scenario to paper-trade (with its baseline run).")] = None,
        event_log: Annotated[Optional[Path], typer.Option(help="A recorded session (tap event log) to measure.")] = None,
        baseline_scenario: Annotated[Optional[str], typer.Option(help="With --event-log: scenario replayed in "
                                                                       "the mock as the backtest.")] = None,
        handler: Annotated[Optional[str], typer.Option(help="Handler command or package.module:function.")] = None,
        speed: Annotated[Optional[float], typer.Option(help="Override the clock speed.")] = None,
        duration: Annotated[Optional[float], typer.Option(help="Override the length (sim seconds).")] = None,
        out: Annotated[Path, typer.Option(help="Directory for PAPER_TRADING_LOG.json and "
                                               "PAPER_TRADING_METRICS.csv.")] = Path("."),
        gates_config: Annotated[Optional[Path], typer.Option(help="Gates config for the targets.")] = None,
    ) -> None:
        """Stage 7: paper-trading metrics -> PAPER_TRADING_LOG.json + PAPER_TRADING_METRICS.csv."""
        from harness.paper import PaperError, paper_from_event_log, paper_from_scenario
        from harness.runner import RunOptions

        if (scenario is None) == (event_log is None):
            raise _die("give exactly one of --scenario (a mock run) or --event-log (a recorded session)")
        if baseline_scenario and scenario:
            raise _die("--baseline-scenario goes with --event-log; a --scenario run makes its own baseline")
        _check_out_dir(out)
        options = RunOptions(out_dir=out / "runs", handler=handler, speed=speed, duration_s=duration,
                             gates_config=gates_config)
        _sigterm_as_interrupt()
        try:
            if scenario:
                [sc] = _load_scenarios([scenario])
                result = _with_progress(lambda cb: paper_from_scenario(sc, options, out, cb), [sc], options,
                                        baseline=True)
            else:
                base = _load_scenarios([baseline_scenario])[0] if baseline_scenario else None
                result = paper_from_event_log(event_log, out, baseline_scenario=base, options=options)  # type: ignore[arg-type]
        except (PaperError, OSError) as exc:
            raise _die(str(exc), EXIT_FAILED) from None
        except KeyboardInterrupt:
            raise _die("interrupted", 130) from None
        _metrics_table(result.rows)
        if result.gateway.get("kind") == "mock":
            _console().print(f"[yellow]SIMULATED evidence: the session ran against prelive's mock gateway "
                             f"({result.gateway.get('detected_by')})[/]")
        _console().print(f"wrote {result.log_path} and {result.metrics_path}")

    @app.command("tap")
    def tap_cmd(
        listen: Annotated[str, typer.Option(help="host:port the handler connects to.")] = "127.0.0.1:4003",
        upstream: Annotated[str, typer.Option(help="host:port of the (paper) gateway.")] = "127.0.0.1:4002",
        event_log: Annotated[Path, typer.Option(help="JSONL event log to append to.")] = Path("tap-events.jsonl"),
        i_understand_this_is_live: bool = LiveOpt,
    ) -> None:
        """Transparent recording proxy: forward bytes unchanged, log both directions decoded."""
        import asyncio

        from harness.safety import LiveAccountRefused
        from harness.tap import parse_hostport, serve

        try:
            parse_hostport(listen)
            parse_hostport(upstream)
        except ValueError as exc:
            raise _die(str(exc)) from None

        async def main() -> None:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            await serve(listen, upstream, str(event_log), allow_live=i_understand_this_is_live, stop=stop)

        try:
            asyncio.run(main())
        except LiveAccountRefused as exc:
            raise _die(f"refused: {exc}") from None
        except OSError as exc:
            raise _die(f"cannot listen on {listen}: {exc.strerror or exc}", EXIT_FAILED) from None

    @app.command("kill-switch")
    def kill_switch_cmd(
        host: Annotated[str, typer.Option(help="Gateway host.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Gateway API port.")] = 4002,
        client_id: Annotated[int, typer.Option(help="The kill switch's own client id.")] = 999,
        account: Annotated[Optional[str], typer.Option(help="Account (default: every managed account).")] = None,
        kill_file: Annotated[Optional[Path], typer.Option(help="The handler's PRELIVE_KILL_FILE to create "
                                                                "first.")] = None,
        flatten: Annotated[bool, typer.Option(help="Also close every position with market orders.")] = False,
        timeout: Annotated[float, typer.Option(help="Seconds to reach zero open orders.")] = 15.0,
        out: Annotated[Path, typer.Option(help="Where to write KILL_SWITCH.json.")] = Path("KILL_SWITCH.json"),
        i_understand_this_is_live: bool = LiveOpt,
    ) -> None:
        """Engage the kill switch: kill file, global cancel, verify no open orders -> KILL_SWITCH.json."""
        from harness.killswitch import kill_switch
        from harness.safety import LiveAccountRefused

        try:
            result = kill_switch(host, port, out, client_id=client_id, account=account, kill_file=kill_file,
                                 flatten=flatten, timeout_s=timeout, allow_live=i_understand_this_is_live)
        except LiveAccountRefused as exc:
            raise _die(f"refused: {exc}") from None
        c = _console()
        state = "[green]verified[/]" if result.verified else "[bold red]NOT verified[/]"
        c.print(f"kill switch {state}: open orders {result.open_orders_before} -> {_fmt(result.open_orders_after)}, "
                f"cancelled {result.cancelled}" + (f", flattened {result.flattened}" if flatten else "")
                + (f" ({result.error})" if result.error else ""))
        c.print(f"wrote {out}")
        if not result.verified or (flatten and not result.flattened):
            raise typer.Exit(EXIT_FAILED)


# ------------------------------------------------------------------------------ output
def _with_progress(work: Any, scenarios: list[Scenario], options: Any, baseline: bool = False) -> Any:
    """Run ``work(progress_callback)`` under a rich progress bar, one bar per scenario; plain lines
    (started, each fault as it acts, finished with its verdict) when stdout is not a terminal."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    if not sys.stdout.isatty():
        from harness.ci_output import PlainProgress
        with PlainProgress(options.out_dir, [s.name for s in scenarios]) as plain:
            result = work(plain)
            plain.finished(result if isinstance(result, list) else [])
        return result
    console = _console(stderr=True)
    with Progress(TextColumn("{task.description:<28}"), BarColumn(), TextColumn("{task.fields[phase]:<9}"),
                  TimeElapsedColumn(), console=console, transient=False, disable=not console.is_terminal
                  and not sys.stderr.isatty()) as progress:
        tasks = {s.name: progress.add_task(s.name, total=1.0, phase="queued") for s in scenarios}

        def update(name: str, fraction: float, phase: str) -> None:
            if name in tasks:
                progress.update(tasks[name], completed=min(1.0, fraction), phase=phase)

        result = work(update)
        for t in tasks.values():
            progress.update(t, completed=1.0, phase="done")
    return result


def _write_ci_reports(outcomes: list[Any], summary: Path, junit: Path | None, shard: str | None,
                      started_at: float) -> None:
    """summary.json (always) and JUnit XML (when asked), written atomically before the table."""
    from harness.ci_output import write_junit, write_summary

    try:
        write_summary(summary, outcomes, shard=shard, started_at=started_at)
        if junit is not None:
            write_junit(junit, outcomes)
    except OSError as exc:
        raise _die(f"cannot write the run's reports: {exc.strerror or exc} ({exc.filename})", EXIT_FAILED) from None


def _summary_table(outcomes: list[Any]) -> None:
    from rich.table import Table

    console = _console()
    table = Table(title="prelive run")
    for col in ("scenario", "result", "trades", "p95 ack ms", "pacing", "disc", "dup", "wall s"):
        table.add_column(col, no_wrap=col in ("scenario", "result"))
    styles = {"PASS": "[green]PASS[/]", "FAIL": "[red]FAIL[/]", "NOT EXERCISED": "[yellow]NOT EXERCISED[/]",
              "ERROR": "[red]ERROR[/]"}
    for o in outcomes:
        m = o.metrics
        result = styles.get(o.verdict, o.verdict)
        table.add_row(o.scenario, result, _fmt(m.get("trade_count")), _fmt(m.get("order_ack_latency_p95_ms")),
                      _fmt(m.get("pacing_violations")), _fmt(m.get("disconnects")), _fmt(m.get("duplicate_orders")),
                      f"{o.wall_s:.1f}")
    console.print(table)
    for o in outcomes:
        if o.error:
            console.print(f"[red]x[/] {o.scenario}: setup error: {o.error}", highlight=False)
        if o.cause:
            console.print(f"[red]x[/] {o.scenario}: first cause: {o.cause}", highlight=False)
        for e in o.failed:
            console.print(f"[red]x[/] {o.scenario}: {e.kind} {e.name}: {e.detail}", highlight=False)
        for reason in o.not_exercised:
            console.print(f"[yellow]?[/] {o.scenario}: not exercised: {reason}", highlight=False)
        for warning in o.warnings:
            console.print(f"[yellow]![/] {o.scenario}: {warning}", highlight=False)
    passed = sum(o.passed for o in outcomes)
    unexercised = sum(o.verdict == "NOT EXERCISED" for o in outcomes)
    console.print(f"{passed}/{len(outcomes)} scenarios passed" + (f", {unexercised} not exercised" if unexercised
                                                                  else "")
                  + f"; results in {outcomes[0].run_dir.parent if outcomes else '-'}")


def _metrics_table(rows: list[tuple]) -> None:
    from rich.table import Table

    table = Table(title="paper trading metrics")
    for col in ("metric", "value", "unit", "target", "pass"):
        table.add_column(col)
    for name, value, unit, target, passed in rows:
        mark = "" if passed is None else ("[green]pass[/]" if passed else "[red]fail[/]")
        table.add_row(name, _fmt(value), unit, target, mark)
    _console().print(table)
