// Connect (handshake, nextValidId, managedAccounts) and ask the gateway's clock: reqCurrentTime.
"use strict";
const { EventName, runScript, waitFor } = require("./lib");

runScript(async (ctx) => {
  const { ib, finish, nextValidId } = ctx;
  const current = waitFor(ib, EventName.currentTime);
  ib.reqCurrentTime();
  const [[time]] = await Promise.all([current]);
  finish({ nextValidId, currentTime: time, localTime: Math.floor(Date.now() / 1000), managedAccounts: ctx.managedAccounts });
});
