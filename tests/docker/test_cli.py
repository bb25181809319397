"""`prelive docker ...` and container mode from the command line: clean-up by label, the image
command, and the message when no engine is reachable (that one needs no Docker)."""
from __future__ import annotations

import os
import subprocess
import sys

import docker.errors
import pytest

NO_ENGINE = {**os.environ, "DOCKER_HOST": "unix:///nonexistent/docker.sock"}


def prelive(*args: str, env: dict | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], capture_output=True, text=True,
                          env=env or os.environ, timeout=600)


@pytest.mark.parametrize("args", [("docker", "clean"), ("docker", "build"), ("docker", "engine")])
def test_without_an_engine_docker_commands_say_how_to_start_one(args):
    proc = prelive(*args, env=NO_ENGINE)
    assert proc.returncode == 2
    assert "no Docker engine reachable" in proc.stderr and "scripts/docker-engine.sh" in proc.stderr


def test_container_mode_without_an_engine_fails_with_the_fix_and_in_process_mode_still_runs(tmp_path):
    proc = prelive("run", "--mode", "container", "--out", str(tmp_path / "c"), "baseline", env=NO_ENGINE)
    assert proc.returncode != 0
    assert "scripts/docker-engine.sh" in proc.stdout + proc.stderr
    quick = prelive("run", "--out", str(tmp_path / "i"), "--duration", "30", "--speed", "30", "baseline",
                    env=NO_ENGINE)
    assert "Traceback" not in quick.stderr and (tmp_path / "i" / "baseline" / "RESULT.json").is_file()


def test_clean_removes_one_runs_leftovers_and_nothing_else(docker_client, base_image, run_labels):
    other = {**run_labels, "prelive.run": run_labels["prelive.run"] + "-other"}
    mine = docker_client.containers.run(base_image, ["sleep", "60"], detach=True, labels=run_labels, init=True)
    theirs = docker_client.containers.run(base_image, ["sleep", "60"], detach=True, labels=other, init=True)
    net = docker_client.networks.create(run_labels["prelive.run"] + "-net", labels=run_labels)
    vol = docker_client.volumes.create(run_labels["prelive.run"] + "-vol", labels=run_labels)
    try:
        dry = prelive("docker", "clean", "--run", run_labels["prelive.run"], "--dry-run")
        assert dry.returncode == 0 and mine.name in dry.stdout and theirs.name not in dry.stdout
        mine.reload()
        assert mine.status == "running"                        # a dry run removes nothing
        done = prelive("docker", "clean", "--run", run_labels["prelive.run"])
        assert done.returncode == 0, done.stderr
        assert f"removed 1 containers: {mine.name}" in done.stdout and net.name in done.stdout and vol.name in done.stdout
        names = {c.name for c in docker_client.containers.list(all=True)}
        assert mine.name not in names and theirs.name in names
        again = prelive("docker", "clean", "--run", run_labels["prelive.run"])
        assert "nothing to remove" in again.stdout
    finally:
        theirs.remove(force=True)
        for remove in (lambda: mine.remove(force=True), net.remove, lambda: vol.remove(force=True)):
            try:
                remove()
            except docker.errors.NotFound:
                pass                                           # removed by the command, as it should be


def test_build_reports_an_up_to_date_image(docker_client, prelive_image):
    proc = prelive("docker", "build", "--tag", prelive_image)
    assert proc.returncode == 0, proc.stderr
    assert f"{prelive_image} up to date" in proc.stdout or f"{prelive_image} built" in proc.stdout
