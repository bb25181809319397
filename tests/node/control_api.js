// The HTTP fault-control API from Node while an @stoqey/ib client runs: fetch() adds a disconnect,
// the client sees its session dropped, the fault shows it acted once, a typo gets the in-process
// error text with 400, and DELETE removes the fault.
// Usage: node control_api.js --port N --control http://127.0.0.1:M [--client-id K]
"use strict";
const { EventName, runScript, waitFor } = require("./lib");

runScript(async ({ ib, args, finish, note }) => {
  const url = args.control;
  const json = { "Content-Type": "application/json" };
  const lost = waitFor(ib, EventName.disconnected);
  const added = await fetch(`${url}/faults`, {
    method: "POST", headers: json, body: JSON.stringify({ type: "disconnect", name: "node-drop" }),
  });
  const addedBody = await added.json();
  note("added", { status: added.status });
  await lost;
  note("disconnected");
  const after = await (await fetch(`${url}/faults/node-drop`)).json();
  const bad = await fetch(`${url}/faults`, { method: "POST", headers: json, body: JSON.stringify({ type: "latncy" }) });
  const badBody = await bad.json();
  const removed = await fetch(`${url}/faults/node-drop`, { method: "DELETE" });
  const missing = await fetch(`${url}/faults/node-drop`);
  finish({
    addedStatus: added.status, added: addedBody, acted: after.acted, badStatus: bad.status, badError: badBody.error,
    removedStatus: removed.status, missingStatus: missing.status,
  });
});
