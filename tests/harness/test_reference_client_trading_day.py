"""The reference handler across the trading day, and a naive handler that stacks orders overnight.

``after_hours_open`` and ``holiday`` hold every market order sent while the exchange is closed
(399) and fill it at the open; ``cash_account`` rejects short sales (201). The reference handler
sends one order at a time, stops at the first 399 until the open and does not resend a rejected
order, so the scenarios' bounds on ``orders_held`` and ``max_working_orders_per_contract`` hold;
a bot that sends on every tick whatever became of its last order fails them, and the run names
the metric as the first cause. Speeds are raised (the handler keeps the real clock).
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from harness import metrics as M
from harness.runner import RunOptions, run_many
from harness.scenario import load_scenario

pytestmark = [pytest.mark.timeout(300), pytest.mark.slow]

STACKER = [sys.executable, str(Path(__file__).parent / "handlers" / "stacker.py")]
#: run name -> (scenario, speed, handler command or None for the reference handler)
RUNS = {"after_hours_open": ("after_hours_open", 1500, None), "holiday": ("holiday", 1500, None),
        "cash_account": ("cash_account", 200, None), "stacker": ("after_hours_open", 1500, STACKER)}


def _scaled(run: str):
    name, speed, command = RUNS[run]
    s = load_scenario(name)
    update = {"env": {**s.handler.env, "PRELIVE_BAR_SECONDS": "60"}}
    if command is not None:
        update["command"] = command
    return s.model_copy(update={"name": run, "speed": float(speed), "handler": s.handler.model_copy(update=update)})


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    outcomes = run_many([_scaled(r) for r in RUNS], RunOptions(out_dir=out, baseline=False, real_clock=True), jobs=2)
    return {o.scenario: (o, M.load_frame(o.session.event_log) if o.session else None) for o in outcomes}


def _explain(outcome) -> str:
    return (outcome.error or "; ".join(f"{e.name}: {e.detail}" for e in outcome.failed)) + \
        f"\nhandler log: {outcome.session.handler_log if outcome.session else '-'}"


@pytest.mark.parametrize("run", ["after_hours_open", "holiday", "cash_account"])
def test_the_reference_handler_passes_with_the_bounds_on_held_and_working_orders(runs, run):
    outcome, _ = runs[run]
    assert outcome.error is None and outcome.verdict == "PASS", f"{outcome.verdict}: {_explain(outcome)}"
    names = {e.name for e in outcome.expectations}
    assert "max_working_orders_per_contract" in names


@pytest.mark.parametrize("run", ["after_hours_open", "holiday"])
def test_the_reference_handler_holds_one_order_for_the_open_and_trades_after_it(runs, run):
    outcome, df = runs[run]
    assert outcome.metrics["orders_held"] == 1, _explain(outcome)
    assert outcome.metrics["max_working_orders_per_contract"] == 1
    assert outcome.metrics["trade_count"] >= 2   # the held order at the open, then trading resumes


def test_the_reference_handler_does_not_resend_a_rejected_short_on_every_bar(runs):
    outcome, df = runs["cash_account"]
    errors = df[(df["dir"] == "out") & (df["msg"] == "error")]
    rejected = int((M.frame.as_int(M.frame.attr(errors, "code")) == 201).sum())
    assert 1 <= rejected <= 3, _explain(outcome)   # the first rejection, and at most a retry after each back-off
    assert outcome.metrics["max_working_orders_per_contract"] == 1


def test_a_handler_that_stacks_orders_overnight_fails_and_the_cause_names_the_metric(runs):
    outcome, _ = runs["stacker"]
    assert outcome.error is None and outcome.verdict == "FAIL", _explain(outcome)
    failed = {e.name for e in outcome.failed}
    assert {"orders_held", "max_working_orders_per_contract"} <= failed
    assert outcome.metrics["orders_held"] > 2
    assert outcome.cause and "orders_held" in outcome.cause
