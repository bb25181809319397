// Requests the gateway must refuse: an unknown symbol (200) and an illegal bar size (321).
"use strict";
const { Stock, WhatToShow } = require("@stoqey/ib");
const { EventName, errorFor, runScript, waitFor } = require("./lib");

runScript(async ({ ib, finish }) => {
  const unknown = errorFor(ib, 51);
  let rows = 0;
  ib.on(EventName.contractDetails, (id) => { if (id === 51) rows += 1; });
  ib.reqContractDetails(51, new Stock("XXX"));
  const badBar = errorFor(ib, 52);
  ib.reqHistoricalData(52, new Stock("AAPL"), "", "1 D", "7 mins", WhatToShow.TRADES, 1, 1, false);
  const [unknownSymbol, illegalBarSize] = await Promise.all([unknown, badBar]);
  // the session is still usable after both errors
  const current = waitFor(ib, EventName.currentTime);
  ib.reqCurrentTime();
  const [[time]] = await Promise.all([current]);
  finish({ unknownSymbol, contractRows: rows, illegalBarSize, currentTimeAfter: time });
});
