"""The trading session every ib_insync-style client must be able to run against the mock gateway.

Shared by test_ib_insync.py and test_ib_async.py (the two libraries have the same API); each
test is one behaviour, over a real socket with the real client library.
"""
from __future__ import annotations

import importlib
import math
from contextlib import contextmanager

import pytest

from .conftest import out_messages, sys_events, wait_for, wait_thread


class IbClientBehaviour:
    lib = "ib_insync"
    expected_server_version = 176

    # ------------------------------------------------------------------ helpers
    @property
    def api(self):
        return importlib.import_module(self.lib)

    @contextmanager
    def connected(self, gw, client_id: int = 1, **kwargs):
        ib = self.api.IB()
        ib.connect(gw.host, gw.port, clientId=client_id, timeout=5, **kwargs)
        try:
            yield ib
        finally:
            ib.disconnect()

    def stock(self, ib, symbol: str = "AAPL"):
        contract = self.api.Stock(symbol, "SMART", "USD")
        ib.qualifyContracts(contract)
        return contract

    def errors(self, ib) -> list[tuple[int, int]]:
        seen: list[tuple[int, int]] = []
        ib.errorEvent += lambda req_id, code, *rest: seen.append((req_id, code))
        return seen

    # ------------------------------------------------------------------ connection
    def test_connect_negotiates_the_version_and_reports_the_paper_account(self, mock_gateway):
        with self.connected(mock_gateway) as ib:
            assert ib.client.serverVersion() == self.expected_server_version
            assert ib.managedAccounts() == ["DU1234567"]
            assert ib.isConnected()

    def test_disconnect_is_logged_with_the_clients_reason(self, mock_gateway):
        with self.connected(mock_gateway, client_id=3):
            pass

        def disconnects():
            return [e for e in sys_events(mock_gateway, "disconnect") if e["client_id"] == 3]
        wait_thread(disconnects, what="the disconnect event")
        assert disconnects()[0]["attrs"]["reason"] == "client closed the connection"

    def test_current_time_is_the_simulated_clock(self, mock_gateway):
        with self.connected(mock_gateway) as ib:
            now = ib.reqCurrentTime()
        assert abs(now.timestamp() - mock_gateway.config.start.timestamp()) < 60

    # ------------------------------------------------------------------ contracts
    def test_qualify_fills_in_the_contract_from_the_contract_book(self, mock_gateway):
        with self.connected(mock_gateway) as ib:
            contract = self.stock(ib, "MSFT")
        assert (contract.conId, contract.primaryExchange, contract.localSymbol) == (272093, "NASDAQ", "MSFT")

    def test_unknown_contract_gets_error_200_and_no_details(self, mock_gateway):
        with self.connected(mock_gateway) as ib:
            errors = self.errors(ib)
            details = ib.reqContractDetails(self.api.Stock("NOSUCH", "SMART", "USD"))
            wait_for(ib, lambda: errors, what="error 200")
        assert details == [] and errors[0][1] == 200

    def test_forex_future_and_option_contracts_resolve(self, mock_gateway):
        api = self.api
        with self.connected(mock_gateway) as ib:
            fx = api.Forex("EURUSD")
            ib.qualifyContracts(fx)
            futures = ib.reqContractDetails(api.Future("ES", exchange="CME"))
            options = ib.reqContractDetails(api.Option("AAPL", exchange="SMART", right="C"))
        assert fx.conId == 12087792 and fx.exchange == "IDEALPRO"
        assert len(futures) >= 2 and all(d.contract.multiplier == "50" for d in futures)
        assert options and all(d.contract.right == "C" for d in options)

    # ------------------------------------------------------------------ market data
    def test_streaming_market_data_delivers_changing_quotes(self, mock_gateway_factory):
        gw = mock_gateway_factory(speed=20.0)
        with self.connected(gw) as ib:
            ticker = ib.reqMktData(self.stock(ib))
            updates = []
            ticker.updateEvent += lambda t: updates.append((t.bid, t.ask, t.last))
            wait_for(ib, lambda: len(set(updates)) >= 3, what="three different quotes")
            ib.cancelMktData(ticker.contract)
        assert all(bid < ask for bid, ask, _ in updates if not math.isnan(bid))
        assert ticker.bidSize > 0 and ticker.volume > 0

    def test_snapshot_ends_with_tick_snapshot_end(self, mock_gateway):
        with self.connected(mock_gateway) as ib:
            (ticker,) = ib.reqTickers(self.stock(ib, "SPY"))
        assert ticker.bid < ticker.ask and ticker.last > 0

    # ------------------------------------------------------------------ bars
    def test_historical_bars_end_at_the_current_bar(self, mock_gateway):
        with self.connected(mock_gateway) as ib:
            bars = ib.reqHistoricalData(self.stock(ib), "", "2 D", "1 hour", "TRADES", useRTH=False)
        assert len(bars) > 10
        assert all(b.low <= min(b.open, b.close) and b.high >= max(b.open, b.close) for b in bars)
        assert bars[-1].date.timestamp() <= mock_gateway.config.start.timestamp()

    def test_keep_up_to_date_bars_stream_updates(self, mock_gateway_factory):
        gw = mock_gateway_factory(speed=20.0)
        with self.connected(gw) as ib:
            bars = ib.reqHistoricalData(self.stock(ib), "", "300 S", "5 secs", "MIDPOINT", useRTH=False,
                                        keepUpToDate=True)
            n = len(bars)
            updates = []
            bars.updateEvent += lambda bars, has_new: updates.append(has_new)
            wait_for(ib, lambda: len(updates) >= 2, what="two bar updates")
            ib.cancelHistoricalData(bars)
        assert n > 0 and len(bars) >= n

    def test_realtime_bars_arrive_every_five_seconds(self, mock_gateway_factory):
        gw = mock_gateway_factory(speed=25.0)
        with self.connected(gw) as ib:
            bars = ib.reqRealTimeBars(self.stock(ib), 5, "TRADES", False)
            wait_for(ib, lambda: len(bars) >= 2, what="two real-time bars")
            ib.cancelRealTimeBars(bars)
        assert (bars[1].time - bars[0].time).total_seconds() == 5

    # ------------------------------------------------------------------ orders
    def test_market_order_fills_with_execution_and_commission(self, mock_gateway):
        with self.connected(mock_gateway) as ib:
            trade = ib.placeOrder(self.stock(ib), self.api.MarketOrder("BUY", 10))
            wait_for(ib, lambda: trade.isDone() and trade.fills and trade.fills[0].commissionReport.execId,
                     what="fill and commission report")
        assert trade.orderStatus.status == "Filled" and trade.orderStatus.filled == 10
        fill = trade.fills[0]
        assert fill.execution.shares == 10 and fill.execution.side == "BOT"
        assert fill.commissionReport.commission == pytest.approx(1.0)   # the IBKR Pro minimum

    def test_limit_order_rests_until_cancelled(self, mock_gateway):
        with self.connected(mock_gateway) as ib:
            trade = ib.placeOrder(self.stock(ib), self.api.LimitOrder("BUY", 5, 100.0))
            wait_for(ib, lambda: trade.orderStatus.status == "Submitted", what="Submitted")
            ib.cancelOrder(trade.order)
            wait_for(ib, lambda: trade.orderStatus.status == "Cancelled", what="Cancelled")
        assert not trade.fills

    def test_global_cancel_clears_every_open_order(self, mock_gateway):
        with self.connected(mock_gateway) as ib:
            contract = self.stock(ib)
            trades = [ib.placeOrder(contract, self.api.LimitOrder("BUY", 1, 100.0 + i)) for i in range(3)]
            trades.append(ib.placeOrder(contract, self.api.StopOrder("SELL", 1, 50.0)))
            wait_for(ib, lambda: all(t.orderStatus.status == "Submitted" for t in trades), what="all Submitted")
            ib.reqGlobalCancel()
            wait_for(ib, lambda: all(t.orderStatus.status == "Cancelled" for t in trades), what="all Cancelled")
            assert ib.reqAllOpenOrders() == []

    def test_positions_reflect_a_fill_at_once_and_a_new_summary_request_shows_the_cash(self, mock_gateway):
        with self.connected(mock_gateway) as ib:
            cash_before = float(next(v.value for v in ib.accountSummary() if v.tag == "TotalCashValue"))
            trade = ib.placeOrder(self.stock(ib, "IBM"), self.api.MarketOrder("BUY", 20))
            wait_for(ib, lambda: trade.isDone() and trade.fills[0].commissionReport.execId, what="fill")
            wait_for(ib, lambda: any(p.contract.symbol == "IBM" for p in ib.positions()), what="IBM position")
            (position,) = [p for p in ib.positions() if p.contract.symbol == "IBM"]
            ib.reqAccountSummary()          # a fresh request answers with every value as of now
            summary = {v.tag: v for v in ib.accountSummary()}
        cost = 20 * trade.orderStatus.avgFillPrice + trade.fills[0].commissionReport.commission
        assert position.position == 20 and position.avgCost == pytest.approx(cost / 20)
        assert float(summary["TotalCashValue"].value) == pytest.approx(cash_before - cost, abs=0.01)

    def test_account_summary_subscription_updates_changed_values_every_three_minutes(self, mock_gateway_factory):
        gw = mock_gateway_factory(speed=600.0)            # 3 sim minutes = 0.3 s
        with self.connected(gw) as ib:
            cash_before = next(v.value for v in ib.accountSummary() if v.tag == "TotalCashValue")
            trade = ib.placeOrder(self.stock(ib, "IBM"), self.api.MarketOrder("BUY", 20))
            wait_for(ib, trade.isDone, what="fill")
            wait_for(ib, lambda: next(v.value for v in ib.accountSummary() if v.tag == "TotalCashValue")
                     != cash_before, what="the 3-minute account summary update")
        updates = [e for e in out_messages(gw, "accountSummary") if e["attrs"]["tag"] == "TotalCashValue"]
        assert len(updates) == 2 and updates[1]["sim"] == pytest.approx(180.0)

    def test_completed_orders_list_filled_and_cancelled_orders(self, mock_gateway):
        with self.connected(mock_gateway) as ib:
            contract = self.stock(ib)
            filled = ib.placeOrder(contract, self.api.MarketOrder("BUY", 2))
            resting = ib.placeOrder(contract, self.api.LimitOrder("BUY", 2, 100.0))
            wait_for(ib, lambda: filled.isDone() and resting.orderStatus.status == "Submitted", what="fill, rest")
            ib.cancelOrder(resting.order)
            wait_for(ib, resting.isDone, what="cancel")
            completed = ib.reqCompletedOrders(apiOnly=False)
        assert sorted((t.order.permId, t.orderStatus.status) for t in completed) == sorted(
            [(filled.order.permId, "Filled"), (resting.order.permId, "Cancelled")])

    def test_what_if_order_previews_margin_and_commission(self, mock_gateway):
        with self.connected(mock_gateway) as ib:
            state = ib.whatIfOrder(self.stock(ib), self.api.MarketOrder("BUY", 100))
        assert float(state.initMarginChange) > 0 and state.commission == pytest.approx(1.0)

    def test_order_for_an_unknown_contract_is_rejected_with_200(self, mock_gateway):
        with self.connected(mock_gateway) as ib:
            trade = ib.placeOrder(self.api.Stock("NOSUCH", "SMART", "USD"), self.api.MarketOrder("BUY", 1))
            wait_for(ib, trade.isDone, what="rejection")
        assert trade.orderStatus.status == "Cancelled" and trade.log[-1].errorCode == 200

    def test_pnl_streams_about_once_a_second(self, mock_gateway_factory):
        gw = mock_gateway_factory(speed=20.0)
        with self.connected(gw) as ib:
            pnl = ib.reqPnL("DU1234567")
            updates = []
            ib.pnlEvent += lambda p: updates.append(p.dailyPnL)
            wait_for(ib, lambda: len(updates) >= 3, what="three PnL updates")
            ib.cancelPnL("DU1234567")
        assert not math.isnan(pnl.dailyPnL)
        sent = out_messages(gw, "pnl")
        assert len(sent) >= 3 and sent[2]["sim"] - sent[1]["sim"] == pytest.approx(1.0)

    def test_executions_are_reported_on_request(self, mock_gateway):
        with self.connected(mock_gateway) as ib:
            trade = ib.placeOrder(self.stock(ib), self.api.MarketOrder("SELL", 3))
            wait_for(ib, trade.isDone, what="fill")
            fills = ib.reqExecutions()
        assert [(f.execution.side, f.execution.shares) for f in fills] == [("SLD", 3)]
        assert fills[0].execution.execId == trade.fills[0].execution.execId

    # ------------------------------------------------------------------ reference data
    def test_matching_symbols_search_the_contract_book(self, mock_gateway):
        with self.connected(mock_gateway) as ib:
            found = ib.reqMatchingSymbols("AAP")
        assert [(d.contract.symbol, d.contract.conId, d.derivativeSecTypes) for d in found] == [
            ("AAPL", 265598, ["OPT"])]

    def test_option_chain_lists_expirations_and_strikes_that_qualify(self, mock_gateway):
        with self.connected(mock_gateway) as ib:
            chains = ib.reqSecDefOptParams("AAPL", "", "STK", 265598)
            smart = next(c for c in chains if c.exchange == "SMART")
            # the strikes are the union over every expiry (as IB lists them): LEAPS reach further out than the
            # front month, so take one near the money, which every expiry lists
            near_money = smart.strikes[len(smart.strikes) // 2]
            option = self.api.Option("AAPL", smart.expirations[0], near_money, "P", "SMART")
            ib.qualifyContracts(option)
        assert smart.multiplier == "100" and len(smart.strikes) >= 3 and option.conId > 0

    def test_market_rule_gives_the_price_increment(self, mock_gateway):
        with self.connected(mock_gateway) as ib:
            (increment,) = ib.reqMarketRule(26)
        assert (increment.lowEdge, increment.increment) == (0, 0.01)

    def test_head_timestamp_is_a_date_before_the_run(self, mock_gateway):
        with self.connected(mock_gateway) as ib:
            head = ib.reqHeadTimeStamp(self.stock(ib), "TRADES", True)
        assert head.year < mock_gateway.config.start.year

    def test_pnl_single_follows_one_position(self, mock_gateway):
        with self.connected(mock_gateway) as ib:
            contract = self.stock(ib)
            trade = ib.placeOrder(contract, self.api.MarketOrder("BUY", 3))
            wait_for(ib, trade.isDone, what="fill")
            pnl = ib.reqPnLSingle("DU1234567", "", contract.conId)
            wait_for(ib, lambda: pnl.position == 3, what="pnlSingle")
            ib.cancelPnLSingle("DU1234567", "", contract.conId)
        assert pnl.value == pytest.approx(3 * trade.orderStatus.avgFillPrice, rel=0.01)
        assert pnl.dailyPnL == pytest.approx(pnl.unrealizedPnL + pnl.realizedPnL)
