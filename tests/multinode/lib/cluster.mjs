// SPDX-License-Identifier: Apache-2.0
//
// The pieces of the multi-node test that are not the test itself: the
// throwaway PostgreSQL (through tests/pg/pg.sh), three tresord nodes on
// one database, OCI SDK clients per node, a client-side round-robin with
// retries (what a load balancer plus a retrying client do), and a small
// request signer for tresor's own /tresor/v1/testing endpoints, which the
// SDK does not know.
//
// Everything talks to 127.0.0.1 only.

import { spawn, spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";

import * as common from "oci-common";
import * as keymanagement from "oci-keymanagement";
import * as secrets from "oci-secrets";
import * as vault from "oci-vault";

export { common, keymanagement, secrets, vault };

// Our own retry loop decides; the SDK's circuit breaker would only get in
// its way (it opens on the failures we provoke on purpose).
process.env.OCI_SDK_DEFAULT_CIRCUITBREAKER_ENABLED = "false";
export const NO_RETRY = common.NoRetryConfigurationDetails;

// The SDK calls the global fetch and, when it throws, keeps only its code
// and message: "fetch failed" with no code.  Lift the cause's code (for
// instance ECONNREFUSED: the request never reached a server) into view.
{
  const origFetch = globalThis.fetch;
  globalThis.fetch = async (...args) => {
    try {
      return await origFetch(...args);
    } catch (e) {
      if (e && !e.code && e.cause?.code) e.code = e.cause.code;
      throw e;
    }
  };
}

// The SDK warns on every failed call; our loop records them instead.
{
  const origWarn = console.warn.bind(console);
  console.warn = (...args) => {
    const text = args.map(String).join(" ");
    if (/Request cannot be retried|All retry attempts have exhausted|Retrying request/.test(text)) return;
    origWarn(...args);
  };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const b64 = (s) => Buffer.from(s, "utf8").toString("base64");
export const unb64 = (s) => Buffer.from(s, "base64").toString("utf8");

export function log(...args) {
  const t = ((Date.now() - T0) / 1000).toFixed(2).padStart(7);
  console.log(`[${t}s]`, ...args);
}
export const T0 = Date.now();

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// ---------------------------------------------------------------------------
// PostgreSQL (tests/pg/pg.sh run exported these)
// ---------------------------------------------------------------------------

export const PG = {
  conninfo: process.env.TRESOR_TEST_PG,
  dir: process.env.TRESOR_TEST_PG_DIR,
  port: process.env.TRESOR_TEST_PG_PORT,
  bin: process.env.TRESOR_TEST_PG_BIN,
  sh: process.env.TRESOR_TEST_PG_SH,
};

function pgsh(...args) {
  const r = spawnSync(PG.sh, args, { encoding: "utf8", timeout: 90000 });
  if (r.status !== 0) {
    throw new Error(`pg.sh ${args.join(" ")} failed (${r.status}): ${r.stderr}${r.stdout}`);
  }
  return r.stdout;
}

/** Fast shutdown of the cluster (pg_ctl stop -m fast, waits). */
export function pgStop() {
  pgsh("stop", PG.dir);
}

/** Start it again on the same port (pg_ctl start, waits). */
export function pgStart() {
  pgsh("start", PG.dir, PG.port);
}

/** A fresh database; returns its conninfo (key=value words). */
export function pgCreateDatabase(name) {
  const psql = [path.join(PG.bin || "", "psql"), "/usr/bin/psql"].find((p) => fs.existsSync(p));
  if (!psql) throw new Error("psql not found");
  const r = spawnSync(psql, [PG.conninfo, "-v", "ON_ERROR_STOP=1", "-qc", `CREATE DATABASE ${name}`], {
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`CREATE DATABASE ${name}: ${r.stderr}`);
  return PG.conninfo.replace(/dbname=\S+/, `dbname=${name}`);
}

// ---------------------------------------------------------------------------
// tresord nodes
// ---------------------------------------------------------------------------

export const TRESORD = process.env.TRESORD;

export function runTresord(args) {
  return spawnSync(TRESORD, args, { encoding: "utf8", timeout: 60000 });
}

/** Copy a node's data directory (root.key, store.url, admin/): 0700 dirs, 0600 files. */
export function copyDataDir(from, to) {
  fs.mkdirSync(to, { mode: 0o700 });
  fs.mkdirSync(path.join(to, "admin"), { mode: 0o700 });
  for (const f of ["root.key", "store.url", "admin/key.pem", "admin/config"]) {
    fs.copyFileSync(path.join(from, f), path.join(to, f));
    fs.chmodSync(path.join(to, f), 0o600);
  }
}

export function rawGet(port, pathname, timeoutMs = 2000) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port, path: pathname, method: "GET", agent: false, timeout: timeoutMs },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString() }));
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end();
  });
}

