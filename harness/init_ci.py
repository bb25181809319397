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


#: Actions the workflow uses, at the newest major versions actionlint knows (node24 runtimes; node20
#: ones are deprecated on GitHub's runners and actionlint reports them).
ACTIONS = {"checkout": "actions/checkout@v6", "setup-python": "actions/setup-python@v6",
           "upload-artifact": "actions/upload-artifact@v6", "download-artifact": "actions/download-artifact@v7"}
#: The shell scripts split these variables on purpose (a list of specs, of scenario files, of options).
_SPLIT = "# shellcheck disable=SC2086  # PRELIVE_* variables hold lists and are split on purpose"


def shard_run_command(shards: int, index: str, node_total: str | None = None) -> str:
    """The shell command one shard job runs (``index`` is the CI's shard number expression)."""
    total = node_total or str(shards)
    return (f'prelive run $PRELIVE_SCENARIOS --handler "$PRELIVE_HANDLER" $PRELIVE_RUN_ARGS \\\n'
            f'  --shard "{index}/{total}" --junit-xml "junit/prelive-{index}.xml" --out "runs/shard-{index}"')


def merge_command(shards: int, root: str = ".") -> str:
    """The gates job's merge of every shard's JUnit and run folder (prelive evidence merge)."""
    prefix = "" if root == "." else f"{root}/"
    return (f"prelive evidence merge {prefix}junit/prelive-*.xml {prefix}runs/shard-* --shards {shards} \\\n"
            f"  --junit-xml junit-stages.xml --summary prelive-summary.json")


def _indent(text: str, spaces: int) -> str:
    return "\n".join(" " * spaces + line for line in text.splitlines())


def github_workflow(handler: str, scenarios: str = "scenarios/*.yaml", shards: int = SHARDS,
                    install: str = "prelive") -> str:
    shard_list = ", ".join(str(i) for i in range(1, shards + 1))
    a = ACTIONS
    run_shard = _indent(f"{_SPLIT}\n" + shard_run_command(shards, "${{ matrix.shard }}"), 10)
    merge = _indent(merge_command(shards, "shards"), 10)
    return f"""# prelive: the scenario matrix in {shards} shards balanced by expected wall time, then the gates.
# Written by `prelive init`; edit freely. Each shard uploads its runs and JUnit; the gates job
# merges them (prelive evidence merge) into junit-stages.xml and one summary, then runs the gates.
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
      - uses: {a["checkout"]}
      - uses: {a["setup-python"]}
        with:
          python-version: "3.11"
      - name: Install prelive
        run: |
          {_SPLIT}
          python -m pip install $PRELIVE_INSTALL
      - name: Run shard ${{{{ matrix.shard }}}}/{shards}
        run: |
{run_shard}
      - name: Upload runs and JUnit
        if: always()
        uses: {a["upload-artifact"]}
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
      - uses: {a["checkout"]}
      - uses: {a["setup-python"]}
        with:
          python-version: "3.11"
      - name: Install prelive and the test tools
        run: |
          {_SPLIT}
          python -m pip install $PRELIVE_INSTALL pytest pytest-cov
      - uses: {a["download-artifact"]}
        with:
          pattern: prelive-shard-*
          path: shards
          merge-multiple: true
      - name: Merge the shards' evidence (junit-stages.xml, prelive-summary.json)
        run: |
{merge}
      - name: Unit tests (junit-unit.xml, coverage.xml)
        run: python -m pytest tests --junitxml=junit-unit.xml --cov=. --cov-report=xml:coverage.xml
      - name: Gates
        if: always()      # the decision, with whatever evidence the steps above left, even when one failed
        run: prelive gates --evidence .
      - name: Upload the decision and the merged evidence
        if: always()
        uses: {a["upload-artifact"]}
        with:
          name: prelive-decision
          path: |
            GO_LIVE_DECISION.*
            PRELIVE_VERIFICATION_LOG.json
            GATE_*
            junit-stages.xml
            prelive-summary.json
"""


