// SPDX-License-Identifier: Apache-2.0
// Start a server in the background and time it: from the exec to the
// first answer 200 on GET /health (polled every 2 ms on loopback).
// Prints one JSON line {pid, startup_ms}; the server keeps running with
// its output in --log.  Exits 1 when no 200 came within --timeout ms.
//
//   node bench/start.mjs --port P --log FILE [--timeout MS] -- CMD ARGS...

import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";

const argv = process.argv.slice(2);
const sep = argv.indexOf("--");
const opts = argv.slice(0, sep);
const cmd = argv.slice(sep + 1);
const opt = (n, d) => (opts.indexOf(`--${n}`) >= 0 ? opts[opts.indexOf(`--${n}`) + 1] : d);
const port = Number(opt("port"));
const log = fs.openSync(opt("log"), "a");
const timeoutMs = Number(opt("timeout", "60000"));

function health() {
  return new Promise((resolve) => {
    const req = http.get({ host: "127.0.0.1", port, path: "/health", agent: false, timeout: 1000 }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode));
    });
    req.on("error", () => resolve(0));
    req.on("timeout", () => { req.destroy(); resolve(0); });
  });
}

const t0 = process.hrtime.bigint();
const child = spawn(cmd[0], cmd.slice(1), { detached: true, stdio: ["ignore", log, log] });
let exited = null;
child.on("exit", (code, sig) => { exited = { code, sig }; });
for (;;) {
  if (exited !== null) {
    console.error(`start: ${cmd[0]} exited (${JSON.stringify(exited)}) before answering /health`);
    process.exit(1);
  }
  if ((await health()) === 200) break;
  if (Number(process.hrtime.bigint() - t0) / 1e6 > timeoutMs) {
    console.error(`start: no /health 200 within ${timeoutMs} ms`);
    process.kill(child.pid, "SIGKILL");
    process.exit(1);
  }
  await new Promise((r) => setTimeout(r, 2));
}
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
child.unref();
console.log(JSON.stringify({ pid: child.pid, startup_ms: Math.round(ms * 10) / 10 }));
process.exit(0);
