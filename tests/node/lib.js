// Shared by the scripts in this folder: connect an @stoqey/ib client to the gateway named on the
// command line, run one scenario of calls, print its result as one JSON line on stdout.
//
// Usage of every script: node <script>.js --port N [--host H] [--client-id K] [--timeout-ms T]
// The result is printed exactly once: {"ok": true, ...} when the script finished, or
// {"ok": false, "reason": "..."} on a timeout or an unexpected error; the exit code is 0 either
// way so the Python side reads the reason instead of a bare exit status.
"use strict";

const { IBApi, EventName } = require("@stoqey/ib");

function parseArgs(argv) {
  const out = { host: "127.0.0.1", port: Number(process.env.IB_PORT || 0), clientId: 1, timeoutMs: 20000 };
  for (let i = 2; i < argv.length; i += 2) {
    const key = argv[i];
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`${key} needs a value`);
    if (key === "--host") out.host = value;
    else if (key === "--port") out.port = Number(value);
    else if (key === "--client-id") out.clientId = Number(value);
    else if (key === "--timeout-ms") out.timeoutMs = Number(value);
    else if (key.startsWith("--")) out[key.slice(2).replace(/-(.)/g, (_m, c) => c.toUpperCase())] = value;
    else throw new Error(`unexpected argument ${key}`);
  }
  if (!out.port) throw new Error("--port is required (or IB_PORT)");
  return out;
}

/** Run ``body(ctx)`` against a connected client; ``ctx.finish(result)`` prints it and exits.
 *
 * ``ctx`` holds ``ib`` (an IBApi), ``args``, ``errors`` (every error event as {code, reqId, message})
 * and ``events`` (a log of named milestones), so a test can see what happened before a timeout.
 * ``connect: false`` leaves connecting to the body (the reconnect script drives it itself).
 */
function runScript(body, { connect = true } = {}) {
  const args = parseArgs(process.argv);
  const ib = new IBApi({ host: args.host, port: args.port, clientId: args.clientId });
  const errors = [];
  const events = [];
  let done = false;
  const ctx = {};

  const finish = (result) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    const out = Object.assign({ ok: true, serverVersion: ib.serverVersion }, result, { errors, events });
    process.stdout.write(JSON.stringify(out) + "\n", () => {
      try {
        ib.disconnect();
      } catch (_e) {
        // already closed
      }
      process.exit(0);
    });
  };
  const fail = (reason) => finish({ ok: false, reason });
  const timer = setTimeout(() => fail(`timed out after ${args.timeoutMs} ms`), args.timeoutMs);

  process.on("uncaughtException", (e) => fail(`script error: ${e && e.stack ? e.stack : e}`));
  ib.on(EventName.managedAccounts, (list) => {
    ctx.managedAccounts = String(list).split(",").filter(Boolean);
  });
  ib.on(EventName.error, (err, code, reqId) => {
    errors.push({ code, reqId, message: err && err.message ? err.message : String(err) });
  });
  Object.assign(ctx, { ib, args, errors, events, finish, fail, note: (name, data) => events.push(Object.assign({ name }, data || {})) });
  try {
    if (connect) {
      ib.once(EventName.nextValidId, (orderId) => {
        ctx.nextValidId = orderId;
        Promise.resolve(body(ctx)).catch((e) => fail(`script error: ${e && e.stack ? e.stack : e}`));
      });
      ib.connect();
    } else {
      Promise.resolve(body(ctx)).catch((e) => fail(`script error: ${e && e.stack ? e.stack : e}`));
    }
  } catch (e) {
    fail(`script error: ${e && e.stack ? e.stack : e}`);
  }
}

/** Resolve with the first event ``name`` whose arguments satisfy ``accept`` (all arguments as an array). */
function waitFor(ib, name, accept = () => true) {
  return new Promise((resolve) => {
    const handler = (...a) => {
      if (accept(...a)) {
        ib.off(name, handler);
        resolve(a);
      }
    };
    ib.on(name, handler);
  });
}

/** Collect the rows of a request that ends with ``endName`` (both events keyed by reqId first). */
function collect(ib, reqId, rowName, endName, send, map = (...a) => a) {
  return new Promise((resolve) => {
    const rows = [];
    const onRow = (id, ...rest) => {
      if (id === reqId) rows.push(map(...rest));
    };
    const onEnd = (id) => {
      if (id !== reqId) return;
      ib.off(rowName, onRow);
      ib.off(endName, onEnd);
      resolve(rows);
    };
    ib.on(rowName, onRow);
    ib.on(endName, onEnd);
    send();
  });
}

/** Resolve with the first error event for ``reqId``: {code, message}. */
function errorFor(ib, reqId) {
  return waitFor(ib, EventName.error, (_err, _code, id) => id === reqId).then(([err, code]) => ({
    code,
    message: err && err.message ? err.message : String(err),
  }));
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

module.exports = { EventName, collect, errorFor, parseArgs, runScript, sleep, waitFor };
