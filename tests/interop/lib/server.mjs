// Harness: run a real tresord on loopback and build OCI SDK clients against it.
//
// Every helper here talks to 127.0.0.1 only. Each test file starts its own server
// on a fresh data directory (mkdtemp under os.tmpdir()) and stops it with SIGTERM,
// asserting exit code 0.

import { execFile, spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import fsp from "node:fs/promises";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import tlsMod from "node:tls";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import * as common from "oci-common";
import * as keymanagement from "oci-keymanagement";
import * as secrets from "oci-secrets";
import * as vault from "oci-vault";
import * as identity from "oci-identity";

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(here, "../../..");
export const TRESORD = process.env.TRESORD || path.join(REPO, "build", "tresord");
export const KEEP = process.env.TRESOR_INTEROP_KEEP === "1";

import { makeServerCert, runCA } from "./tls.mjs";

// ---------------------------------------------------------------------------
// Modes (run.sh runs the suite once per leg):
//   TRESOR_INTEROP_TLS=1       serve over TLS with a certificate from the run's test CA
//                              (TRESOR_INTEROP_CA_DIR; NODE_EXTRA_CA_CERTS makes node and
//                              the SDK trust it); the SDK talks https://
//   TRESOR_INTEROP_STORE=pg    `init --store` on a fresh PostgreSQL database of the
//                              throwaway cluster in TRESOR_TEST_PG (tests/pg/pg.sh run)
// ---------------------------------------------------------------------------
export const MODE = Object.freeze({
  tls: process.env.TRESOR_INTEROP_TLS === "1",
  store: process.env.TRESOR_INTEROP_STORE === "pg" ? "pg" : "sqlite",
});
export const SCHEME = MODE.tls ? "https" : "http";
export const MODE_NAME = `${MODE.store}+${MODE.tls ? "tls" : "http"}`;

if (MODE.tls && !runCA()) {
  throw new Error(
    "TRESOR_INTEROP_TLS=1 needs the run's test CA: run tests/interop/run.sh, or make one with " +
      "`node lib/tls.mjs make-ca DIR` and export TRESOR_INTEROP_CA_DIR=DIR NODE_EXTRA_CA_CERTS=DIR/ca.crt",
  );
}
if (MODE.store === "pg" && !process.env.TRESOR_TEST_PG) {
  throw new Error("TRESOR_INTEROP_STORE=pg needs TRESOR_TEST_PG (run through tests/pg/pg.sh run, as run.sh does)");
}

/** The CA certificate (PEM) clients must trust in TLS mode, or undefined. */
export function caPem() {
  const ca = runCA();
  return ca ? fs.readFileSync(ca.cert) : undefined;
}

// ---------------------------------------------------------------------------
// PostgreSQL databases (TRESOR_INTEROP_STORE=pg)
// ---------------------------------------------------------------------------

function psqlBin() {
  const bin = process.env.TRESOR_TEST_PG_BIN;
  return bin && fs.existsSync(path.join(bin, "psql")) ? path.join(bin, "psql") : "psql";
}

/** Run one SQL command on the cluster's maintenance database. */
export function psql(sql, { conninfo = process.env.TRESOR_TEST_PG } = {}) {
  return new Promise((resolve, reject) => {
    execFile(
      psqlBin(),
      ["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", conninfo, "-c", sql],
      { timeout: 30000 },
      (err, stdout, stderr) => (err ? reject(new Error(`psql ${sql}: ${stderr || err.message}`)) : resolve(stdout)),
    );
  });
}

let dbCounter = 0;
/** A fresh empty database on the test cluster; returns its libpq conninfo. */
export async function createPgDatabase() {
  const name = `tresor_i${process.pid}_${++dbCounter}_${crypto.randomBytes(3).toString("hex")}`;
  await psql(`CREATE DATABASE ${name}`);
  // a later dbname= overrides the base's
  return `${process.env.TRESOR_TEST_PG} dbname=${name}`;
}

/** The store a data dir uses: { kind: "pg", conninfo, dbname } or { kind: "sqlite" }. */
export function storeOf(dir) {
  try {
    const url = fs.readFileSync(path.join(dir, "store.url"), "utf8").trim();
    const names = [...url.matchAll(/(?:^|\s)dbname=(\S+)/g)].map((m) => m[1]);
    return { kind: "pg", conninfo: url, dbname: names[names.length - 1] };
  } catch {
    return { kind: "sqlite" };
  }
}

// ---------------------------------------------------------------------------
// SDK behaviour switches for tests (see README section in FINDINGS.md).
//
// 1. The client circuit breaker is disabled: both globally (env var read by the SDK
//    when a client is built) and per client (clientConfiguration below).
// 2. Calls that are EXPECTED to fail pass `retryConfiguration: NO_RETRY` so that a
//    retryable status (409 IncorrectState, 429, 5xx) never makes a test wait.
// 3. Safety net against server bugs on calls expected to succeed: the SDK still
//    retries exactly where it would by default (same operations, same attempts,
//    same retry token), but the back-off sleep is shortened to 50 ms, so an
//    unexpected 5xx costs < 1 s instead of ~90 s. Every retry is recorded in
//    `sdkRetries` and test files assert at the end that none happened.
//    Set TRESOR_INTEROP_REAL_BACKOFF=1 to keep the SDK's real sleeps.
// ---------------------------------------------------------------------------
process.env.OCI_SDK_DEFAULT_CIRCUITBREAKER_ENABLED = "false";

export const NO_RETRY = common.NoRetryConfigurationDetails;

if (process.env.TRESOR_INTEROP_REAL_BACKOFF !== "1") {
  const proto = Object.getPrototypeOf(common.OciSdkDefaultRetryConfiguration.delayStrategy);
  if (typeof proto.delay === "function" && !proto.__tresorPatched) {
    proto.delay = function shortDelay() {
      return 0.05; // seconds
    };
    proto.__tresorPatched = true;
  }
}

export const sdkRetries = [];
{
  const origWarn = console.warn.bind(console);
  console.warn = (...args) => {
    const text = args.map(String).join(" ");
    if (/Retrying request/.test(text)) sdkRetries.push(text.slice(0, 400));
    // The SDK warns "Request cannot be retried" on every expected error: too noisy.
    if (/Request cannot be retried|All retry attempts have exhausted/.test(text)) return;
    origWarn(...args);
  };
}

// ---------------------------------------------------------------------------
// Ports, directories, processes
// ---------------------------------------------------------------------------

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

/** A fresh parent directory; the data dir itself (parent/data) does not exist yet. */
export async function makeParentDir(tag = "t") {
  return fsp.mkdtemp(path.join(os.tmpdir(), `tresor-interop-${tag}-`));
}

export function tresordExists() {
  try {
    fs.accessSync(TRESORD, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Run a tresord sub-command to completion.
 * opts.umask: run under this umask (octal string, e.g. "000"), through /bin/sh.
 */
export function runTresord(args, { umask, timeoutMs = 30000, env } = {}) {
  return new Promise((resolve, reject) => {
    let cmd = TRESORD;
    let argv = args;
    if (umask !== undefined) {
      cmd = "/bin/sh";
      argv = ["-c", `umask ${umask} && exec "$0" "$@"`, TRESORD, ...args];
    }
    const child = spawn(cmd, argv, {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`tresord ${args.join(" ")} timed out after ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/**
 * `tresord init --data dir`. opts.store: "sqlite" | "pg" (default: the mode) or a
 * store URL / conninfo; with "pg" a fresh database is created for it. The result has
 * `storeUrl` (undefined for SQLite).
 */
export async function initDataDir(dir, { endpoint, umask, store = MODE.store } = {}) {
  const args = ["init", "--data", dir];
  if (endpoint !== undefined) args.push("--endpoint", endpoint);
  let storeUrl;
  if (store === "pg") storeUrl = await createPgDatabase();
  else if (store !== "sqlite" && store) storeUrl = store;
  if (storeUrl) args.push("--store", storeUrl);
  const r = await runTresord(args, { umask });
  r.storeUrl = storeUrl;
  return r;
}

/** Options for node:http(s).request to 127.0.0.1: the module and its TLS options. */
export function transport(tls = MODE.tls, ca = undefined) {
  if (!tls) return { mod: http, opts: {} };
  // The certificate is for IP 127.0.0.1; check it against that even when a test sends
  // another Host header (node would otherwise take the name from it).
  return {
    mod: https,
    opts: { ca: ca ?? caPem(), servername: "", checkServerIdentity: (_host, cert) => tlsMod.checkServerIdentity("127.0.0.1", cert) },
  };
}

/** Plain GET on loopback without any authentication (https in TLS mode unless opts.tls says otherwise). */
export function rawGet(port, pathname, { timeoutMs = 2000, tls = MODE.tls, ca } = {}) {
  const { mod, opts } = transport(tls, ca);
  return new Promise((resolve, reject) => {
    const req = mod.request(
      { ...opts, host: "127.0.0.1", port, path: pathname, method: "GET", agent: false, timeout: timeoutMs },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }),
        );
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end();
  });
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/** Resolve with `promise`, or with `fallback` after ms (the timer is cleared either way). */
export async function withTimeout(promise, ms, fallback) {
  let timer;
  const t = new Promise((r) => (timer = setTimeout(() => r(fallback), ms)));
  try {
    return await Promise.race([promise, t]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Start a server: fresh data dir, `init`, then `serve`, wait for /health.
 *   serveArgs: extra `serve` options (e.g. ["--enable-test-clock"])
 *   tls, store: override the mode (MODE.tls, MODE.store) for this server
 * Returns a handle with dir, port, base (URL), configPath, logPath, proc, stop().
 */
export async function startServer({ tag = "srv", init = true, endpointOverride, serveArgs = [], tls = MODE.tls, store = MODE.store, tlsFiles, ca } = {}) {
  if (!tresordExists()) {
    throw new Error(`tresord not found or not executable at ${TRESORD} (set TRESORD=...)`);
  }
  const parent = await makeParentDir(tag);
  const dir = path.join(parent, "data");
  const port = await freePort();
  const base = `${tls ? "https" : "http"}://127.0.0.1:${port}`;
  if (init) {
    const r = await initDataDir(dir, { endpoint: endpointOverride ?? base, store });
    if (r.code !== 0) {
      throw new Error(`tresord init failed (exit ${r.code}, signal ${r.signal}):\n${r.stderr}\n${r.stdout}`);
    }
  }
  try {
    return await serveDataDir({ parent, dir, port, base, serveArgs, tlsFiles, ca });
  } catch (e) {
    // serve did not come up: leave nothing behind (the log is in the error)
    if (!KEEP) {
      const st = storeOf(dir);
      await fsp.rm(parent, { recursive: true, force: true });
      if (st.kind === "pg" && /^tresor_i/.test(st.dbname ?? "")) await psql(`DROP DATABASE IF EXISTS ${st.dbname}`).catch(() => {});
    }
    throw e;
  }
}

/** The server certificate of a TLS server in `parent` (made on first use). */
export function serverTlsFiles(parent) {
  const d = path.join(parent, "tls");
  const cert = path.join(d, "server.crt");
  const key = path.join(d, "server.key");
  if (fs.existsSync(cert) && fs.existsSync(key)) return { cert, key };
  const ca = runCA();
  if (!ca) throw new Error("a TLS server needs the run's test CA (TRESOR_INTEROP_CA_DIR); run tests/interop/run.sh");
  return makeServerCert(ca, d);
}

/**
 * Spawn `serve` on an existing data dir. TLS when `base` is https:// (--tls-cert/--tls-key
 * from `tlsFiles`, default parent/tls/server.{crt,key}, made by the run's CA).
 */
export async function serveDataDir({ parent, dir, port, base, serveArgs = [], tlsFiles, ca }) {
  const tls = base.startsWith("https:");
  const args = ["serve", "--data", dir, "--listen", `127.0.0.1:${port}`];
  // TRESOR_INTEROP_SERVE_ARGS: extra options for every serve (diagnosis only, e.g. "--threads 1")
  if (process.env.TRESOR_INTEROP_SERVE_ARGS) args.push(...process.env.TRESOR_INTEROP_SERVE_ARGS.split(/\s+/).filter(Boolean));
  if (tls) {
    tlsFiles = tlsFiles ?? serverTlsFiles(parent);
    args.push("--tls-cert", tlsFiles.cert, "--tls-key", tlsFiles.key);
  }
  args.push(...serveArgs);
  const logPath = path.join(parent, `tresord-${port}.log`);
  const logFd = fs.openSync(logPath, "a");
  const proc = spawn(TRESORD, args, {
    stdio: ["ignore", logFd, logFd],
  });
  fs.closeSync(logFd);
  let exited = null;
  const exitPromise = new Promise((resolve) => {
    proc.on("exit", (code, signal) => {
      exited = { code, signal };
      resolve(exited);
    });
    proc.on("error", (e) => {
      exited = { code: null, signal: null, error: e };
      resolve(exited);
    });
  });

  const handle = {
    parent,
    dir,
    port,
    base,
    tls,
    tlsFiles,
    ca,
    serveArgs,
    store: storeOf(dir),
    configPath: path.join(dir, "admin", "config"),
    logPath,
    proc,
    exitPromise,
    get exited() {
      return exited;
    },
    logTail(n = 40) {
      try {
        const lines = fs.readFileSync(logPath, "utf8").split("\n");
        return lines.slice(-n).join("\n");
      } catch {
        return "(no log)";
      }
    },
    /** Send a signal and wait for exit; returns {code, signal}. */
    async stop(sig = "SIGTERM", timeoutMs = 10000) {
      if (!exited) {
        proc.kill(sig);
        let timer;
        const t = new Promise((r) => (timer = setTimeout(() => r("timeout"), timeoutMs)));
        const r = await Promise.race([exitPromise, t]);
        clearTimeout(timer);
        if (r === "timeout") {
          proc.kill("SIGKILL");
          await exitPromise;
          return { code: null, signal: "SIGKILL", timedOut: true };
        }
      }
      return exited;
    },
    async cleanup() {
      if (!exited) {
        proc.kill("SIGKILL");
        await exitPromise;
      }
      if (!KEEP) {
        await fsp.rm(parent, { recursive: true, force: true });
        if (handle.store.kind === "pg" && /^tresor_i/.test(handle.store.dbname ?? "")) {
          await psql(`DROP DATABASE IF EXISTS ${handle.store.dbname}`).catch(() => {});
        }
      }
    },
  };

  // Wait for /health (unauthenticated) to answer 200.
  const deadline = Date.now() + 15000;
  let lastErr = null;
  for (;;) {
    if (exited) {
      throw new Error(
        `tresord serve exited early (code ${exited.code}, signal ${exited.signal}); log:\n${handle.logTail()}`,
      );
    }
    try {
      const r = await rawGet(port, "/health", { timeoutMs: 1000, tls, ca });
      if (r.status === 200) break;
      lastErr = new Error(`/health answered ${r.status}: ${r.body.slice(0, 200)}`);
    } catch (e) {
      lastErr = e;
    }
    if (Date.now() > deadline) {
      proc.kill("SIGKILL");
      throw new Error(`tresord did not become healthy: ${lastErr}\nlog:\n${handle.logTail()}`);
    }
    await sleep(50);
  }
  return handle;
}

// ---------------------------------------------------------------------------
// OCI config file
// ---------------------------------------------------------------------------

/** Parse an OCI config file (INI); returns { PROFILE: { key: value } }. */
export function parseOciConfig(text) {
  const out = {};
  let cur = null;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith("#") || line.startsWith(";")) continue;
    const m = /^\[(.+)\]$/.exec(line);
    if (m) {
      cur = out[m[1].trim()] = out[m[1].trim()] || {};
      continue;
    }
    const eq = line.indexOf("=");
    if (eq < 0 || !cur) continue;
    cur[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return out;
}

export function readConfig(configPath) {
  return parseOciConfig(fs.readFileSync(configPath, "utf8")).DEFAULT;
}

// ---------------------------------------------------------------------------
// SDK clients
// ---------------------------------------------------------------------------

function clientConfiguration() {
  return { circuitBreaker: new common.CircuitBreaker({ disableClientCircuitBreaker: true }) };
}

export function provider(configPath) {
  return new common.ConfigFileAuthenticationDetailsProvider(configPath, "DEFAULT");
}

/** Build a client of class Cls, then set its endpoint (spec 2.1: after construction). */
export function makeClient(Cls, configPath, endpoint) {
  return makeClientWith(Cls, provider(configPath), endpoint);
}

/** The same with any authentication details provider (user keys, resource/instance principals). */
export function makeClientWith(Cls, auth, endpoint) {
  const c = new Cls({ authenticationDetailsProvider: auth }, clientConfiguration());
  c.endpoint = endpoint;
  return c;
}

/** Every client, authenticated by `auth`, against srv. */
export function clientsWith(srv, auth, tenancy) {
  const base = srv.base;
  return {
    auth,
    tenancy,
    vaults: makeClientWith(vault.VaultsClient, auth, base),
    secrets: makeClientWith(secrets.SecretsClient, auth, base),
    kmsVault: makeClientWith(keymanagement.KmsVaultClient, auth, base),
    identity: makeClientWith(identity.IdentityClient, auth, base),
    mgmt(v) {
      return makeClientWith(keymanagement.KmsManagementClient, auth, v.managementEndpoint);
    },
    crypto(v) {
      return makeClientWith(keymanagement.KmsCryptoClient, auth, v.cryptoEndpoint);
    },
  };
}

export function clientsFor(srv) {
  const cfg = readConfig(srv.configPath);
  return { cfg, ...clientsWith(srv, provider(srv.configPath), cfg.tenancy) };
}

/**
 * A request to tresor's own API (/tresor/v1/...) or any path, signed by the SDK's own
 * DefaultRequestSigner with `auth`, sent with the global fetch (the SDK's transport).
 * Returns { status, headers, text, json }.
 */
export async function signedFetch(auth, url, { method = "GET", body } = {}) {
  const signer = new common.DefaultRequestSigner(auth);
  const text = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
  const headers = new Headers({ "content-type": "application/json" });
  const req = { method, uri: url, headers, body: text };
  await signer.signHttpRequest(req);
  const r = await fetch(url, { method, headers, body: text });
  const t = await r.text();
  let json;
  try {
    json = JSON.parse(t);
  } catch {
    json = undefined;
  }
  return { status: r.status, headers: r.headers, text: t, json };
}

export { common, keymanagement, secrets, vault, identity };
