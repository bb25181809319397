"""The order engine: validation, matching against the market, fills, commissions, cancels, what-if.

Each accepted order lives as one SimPy process that reads like its story: acknowledge, wait
for the stop to trigger, wait for the market to reach the limit, fill (in parts if a fault
says so), or expire at the close. A waiting order costs nothing per grid step: the market
says when the price will first get there (:meth:`Market.first_time`).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from datetime import datetime

import simpy

from ..errors import NO_SECURITY_DEFINITION
from ..faults.base import FaultStack, OrderEffect
from . import rng as rngmod
from .account import Account, CashAccountViolation
from .clock import DEFAULT_START
from .commissions import CommissionSchedule
from .contracts import ContractBook, ContractQuery, ContractSpec
from .market import Market
from .order_types import (
    CANCELLED,
    DONE_STATUSES,
    FILLED,
    INACTIVE,
    PRE_SUBMITTED,
    SUBMITTED,
    CommissionReport,
    Execution,
    ExecutionFilter,
    Fill,
    Order,
    OrderEvent,
    OrderRejected,
    OrderRequest,
    OrderUpdate,
    OrderWarning,
    Reject,
    WhatIf,
    WhatIfReport,
)
from .order_rules import (
    ORDER_TYPES,
    TEXT_103,
    TEXT_104,
    TEXT_105,
    TEXT_2109,
    Violation,
    check_order,
    check_wire,
    ignores_outside_rth,
    order_kind,
    parse_good_till,
    runs_in_regular_hours_only,
)
from .sessions import SessionTimeline, next_open_after, rule_for, session_close_after

#: How far ahead (sim seconds) a waiting order asks the market in one go.
WAIT_HORIZON_S = 3600.0
#: The venue an execution reports for SMART-routed orders, by primary exchange.
EXEC_VENUE = {"NASDAQ": "ISLAND", "NYSE": "NYSE", "ARCA": "ARCA"}

UNKNOWN_CONTRACT_TEXT = NO_SECURITY_DEFINITION


class OrderEngine:
    """Orders of every account, visible to every client; emits OrderUpdate / Fill / Reject / WhatIfReport."""

    def __init__(self, env: simpy.Environment, contracts: ContractBook, market: Market, accounts: Mapping[str, Account],
                 faults: FaultStack | None = None, commissions: CommissionSchedule | None = None, seed: int = 42,
                 start: datetime = DEFAULT_START) -> None:
        if not accounts:
            raise ValueError("the order engine needs at least one account")
        self.env = env
        self.contracts = contracts
        self.market = market
        self.accounts = dict(accounts)
        self.faults = faults if faults is not None else FaultStack()
        self.commissions = commissions or CommissionSchedule()
        self.epoch0 = start.timestamp()
        ids = rngmod.stream(seed, "orders", "ids")
        self._next_perm_id = int(ids.integers(100_000_000, 900_000_000))
        self._exec_prefix = f"{int(ids.integers(0x1000, 0xFFFFFF)):08x}"
        self._exec_seq = 0
        self._orders: list[Order] = []
        self._by_key: dict[tuple[int, int], Order] = {}
        self._processes: dict[int, simpy.Process] = {}
        self._fills: list[Fill] = []
        self._max_id: dict[int, int] = {}
        self._listeners: list[Callable[[OrderEvent], None]] = []
        self._timelines: dict[tuple[str, bool], SessionTimeline] = {}

    # ------------------------------------------------------------------ listeners, ids
    def add_listener(self, fn: Callable[[OrderEvent], None]) -> None:
        """``fn(event)`` for every OrderUpdate, Fill, Reject and WhatIfReport, synchronously, in order."""
        self._listeners.append(fn)

    def remove_listener(self, fn: Callable[[OrderEvent], None]) -> None:
        if fn in self._listeners:
            self._listeners.remove(fn)

    def _emit(self, event: OrderEvent) -> None:
        for fn in list(self._listeners):
            fn(event)

    def next_valid_id(self, client_id: int) -> int:
        """The lowest order id above every id this client has used (nextValidId); 1 for a new client."""
        return self._max_id.get(client_id, 0) + 1

    # ------------------------------------------------------------------ queries
    def find(self, client_id: int, order_id: int) -> Order | None:
        return self._by_key.get((client_id, order_id))

    def open_orders(self, client_id: int | None = None, account: str | None = None) -> list[Order]:
        """Working orders, in placement order; None = of every client / account."""
        return [o for o in self._orders if o.is_open and (client_id is None or o.client_id == client_id)
                and (account is None or o.account == account)]

    def completed_orders(self, account: str | None = None) -> list[Order]:
        """Filled, cancelled and rejected (Inactive) orders, in the order they completed."""
        done = [o for o in self._orders if o.status in DONE_STATUSES and (account is None or o.account == account)]
        return sorted(done, key=lambda o: o.completed_at_s or 0.0)

    def executions(self, filter: ExecutionFilter | None = None) -> list[Fill]:
        """Fills matching ``filter`` (every fill when None), oldest first."""
        f = filter or ExecutionFilter()
        side = {"BUY": "BOT", "SELL": "SLD", "BOT": "BOT", "SLD": "SLD"}.get(f.side.upper(), "")
        out = []
        for fill in self._fills:
            e = fill.execution
            if f.client_id is not None and e.client_id != f.client_id:
                continue
            if f.account and e.account != f.account:
                continue
            if f.since_s is not None and e.time_s < f.since_s:
                continue
            if f.symbol and e.spec.symbol != f.symbol.upper():
                continue
            if f.sec_type and e.spec.sec_type != f.sec_type.upper():
                continue
            if f.exchange and f.exchange.upper() not in (e.exchange, e.spec.exchange):
                continue
            if side and e.side != side:
                continue
            out.append(fill)
        return out

    # ------------------------------------------------------------------ placing
    def place(self, request: OrderRequest, client_id: int) -> Order:
        """Accept, modify (same client and id while working) or reject an order; events follow.

        Rejections are emitted at once; acknowledgements and fills come from the order's process,
        so the gateway must let the SimPy clock run (``SimClock.run_due``) after placing.
        """
        existing = self._by_key.get((client_id, request.order_id))
        max_used = self._max_id.get(client_id, 0)
        self._max_id[client_id] = max(max_used, request.order_id)
        if existing is not None and not request.what_if:
            if existing.is_open:
                return self._modify(existing, request)
            rule = Violation(104, TEXT_104, "modify_filled") if existing.status == FILLED else \
                Violation(103, TEXT_103, "order_id_reused")
            return self._reject(self._new_order(request, client_id, existing.account, existing.spec, record=False),
                                rule)
        if existing is None and request.order_id <= max_used:
            # IB: "an order ID that is less than or equal to the order ID of a previous order from this client"
            return self._reject(self._new_order(request, client_id, request.account, None, record=False),
                                Violation(103, TEXT_103, "order_id_not_increasing"))
        problem = check_wire(request)
        if problem is not None:      # refused before the contract is looked up (nothing to list it under)
            return self._reject(self._new_order(request, client_id, request.account, None, record=False), problem)
        try:
            account, spec = self._resolve(request)
        except OrderRejected as exc:   # not recorded: there is no contract or account to report it under
            return self._reject(self._new_order(request, client_id, request.account, None, record=False),
                                Violation(exc.code, exc.text, "contract" if exc.code == 200 else "account"))
        order = self._new_order(request, client_id, account.account_id, spec, record=not request.what_if)
        if request.what_if:
            try:
                result = self.what_if(request, client_id)
            except OrderRejected as exc:
                return self._reject(order, Violation(exc.code, exc.text, getattr(exc, "rule", "what_if")))
            self._emit(WhatIfReport(request, client_id, result))
            return order
        problem = check_order(request, spec) or self._margin_problem(account, request, spec)
        if problem is not None:
            return self._reject(order, problem)
        effect = self.faults.on_order(order, self.env.now) or OrderEffect()
        order.fault = effect.fault
        if effect.reject is not None:
            return self._reject(order, Violation(*effect.reject, "fault"), fault=effect.fault)
        self._processes[order.perm_id] = self.env.process(self._life(order, effect))
        return order

    def _new_order(self, request: OrderRequest, client_id: int, account: str, spec: ContractSpec | None,
                   record: bool = True) -> Order:
        perm_id, self._next_perm_id = self._next_perm_id, self._next_perm_id + 1
        order = Order(request, client_id, perm_id, account, spec, placed_at_s=self.env.now)
        if record:
            self._orders.append(order)
            self._by_key[order.key] = order
        return order

    def _reject(self, order: Order, problem: Violation, fault: str | None = None) -> Order:
        order.status, order.reject, order.completed_at_s = INACTIVE, (problem.code, problem.text), self.env.now
        # a server-side rejection (201) is followed by openOrder and orderStatus Inactive (ib_insync #554 log)
        self._emit(Reject(order, problem.code, problem.text, fault, rule=problem.rule,
                          inactive=problem.code == 201 and order.spec is not None))
        return order

    def _resolve(self, request: OrderRequest) -> tuple[Account, ContractSpec]:
        """The order's account and contract, or OrderRejected like IB (321 bad account, 200 unknown contract)."""
        if request.account:
            account = self.accounts.get(request.account)
            if account is None:
                raise OrderRejected(321, f"Error validating request.-'bN' : cause - The account code "
                                         f"{request.account} is not valid for this login")
        else:
            account = next(iter(self.accounts.values()))
        matches = self.contracts.match(request.contract)
        if len(matches) != 1:
            raise OrderRejected(200, UNKNOWN_CONTRACT_TEXT if not matches else
                                "The contract description specified is ambiguous")
        return account, matches[0]

    def _validate(self, request: OrderRequest, spec: ContractSpec) -> tuple[int, str] | None:
        """IB's field checks, first failure wins: (code, text) or None."""
        problem = check_order(request, spec)
        return None if problem is None else (problem.code, problem.text)

    def _margin_problem(self, account: Account, request: OrderRequest, spec: ContractSpec) -> Violation | None:
        """201 when the order would raise initial margin above equity with loan value (or break a cash account's rules)."""
        try:
            quote = self.market.quote(spec.con_id)
            account.check_order(spec, request.action, request.total_qty,
                                quote.ask if request.action.upper() == "BUY" else quote.bid, self.env.now)
        except CashAccountViolation as exc:
            return Violation(exc.code, exc.text, "cash_account")
        impact = self._impact(account, request, spec)
        if impact.init_margin_change <= 0 or impact.equity_with_loan_after >= impact.init_margin_after:
            return None
        return Violation(201, (f"Order rejected - reason:YOUR ORDER IS NOT ACCEPTED. IN ORDER TO OBTAIN THE DESIRED "
                               f"POSITION YOUR EQUITY WITH LOAN VALUE [{impact.equity_with_loan_after:.2f} USD] MUST "
                               f"EXCEED THE INITIAL MARGIN [{impact.init_margin_after:.2f} USD]"), "margin")

    def _modify(self, order: Order, request: OrderRequest) -> Order:
        """A placeOrder for a working order's id, validated like a new order (ticks, size, margin of what
        would remain): new price/quantity, re-acknowledged, matched afresh; refused, the order stays as it was."""
        if order.spec is None:
            return order
        spec = order.spec
        problem = check_order(request, None) or check_order(request, spec)
        if problem is None:
            matches = self.contracts.match(request.contract)
            if request.action.upper() != order.action or len(matches) != 1 or matches[0].con_id != spec.con_id:
                problem = Violation(105, TEXT_105, "modify_mismatch")
        if problem is None and request.total_qty < order.filled:
            problem = Violation(321, "Error validating request.-'bN' : cause - The new quantity is below the "
                                     "filled quantity", "modify_below_filled")
        if problem is None:
            remaining = replace(request, total_qty=request.total_qty - order.filled)
            problem = self._margin_problem(self.accounts[order.account], remaining, spec)
        if problem is not None:
            self._emit(Reject(order, problem.code, problem.text, rule=problem.rule, modification=True))
            return order
        order.request = request
        self._stop_process(order)
        self._processes[order.perm_id] = self.env.process(self._life(order, OrderEffect(), modified=True))
        return order

    # ------------------------------------------------------------------ the trading day
    def _timeline(self, spec: ContractSpec, regular_only: bool) -> SessionTimeline:
        rule = rule_for(spec)              # a stock listed in Europe keeps its venue's hours
        key = (rule, regular_only)
        timeline = self._timelines.get(key)
        if timeline is None:
            timeline = self._timelines[key] = SessionTimeline(rule, self.epoch0, regular_only)
        return self.market.halted_timeline(spec, timeline)     # a halted contract holds its orders

    def _held_text(self, order: Order, open_s: float) -> str:
        """399's text, as the gateway words it (real logs 2016-2026): what the order is, and when it goes out."""
        spec = order.spec
        rule = rule_for(spec)
        when = datetime.fromtimestamp(self.epoch0 + open_s, rule.zone())
        qty = order.total_qty
        return (f"Order Message:\n{order.action} {qty:g} {_description(spec)}\n"
                f"Warning: Your order will not be placed at the exchange until "
                f"{when:%Y-%m-%d %H:%M:%S} {rule.tz}")

    def _expiry_s(self, order: Order) -> float | None:
        """Sim time the order expires: DAY at the close of its session (liquid hours unless it may trade
        outside them), GTD at its goodTillDate; None for GTC and the rest."""
        assert order.spec is not None
        tif = (order.request.tif or "DAY").upper()
        if tif == "GTD":
            until = parse_good_till(order.request.good_till_date)
            return None if until is None else until.timestamp() - self.epoch0
        if tif not in ("DAY", "IOC", "FOK", "OPG"):
            return None
        return self._timeline(order.spec, runs_in_regular_hours_only(order.request, order.spec)).close_after(self.env.now)

    # ------------------------------------------------------------------ an order's life
    def _life(self, order: Order, effect: OrderEffect, modified: bool = False):
        """Acknowledge; wait for the market to open; wait out any fault delay; wait for the stop; wait for the
        limit; fill; or expire."""
        if not order.is_open or self._processes.get(order.perm_id) is not self.env.active_process:
            return    # cancelled or modified before this process first ran
        spec = order.spec
        req = order.request
        kind = order_kind(req)
        tif = (req.tif or "DAY").upper()
        timeline = self._timeline(spec, runs_in_regular_hours_only(req, spec))
        try:
            first_ack = not modified or order.status == "PendingSubmit"
            if first_ack:
                self._update(order, PRE_SUBMITTED)
                if ignores_outside_rth(req, spec):
                    self._emit(OrderWarning(order, 2109, TEXT_2109))
            is_open, _, next_change_s = timeline.state(self.env.now)
            if tif == "OPG" or kind in ("MOC", "LOC"):
                return (yield from self._auction(order, kind, tif, first_ack))
            expiry_s = self._expiry_s(order)
            if not is_open:
                if self.market.halt_status(spec, self.env.now):   # accepted and held until trading resumes
                    self._update(order, SUBMITTED)
                elif first_ack:
                    self._emit(OrderWarning(order, 399, self._held_text(order, next_change_s)))
                elif modified:
                    self._update(order, order.status)
                opened = yield from self._wait_for_open(timeline, expiry_s)
                if not opened:
                    return self._cancel(order, "DAY expired")
            self._update(order, SUBMITTED)
            if effect.fill_delay_s > 0:
                yield self.env.timeout(effect.fill_delay_s)
            immediate = tif in ("IOC", "FOK")          # fill now or never
            unfilled_reason = "IOC" if immediate else "DAY expired"
            if kind in ("STP", "STP LMT"):
                triggered = yield from self._wait_for_stop(order, expiry_s, immediate, timeline)
                if not triggered:
                    return self._cancel(order, unfilled_reason)
            elif kind == "TRAIL":
                triggered = yield from self._wait_for_trail(order, expiry_s, immediate, timeline)
                if not triggered:
                    return self._cancel(order, unfilled_reason)
            fractions = (1.0,) if tif == "FOK" or not effect.fill_fractions else tuple(effect.fill_fractions)
            for n, fraction in enumerate(fractions):
                qty = order.remaining if n == len(fractions) - 1 else self._part_qty(order, fraction)
                if qty <= 0:
                    continue
                if kind in ("LMT", "STP LMT"):
                    price = yield from self._wait_for_limit(order, expiry_s, immediate, timeline)
                    if price is None:
                        return self._cancel(order, unfilled_reason)
                else:
                    if not timeline.is_open(self.env.now):       # a later part of the fill after the close
                        opened = yield from self._wait_for_open(timeline, expiry_s)
                        if not opened:
                            return self._cancel(order, unfilled_reason)
                    price = self._market_price(order)
                self._fill(order, qty, self._slipped(order, price, effect.slippage_ticks))
                if not order.remaining:
                    return
                if tif == "IOC":
                    return self._cancel(order, "IOC")
                if effect.fill_interval_s > 0:
                    yield self.env.timeout(effect.fill_interval_s)
        except simpy.Interrupt:
            return   # cancelled or modified: whoever interrupted has already said so

    def _wait_for_open(self, timeline: SessionTimeline, expiry_s: float | None):
        """Wait until the order's session is open; False if it expires first."""
        while True:
            now = self.env.now
            if expiry_s is not None and now >= expiry_s:
                return False
            is_open, _, until_s = timeline.state(now)
            if is_open:
                return True
            target = until_s if expiry_s is None else min(until_s, expiry_s)
            yield self.env.timeout(max(target - now, 0.0))

    def _auction(self, order: Order, kind: str, tif: str, first_ack: bool):
        """OPG (market/limit on open) fills at the next regular-hours open; MOC/LOC at this session's close.

        A limit that the auction price does not satisfy is cancelled, as the exchange does."""
        spec = order.spec
        rule = rule_for(spec)
        epoch = self.epoch0 + self.env.now
        if tif == "OPG":
            at_s = next_open_after(rule, epoch, rth=True) - self.epoch0
        else:
            at_s = session_close_after(rule, epoch, rth=True) - self.epoch0 - 1e-3   # the last quote before the close
        if first_ack:
            self._update(order, SUBMITTED)
        yield self.env.timeout(max(at_s - self.env.now, 0.0))
        price = self._market_price(order)
        limit = order.request.lmt_price if kind in ("LMT", "LOC") else None
        if limit is not None and (price > limit if order.action == "BUY" else price < limit):
            return self._cancel(order, "auction limit not reached")
        self._fill(order, order.remaining, price)

    def _wait_until(self, order: Order, side: str, op: str, level: float, expiry_s: float | None,
                    immediate_only: bool, timeline: SessionTimeline | None = None):
        """Wait for the first grid time in the order's session at which ``side op level``; True when reached,
        False at expiry (or at once if IOC)."""
        assert order.spec is not None
        while True:
            now = self.env.now
            session_end = math.inf
            if timeline is not None:
                is_open, _, until_s = timeline.state(now)
                if not is_open:
                    if immediate_only:
                        return False
                    opened = yield from self._wait_for_open(timeline, expiry_s)
                    if not opened:
                        return False
                    continue
                session_end = until_s - 1e-6
            horizon = now if immediate_only else min(now + WAIT_HORIZON_S, session_end)
            if expiry_s is not None:
                horizon = min(horizon, expiry_s)
            when = self.market.first_time(order.spec.con_id, side, op, level, now, max(horizon, now))
            if when is not None and when <= max(horizon, now):
                if when > now:
                    yield self.env.timeout(when - now)
                return True
            if immediate_only or (expiry_s is not None and horizon >= expiry_s):
                if horizon > now:
                    yield self.env.timeout(horizon - now)
                return False
            yield self.env.timeout(max(horizon - now, 0.0) + (1e-6 if horizon >= session_end else 0.0))

    def _wait_for_stop(self, order: Order, expiry_s: float | None, immediate_only: bool,
                       timeline: SessionTimeline | None = None):
        """A buy stop triggers when the last trades at or above the stop price; a sell stop at or below."""
        buy = order.action == "BUY"
        return (yield from self._wait_until(order, "last", ">=" if buy else "<=", order.request.aux_price,
                                            expiry_s, immediate_only, timeline))

    def _wait_for_trail(self, order: Order, expiry_s: float | None, immediate_only: bool,
                        timeline: SessionTimeline | None = None):
        """A trailing stop: the stop follows the best last price by the offset (auxPrice, or trailingPercent of
        the price) and triggers when the last comes back to it. Waits a step at a time over the grid."""
        req = order.request
        buy = order.action == "BUY"
        con_id = order.spec.con_id
        best = self.market.quote(con_id).last
        dt = self.market.tick_interval_s

        def stop_at(extreme: float) -> float:
            offset = req.aux_price if req.aux_price else extreme * (req.trailing_percent or 0.0) / 100.0
            return extreme + offset if buy else extreme - offset
        while True:
            now = self.env.now
            if expiry_s is not None and now >= expiry_s:
                return False
            if timeline is not None and not timeline.is_open(now):
                if immediate_only:
                    return False
                opened = yield from self._wait_for_open(timeline, expiry_s)
                if not opened:
                    return False
                continue
            last = self.market.quote(con_id).last
            best = min(best, last) if buy else max(best, last)
            if (last >= stop_at(best)) if buy else (last <= stop_at(best)):
                return True
            if immediate_only:
                return False
            # the first time the last could reach the current stop; the stop only moves away meanwhile
            level = stop_at(best)
            horizon = now + dt * 64
            if expiry_s is not None:
                horizon = min(horizon, expiry_s)
            when = self.market.first_time(con_id, "last", ">=" if buy else "<=", level, now + dt, max(horizon, now + dt))
            step = self.market.grid_time(self.market.grid_index(now) + 1) - now
            yield self.env.timeout(max(step, 1e-6) if when is None or when > now + step else max(when - now, 1e-6))

    def _wait_for_limit(self, order: Order, expiry_s: float | None, immediate_only: bool,
                        timeline: SessionTimeline | None = None):
        """Wait until the far side reaches the limit; the fill price: the quote if marketable now, else the limit."""
        buy = order.action == "BUY"
        limit = float(order.request.lmt_price)
        start = self.env.now
        reached = yield from self._wait_until(order, "ask" if buy else "bid", "<=" if buy else ">=", limit,
                                              expiry_s, immediate_only, timeline)
        if not reached:
            return None
        if self.env.now > start and not (timeline is not None and timeline.state(self.env.now)[1] == self.env.now):
            return limit              # it rested on the book and the market came to it
        # marketable now, or at the open (an opening gap through the limit fills at the opening quote)
        quote = self.market.quote(order.spec.con_id)
        return min(quote.ask, limit) if buy else max(quote.bid, limit)

    def _part_qty(self, order: Order, fraction: float) -> float:
        inc = order.spec.size_increment if order.spec else 1.0
        qty = max(inc, round(order.total_qty * fraction / inc) * inc)
        return min(qty, order.remaining)

    def _market_price(self, order: Order) -> float:
        quote = self.market.quote(order.spec.con_id)
        return quote.ask if order.action == "BUY" else quote.bid

    def _slipped(self, order: Order, price: float, slippage_ticks: float) -> float:
        """Move the price against the order by ``slippage_ticks``, never through a limit."""
        if not slippage_ticks:
            return price
        buy = order.action == "BUY"
        moved = price + (1 if buy else -1) * slippage_ticks * order.spec.min_tick
        limit = order.request.lmt_price if order_kind(order.request) in ("LMT", "STP LMT", "LOC") else None
        if limit is not None:
            moved = min(moved, limit) if buy else max(moved, limit)
        return round(moved, 10)

    # ------------------------------------------------------------------ fills and status
    def _fill(self, order: Order, qty: float, price: float) -> Fill:
        spec = order.spec
        assert spec is not None
        account = self.accounts[order.account]
        mult = spec.multiplier_value
        filled_after = order.filled + qty
        avg_after = (order.avg_fill_price * order.filled + price * qty) / filled_after
        total_commission = self.commissions.order_commission(spec.sec_type, filled_after, avg_after, mult)
        commission = round(max(0.0, total_commission - order.commission), 6)
        booked = account.apply_fill(spec, order.action, qty, price, commission)
        order.filled, order.avg_fill_price, order.last_fill_price = filled_after, avg_after, price
        order.commission += commission
        self._exec_seq += 1
        execution = Execution(
            exec_id=f"{self._exec_prefix}.{self._exec_seq:08x}.01.01", order_id=order.order_id,
            client_id=order.client_id, perm_id=order.perm_id, account=order.account, spec=spec, time_s=self.env.now,
            side="BOT" if order.action == "BUY" else "SLD", shares=qty, price=price, cum_qty=filled_after,
            avg_price=avg_after, exchange=self._venue(spec), order_ref=order.request.order_ref)
        report = CommissionReport(execution.exec_id, commission, account.currency,
                                  round(booked.realized_pnl, 6) if booked.closed_qty else None)
        fill = Fill(order, execution, report)
        self._fills.append(fill)
        self._emit(fill)
        if order.remaining <= 1e-12:
            self._finish(order, FILLED)
        else:
            self._update(order, SUBMITTED)
        return fill

    @staticmethod
    def _venue(spec: ContractSpec) -> str:
        if spec.sec_type == "STK":
            return EXEC_VENUE.get(spec.primary_exchange, spec.primary_exchange or spec.exchange)
        if spec.sec_type == "OPT":
            return "CBOE"
        return spec.exchange

    def _update(self, order: Order, status: str, reason: str = "") -> None:
        order.status = status
        self._emit(OrderUpdate(order, status, order.filled, order.remaining, order.avg_fill_price,
                               order.last_fill_price, self.env.now, reason))

    def _finish(self, order: Order, status: str, reason: str = "") -> None:
        order.completed_at_s = self.env.now
        self._processes.pop(order.perm_id, None)
        self._update(order, status, reason)

    def _cancel(self, order: Order, reason: str) -> None:
        self._finish(order, CANCELLED, reason)

    def _stop_process(self, order: Order) -> None:
        proc = self._processes.pop(order.perm_id, None)
        if proc is not None and proc.is_alive and proc is not self.env.active_process:
            proc.interrupt(order.status)

    def record_past_fill(self, spec: ContractSpec, account: str, action: str, qty: float, price: float, time_s: float,
                         client_id: int, order_id: int, order_ref: str = "") -> Fill:
        """A fill from before the simulation (a scenario's earlier executions): listed by reqExecutions and
        reqCompletedOrders as a filled order; not booked (the account's start positions already hold it)."""
        request = OrderRequest(order_id, ContractQuery(con_id=spec.con_id), action, qty, "MKT", account=account,
                               order_ref=order_ref)
        self._max_id[client_id] = max(self._max_id.get(client_id, 0), order_id)
        order = self._new_order(request, client_id, account, spec)
        order.placed_at_s = time_s
        commission = self.commissions.order_commission(spec.sec_type, qty, price, spec.multiplier_value)
        order.filled, order.avg_fill_price, order.last_fill_price, order.commission = qty, price, price, commission
        order.status, order.completed_at_s = FILLED, time_s
        self._exec_seq += 1
        execution = Execution(
            exec_id=f"{self._exec_prefix}.{self._exec_seq:08x}.01.01", order_id=order_id, client_id=client_id,
            perm_id=order.perm_id, account=account, spec=spec, time_s=time_s,
            side="BOT" if action == "BUY" else "SLD", shares=qty, price=price, cum_qty=qty, avg_price=price,
            exchange=self._venue(spec), order_ref=order_ref)
        fill = Fill(order, execution, CommissionReport(execution.exec_id, commission,
                                                       self.accounts[account].currency, None))
        self._fills.append(fill)
        return fill

    # ------------------------------------------------------------------ cancelling
    def cancel(self, order_id: int, client_id: int) -> Order:
        """Cancel a working order of this client; OrderRejected 10147 (unknown) or 10148 (already done)."""
        order = self._by_key.get((client_id, order_id))
        if order is None:
            raise OrderRejected(10147, f"OrderId {order_id} that needs to be cancelled is not found.")
        if not order.is_open:
            raise OrderRejected(10148, f"OrderId {order_id} that needs to be cancelled cannot be cancelled, "
                                       f"state: {order.status}.")
        self._stop_process(order)
        self._cancel(order, "cancelled")
        return order

    def global_cancel(self) -> list[Order]:
        """Cancel every working order of every client and account (reqGlobalCancel)."""
        return list(self.global_cancel_steps())

    def global_cancel_steps(self) -> Iterator[Order]:
        """:meth:`global_cancel` one order at a time (yields each cancelled order), over the orders working
        when it was asked for: a caller may pause between them (thousands of orders are tens of ms)."""
        for order in self.open_orders():
            if order.is_open:                 # not filled or cancelled meanwhile
                self._stop_process(order)
                self._cancel(order, "global cancel")
                yield order

    # ------------------------------------------------------------------ what-if
    def what_if(self, request: OrderRequest, client_id: int = 0) -> WhatIf:
        """Margin and commission impact of ``request`` if it filled now; changes nothing.

        Raises OrderRejected for an order that would be rejected on its fields or contract.
        """
        account, spec = self._resolve(request)
        problem = check_order(request, None) or check_order(request, spec)
        if problem is not None:
            exc = OrderRejected(problem.code, problem.text)
            exc.rule = problem.rule      # type: ignore[attr-defined]
            raise exc
        return self._impact(account, request, spec)

    def _impact(self, account: Account, request: OrderRequest, spec: ContractSpec) -> WhatIf:
        buy = request.action.upper() == "BUY"
        quote = self.market.quote(spec.con_id)
        price = quote.ask if buy else quote.bid
        if request.lmt_price is not None and order_kind(request) in ("LMT", "STP LMT", "LOC"):
            price = min(price, request.lmt_price) if buy else max(price, request.lmt_price)
        qty = request.total_qty
        mult = spec.multiplier_value
        commission = self.commissions.order_commission(spec.sec_type, qty, price, mult)
        before = account.margin(self.market)
        after = account.margin(self.market, {spec.con_id: qty if buy else -qty})
        ewl_before = account.equity_with_loan(self.market)
        # a bought option is paid from cash but not lent against; everything else swaps cash for lendable value
        held = account.position(spec.con_id)
        new_long_options = max(0.0, held + (qty if buy else -qty)) - max(0.0, held) if spec.sec_type == "OPT" else 0.0
        ewl_change = -commission - new_long_options * price * mult
        return WhatIf(
            init_margin_before=before.initial, maint_margin_before=before.maintenance,
            equity_with_loan_before=ewl_before, init_margin_change=after.initial - before.initial,
            maint_margin_change=after.maintenance - before.maintenance, equity_with_loan_change=ewl_change,
            init_margin_after=after.initial, maint_margin_after=after.maintenance,
            equity_with_loan_after=ewl_before + ewl_change, commission=commission, min_commission=commission,
            max_commission=commission, commission_currency=account.currency)


__all__ = ["OrderEngine", "ORDER_TYPES", "UNKNOWN_CONTRACT_TEXT", "OrderWarning", "CommissionReport", "Execution",
           "ExecutionFilter", "Fill", "Order", "OrderEvent", "OrderRejected", "OrderRequest", "OrderUpdate", "Reject",
           "WhatIf", "WhatIfReport", "CANCELLED", "FILLED", "INACTIVE", "PRE_SUBMITTED", "SUBMITTED", "DONE_STATUSES"]


def _description(spec: ContractSpec) -> str:
    """How 399 names the contract: ``CYCU NASDAQ.NMS`` for a Nasdaq stock, ``ES DEC'26`` for a future."""
    if spec.sec_type == "STK":
        venue = spec.primary_exchange or spec.exchange
        return f"{spec.symbol} {venue}.NMS" if venue == "NASDAQ" else f"{spec.symbol} {venue}"
    if spec.sec_type == "FUT" and len(spec.last_trade_date) >= 6:
        month = datetime.strptime(spec.last_trade_date[:6], "%Y%m")
        return f"{spec.symbol} {month:%b}'{month:%y}".upper()
    return spec.local_symbol or spec.symbol
