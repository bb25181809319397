"""Account streams: account values, portfolio, positions, account summary, multi updates and PnL.

The rows are the account model's (:meth:`Account.update_rows` / :meth:`Account.summary_rows`):
IB's tags with IB's currencies, a ledger per currency and BASE, segment rows. The cadence is
IB's (reqAccountUpdates / reqAccountSummary docs): everything once on request; then a position
change is pushed at once (updatePortfolio, position), and account values and summary tags only
every 3 minutes, and only those that changed. PnL comes about once a second. At most
``max_account_summaries`` (IB: two) summary subscriptions are open per client; the next gets 322.
AccountReady turns "false" while IB's server resets (an 1100 outage); 1101 drops every account
subscription.
A fill's push runs after the burst of order messages it belongs to is queued
(``loop.call_soon``), so an order's Filled status never waits behind account messages, and
several fills in one burst cost one push.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone
from dataclasses import dataclass, field
from typing import Any

from .config import GatewayConfig
from .errors import RequestError
from .faults.codes import ACCOUNT_SUMMARY_LIMIT_TEXT
from .protocol.kinds import ReplyKind
from .protocol import messages as m
from .connection_table import ConnectionTable
from .replies import CallSoon, ReplyChannel
from .sim.clock import SimClock
from .sim.periodic import Periodic
from .sim.world import World


K = ReplyKind
Fields = list[str]

#: Seconds between account-value updates (TWS sends the changed values every 3 minutes).
ACCOUNT_REFRESH_S = 180.0
PNL_INTERVAL_S = 1.0
Row = tuple[str, str, str]                      # (tag, value text, currency)
Values = dict[tuple[str, str], Row]            # (tag, currency) -> row


@dataclass
class _Connection:
    """One connection's account subscriptions."""

    channel: ReplyChannel
    account_updates: str | None = None                                  # reqAccountUpdates' account
    account_updates_multi: dict[int, str] = field(default_factory=dict)  # reqId -> account ('' / All: every one)
    account_summaries: dict[int, list[str]] = field(default_factory=dict)  # reqId -> tags
    pnl_subscriptions: dict[int, Any] = field(default_factory=dict)     # reqId -> account or (account, conId)
    positions_subscribed: bool = False


