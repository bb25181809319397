"""``prelive faults list|add|get|remove|clear|status``: the runtime fault API of a running gateway, over HTTP.

For a gateway started as ``prelive gateway --control HOST:PORT`` (or the compose stack's, with
``PRELIVE_CONTROL_TOKEN`` set): the same calls as ``gw.faults`` in process, the same error texts.
"""
from __future__ import annotations

import json
from typing import Annotated, Any, Optional

import typer

EXIT_FAILED, EXIT_USAGE = 1, 2
URL_ENV, TOKEN_ENV = "PRELIVE_CONTROL_URL", "PRELIVE_CONTROL_TOKEN"

ControlUrl = Annotated[str, typer.Option("--control", envvar=URL_ENV, show_envvar=True, metavar="URL",
                                         help="The gateway's control API, e.g. http://127.0.0.1:8474.")]
Token = Annotated[Optional[str], typer.Option("--token", envvar=TOKEN_ENV, show_envvar=True,
                                              help="Bearer token, when the gateway requires one.")]

Json = Annotated[bool, typer.Option("--json", help="Print the API's JSON answer.")]


def parse_params(pairs: list[str]) -> dict[str, Any]:
    """``KEY=VALUE`` words as a fault's parameters: a VALUE that parses as JSON is taken as JSON
    (``ms=200``, ``distribution='{"kind":"fixed","ms":200}'``, ``replace=true``), any other as text."""
    params: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"{pair!r} is not KEY=VALUE (e.g. for_s=30 or "
                                     "distribution='{\"kind\":\"fixed\",\"ms\":200}')")
        try:
            params[key.strip()] = json.loads(value)
        except ValueError:
            params[key.strip()] = value
    return params


def _client(url: str, token: Optional[str]):
    from mock_gateway.faults.http_client import ControlClient

    try:
        return ControlClient(url, token)
    except ValueError as exc:
        raise _fail(str(exc), EXIT_USAGE) from None


def _fail(message: str, code: int = EXIT_FAILED) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _call(fn, *args: Any, **kwargs: Any) -> Any:
    from mock_gateway.faults.http_client import ControlClientError, ControlRequestError

    try:
        return fn(*args, **kwargs)
    except ControlRequestError as exc:
        raise _fail(f"{exc.error} (HTTP {exc.status})") from None
    except ControlClientError as exc:
        raise _fail(str(exc)) from None


def _print(value: Any, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(value, indent=2))
        return
    rows = value if isinstance(value, list) else [value]
    if not rows:
        typer.echo("no faults")
    for row in rows:
        params = json.dumps(row.get("params", {}), separators=(",", ":"))
        state = "active" if row.get("active") else "idle"
        typer.echo(f"{row['name']}\t{row.get('type')}\t{row.get('origin')}\t{state}\tacted={row.get('acted')}\t{params}")


def register(app: typer.Typer) -> None:
    """Add ``prelive faults`` and its subcommands to app."""
    faults = typer.Typer(name="faults", no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                         help="Add, list and remove faults on a running gateway (prelive gateway --control).")
    app.add_typer(faults, name="faults")

    @faults.command("list")
    def list_(control: ControlUrl, token: Token = None, as_json: Json = False) -> None:
        """Every active fault: name, type, origin, whether it acts now, how often it acted, parameters."""
        _print(_call(_client(control, token).list), as_json)

    @faults.command("get")
    def get(name: str, control: ControlUrl, token: Token = None, as_json: Json = False) -> None:
        """One active fault."""
        _print(_call(_client(control, token).get, name), as_json)

    @faults.command("add", context_settings={"allow_interspersed_args": True})
    def add(
        fault_type: Annotated[str, typer.Argument(metavar="TYPE", help="A fault type of a scenario file "
                                                                        "(latency, disconnect, message_rate...).")],
        control: ControlUrl,
        params: Annotated[Optional[list[str]], typer.Argument(metavar="[KEY=VALUE]...",
                                                              help="Its parameters; JSON values are parsed.")] = None,
        name: Annotated[Optional[str], typer.Option(help="Its name (default: the type).")] = None,
        token: Token = None,
        as_json: Json = False,
    ) -> None:
        """Add a fault acting from now, with the parameters a scenario file's faults: entry takes."""
        spec = parse_params(params or [])
        if name is not None:
            spec["name"] = name
        _print(_call(_client(control, token).add, fault_type, **spec), as_json)

    @faults.command("remove")
    def remove(name: str, control: ControlUrl, token: Token = None, as_json: Json = False) -> None:
        """Stop a fault at once (a window under way ends as at its scheduled end)."""
        _print(_call(_client(control, token).remove, name), as_json)

    @faults.command("clear")
    def clear(control: ControlUrl, token: Token = None, as_json: Json = False) -> None:
        """Remove every fault, the scenario's and the default pacing rules included."""
        removed = _call(_client(control, token).clear)
        if as_json:
            _print(removed, True)
        else:
            typer.echo(f"removed {len(removed)} fault(s)" + (": " + ", ".join(r["name"] for r in removed)
                                                             if removed else ""))

    @faults.command("status")
    def status(control: ControlUrl, token: Token = None) -> None:
        """The gateway: version, sim time, speed, sessions (JSON)."""
        typer.echo(json.dumps(_call(_client(control, token).status), indent=2))
