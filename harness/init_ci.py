"""``prelive init``: the CI files and a starting evidence set for a user's repository.

Pure functions build the files (a GitHub Actions workflow and a GitLab CI job that run the
scenario matrix in time-balanced shards, upload the runs and JUnit, then run the gates; a
GOVERNANCE.md with the three signing roles; an INTERFACE_MAP.yaml drafted from the operations
the handler was seen to send). :func:`write_files` writes them, refusing to overwrite a file
unless told.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import yaml

from .artifacts import atomic_write_text

SHARDS = 4
ROLES = ("Risk Officer", "CTO", "Lead Trader")


class InitError(Exception):
    """``prelive init`` cannot write its files (they exist, or the folder is not writable)."""


def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(text)


def github_workflow(handler: str, scenarios: str = "scenarios/*.yaml", shards: int = SHARDS,
                    install: str = "prelive") -> str:
    shard_list = ", ".join(str(i) for i in range(1, shards + 1))
    return f"""# prelive: the scenario matrix in {shards} shards balanced by expected wall time, then the gates.
# Written by `prelive init`; edit freely.
name: prelive

on:
  push:
  pull_request:
  workflow_dispatch:

env:
  PRELIVE_INSTALL: {_q(install)}
  PRELIVE_HANDLER: {_q(handler)}
  PRELIVE_SCENARIOS: {_q(scenarios)}
  PRELIVE_RUN_ARGS: ""      # e.g. --duration 600 to shorten every scenario

jobs:
  scenarios:
    runs-on: ubuntu-latest
    strategy:
      fail-fast: false
      matrix:
        shard: [{shard_list}]
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - name: Install prelive
        run: python -m pip install $PRELIVE_INSTALL
      - name: Run shard ${{{{ matrix.shard }}}}/{shards}
        run: >-
          prelive run $PRELIVE_SCENARIOS --handler "$PRELIVE_HANDLER" $PRELIVE_RUN_ARGS
          --shard ${{{{ matrix.shard }}}}/{shards}
          --junit-xml junit/prelive-${{{{ matrix.shard }}}}.xml
          --out runs/shard-${{{{ matrix.shard }}}}
      - name: Upload runs and JUnit
        if: always()
        uses: actions/upload-artifact@v4
        with:
          name: prelive-shard-${{{{ matrix.shard }}}}
          path: |
            runs/
            junit/

  gates:
    needs: scenarios
    if: always()
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - name: Install prelive and the test tools
        run: python -m pip install $PRELIVE_INSTALL pytest pytest-cov
      - uses: actions/download-artifact@v4
        with:
          pattern: prelive-shard-*
          path: shards
          merge-multiple: true
      - name: Unit tests (junit-unit.xml, coverage.xml)
        run: python -m pytest tests --junitxml=junit-unit.xml --cov=. --cov-report=xml:coverage.xml
      - name: Stage tests (junit-stages.xml)
        run: python -m pytest --prelive-handler "$PRELIVE_HANDLER" scenarios --junitxml=junit-stages.xml
      - name: Gates
        run: prelive gates --evidence .
      - name: Upload the decision
        if: always()
        uses: actions/upload-artifact@v4
        with:
          name: prelive-decision
          path: |
            GO_LIVE_DECISION.*
            GATE_*
"""


def gitlab_ci(handler: str, scenarios: str = "scenarios/*.yaml", shards: int = SHARDS,
              install: str = "prelive") -> str:
    return f"""# prelive: the scenario matrix in {shards} shards balanced by expected wall time, then the gates.
# Written by `prelive init`; include it from .gitlab-ci.yml (include: local: .gitlab/prelive.yml).
variables:
  PRELIVE_INSTALL: {_q(install)}
  PRELIVE_HANDLER: {_q(handler)}
  PRELIVE_SCENARIOS: {_q(scenarios)}
  PRELIVE_RUN_ARGS: ""

stages: [scenarios, gates]

prelive-scenarios:
  stage: scenarios
  image: python:3.11
  parallel: {shards}
  script:
    - python -m pip install $PRELIVE_INSTALL
    - prelive run $PRELIVE_SCENARIOS --handler "$PRELIVE_HANDLER" $PRELIVE_RUN_ARGS --shard $CI_NODE_INDEX/$CI_NODE_TOTAL --junit-xml junit/prelive-$CI_NODE_INDEX.xml --out runs/shard-$CI_NODE_INDEX
  artifacts:
    when: always
    paths: [runs/, junit/]
    reports:
      junit: junit/prelive-*.xml

