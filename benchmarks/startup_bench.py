"""What every prelive process pays before it does anything: imports, the gates config, the gateway's world.

    python benchmarks/startup_bench.py [--source DIR] [--repeat N]

Each probe runs in a fresh interpreter (as a CLI call, a scenario run or a test worker does),
``--repeat`` times (default 5); prints the median and the fastest wall time of each. The session
tables are measured with a cold on-disk table cache (``PRELIVE_TABLE_CACHE=off``: every process
builds them, as before the cache existed) and a warm one (a private cache dir filled by a first
process). ``--source`` measures another checkout of the project (``git archive <rev> | tar -x -C
DIR``) with this interpreter, for before/after figures.  [target: a warm gateway world in < 0.1 s]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CLI = "import sys; sys.argv = ['prelive', *{argv!r}]\nfrom harness.cli import main\ntry:\n    main()\nexcept SystemExit:\n    pass"
GATEWAY = ("from mock_gateway.server import Gateway\nfrom mock_gateway.config import GatewayConfig\n"
           "Gateway(GatewayConfig(port=0))")
PROBES: dict[str, tuple[str, dict[str, str]]] = {
    "import harness.gates": ("import harness.gates", {}),
    "PaperTargets.from_gates_config()": ("from harness.metrics.report import PaperTargets\n"
                                         "PaperTargets.from_gates_config()", {}),
    "prelive gates --help": (CLI.format(argv=["gates", "--help"]), {}),
    "prelive scenarios validate baseline": (CLI.format(argv=["scenarios", "validate", "baseline"]), {}),
    "Gateway() incl. imports, cold table cache": (GATEWAY, {"PRELIVE_TABLE_CACHE": "off"}),
    "Gateway() incl. imports, warm table cache": (GATEWAY, {}),
    "scenario run start-up (runner, targets, Gateway())": (
        "import harness.runner\nfrom harness.metrics.report import PaperTargets\n"
        "PaperTargets.from_gates_config()\n" + GATEWAY, {}),
}


def _run(code: str, env: dict[str, str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], env=env, cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=ROOT, help="the project checkout to measure")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    source = args.source.resolve()
    with tempfile.TemporaryDirectory(prefix="prelive-startup-bench-") as cache:
        base = {**os.environ, "PYTHONPATH": str(source), "PRELIVE_CACHE": cache}
        base.pop("PRELIVE_TABLE_CACHE", None)
        _run(GATEWAY, base, source)                       # fills the private table cache (if the code has one)
        baseline = statistics.median(_run("pass", base, source) for _ in range(args.repeat))
        print(f"source {source}  python {sys.version.split()[0]}  repeat {args.repeat}")
        print(f"{'bare interpreter':<52} median {baseline:6.3f} s")
        for label, (code, extra) in PROBES.items():
            times = [_run(code, {**base, **extra}, source) for _ in range(args.repeat)]
            print(f"{label:<52} median {statistics.median(times):6.3f} s  min {min(times):6.3f} s")


if __name__ == "__main__":
    main()
