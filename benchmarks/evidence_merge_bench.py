"""How long `prelive evidence merge` takes and how much memory it holds, for large shard sets.

Writes N shards of M scenarios each with the writers `prelive run` uses (harness.ci_output), then
merges them as the gates job does. Prints seconds and peak traced memory per size.
Run: python benchmarks/evidence_merge_bench.py
"""
from __future__ import annotations

import tempfile
import time
import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.ci_output import write_junit, write_summary
from harness.evidence_merge import merge_evidence


@dataclass
class Outcome:
    scenario: str
    passed: bool
    run_dir: Path
    verdict: str
    wall_s: float = 12.5
    metrics: dict[str, Any] = field(default_factory=lambda: {f"metric_{i}": i * 1.5 for i in range(30)})
    error: str | None = None
    cause: str | None = None
    failed: list[Any] = field(default_factory=list)
    not_exercised: list[str] = field(default_factory=list)


def _shards(root: Path, shards: int, per_shard: int) -> tuple[list[Path], list[Path]]:
    junit, runs = [], []
    for i in range(1, shards + 1):
        outs = [Outcome(f"s{i}_{k}", k % 7 != 0, Path(f"runs/shard-{i}/s{i}_{k}"), "PASS" if k % 7 else "FAIL",
                        cause=None if k % 7 else "survive disconnect: handler not connected at the end")
                for k in range(per_shard)]
        junit.append(write_junit(root / "junit" / f"prelive-{i}.xml", outs))
        write_summary(root / "runs" / f"shard-{i}" / "summary.json", outs, shard=f"{i}/{shards}", started_at=1e9)
        runs.append(root / "runs" / f"shard-{i}")
    return junit, runs


def main() -> None:
    print(f"{'shards':>6} {'scenarios':>9} {'merge s':>8} {'peak MiB':>9}")
    for shards, per_shard in ((4, 20), (4, 500), (16, 1000)):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            junit, runs = _shards(root, shards, per_shard)
            tracemalloc.start()
            t0 = time.perf_counter()
            merge_evidence(junit, runs, junit_out=root / "junit-stages.xml", summary_out=root / "summary.json",
                           expect_shards=shards)
            elapsed = time.perf_counter() - t0
            peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
            print(f"{shards:>6} {shards * per_shard:>9} {elapsed:>8.3f} {peak:>9.1f}")


if __name__ == "__main__":
    main()