export class Node {
  constructor(index, dir, port, extraArgs = []) {
    this.index = index;
    this.name = `node${index + 1}`;
    this.dir = dir;
    this.port = port;
    this.base = `http://127.0.0.1:${port}`;
    this.logPath = path.join(path.dirname(dir), `${this.name}.log`);
    this.extraArgs = extraArgs;
    this.proc = null;
    this.exit = null;
    this.starts = 0;
  }

  async start() {
    const fd = fs.openSync(this.logPath, "a");
    fs.writeSync(fd, `==== ${this.name} start ${++this.starts} at ${new Date().toISOString()}\n`);
    const proc = spawn(
      TRESORD,
      ["serve", "--data", this.dir, "--listen", `127.0.0.1:${this.port}`, ...this.extraArgs],
      { stdio: ["ignore", fd, fd] },
    );
    fs.closeSync(fd);
    this.proc = proc;
    this.exit = null;
    this.exited = new Promise((resolve) => {
      proc.on("exit", (code, signal) => {
        if (this.proc === proc) this.exit = { code, signal };
        resolve({ code, signal });
      });
      proc.on("error", (e) => resolve({ code: null, signal: null, error: String(e) }));
    });
    const deadline = Date.now() + 30000;
    for (;;) {
      if (this.exit) throw new Error(`${this.name} exited at start: ${JSON.stringify(this.exit)}\n${this.logTail()}`);
      try {
        const r = await rawGet(this.port, "/health", 1000);
        if (r.status === 200) return;
      } catch {
        /* not yet */
      }
      if (Date.now() > deadline) throw new Error(`${this.name} did not become healthy\n${this.logTail()}`);
      await sleep(50);
    }
  }

  /** Send a signal and wait for the exit (SIGKILL after timeoutMs). */
  async stop(sig = "SIGTERM", timeoutMs = 20000) {
    if (!this.proc) return null;
    const proc = this.proc;
    proc.kill(sig);
    let timer;
    const r = await Promise.race([
      this.exited,
      new Promise((res) => (timer = setTimeout(() => res("timeout"), timeoutMs))),
    ]);
    clearTimeout(timer);
    this.proc = null;
    if (r === "timeout") {
      proc.kill("SIGKILL");
      await this.exited;
      return { code: null, signal: "SIGKILL", timedOut: true };
    }
    return r;
  }

  logText() {
    try {
      return fs.readFileSync(this.logPath, "utf8");
    } catch {
      return "";
    }
  }

  logTail(n = 40) {
    return this.logText().split("\n").slice(-n).join("\n");
  }
}

// ---------------------------------------------------------------------------
// SDK clients
// ---------------------------------------------------------------------------

export function readConfig(configPath) {
  const out = {};
  for (const raw of fs.readFileSync(configPath, "utf8").split(/\r?\n/)) {
    const eq = raw.indexOf("=");
    if (eq > 0) out[raw.slice(0, eq).trim()] = raw.slice(eq + 1).trim();
  }
  return out;
}

function makeClient(Cls, configPath, endpoint) {
  const auth = new common.ConfigFileAuthenticationDetailsProvider(configPath, "DEFAULT");
  const c = new Cls(
    { authenticationDetailsProvider: auth },
    { circuitBreaker: new common.CircuitBreaker({ disableClientCircuitBreaker: true }) },
  );
  c.endpoint = endpoint;
  return c;
}

/** SDK clients bound to one node. */
export function clientsFor(node, configPath) {
  return {
    node,
    vaults: makeClient(vault.VaultsClient, configPath, node.base),
    secrets: makeClient(secrets.SecretsClient, configPath, node.base),
    kmsVault: makeClient(keymanagement.KmsVaultClient, configPath, node.base),
    mgmt(vaultId) {
      return makeClient(keymanagement.KmsManagementClient, configPath, `${node.base}/kms/${vaultId}/management`);
    },
  };
}

// ---------------------------------------------------------------------------
// Errors and the retrying round-robin
// ---------------------------------------------------------------------------

