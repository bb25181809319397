// Connect (handshake, nextValidId, managedAccounts), ask the gateway's clock (reqCurrentTime) and who
// the user is (reqUserInfo: the white-branding id, empty for an IBKR account).
"use strict";
const { EventName, runScript, waitFor } = require("./lib");

runScript(async (ctx) => {
  const { ib, finish, nextValidId } = ctx;
  const current = waitFor(ib, EventName.currentTime);
  ib.reqCurrentTime();
  const user = waitFor(ib, EventName.userInfo, (reqId) => reqId === 5);
  ib.reqUserInfo(5);
  const [[time], [, whiteBrandingId]] = await Promise.all([current, user]);
  finish({ nextValidId, currentTime: time, whiteBrandingId, localTime: Math.floor(Date.now() / 1000), managedAccounts: ctx.managedAccounts });
});
