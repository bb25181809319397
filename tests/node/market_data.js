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
    // @stoqey/ib 1.6.10 reports the size carried by a BID tickPrice under no tick type (BID_SIZE is 0, and
    // it tests the size tick type for truthiness), so a bid size is seen only from a separate tickSize:
    // keep reading until one came (or ten times the ticks asked for).
    const sized = sizes.BID_SIZE !== undefined && sizes.ASK_SIZE !== undefined;
    if (++count >= wanted && (sized || count >= 10 * wanted)) {
      ib.cancelMktData(reqId);
      finish({ tickPrices: count, prices, sizes, quotes });
    }
  });
  ib.reqMktData(reqId, new Stock("AAPL"), "", false, false);
});
