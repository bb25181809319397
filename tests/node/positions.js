// reqPositions until positionEnd, and the account summary of a few tags until accountSummaryEnd.
"use strict";
const { EventName, runScript } = require("./lib");

runScript(async ({ ib, finish }) => {
  const positions = [];
  const ended = new Promise((resolve) => {
    ib.on(EventName.position, (account, contract, pos, avgCost) =>
      positions.push({ account, conId: contract.conId, symbol: contract.symbol, secType: contract.secType, pos, avgCost }));
    ib.once(EventName.positionEnd, resolve);
  });
  ib.reqPositions();
  await ended;
  ib.cancelPositions();

  const summary = [];
  const tags = "NetLiquidation,TotalCashValue,BuyingPower,AccountType,$LEDGER:USD";
  const summaryEnded = new Promise((resolve) => {
    ib.on(EventName.accountSummary, (reqId, account, tag, value, currency) => {
      if (reqId === 41) summary.push({ account, tag, value, currency });
    });
    ib.on(EventName.accountSummaryEnd, (reqId) => { if (reqId === 41) resolve(); });
  });
  ib.reqAccountSummary(41, "All", tags);
  await summaryEnded;
  ib.cancelAccountSummary(41);
  finish({ positions, summary });
});
