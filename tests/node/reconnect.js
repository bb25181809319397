// Survive a dropped session: connect, print a "ready" line, and when the gateway drops the socket
// retry every --retry-ms until it answers again, then ask reqCurrentTime on the new session.
"use strict";
const { EventName, runScript, sleep, waitFor } = require("./lib");

runScript(async ({ ib, args, finish, note }) => {
  const retryMs = Number(args.retryMs || 250);
  ib.on(EventName.disconnected, () => note("disconnected", { at: Date.now() }));
  const first = waitFor(ib, EventName.nextValidId);
  ib.connect();
  const [[firstId]] = await Promise.all([first]);
  const [[before]] = await Promise.all([waitFor(ib, EventName.currentTime), Promise.resolve(ib.reqCurrentTime())]);
  const lost = waitFor(ib, EventName.disconnected);
  process.stdout.write(JSON.stringify({ ready: true, nextValidId: firstId }) + "\n");
  await lost;
  const lostAt = Date.now();
  let attempts = 0;
  for (;;) {
    attempts += 1;
    const outcome = await new Promise((resolve) => {
      const onId = () => { cleanup(); resolve("connected"); };
      const onGone = () => { cleanup(); resolve("refused"); };
      const cleanup = () => { ib.off(EventName.nextValidId, onId); ib.off(EventName.disconnected, onGone); };
      ib.on(EventName.nextValidId, onId);
      ib.on(EventName.disconnected, onGone);
      ib.connect();
    });
    note("attempt", { attempts, outcome });
    if (outcome === "connected") break;
    await sleep(retryMs);
  }
  const [[after]] = await Promise.all([waitFor(ib, EventName.currentTime), Promise.resolve(ib.reqCurrentTime())]);
  finish({ before, after, attempts, reconnectMs: Date.now() - lostAt });
}, { connect: false });
