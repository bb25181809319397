"""Rebuild the example evidence set's generated files (event logs, PAPER_TRADING_LOG.json, example keys).

The other files here are hand-written. Run from anywhere: ``python examples/evidence/regenerate.py``.
The event logs are deterministic (seeded), so the committed files and their sha256 do not change on
a re-run. The example signing keys (``example-keys/``, listed in ``allowed_signers``) are made once
with ssh-keygen and kept; they are EXAMPLE KEYS, published with the repository: never list them in a
real governance framework.
"""
from __future__ import annotations

import hashlib
import json
import random
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent
START_WALL = 1767175200.0  # 2025-12-31T10:00:00Z
TRADES = 120
ACCOUNT = "DU1234567"
ROLES = ("Risk Officer", "CTO", "Lead Trader")
KEYS = HERE / "example-keys"


def _line(seq: int, sim: float, dir: str, msg: str, attrs: dict, conn: int | None = 1) -> str:
    # "tap": the example stands for a session recorded by `prelive tap` in front of a paper gateway
    event = {"seq": seq, "wall": START_WALL + sim, "sim": sim, "source": "tap", "conn": conn,
             "client_id": 7 if conn else None, "dir": dir, "msg": msg, "msg_id": None, "fields": [],
             "attrs": attrs, "fault": None}
    return json.dumps(event, separators=(",", ":"))


def session(seed: int, latency_ms: tuple[float, float], drift_per_trade: float) -> str:
    rng = random.Random(seed)
    lines: list[tuple[float, str, str, dict, int | None]] = [
        (0.0, "sys", "run_start", {"seed": seed, "speed": 1.0, "accounts": [ACCOUNT]}, None),
        (0.01, "in", "startApi", {"client_id": 7}, 1),
        (0.2, "in", "reqMktData", {"req_id": 1, "symbol": "AAPL"}, 1),
        (0.3, "in", "reqPositions", {}, 1),
        (0.4, "in", "reqAccountSummary", {"req_id": 2}, 1),
    ]
    equity = 1_000_000.0
    duration_s = 3600.0
    for i in range(TRADES):
        t = 10.0 + i * (duration_s - 20) / TRADES
        ack_s = rng.uniform(*latency_ms) / 1000
        lines.append((t, "in", "placeOrder", {"order_id": 100 + i, "symbol": "AAPL"}, 1))
        lines.append((t + ack_s, "out", "openOrder", {"order_id": 100 + i}, 1))
        lines.append((t + ack_s + 0.05, "out", "orderStatus", {"order_id": 100 + i, "status": "Filled"}, 1))
    lines.append((duration_s - 5, "in", "reqExecutions", {"req_id": 3}, 1))
    for minute in range(0, int(duration_s) + 1, 60):
        equity += drift_per_trade * 2 + rng.gauss(0, 900)
        lines.append((float(minute), "sys", "account_mark", {"account": ACCOUNT, "net_liquidation": round(equity, 2)},
                      None))
    lines.append((duration_s, "sys", "run_end", {}, None))
    lines.sort(key=lambda item: item[0])
    return "\n".join(_line(seq, sim, d, msg, attrs, conn)
                     for seq, (sim, d, msg, attrs, conn) in enumerate(lines)) + "\n"


def example_keys() -> None:
    """One ed25519 key pair per role (made once), and allowed_signers naming them."""
    KEYS.mkdir(exist_ok=True)
    lines = ["# Governance framework: who may sign for which role (OpenSSH allowed_signers, see docs/gates.md).\n",
             "# EXAMPLE KEYS ONLY: their private halves are in example-keys/, published with prelive.\n"]
    for role in ROLES:
        key = KEYS / f"{role.lower().replace(' ', '-')}.EXAMPLE-KEY"
        if not key.exists():
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C",
                            f"EXAMPLE-KEY-DO-NOT-USE {role}", "-f", str(key)], check=True)
        public = key.with_name(key.name + ".pub").read_text().strip()
        lines.append(f'"{role}" {public}\n')
    (HERE / "allowed_signers").write_text("".join(lines))


def main() -> None:
    paper = session(seed=42, latency_ms=(40.0, 160.0), drift_per_trade=180.0)
    backtest = session(seed=42, latency_ms=(0.0, 0.0), drift_per_trade=240.0)
    (HERE / "session.jsonl").write_text(paper)
    (HERE / "backtest.jsonl").write_text(backtest)
    log = {
        "schema": "prelive/paper-trading-log/v1", "scenario": "example-paper-session", "seed": 42, "speed": 1.0,
        "latency_clock": "sim", "started_at": "2025-12-31T10:00:00+00:00", "ended_at": "2025-12-31T11:00:00+00:00",
        "event_log": "session.jsonl", "event_log_sha256": hashlib.sha256(paper.encode()).hexdigest(),
        "backtest_event_log": "backtest.jsonl",
        "backtest_event_log_sha256": hashlib.sha256(backtest.encode()).hexdigest(),
        "gateway": {"kind": "real", "detected_by": "example: a hand-made set standing for a tap recording "
                                                  "of a paper gateway"},
        "trades": [], "errors": [], "disconnects": [],
        "metrics": {"fill_rate_pct": 99.2, "trade_count": TRADES, "pacing_violations": 0},
    }
    (HERE / "PAPER_TRADING_LOG.json").write_text(json.dumps(log, indent=2) + "\n")
    example_keys()


if __name__ == "__main__":
    main()
