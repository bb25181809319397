// Qualify a stock (AMZN), every month of a future (ES) and an option found the way a user finds one:
// reqSecDefOptParams on the underlying's conId, then reqContractDetails of one expiry and strike.
"use strict";
const { Future, Option, OptionType, SecType, Stock } = require("@stoqey/ib");
const { EventName, collect, runScript } = require("./lib");

const summary = (d) => ({
  conId: d.contract.conId, symbol: d.contract.symbol, secType: d.contract.secType,
  exchange: d.contract.exchange, primaryExch: d.contract.primaryExch, currency: d.contract.currency,
  localSymbol: d.contract.localSymbol, tradingClass: d.contract.tradingClass,
  lastTradeDate: d.contract.lastTradeDateOrContractMonth, strike: d.contract.strike, right: d.contract.right,
  multiplier: d.contract.multiplier, longName: d.longName, minTick: d.minTick, contractMonth: d.contractMonth,
  underConId: d.underConId, timeZoneId: d.timeZoneId, validExchanges: d.validExchanges,
});

runScript(async ({ ib, finish }) => {
  const details = (reqId, contract) =>
    collect(ib, reqId, EventName.contractDetails, EventName.contractDetailsEnd,
      () => ib.reqContractDetails(reqId, contract), (d) => summary(d));
  const stock = await details(11, new Stock("AMZN"));
  const future = { symbol: "ES", secType: SecType.FUT, exchange: "CME", currency: "USD" };
  const futures = await details(12, future);
  const underlying = await details(15, { conId: futures[0].underConId });
  const chains = await collect(ib, 13, EventName.securityDefinitionOptionParameter,
    EventName.securityDefinitionOptionParameterEnd,
    () => ib.reqSecDefOptParams(13, "AMZN", "", SecType.STK, stock[0].conId),
    (exchange, underConId, tradingClass, multiplier, expirations, strikes) =>
      ({ exchange, underConId, tradingClass, multiplier, expirations: [...expirations].sort(), strikes: [...strikes].sort((a, b) => a - b) }));
  const smart = chains.find((c) => c.exchange === "SMART") || chains[0];
  const expiry = smart.expirations[0];
  const strike = smart.strikes[Math.floor(smart.strikes.length / 2)];
  const option = await details(14, new Option("AMZN", expiry, strike, OptionType.Call));
  finish({ stock, futures, underlying, chains: chains.map((c) => ({ exchange: c.exchange, underConId: c.underConId, expirations: c.expirations.length, strikes: c.strikes.length })), asked: { expiry, strike }, option });
});
