// A minimal Node.js handler for `prelive run` (the harness sets IB_HOST, IB_PORT, IB_CLIENT_ID,
// IB_ACCOUNT and PRELIVE_KILL_FILE): stream AAPL, buy one share every 200 price ticks, reconnect
// when the gateway drops the session (unless BOT_NO_RECONNECT=1, the broken variant a test expects
// prelive to fail), stop when the kill file appears.
"use strict";
const fs = require("fs");
const { EventName, IBApi, OrderAction, OrderType, Stock } = require("@stoqey/ib");

const ib = new IBApi({ host: process.env.IB_HOST || "127.0.0.1", port: Number(process.env.IB_PORT),
  clientId: Number(process.env.IB_CLIENT_ID || 1) });
let nextId = 0;
let ticks = 0;
ib.on(EventName.error, (err, code, reqId) => console.log(`error ${code} (req ${reqId}): ${err.message}`));
ib.on(EventName.nextValidId, (id) => {
  nextId = id;
  console.log(`connected at server version ${ib.serverVersion}`);
  ib.reqMktData(1, new Stock("AAPL"), "", false, false);
});
ib.on(EventName.tickPrice, () => {
  if (++ticks % 200 === 0 && nextId) {
    ib.placeOrder(nextId++, new Stock("AAPL"), { action: OrderAction.BUY, orderType: OrderType.MKT, totalQuantity: 1,
      account: process.env.IB_ACCOUNT, tif: "DAY", transmit: true });
  }
});
ib.on(EventName.orderStatus, (id, status) => console.log(`order ${id} ${status}`));
ib.on(EventName.disconnected, () => {
  nextId = 0;
  if (process.env.BOT_NO_RECONNECT !== "1") setTimeout(() => ib.connect(), 1000);
});
ib.connect();
setInterval(() => {
  if (process.env.PRELIVE_KILL_FILE && fs.existsSync(process.env.PRELIVE_KILL_FILE)) process.exit(0);
}, 500);
