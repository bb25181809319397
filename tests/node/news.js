// The news a paper login has: reqNewsProviders (the three API services IBKR enables by default),
// reqHistoricalNews on one of them (no headlines: the simulated market publishes none) and on a
// provider the account has no API subscription for (10276).
"use strict";
const { EventName, errorFor, runScript, waitFor } = require("./lib");

runScript(async ({ ib, finish }) => {
  const listed = waitFor(ib, EventName.newsProviders);
  ib.reqNewsProviders();
  const [[providers]] = await Promise.all([listed]);
  const headlines = [];
  ib.on(EventName.historicalNews, (reqId, time, providerCode, articleId, headline) => {
    if (reqId === 61) headlines.push({ time, providerCode, articleId, headline });
  });
  const ended = waitFor(ib, EventName.historicalNewsEnd, (reqId) => reqId === 61);
  ib.reqHistoricalNews(61, 265598, "BRFG+DJNL", "", "", 10);
  const [[, hasMore]] = await Promise.all([ended]);
  const refused = errorFor(ib, 62);
  ib.reqHistoricalNews(62, 265598, "BZ", "", "", 10);
  finish({ providers, headlines, hasMore, unsubscribed: await refused });
});
