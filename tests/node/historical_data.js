// Daily and 5-minute TRADES bars of AAPL ending now (empty endDateTime), regular hours, epoch dates.
"use strict";
const { BarSizeSetting, Stock, WhatToShow } = require("@stoqey/ib");
const { EventName, runScript } = require("./lib");

function bars(ib, reqId, duration, barSize, formatDate) {
  return new Promise((resolve) => {
    const rows = [];
    const onBar = (id, time, open, high, low, close, volume, count, wap) => {
      if (id !== reqId) return;
      if (String(time).startsWith("finished")) {
        ib.off(EventName.historicalData, onBar);
        resolve({ rows, finished: time });
      } else {
        rows.push({ time, open, high, low, close, volume, count, wap });
      }
    };
    ib.on(EventName.historicalData, onBar);
    ib.reqHistoricalData(reqId, new Stock("AAPL"), "", duration, barSize, WhatToShow.TRADES, 1, formatDate, false);
  });
}

runScript(async ({ ib, finish }) => {
  const daily = await bars(ib, 31, "10 D", BarSizeSetting.DAYS_ONE, 1);
  const minutes = await bars(ib, 32, "3600 S", BarSizeSetting.MINUTES_FIVE, 2);
  finish({ daily, minutes });
});
