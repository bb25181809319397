// Stream AAPL top-of-book (reqMktData, not a snapshot) until enough ticks arrived, then cancel.
"use strict";
const { IBApiTickType: TickType, Stock } = require("@stoqey/ib");
const { EventName, runScript } = require("./lib");

runScript(async ({ ib, finish, args }) => {
  const wanted = Number(args.ticks || 20);
  const reqId = 21;
  const prices = {};
  const sizes = {};
  let count = 0;
  const quotes = [];
  let bid;
  let ask;
  ib.on(EventName.marketDataType, (id, type) => { if (id === reqId) prices.marketDataType = type; });
  ib.on(EventName.tickSize, (id, field, value) => {
    if (id === reqId) sizes[TickType[field] || field] = value;
  });
  ib.on(EventName.tickPrice, (id, field, value) => {
    if (id !== reqId) return;
    const name = TickType[field] || String(field);
    prices[name] = value;
    if (field === TickType.BID) bid = value;
    if (field === TickType.ASK) ask = value;
    if (bid !== undefined && ask !== undefined) quotes.push([bid, ask]);
    if (++count >= wanted) {
      ib.cancelMktData(reqId);
      finish({ tickPrices: count, prices, sizes, quotes });
    }
  });
  ib.reqMktData(reqId, new Stock("AAPL"), "", false, false);
});