/** What kind of failure an SDK call ended with. */
export function classify(e) {
  if (e && e.hangTimeout) return { kind: "hang", status: null, code: "hang", message: e.message };
  if (e && typeof e.statusCode === "number") {
    return { kind: "http", status: e.statusCode, code: e.serviceCode, message: String(e.message).slice(0, 300) };
  }
  // the SDK rethrows network errors as {code, message}
  const code = e?.code ?? e?.cause?.code ?? "ENETWORK";
  return { kind: "network", status: null, code: String(code), message: String(e?.message ?? e).slice(0, 300) };
}

/** Retryable the way the SDK's default policy sees it (plus any network error). */
export function retryable(c) {
  if (c.kind !== "http") return true;
  if (c.status === 429 || c.status === 409 && c.code === "IncorrectState") return true;
  return c.status >= 500 && c.status !== 501;
}

/**
 * Could the server have carried out a request that failed this way?  A
 * refused connection never reached it; a definite 4xx was refused; any
 * other failure may have committed before the answer was lost.
 */
export function uncertain(c) {
  if (c.kind === "network") return !/ECONNREFUSED/.test(c.code + " " + c.message);
  if (c.kind === "hang") return true;
  return c.status >= 500;
}

function withHangTimeout(promise, ms) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, rej) => {
      timer = setTimeout(() => {
        const e = new Error(`no answer within ${ms} ms`);
        e.hangTimeout = true;
        rej(e);
      }, ms);
    }),
  ]);
}

/**
 * A client behind a round-robin load balancer that retries: call
 * fn(clients of one node) starting at node `home`; on a retryable failure
 * move to the next node and try again after a short back-off, until it
 * answers or `budgetMs` is spent.  Every failed attempt is recorded.
 * Returns { value, node, attempts: [..failed..] }; throws the last
 * failure (with .attempts) when it gives up or the failure is final.
 */
export class RoundRobin {
  constructor(clients, { budgetMs = 60000, hangMs = 20000 } = {}) {
    this.clients = clients;
    this.budgetMs = budgetMs;
    this.hangMs = hangMs;
    this.retries = []; // every failed attempt that was retried
    this.calls = 0;
  }

  async call(what, home, fn) {
    const start = Date.now();
    const attempts = [];
    let i = home % this.clients.length;
    this.calls++;
    for (let n = 0; ; n++) {
      const t = Date.now();
      try {
        const value = await withHangTimeout(fn(this.clients[i]), this.hangMs);
        return { value, node: i, attempts };
      } catch (e) {
        const c = classify(e);
        const a = { what, node: i, ms: Date.now() - t, at: Date.now() - T0, ...c };
        attempts.push(a);
        if (!retryable(c) || Date.now() - start > this.budgetMs) {
          const err = new Error(`${what}: ${c.kind} ${c.status ?? ""} ${c.code}: ${c.message}`);
          err.attempts = attempts;
          err.final = c;
          throw err;
        }
        this.retries.push(a);
        i = (i + 1) % this.clients.length;
        const backoff = Math.min(1000, 25 * 2 ** Math.min(n, 6));
        await sleep(backoff / 2 + Math.random() * backoff / 2);
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Signed raw requests (tresor's own API)
// ---------------------------------------------------------------------------

export function signedRequest(node, cfg, method, target, bodyObj) {
  const keyPem = fs.readFileSync(cfg.key_file, "utf8");
  const body = bodyObj === undefined ? undefined : JSON.stringify(bodyObj);
  const host = `127.0.0.1:${node.port}`;
  const headers = { host, "x-date": new Date().toUTCString(), "content-type": "application/json" };
  let names = ["x-date", "(request-target)", "host"];
  if (method === "POST" || method === "PUT") {
    headers["content-length"] = String(Buffer.byteLength(body ?? ""));
    headers["x-content-sha256"] = crypto.createHash("sha256").update(body ?? "").digest("base64");
    names = [...names, "content-type", "content-length", "x-content-sha256"];
  }
  const ss = names
    .map((n) => (n === "(request-target)" ? `${n}: ${method.toLowerCase()} ${target}` : `${n}: ${headers[n]}`))
    .join("\n");
  const sig = crypto.sign("sha256", Buffer.from(ss), keyPem).toString("base64");
  headers.authorization =
    `Signature version="1",keyId="${cfg.tenancy}/${cfg.user}/${cfg.fingerprint}",` +
    `algorithm="rsa-sha256",headers="${names.join(" ")}",signature="${sig}"`;
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port: node.port, method, path: target, headers, agent: false, timeout: 20000 },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString();
          let json;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode, text, json });
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

// ---------------------------------------------------------------------------
// small helpers
// ---------------------------------------------------------------------------

/** Run fn over items with at most `limit` in flight. */
export async function mapLimit(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  async function worker() {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