class AccountFeed:
    """Every account stream of one gateway, kept per connection."""

    def __init__(self, world: World, clock: SimClock, config: GatewayConfig, call_soon: CallSoon) -> None:
        self.world = world
        self.clock = clock
        self.env = clock.env
        self.config = config
        self.market = world.market
        self._call_soon = call_soon
        self._conns: ConnectionTable[_Connection] = ConnectionTable(_Connection)
        self._dirty: dict[str, set[int]] = {}
        self._push_pending = False
        self._sent: dict[tuple[int, Any], dict[tuple[str, str], str]] = {}   # (conn, stream) -> row -> last value
        self.account_ready = True
        conns = self._conns
        self._pnl = Periodic(PNL_INTERVAL_S, lambda: any(c.pnl_subscriptions for c in conns), self._pnl_tick)
        self._refresh = Periodic(ACCOUNT_REFRESH_S, lambda: any(c.account_updates or c.account_summaries
                                                               or c.account_updates_multi for c in conns),
                                 self._refresh_tick)

    def has_account_summary(self, s: ReplyChannel, req_id: int) -> bool:
        conn = self._conns.get(s.conn_id)
        return conn is not None and req_id in conn.account_summaries

    def has_pnl(self, s: ReplyChannel, req_id: int) -> bool:
        conn = self._conns.get(s.conn_id)
        return conn is not None and req_id in conn.pnl_subscriptions

    # ------------------------------------------------------------------ snapshots
    def values(self, account_id: str) -> Values:
        """Every reqAccountUpdates row of one account, keyed by (tag, currency)."""
        out = {(tag, ccy): (tag, value, ccy) for tag, value, ccy in
               self.world.accounts[account_id].update_rows(self.market)}
        out[("AccountReady", "")] = ("AccountReady", "true" if self.account_ready else "false", "")
        return out

    def _changed(self, s: ReplyChannel, stream: Any, values: Values, full: bool) -> list[Row]:
        """The rows this session's ``stream`` has not seen yet (all of them when ``full``)."""
        seen = self._sent.setdefault((s.conn_id, stream), {})
        out = [row for key, row in values.items() if full or seen.get(key) != row[1]]
        seen.update({(tag, ccy): value for tag, value, ccy in out})
        return out

    def _portfolio(self, s: ReplyChannel, account_id: str, con_ids: Iterable[int] | None = None) -> list[Fields]:
        wanted = set(con_ids) if con_ids is not None else None
        return [m.update_portfolio(s.server_version, it.spec, it.position, it.market_price, it.market_value,
                                   it.average_cost, it.unrealized_pnl, it.realized_pnl, account_id)
                for it in self.world.accounts[account_id].portfolio(self.market)
                if wanted is None or it.spec.con_id in wanted]

    def _account_time(self) -> Fields:
        return m.update_account_time(datetime.fromtimestamp(self.clock.epoch_now(), timezone.utc).strftime("%H:%M"))

    def _accounts_of(self, account: str) -> list[str]:
        return self.config.account_ids if account in ("", "All") else [account]

    def _updates(self, s: ReplyChannel, account_id: str, values: Values, full: bool) -> list[Fields]:
        changed = self._changed(s, "updates", values, full)
        return [m.update_account_value(tag, value, ccy, account_id) for tag, value, ccy in changed]

    def _multi(self, s: ReplyChannel, req_id: int, account_id: str, values: Values, full: bool,
               model_code: str = "") -> list[Fields]:
        changed = self._changed(s, ("multi", req_id, account_id), values, full)
        return [m.account_update_multi(req_id, account_id, model_code, tag, value, ccy) for tag, value, ccy in changed]

    def _summary(self, s: ReplyChannel, req_id: int, tags: list[str], account_id: str, full: bool) -> list[Fields]:
        rows = self.world.accounts[account_id].summary_rows(tags, self.market)
        wanted = {(tag, ccy): (tag, value, ccy) for tag, value, ccy in rows}
        changed = self._changed(s, ("summary", req_id, account_id), wanted, full)
        return [m.account_summary(req_id, account_id, tag, value, ccy) for tag, value, ccy in changed]

    # ------------------------------------------------------------------ requests
    def start_account_updates(self, s: ReplyChannel, account_id: str) -> None:
        self._conns.of(s).account_updates = account_id
        s.send(K.ACCOUNT_DATA, self._updates(s, account_id, self.values(account_id), True)
               + self._portfolio(s, account_id) + [self._account_time(), m.account_download_end(account_id)])
        self._refresh.ensure(self.env)

    def stop_account_updates(self, s: ReplyChannel) -> None:
        conn = self._conns.get(s.conn_id)
        if conn is not None:
            conn.account_updates = None

    def stop_account_updates_multi(self, s: ReplyChannel, req_id: int) -> None:
        conn = self._conns.get(s.conn_id)
        if conn is not None:
            conn.account_updates_multi.pop(req_id, None)

    def stop_account_summary(self, s: ReplyChannel, req_id: int) -> None:
        conn = self._conns.get(s.conn_id)
        if conn is not None:
            conn.account_summaries.pop(req_id, None)

    def stop_positions(self, s: ReplyChannel) -> None:
        conn = self._conns.get(s.conn_id)
        if conn is not None:
            conn.positions_subscribed = False

    def stop_pnl(self, s: ReplyChannel, req_id: int) -> None:
        conn = self._conns.get(s.conn_id)
        if conn is not None:
            conn.pnl_subscriptions.pop(req_id, None)

    def start_account_updates_multi(self, s: ReplyChannel, req_id: int, account: str, model_code: str) -> None:
        self._conns.of(s).account_updates_multi[req_id] = account
        msgs: list[Fields] = []
        for acct in self._accounts_of(account):
            msgs += self._multi(s, req_id, acct, self.values(acct), True, model_code)
        s.send(K.ACCOUNT_DATA, msgs + [m.account_update_multi_end(req_id)])
        self._refresh.ensure(self.env)

    def start_account_summary(self, s: ReplyChannel, req_id: int, group: str, tags: str) -> None:
        """reqAccountSummary: every requested tag of every account now, the changes every 3 minutes.
        IB allows two summary subscriptions at once; the third is refused with 322."""
        conn = self._conns.of(s)
        if req_id not in conn.account_summaries and len(conn.account_summaries) >= self.config.max_account_summaries:
            raise RequestError(req_id, 322, ACCOUNT_SUMMARY_LIMIT_TEXT)
        wanted = [t.strip() for t in tags.split(",") if t.strip()]
        conn.account_summaries[req_id] = wanted
        msgs: list[Fields] = []
        for acct in self.config.account_ids:
            msgs += self._summary(s, req_id, wanted, acct, True)
        s.send(K.ACCOUNT_DATA, msgs + [m.account_summary_end(req_id)])
        self._refresh.ensure(self.env)

    def start_positions(self, s: ReplyChannel) -> None:
        self._conns.of(s).positions_subscribed = True
        msgs = [m.position(s.server_version, acct, pos.spec, pos.qty, pos.avg_cost)
                for acct in self.config.account_ids for pos in self.world.accounts[acct].positions()]
        s.send(K.ACCOUNT_DATA, msgs + [m.position_end()])

    def start_pnl(self, s: ReplyChannel, req_id: int, account_id: str, con_id: int | None = None) -> None:
        """reqPnL (``con_id`` None) or reqPnLSingle: now, then about once a second until cancelled."""
        key = account_id if con_id is None else (account_id, con_id)
        self._conns.of(s).pnl_subscriptions[req_id] = key
        s.send(K.ACCOUNT_DATA, [self._pnl_message(s, req_id, key, {})])
        self._pnl.ensure(self.env)

    def _pnl_message(self, s: ReplyChannel, req_id: int, key: Any, cache: dict[Any, tuple]) -> Fields:
        if key not in cache:
            if isinstance(key, str):
                cache[key] = self.world.accounts[key].pnl(self.market)
            else:
                account_id, con_id = key
                acct = self.world.accounts[account_id]
                item = next((it for it in acct.portfolio(self.market) if it.spec.con_id == con_id), None)
                unrealized = item.unrealized_pnl if item else 0.0
                realized = acct.realized_by_con_id.get(con_id, 0.0)
                cache[key] = (acct.position(con_id), unrealized + realized, unrealized, realized,
                              item.market_value if item else 0.0)
        if isinstance(key, str):
            return m.pnl(req_id, *cache[key])
        return m.pnl_single(s.server_version, req_id, *cache[key])

    def send_positions_multi(self, s: ReplyChannel, req_id: int, account: str, model_code: str) -> None:
        msgs = [m.position_multi(s.server_version, req_id, acct, pos.spec, pos.qty, pos.avg_cost, model_code)
                for acct in self._accounts_of(account) for pos in self.world.accounts[acct].positions()]
        s.send(K.ACCOUNT_DATA, msgs + [m.position_multi_end(req_id)])

    def session_closed(self, s: ReplyChannel) -> None:
        for key in [k for k in self._sent if k[0] == s.conn_id]:
            del self._sent[key]
        self._conns.drop(s.conn_id)

    def clear_subscriptions(self) -> None:
        """1101 (data lost): every account subscription is gone; clients must request them again."""
        for conn in self._conns.live():
            self.session_closed(conn.channel)

    def set_account_ready(self, ready: bool) -> None:
        """IB's server resetting (an 1100 outage): AccountReady goes "false" at once to every account-updates
        subscriber, and "true" again when it is back ("values ... can be out of date" meanwhile)."""
        if ready == self.account_ready:
            return
        self.account_ready = ready
        text = "true" if ready else "false"
        for conn in self._conns.live():
            if conn.account_updates:
                self._sent.setdefault((conn.channel.conn_id, "updates"), {})[("AccountReady", "")] = text
                conn.channel.send(K.ACCOUNT_DATA, [m.update_account_value("AccountReady", text, "",
                                                                          conn.account_updates)])

    # ------------------------------------------------------------------ pushes
    def after_fill(self, account_id: str, con_id: int) -> None:
        """A fill changed a position: push it once the order's own messages are queued."""
        self._dirty.setdefault(account_id, set()).add(con_id)
        if not self._push_pending:
            self._push_pending = True
            self._call_soon(self.push_positions)

    def push_positions(self) -> None:
        """Send the dirty positions now (the order desk calls it right after a fill's status messages)."""
        self._push_pending = False
        if not self._dirty:
            return
        dirty, self._dirty = self._dirty, {}
        conns = self._conns.live()
        for account_id, con_ids in dirty.items():
            acct = self.world.accounts[account_id]
            for conn in conns:
                s = conn.channel
                msgs: list[Fields] = []
                if conn.account_updates == account_id:
                    msgs += self._portfolio(s, account_id, con_ids) + [self._account_time()]
                if conn.positions_subscribed:
                    for con_id in con_ids:
                        pos = acct.positions_by_con_id.get(con_id)
                        if pos is not None:
                            msgs.append(m.position(s.server_version, account_id, pos.spec, pos.qty, pos.avg_cost))
                if msgs:
                    s.send(K.ACCOUNT_DATA, msgs)

    def _refresh_tick(self, now: float) -> None:
        """Every 3 minutes: the changed account values and summary tags, the portfolio at current prices."""
        cache: dict[str, Values] = {}

        def values(acct: str) -> Values:
            if acct not in cache:
                cache[acct] = self.values(acct)
            return cache[acct]
        for conn in self._conns.live():
            s = conn.channel
            if conn.account_updates:
                acct = conn.account_updates
                s.send(K.ACCOUNT_DATA, self._updates(s, acct, values(acct), False) + self._portfolio(s, acct)
                       + [self._account_time()])
            for req_id, which in list(conn.account_updates_multi.items()):
                msgs = []
                for acct in self._accounts_of(which):
                    msgs += self._multi(s, req_id, acct, values(acct), False)
                if msgs:
                    s.send(K.ACCOUNT_DATA, msgs)
            for req_id, tags in list(conn.account_summaries.items()):
                msgs = []
                for acct in self.config.account_ids:
                    msgs += self._summary(s, req_id, tags, acct, False)
                if msgs:
                    s.send(K.ACCOUNT_DATA, msgs + [m.account_summary_end(req_id)])

    def _pnl_tick(self, now: float) -> None:
        cache: dict[Any, tuple] = {}
        for conn in self._conns.live():
            s = conn.channel
            for req_id, key in list(conn.pnl_subscriptions.items()):
                s.send(K.ACCOUNT_DATA, [self._pnl_message(s, req_id, key, cache)])

    def account_mark(self, account_id: str) -> dict[str, Any]:
        """Attributes of the periodic ``account_mark`` event (contracts §1)."""
        acct = self.world.accounts[account_id]
        daily, unrealized, realized = acct.pnl(self.market)
        return {"account": account_id, "net_liquidation": round(acct.net_liquidation(self.market), 2),
                "cash": round(acct.cash, 2), "realized_pnl": round(realized, 2),
                "unrealized_pnl": round(unrealized, 2),
                "positions": {p.spec.local_symbol or p.spec.symbol: p.qty for p in acct.positions()}}
