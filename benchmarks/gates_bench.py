"""Gate engine figures: signing and verifying SSH sign-offs, and a full gates run with the matplotlib report.

    python benchmarks/gates_bench.py [--signatures 30]

Copies examples/evidence to a temp directory, makes a key per role with ssh-keygen, signs
``--signatures`` times (round robin over the roles), then times a cold and a warm gates run
(cold: every signature verified by ssh-keygen; warm: verdicts cached in the process).
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from harness.gates import evidence as evidence_module
from harness.gates.config import build_config
from harness.gates.run import run_gates
from harness.gates.signoff import sign_evidence

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "evidence"
ROLES = ("Risk Officer", "CTO", "Lead Trader")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--signatures", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "evidence"
        shutil.copytree(EXAMPLE, root)
        keys = {}
        lines = []
        for role in ROLES:
            key = Path(tmp) / role.replace(" ", "-")
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
            keys[role] = key
            lines.append(f'"{role}" {key.with_suffix(".pub").read_text().strip()}\n')
        (root / "allowed_signers").write_text("".join(lines))
        config = build_config()
        t0 = time.perf_counter()
        for i in range(args.signatures):
            role = ROLES[i % len(ROLES)]
            sign_evidence(root, config, role=role, name="bench", decision="APPROVED", comment="", key=keys[role],
                          now=datetime.now(UTC))
        sign_s = time.perf_counter() - t0
        print(f"prelive sign: {args.signatures} signatures in {sign_s:.2f} s "
              f"({sign_s / args.signatures * 1000:.0f} ms each, gates evaluation included)")
        evidence_module._VERDICTS.clear()
        out = Path(tmp) / "out"
        t0 = time.perf_counter()
        verification, _ = run_gates(root, config, out)
        cold_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        run_gates(root, config, out)
        warm_s = time.perf_counter() - t0
        print(f"prelive gates with {args.signatures} signatures: cold {cold_s:.2f} s "
              f"(about {(cold_s - warm_s) / args.signatures * 1000:.0f} ms per signature verified), warm {warm_s:.2f} s; "
              f"decision {verification.decision.outcome.value}")
        html = (out / "GO_LIVE_DECISION.html").stat().st_size
        print(f"GO_LIVE_DECISION.html: {html / 1024:.0f} KiB with 3 matplotlib SVG plots")


if __name__ == "__main__":
    main()
