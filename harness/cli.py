"""The ``prelive`` command line. Each area registers its own commands from its own module."""
from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="prelive",
    help="Take an IBKR trading stack from 'code written' to a signed, evidence-backed go-live decision.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

#: Modules with a ``register(app)`` function, one per area of the product.
COMMAND_MODULES = (
    "harness.commands.gateway",    # gateway, demo
    "harness.commands.faults",     # faults list|add|remove|clear: a running gateway's control API
    "harness.commands.scenarios",  # scenarios
    "harness.commands.harness",    # run, probe, paper, tap
    "harness.commands.gates",      # gates, sign
    "harness.commands.docker",     # containers: clean-up, images
    "harness.commands.drill",      # drill, switchover
    "harness.commands.fidelity",   # calibrate, diff
    "harness.init_cmd",            # init
)


@app.callback()
def _root() -> None:
    """prelive: mock IB Gateway, scenarios, metrics, gates, containers and drills."""


@app.command()
def version() -> None:
    """Print the prelive version."""
    from harness import __version__

    typer.echo(f"prelive {__version__}")


for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