def gitlab_ci(handler: str, scenarios: str = "scenarios/*.yaml", shards: int = SHARDS,
              install: str = "prelive") -> str:
    run_shard = shard_run_command(shards, "$CI_NODE_INDEX", "$CI_NODE_TOTAL").replace(" \\\n  ", " ")
    merge = merge_command(shards).replace(" \\\n  ", " ")
    return f"""# prelive: the scenario matrix in {shards} shards balanced by expected wall time, then the gates.
# Written by `prelive init`; include it from .gitlab-ci.yml (include: local: .gitlab/prelive.yml).
# The gates job gets every shard's runs/ and junit/ (artifacts of the earlier stage) and merges them.
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
    - {run_shard}
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
    - {merge}
    - python -m pytest tests --junitxml=junit-unit.xml --cov=. --cov-report=xml:coverage.xml
    - prelive gates --evidence .
  artifacts:
    when: always
    paths: [GO_LIVE_DECISION.md, GO_LIVE_DECISION.html, PRELIVE_VERIFICATION_LOG.json, junit-stages.xml,
            prelive-summary.json]
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


#: Which stage each shipped scenario mainly exercises: the drafted map names them as the stage's
#: tests, so gate 5 finds each stage's scenario in junit-stages.xml (test ids contain the name).
_SCENARIO_STAGE = {
    "baseline": "market_data", "market_data_lines": "market_data", "hist_pacing": "market_data",
    "late_replies": "market_data", "latency_spike": "market_data", "after_hours_open": "market_data",
    "holiday": "market_data",
    "order_rejects": "execution", "partial_fills": "execution", "order_validation": "execution",
    "pacing_storm": "execution", "cash_account": "execution",
    "restart_with_positions": "reconciliation", "gateway_restart": "reconciliation",
    "disconnect_flap": "reconciliation", "connectivity_loss_1100": "reconciliation",
    "weekly_reauth": "reconciliation", "six_hour_session": "reconciliation",
}


def scenario_names(root: Path, scenarios: str) -> list[str]:
    """The scenario names a PRELIVE_SCENARIOS value selects (globs expanded under root)."""
    names: list[str] = []
    for token in scenarios.split():
        if any(c in token for c in "*?["):
            names += [p.stem for p in sorted(root.glob(token)) if p.is_file()]
        else:
            names.append(Path(token).stem)
    return list(dict.fromkeys(names))


def interface_map_yaml(operations_seen: Iterable[str], scenarios_run: Iterable[str] = ()) -> str:
    """A draft INTERFACE_MAP.yaml: the stages (with the scenarios that test each, among those the
    CI runs) and each broker operation the handler sent."""
    ops = sorted({o for o in operations_seen if o and o not in _HOUSEKEEPING})
    stages = [
        {"id": "market_data", "name": "Market data", "inputs": ["market data feed"], "outputs": ["quotes", "bars"]},
        {"id": "execution", "name": "Order execution", "inputs": ["quotes", "bars"], "outputs": ["orders", "fills"]},
        {"id": "reconciliation", "name": "Reconciliation", "inputs": ["fills", "positions", "account values"],
         "outputs": ["pnl report"]},
    ]
    run = list(dict.fromkeys(scenarios_run))
    for stage in stages:
        tests = [n for n in run if _SCENARIO_STAGE.get(n) == stage["id"]]
        if tests:
            stage["tests"] = tests
    doc = {
        "schema": "prelive/interface-map/v1",
        "external_inputs": ["market data feed", "account values", "positions"],
        "stages": stages,
        "operations": [{"name": o, "stage": _STAGE_OF.get(o, "execution"), "implemented": True} for o in ops],
    }
    head = ("# Drafted by `prelive init` from the operations your handler sent in a short baseline run.\n"
            "# A stage's tests are substrings of test ids in junit-stages.xml (the scenarios that exercise it).\n"
            "# Add each operation's sla_ms and the error codes it handles (docs/gates.md, \"The interface map\").\n")
    return head + yaml.safe_dump(doc, sort_keys=False)


def operations_in_event_log(path: Path) -> list[str]:
    """The request names the handler sent (``dir == "in"``) in an event log."""
    from mock_gateway.eventlog import read_events

    return sorted({e["msg"] for e in read_events(path) if e.get("dir") == "in" and e.get("msg")})


def default_scenarios(root: Path) -> str:
    """What the shard jobs run: the repository's own ``scenarios/*.yaml`` when it has them, else
    every shipped scenario by name (``prelive run`` finds those inside the installed wheel)."""
    if any((root / "scenarios").glob("*.yaml")):
        return "scenarios/*.yaml"
    from .scenario import shipped_scenarios

    return " ".join(p.stem for p in shipped_scenarios())


def init_files(handler: str, operations_seen: Iterable[str], strategy: str = "my strategy",
               install: str = "prelive", scenarios: str = "scenarios/*.yaml",
               scenarios_run: Iterable[str] = ()) -> dict[str, str]:
    """Relative path -> text of every file ``prelive init`` writes."""
    return {
        ".github/workflows/prelive.yml": github_workflow(handler, scenarios=scenarios, install=install),
        ".gitlab/prelive.yml": gitlab_ci(handler, scenarios=scenarios, install=install),
        "GOVERNANCE.md": governance_md(strategy),
        "INTERFACE_MAP.yaml": interface_map_yaml(operations_seen, scenarios_run),
    }


def write_files(root: Path, files: dict[str, str], force: bool = False) -> list[Path]:
    """Write every file under root; refuse (writing nothing) if one exists and not ``force``, or if a
    symlink already in the repository (``.github`` -> elsewhere) would take a write outside it."""
    top = root.resolve()
    for rel in files:
        where = (root / rel).parent.resolve()
        if not where.is_relative_to(top):
            raise InitError(f"{root / rel} would be written to {where / Path(rel).name}, outside the repository "
                            f"{top} (a symlink on the way points out of it); remove that link or write the file "
                            "yourself")
    existing = [rel for rel in files if (root / rel).is_symlink() or (root / rel).exists()]
    read_only = [rel for rel in existing if (root / rel).is_file() and not (root / rel).stat().st_mode & 0o222]
    if read_only and force:
        raise InitError(f"{', '.join(read_only)} {'is' if len(read_only) == 1 else 'are'} read-only; --force does "
                        "not replace a file someone protected: make it writable first")
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
