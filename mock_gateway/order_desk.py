"""Orders on the wire: placeOrder/cancel into the world's OrderEngine, its events out as messages.

The engine emits OrderUpdate, Fill, Reject and WhatIfReport; this desk turns them into the
sequence real TWS sends (ibapi/decoder.py, and the order sequences in docs/fidelity.md): openOrder + orderStatus on acknowledgement
(PreSubmitted, then Submitted unless the order fills in the same instant); execDetails,
orderStatus, openOrder(Filled), commissionReport on a fill; orderStatus Cancelled + error 202
on a cancel. Events go to the client that placed the order.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator

from .account_feed import AccountFeed
from .errors import RequestError
from .protocol import messages as m
from .protocol.kinds import ReplyKind
from .protocol.orders import WireOrder, minimal_wire_order
from .protocol.time import ib_time, parse_end_datetime
from .replies import CallSoon, Connections, ReplyChannel
from .sim.clock import SimClock
from .sim.order_types import (
    CANCELLED,
    FILLED,
    INACTIVE,
    PRE_SUBMITTED,
    SUBMITTED,
    CommissionReport,
    ExecutionFilter,
    Fill,
    Order,
    OrderEvent,
    OrderRejected,
    OrderRequest,
    OrderUpdate,
    OrderWarning,
    Reject,
    WhatIfReport,
)
from .sim.world import World
from .streamed import ReplyStreams

K = ReplyKind
Fields = list[str]

#: Order attributes TWS refuses outright (ibapi 9.81 sets both by default).
REFUSED_ATTRIBUTES = (("eTradeOnly", 10268, "The 'EtradeOnly' order attribute is not supported."),
                      ("firmQuoteOnly", 10269, "The 'firmQuoteOnly' order attribute is not supported."))
CANCELLED_TEXT = "Order Canceled - reason:"


def wire_of(order: Order) -> WireOrder:
    req = order.request
    if isinstance(req.wire, WireOrder):
        return req.wire
    c = req.contract
    return minimal_wire_order(req.order_id, {
        "conId": str(c.con_id), "symbol": c.symbol, "secType": c.sec_type, "exchange": c.exchange,
        "currency": c.currency, "localSymbol": c.local_symbol}, action=req.action, totalQuantity=req.total_qty,
        orderType=req.order_type, lmtPrice=req.lmt_price, auxPrice=req.aux_price, tif=req.tif, account=order.account,
        orderRef=req.order_ref)


class OrderDesk:
    """The gateway's side of the order engine."""

    def __init__(self, world: World, clock: SimClock, connections: Connections, accounts: AccountFeed,
                 call_soon: CallSoon, sys_event: Callable[..., None] | None = None) -> None:
        self.world = world
        self.clock = clock
        self.engine = world.orders
        self.connections = connections
        self.accounts = accounts
        self._call_soon = call_soon
        self._sys_event = sys_event or (lambda msg, **kwargs: None)   # the event log's sys events (rejections)
        self._unreported: dict[int, list[CommissionReport]] = {}   # perm id -> reports not yet sent
        self._held: dict[int, OrderUpdate] = {}                     # perm id -> Submitted ack of this burst
        self._release_pending = False
        self.streams = ReplyStreams()     # long listings (open orders, completed orders, executions) in slices

    # ------------------------------------------------------------------ requests
    def place(self, s: ReplyChannel, wire: WireOrder) -> None:
        for name, code, text in REFUSED_ATTRIBUTES:
            if wire.get(name) == "1":
                self.refuse(s, wire.order_id, code, text, rule=name)
        try:
            request = OrderRequest.from_wire(wire)
        except ValueError as exc:   # a field that is no Java number ('nan', '1_000')
            self.refuse(s, wire.order_id, 320, f"Error reading request. Message id 3. {exc}", rule="unreadable_field")
        self.engine.place(request, s.client_id or 0)

    def refuse(self, s: ReplyChannel, order_id: int, code: int, text: str, rule: str) -> None:
        """Refuse an order before it reaches the engine (unreadable fields, refused attributes): logged
        with its rule like every other rejection, then RequestError for the error reply."""
        self._sys_event("order_rejected", client_id=s.client_id, attrs={
            "order_id": order_id, "code": code, "text": text, "rule": rule})
        raise RequestError(order_id, code, text)

    def cancel(self, s: ReplyChannel, order_id: int) -> None:
        try:
            self.engine.cancel(order_id, s.client_id or 0)
        except OrderRejected as exc:
            raise RequestError(order_id, exc.code, exc.text) from None

    def global_cancel(self, s: ReplyChannel) -> None:
        """reqGlobalCancel: every order working now is cancelled (their Cancelled statuses go to their clients);
        thousands of them are cancelled in slices between other sessions' work."""
        self.streams.send(s, K.ORDER_ACK, self._global_cancel_steps())

    def _global_cancel_steps(self) -> Iterator[None]:
        for _ in self.engine.global_cancel_steps():
            self.clock.wake()      # the orders' processes were interrupted: the clock runs them (in a task too)
            yield None

    def send_open_orders(self, s: ReplyChannel, all_clients: bool) -> None:
        """The working orders (as of the request) and openOrderEnd; a long list goes out in slices."""
        orders = [(order, order.status) for order in self.engine.open_orders(None if all_clients else s.client_id)]
        self.streams.send(s, K.ORDER_ACK, self._open_order_steps(s, orders))

    def _open_order_steps(self, s: ReplyChannel, orders: list[tuple[Order, str]]) -> Iterator[Fields]:
        for order, status in orders:
            yield self._open_order(s, order, status)
            yield self._order_status(s, order, status)
        yield m.open_order_end()

    def send_completed_orders(self, s: ReplyChannel, api_only: bool) -> None:
        """The day's completed orders (as of the request) and completedOrdersEnd, in slices when many."""
        self.streams.send(s, K.ORDER_ACK, self._completed_steps(s.server_version, self.engine.completed_orders()))

    def _completed_steps(self, sv: int, orders: list[Order]) -> Iterator[Fields]:
        for o in orders:
            yield m.completed_order(sv, wire_of(o), contract=o.spec, perm_id=o.perm_id, status=o.status,
                                    filled_qty=o.filled, completed_time=ib_time(self._epoch(o.completed_at_s or 0.0)),
                                    completed_status=o.status)
        yield m.completed_orders_end()

    def send_executions(self, s: ReplyChannel, req_id: int, *, client_id: int | None, account: str, time_text: str,
                        symbol: str, sec_type: str, exchange: str, side: str) -> None:
        """The fills the filter selects (as of the request), each with its commission, then execDetailsEnd."""
        since_s = None
        if time_text.strip():
            try:
                since = parse_end_datetime(time_text)
            except ValueError as exc:
                raise RequestError(req_id, 321, f"Error validating request.-'bw' : cause - {exc}") from None
            since_s = (since - self.clock.start).total_seconds() if since else None
        fills = self.engine.executions(ExecutionFilter(client_id, account, since_s, symbol, sec_type, exchange, side))
        self.streams.send(s, K.OTHER, self._execution_steps(s, req_id, list(fills)), key=("executions", req_id))

    def _execution_steps(self, s: ReplyChannel, req_id: int, fills: list[Fill]) -> Iterator[Fields]:
        for fill in fills:
            yield self._exec_details(s, req_id, fill)
            yield self._commission(fill.commission)
        yield m.exec_details_end(req_id)

    # ------------------------------------------------------------------ engine events
    def on_order_event(self, event: OrderEvent) -> None:
        if isinstance(event, OrderUpdate):
            self._on_update(event)
        elif isinstance(event, Fill):
            self._on_fill(event)
        elif isinstance(event, Reject):
            self._on_reject(event)
        elif isinstance(event, OrderWarning):
            for s in self._recipients(event.order.client_id, owner_only=True):
                s.error(event.order.order_id, event.code, event.text, kind=K.ORDER_ACK)
        elif isinstance(event, WhatIfReport):
            self._on_what_if(event)

    def _on_reject(self, ev: Reject) -> None:
        """The error (to the owner); after a server-side rejection (201) also openOrder and orderStatus
        Inactive, as real logs show (ib_insync #554). Every rejection goes in the event log with the rule
        that made it."""
        order = ev.order
        self._sys_event("order_rejected", client_id=order.client_id, fault=ev.fault, attrs={
            "order_id": order.order_id, "code": ev.code, "text": ev.text, "rule": ev.rule,
            "modification": ev.modification})
        for s in self._recipients(order.client_id, owner_only=True):
            s.error(order.order_id, ev.code, ev.text, kind=K.ORDER_ACK, fault=ev.fault)
        if ev.inactive and not ev.modification:
            for s in self._recipients(order.client_id):
                s.send(K.ORDER_ACK, [self._open_order(s, order, INACTIVE), self._order_status(s, order, INACTIVE)],
                       fault=ev.fault)

    def _recipients(self, client_id: int, owner_only: bool = False) -> list[ReplyChannel]:
        """Who hears about an order: the client that placed it, and the "Master API client ID" of the
        API settings, which receives the status of every client's orders (it cannot modify them:
        orders stay bound to their client). (Client 0's reqAutoOpenOrders binds orders placed in the
        TWS window, which the mock has none of; other API clients' orders need reqAllOpenOrders.)"""
        owner = self.connections.session_of_client(client_id)
        out = [owner] if owner is not None else []
        master_id = self.world.config.master_client_id
        if not owner_only and master_id is not None and master_id != client_id:
            master = self.connections.session_of_client(master_id)
            if master is not None:
                out.append(master)
        return out

    def _on_update(self, ev: OrderUpdate) -> None:
        order, status = ev.order, ev.status
        reports = self._unreported.pop(order.perm_id, []) if status in (SUBMITTED, FILLED) else []
        if status == SUBMITTED and not reports:
            # held for this burst: an order that fills at once is never reported Submitted by TWS
            self._held[order.perm_id] = ev
            if not self._release_pending:
                self._release_pending = True
                self._call_soon(self._release_held)
            return
        held = self._held.pop(order.perm_id, None)
        if held is not None and not (status == FILLED or reports):
            self._send_update(held, [])
        self._send_update(ev, reports)

    def _release_held(self) -> None:
        """The burst is over: the orders still held were not filled at once, so they are Submitted."""
        self._release_pending = False
        held, self._held = self._held, {}
        for ev in held.values():
            self._send_update(ev, [])

    def _send_update(self, ev: OrderUpdate, reports: list[CommissionReport]) -> None:
        order, status = ev.order, ev.status
        for s in self._recipients(order.client_id):
            if status == FILLED:
                msgs = [self._order_status(s, order, status, ev), self._open_order(s, order, status)]
                s.send(K.ORDER_FILL, msgs + [self._commission(r) for r in reports], fault=order.fault)
            elif reports:           # Submitted again after a partial fill
                s.send(K.ORDER_FILL, [self._order_status(s, order, status, ev)] + [self._commission(r) for r in reports],
                       fault=order.fault)
            elif status in (PRE_SUBMITTED, SUBMITTED):
                s.send(K.ORDER_ACK, [self._open_order(s, order, status), self._order_status(s, order, status, ev)])
            elif status == CANCELLED:
                s.send(K.ORDER_ACK, [self._order_status(s, order, status, ev),
                                     m.error(s.server_version, order.order_id, 202, CANCELLED_TEXT)])
            elif status == INACTIVE:
                s.send(K.ORDER_ACK, [self._order_status(s, order, status, ev)])
        if reports:     # the fill's status is out: its position change follows in the same write
            self.accounts.push_positions()

    def _on_fill(self, fill: Fill) -> None:
        order = fill.order
        self._held.pop(order.perm_id, None)
        self._unreported.setdefault(order.perm_id, []).append(fill.commission)
        for s in self._recipients(order.client_id):
            s.send(K.ORDER_FILL, [self._exec_details(s, -1, fill)], fault=order.fault)
        self.accounts.after_fill(order.account, fill.execution.spec.con_id)

    def _on_what_if(self, ev: WhatIfReport) -> None:
        s = self.connections.session_of_client(ev.client_id)
        if s is None or ev.request.wire is None:
            return
        w = ev.what_if
        state = m.OrderStateFields(
            status=PRE_SUBMITTED, init_margin_before=_amount(w.init_margin_before),
            maint_margin_before=_amount(w.maint_margin_before), equity_with_loan_before=_amount(w.equity_with_loan_before),
            init_margin_change=_amount(w.init_margin_change), maint_margin_change=_amount(w.maint_margin_change),
            equity_with_loan_change=_amount(w.equity_with_loan_change), init_margin_after=_amount(w.init_margin_after),
            maint_margin_after=_amount(w.maint_margin_after), equity_with_loan_after=_amount(w.equity_with_loan_after),
            commission=w.commission, min_commission=w.min_commission, max_commission=w.max_commission,
            commission_currency=w.commission_currency, warning_text=w.warning_text)
        spec = self.world.contracts.match(ev.request.contract)
        s.send(K.ORDER_ACK, [m.open_order(s.server_version, ev.request.wire, contract=spec[0] if len(spec) == 1 else None,
                                          client_id=ev.client_id, perm_id=0, state=state)])

    # ------------------------------------------------------------------ message builders
    def _epoch(self, sim_s: float) -> float:
        return self.clock.start.timestamp() + sim_s

    def _open_order(self, s: ReplyChannel, order: Order, status: str) -> Fields:
        # the last openOrder of a filled order carries its commission (tws-protocol.md §4.8)
        state = m.OrderStateFields(status=status, commission=order.commission if status == FILLED else None,
                                   commission_currency=self._currency(order) if status == FILLED else "")
        return m.open_order(s.server_version, wire_of(order), contract=order.spec, client_id=order.client_id,
                            perm_id=order.perm_id, state=state)

    def _currency(self, order: Order) -> str:
        account = self.engine.accounts.get(order.account)
        return account.currency if account is not None else "USD"

    def _order_status(self, s: ReplyChannel, order: Order, status: str, ev: OrderUpdate | None = None) -> Fields:
        filled = ev.filled if ev else order.filled
        remaining = ev.remaining if ev else order.remaining
        avg = ev.avg_fill_price if ev else order.avg_fill_price
        last = ev.last_fill_price if ev else order.last_fill_price
        return m.order_status(s.server_version, order.order_id, status, filled, remaining, avg, order.perm_id,
                              order.request.parent_id, last, order.client_id, order.why_held)

    def _exec_details(self, s: ReplyChannel, req_id: int, fill: Fill) -> Fields:
        e = fill.execution
        ex = m.ExecutionFields(order_id=e.order_id, exec_id=e.exec_id, time=ib_time(self._epoch(e.time_s)),
                               account=e.account, exchange=e.exchange, side=e.side, shares=e.shares, price=e.price,
                               perm_id=e.perm_id, client_id=e.client_id, cum_qty=e.cum_qty, avg_price=e.avg_price,
                               order_ref=e.order_ref, liquidation=e.liquidation, last_liquidity=e.last_liquidity)
        return m.exec_details(s.server_version, req_id, e.spec, ex)

    @staticmethod
    def _commission(r: CommissionReport) -> Fields:
        return m.commission_report(r.exec_id, r.commission, r.currency, r.realized_pnl)


def _amount(x: float) -> str:
    return f"{x:.2f}"
