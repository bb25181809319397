// Place a limit order far from the market and cancel it; then a market order that fills; then a
// resting order that reqGlobalCancel cancels.
"use strict";
const { OrderAction, OrderType, Stock } = require("@stoqey/ib");
const { EventName, runScript, waitFor } = require("./lib");

runScript(async ({ ib, finish, nextValidId, args }) => {
  const contract = new Stock("AAPL");
  const account = args.account;
  const statuses = {};
  ib.on(EventName.orderStatus, (id, status, filled, remaining, avgFillPrice, permId) => {
    (statuses[id] = statuses[id] || []).push({ status, filled, remaining, avgFillPrice, permId });
  });
  const limitId = nextValidId;
  const limitPrice = Number(args.limitPrice || 1);
  const opened = waitFor(ib, EventName.openOrder, (id) => id === limitId);
  const submitted = waitFor(ib, EventName.orderStatus, (id, status) => id === limitId && /Submitted$/.test(status));
  ib.placeOrder(limitId, contract, { action: OrderAction.BUY, orderType: OrderType.LMT, totalQuantity: 1,
    lmtPrice: limitPrice, tif: "DAY", account, transmit: true });
  const [[, openContract, openOrder, orderState]] = await Promise.all([opened, submitted]);
  const cancelled = waitFor(ib, EventName.orderStatus, (id, status) => id === limitId && status === "Cancelled");
  ib.cancelOrder(limitId);
  await cancelled;

  const marketId = limitId + 1;
  const filled = waitFor(ib, EventName.orderStatus, (id, status) => id === marketId && status === "Filled");
  const execution = waitFor(ib, EventName.execDetails, (_req, _c, exec) => exec.orderId === marketId);
  const commission = new Promise((resolve) => ib.on(EventName.commissionReport, resolve));
  ib.placeOrder(marketId, contract, { action: OrderAction.BUY, orderType: OrderType.MKT, totalQuantity: 2, tif: "DAY", account, transmit: true });
  const [[, , fills], [, execContract, exec], report] = await Promise.all([filled, execution, commission]);

  // a resting order cancelled by reqGlobalCancel (from 192 written without a version field)
  const globalId = marketId + 1;
  const resting = waitFor(ib, EventName.orderStatus, (id, status) => id === globalId && /Submitted$/.test(status));
  ib.placeOrder(globalId, contract, { action: OrderAction.BUY, orderType: OrderType.LMT, totalQuantity: 1,
    lmtPrice: limitPrice, tif: "DAY", account, transmit: true });
  await resting;
  const globallyCancelled = waitFor(ib, EventName.orderStatus, (id, status) => id === globalId && status === "Cancelled");
  ib.reqGlobalCancel();
  await globallyCancelled;
  finish({
    globalCancel: { orderId: globalId, statuses: statuses[globalId] },
    limit: { orderId: limitId, conId: openContract.conId, action: openOrder.action, orderType: openOrder.orderType,
      totalQuantity: openOrder.totalQuantity, lmtPrice: openOrder.lmtPrice, state: orderState.status,
      statuses: statuses[limitId] },
    market: { orderId: marketId, filled: fills, statuses: statuses[marketId], execution: { conId: execContract.conId,
      side: exec.side, shares: exec.shares, price: exec.price, execId: exec.execId, acctNumber: exec.acctNumber },
      commission: { execId: report.execId, commission: report.commission, currency: report.currency } },
  });
});
