"""The shipped scenarios about the trading day and order validation, run through the real runner.

``after_hours_open`` and ``holiday`` run the reference handler across a close (or a holiday) and
the next open; ``order_validation`` runs its own handler, which sends every kind of invalid order
and exits 1 if any answer differs from IB's. Speeds are raised so the module takes about a minute.
"""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from harness import metrics as M
from harness.runner import RunOptions, run_many
from harness.scenario import load_scenario

pytestmark = [pytest.mark.timeout(300), pytest.mark.slow]

#: scenario -> (speed, duration_s or None for the scenario's own)
RUNS = {"after_hours_open": (1500, None), "holiday": (1500, None), "order_validation": (1, 25)}


def _scaled(name: str):
    speed, duration = RUNS[name]
    s = load_scenario(name)
    handler = s.handler.model_copy(update={"env": {**s.handler.env, "PRELIVE_BAR_SECONDS": "60"}})
    return s.model_copy(update={"speed": float(speed), "duration_s": float(duration or s.duration_s),
                                "handler": handler})


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    # speed 1500 checks the gateway's calendar, not the handler: the handler keeps the real clock
    # (on the scenario's clock its 4 s timeouts would be under 3 ms of real time)
    outcomes = run_many([_scaled(n) for n in RUNS], RunOptions(out_dir=out, baseline=False, real_clock=True), jobs=3)
    return {o.scenario: (o, M.load_frame(o.session.event_log)) for o in outcomes if o.session}


def _epoch(scenario: str, df, mask) -> list[float]:
    start = load_scenario(scenario).start_at.timestamp()
    return [start + t for t in df.loc[mask, "sim"]]


def _errors(df, code: int):
    errors = df[(df["dir"] == "out") & (df["msg"] == "error")]
    return errors[M.frame.as_int(M.frame.attr(errors, "code")) == code]


@pytest.mark.parametrize("name", list(RUNS))
def test_the_scenario_passes_with_its_handler(runs, name):
    outcome, _ = runs[name]
    assert outcome.error is None and outcome.passed, [e.detail for e in outcome.failed]


@pytest.mark.parametrize("name, opens_at", [("after_hours_open", datetime(2026, 11, 25, 14, 30, tzinfo=timezone.utc)),
                                            ("holiday", datetime(2026, 11, 27, 14, 30, tzinfo=timezone.utc))])
def test_orders_sent_while_closed_get_399_and_nothing_fills_before_the_open(runs, name, opens_at):
    _, df = runs[name]
    warned = _errors(df, 399)
    assert len(warned) >= 1
    open_text = f"until {opens_at.astimezone(ZoneInfo('America/New_York')):%Y-%m-%d %H:%M:%S} US/Eastern"
    assert all(text.endswith(open_text) for text in M.frame.attr(warned, "text"))
    executions = (df["dir"] == "out") & (df["msg"] == "execDetails")
    fills = _epoch(name, df, executions)
    close = datetime(2026, 11, 24, 21, 0, tzinfo=timezone.utc).timestamp()
    assert fills and all(t <= close or t >= opens_at.timestamp() for t in fills)
    assert any(t >= opens_at.timestamp() for t in fills)


def test_the_validation_handler_saw_every_rejection_ib_gives(runs):
    _, df = runs["order_validation"]
    codes = set(M.frame.as_int(M.frame.attr(df[(df["dir"] == "out") & (df["msg"] == "error")], "code")))
    assert {110, 103, 104, 111, 113, 158, 201, 320, 321, 334, 387, 434, 10243} <= codes
    rejected = df[(df["dir"] == "sys") & (df["msg"] == "order_rejected")]
    assert set(M.frame.attr(rejected, "rule")) >= {"price_tick", "order_id_not_increasing", "margin", "size_zero"}
