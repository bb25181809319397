"""CLI commands of the container area: ``prelive docker build | clean | engine``."""
from __future__ import annotations

import typer

docker_app = typer.Typer(help="Containers: build the prelive image, start the engine, remove leftovers.",
                         no_args_is_help=True)


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@docker_app.command("engine")
def engine_cmd(install: bool = typer.Option(False, "--install", help="run scripts/docker-engine.sh when no engine answers")) -> None:
    """Check that a Docker engine and Compose v2 are usable (optionally install and start them)."""
    from harness.docker.engine import DockerUnavailable, compose_command, ensure_engine

    try:
        client = ensure_engine(install=install)
    except DockerUnavailable as exc:
        _fail(str(exc))
    version = client.version()
    typer.echo(f"engine {version.get('Version')} (API {version.get('ApiVersion')}), compose: {' '.join(compose_command())}")


@docker_app.command("build")
def build_cmd(force: bool = typer.Option(False, "--force", help="rebuild without the layer cache"),
              online: bool = typer.Option(False, "--online", help="install from the package index, not the wheelhouse"),
              tag: str = typer.Option(None, "--tag", help="image tag (default: $PRELIVE_IMAGE or local/prelive:latest)")) -> None:
    """Build (or reuse) the prelive image: base image, wheelhouse, classic builder, no registry."""
    from harness.docker.engine import DockerUnavailable, connect
    from harness.docker.images import PRELIVE_IMAGE, ImageBuildError, build_image

    try:
        built = build_image(connect(), tag or PRELIVE_IMAGE, force=force, offline=not online)
    except (DockerUnavailable, ImageBuildError) as exc:
        _fail(str(exc))
    state = "up to date" if built.reused else "built"
    typer.echo(f"{built.tag} {state} ({built.image_id[7:19]}) in {built.seconds:.1f} s")


@docker_app.command("clean")
def clean_cmd(run: str = typer.Option(None, "--run", help="only this run id (label prelive.run)"),
              images: bool = typer.Option(False, "--images", help="also remove prelive images (base included)"),
              dry_run: bool = typer.Option(False, "--dry-run", help="list what would be removed")) -> None:
    """Remove containers, networks and volumes labelled prelive.managed=true (or one run's)."""
    from harness.docker.cleanup import clean, leftovers
    from harness.docker.engine import DockerUnavailable, connect

    try:
        client = connect()
    except DockerUnavailable as exc:
        _fail(str(exc))
    result = leftovers(client, run) if dry_run else clean(client, run, images=images)
    verb = "would remove" if dry_run else "removed"
    for kind in ("containers", "networks", "volumes", "images"):
        names = getattr(result, kind)
        if names:
            typer.echo(f"{verb} {len(names)} {kind}: {', '.join(names)}")
    if not result.total:
        typer.echo("nothing to remove")
    for error in result.errors:
        typer.echo(f"error: {error}", err=True)
    if result.errors:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add this area's commands to app."""
    app.add_typer(docker_app, name="docker")
