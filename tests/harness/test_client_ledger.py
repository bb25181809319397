"""The reference client's order ledger: idempotent intents, fills counted once, reconciliation."""
from __future__ import annotations

from harness.client.ledger import Intent, IntentState, OrderLedger, Seen


def intent(ref: str, action: str = "BUY", qty: float = 100, created_at: float = 0.0) -> Intent:
    return Intent(ref=ref, symbol="AAPL", action=action, qty=qty, created_at=created_at)


def test_an_intent_is_accepted_once_per_ref():
    ledger = OrderLedger(client_id=1)
    assert ledger.add(intent("r1")) is True
    assert ledger.add(intent("r1")) is False
    assert len(ledger.intents) == 1


def test_a_fill_reported_twice_counts_once():
    ledger = OrderLedger(client_id=1)
    ledger.add(intent("r1"))
    ledger.mark_sent("r1", 10)
    assert ledger.on_fill("e1", "AAPL", "BOT", 100, order_id=10, ref="r1", client_id=1)
    assert not ledger.on_fill("e1", "AAPL", "BOT", 100, order_id=10, ref="r1", client_id=1)
    assert ledger.position("AAPL") == 100 and ledger.intents["r1"].state == IntentState.FILLED


def test_fills_of_other_clients_do_not_move_our_position():
    ledger = OrderLedger(client_id=1)
    assert not ledger.on_fill("x", "AAPL", "BOT", 100, order_id=3, ref="", client_id=2)
    assert ledger.position("AAPL") == 0


def test_in_flight_counts_the_unfilled_rest_of_open_intents():
    ledger = OrderLedger(client_id=1)
    ledger.add(intent("r1", "SELL", 100))
    ledger.mark_sent("r1", 10)
    ledger.on_fill("e1", "AAPL", "SLD", 40, order_id=10, ref="r1", client_id=1)
    assert ledger.in_flight("AAPL") == -60 and ledger.position("AAPL") == -40


def test_reconcile_adopts_an_order_the_gateway_reports_and_never_resends_it():
    ledger = OrderLedger(client_id=1)
    ledger.add(intent("r1"))
    ledger.mark_sent("r1", 10)
    resend = ledger.reconcile([Seen("r1", 10, "Submitted")], now=1.0, max_age_s=30)
    assert resend == [] and ledger.intents["r1"].state == IntentState.WORKING


def test_reconcile_resends_a_fresh_intent_the_gateway_never_saw():
    ledger = OrderLedger(client_id=1)
    ledger.add(intent("r1", created_at=0.0))
    ledger.mark_sent("r1", 10)
    resend = ledger.reconcile([], now=5.0, max_age_s=30)
    assert [i.ref for i in resend] == ["r1"] and ledger.intents["r1"].state == IntentState.PENDING


def test_reconcile_drops_a_lost_intent_that_went_stale():
    ledger = OrderLedger(client_id=1)
    ledger.add(intent("r1", created_at=0.0))
    ledger.mark_sent("r1", 10)
    assert ledger.reconcile([], now=100.0, max_age_s=30) == []
    assert ledger.intents["r1"].state == IntentState.DROPPED


def test_reconcile_never_resends_an_order_the_gateway_once_acknowledged():
    ledger = OrderLedger(client_id=1)
    ledger.add(intent("r1"))
    ledger.mark_sent("r1", 10)
    ledger.on_status(10, "Submitted")
    assert ledger.reconcile([], now=1.0, max_age_s=30) == []
    assert ledger.intents["r1"].state == IntentState.DONE


def test_a_reject_closes_the_intent():
    ledger = OrderLedger(client_id=1)
    ledger.add(intent("r1"))
    ledger.mark_sent("r1", 10)
    ledger.on_status(10, "Cancelled")
    assert ledger.intents["r1"].state == IntentState.DONE and ledger.in_flight("AAPL") == 0


def test_baseline_executions_are_not_counted_again():
    ledger = OrderLedger(client_id=1)
    ledger.set_baseline({"AAPL": 200.0}, known_exec_ids=["old"])
    assert not ledger.on_fill("old", "AAPL", "BOT", 200, order_id=1, ref="", client_id=1)
    assert ledger.position("AAPL") == 200