prelive-gates:
  stage: gates
  image: python:3.11
  when: always
  script:
    - python -m pip install $PRELIVE_INSTALL pytest pytest-cov
    - python -m pytest tests --junitxml=junit-unit.xml --cov=. --cov-report=xml:coverage.xml
    - python -m pytest --prelive-handler "$PRELIVE_HANDLER" scenarios --junitxml=junit-stages.xml
    - prelive gates --evidence .
  artifacts:
    when: always
    paths: [GO_LIVE_DECISION.md, GO_LIVE_DECISION.html]
    reports:
      junit: [junit-unit.xml, junit-stages.xml]
"""


def governance_md(strategy: str) -> str:
    roles = ", ".join(f"the {r}" for r in ROLES[:-1]) + f" and the {ROLES[-1]}"
    return f"""# Governance framework: {strategy}

- Go-live needs the signatures of {roles} on the current evidence (`prelive sign --role ROLE
  --name NAME --decision APPROVED`), after `prelive gates` reports no critical failure.
- The Risk Officer owns the limits (max notional per order, daily loss limit) and the kill switch;
  the CTO owns the deployment and the rollback drill; the Lead Trader owns the strategy parameters.
- Any change to the evidence invalidates the signatures; the gates are re-run and re-signed.
- During live trading, a pacing violation, a disconnect longer than 30 s or a breach of the daily
  loss limit engages the kill switch; the incident is reviewed before restart.

(Drafted by `prelive init`: replace the limits and owners with your own.)
"""


#: Operations a handler sends that the interface map lists, with the stage they belong to.
_STAGE_OF = {"reqMktData": "market_data", "reqHistoricalData": "market_data", "reqRealTimeBars": "market_data",
             "reqTickByTickData": "market_data", "reqMarketDataType": "market_data",
             "placeOrder": "execution", "cancelOrder": "execution", "reqGlobalCancel": "execution",
             "reqOpenOrders": "reconciliation", "reqAllOpenOrders": "reconciliation",
             "reqExecutions": "reconciliation", "reqPositions": "reconciliation",
             "reqAccountUpdates": "reconciliation", "reqAccountSummary": "reconciliation",
             "reqContractDetails": "market_data"}
_HOUSEKEEPING = {"handshake", "startApi", "reqIds", "reqCurrentTime", "reqManagedAccts", "cancelMktData", "cancelHistoricalData",
                 "cancelRealTimeBars", "cancelPositions", "cancelAccountSummary", "setServerLogLevel"}


def interface_map_yaml(operations_seen: Iterable[str]) -> str:
    """A draft INTERFACE_MAP.yaml: the stages and each broker operation the handler sent."""
    ops = sorted({o for o in operations_seen if o and o not in _HOUSEKEEPING})
    doc = {
        "schema": "prelive/interface-map/v1",
        "external_inputs": ["market data feed", "account values", "positions"],
        "stages": [
            {"id": "market_data", "name": "Market data", "inputs": ["market data feed"], "outputs": ["quotes", "bars"]},
            {"id": "execution", "name": "Order execution", "inputs": ["quotes", "bars"], "outputs": ["orders", "fills"]},
            {"id": "reconciliation", "name": "Reconciliation", "inputs": ["fills", "positions", "account values"],
             "outputs": ["pnl report"]},
        ],
        "operations": [{"name": o, "stage": _STAGE_OF.get(o, "execution"), "implemented": True} for o in ops],
    }
    head = ("# Drafted by `prelive init` from the operations your handler sent in a short baseline run.\n"
            "# Add each operation's sla_ms and the error codes it handles (docs/gates.md, \"The interface map\").\n")
    return head + yaml.safe_dump(doc, sort_keys=False)


def operations_in_event_log(path: Path) -> list[str]:
    """The request names the handler sent (``dir == "in"``) in an event log."""
    from mock_gateway.eventlog import read_events

    return sorted({e["msg"] for e in read_events(path) if e.get("dir") == "in" and e.get("msg")})


def init_files(handler: str, operations_seen: Iterable[str], strategy: str = "my strategy",
               install: str = "prelive") -> dict[str, str]:
    """Relative path -> text of every file ``prelive init`` writes."""
    return {
        ".github/workflows/prelive.yml": github_workflow(handler, install=install),
        ".gitlab/prelive.yml": gitlab_ci(handler, install=install),
        "GOVERNANCE.md": governance_md(strategy),
        "INTERFACE_MAP.yaml": interface_map_yaml(operations_seen),
    }


def write_files(root: Path, files: dict[str, str], force: bool = False) -> list[Path]:
    """Write every file under root; refuse (writing nothing) if one exists and not ``force``."""
    existing = [rel for rel in files if (root / rel).exists()]
    if existing and not force:
        raise InitError(f"{', '.join(existing)} already exist{'s' if len(existing) == 1 else ''}; "
                        "rerun with --force to overwrite")
    written = []
    for rel, text in files.items():
        try:
            written.append(atomic_write_text(root / rel, text))
        except OSError as exc:
            raise InitError(f"cannot write {root / rel}: {exc.strerror or exc}") from None
    return written
