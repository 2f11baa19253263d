// Harness: run a real tresord on loopback and build OCI SDK clients against it.
//
// Every helper here talks to 127.0.0.1 only. Each test file starts its own server
// on a fresh data directory (mkdtemp under os.tmpdir()) and stops it with SIGTERM,
// asserting exit code 0.

import { spawn } from "node:child_process";
import fs from "node:fs";
import fsp from "node:fs/promises";
import http from "node:http";
import net from "node:net";
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

export async function initDataDir(dir, { endpoint, umask } = {}) {
  const args = ["init", "--data", dir];
  if (endpoint !== undefined) args.push("--endpoint", endpoint);
  return runTresord(args, { umask });
}

/** Plain GET on loopback without any authentication. */
export function rawGet(port, pathname, { timeoutMs = 2000 } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port, path: pathname, method: "GET", agent: false, timeout: timeoutMs },
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
 * Returns a handle with dir, port, base (URL), configPath, logPath, proc, stop().
 */
export async function startServer({ tag = "srv", init = true, endpointOverride } = {}) {
  if (!tresordExists()) {
    throw new Error(`tresord not found or not executable at ${TRESORD} (set TRESORD=...)`);
  }
  const parent = await makeParentDir(tag);
  const dir = path.join(parent, "data");
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  if (init) {
    const r = await initDataDir(dir, { endpoint: endpointOverride ?? base });
    if (r.code !== 0) {
      throw new Error(`tresord init failed (exit ${r.code}, signal ${r.signal}):\n${r.stderr}\n${r.stdout}`);
    }
  }
  const handle = await serveDataDir({ parent, dir, port, base });
  return handle;
}

/** Spawn `serve` on an existing data dir. */
export async function serveDataDir({ parent, dir, port, base }) {
  const logPath = path.join(parent, `tresord-${port}.log`);
  const logFd = fs.openSync(logPath, "a");
  const proc = spawn(TRESORD, ["serve", "--data", dir, "--listen", `127.0.0.1:${port}`], {
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
      if (!KEEP) await fsp.rm(parent, { recursive: true, force: true });
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
      const r = await rawGet(port, "/health", { timeoutMs: 1000 });
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
  const c = new Cls({ authenticationDetailsProvider: provider(configPath) }, clientConfiguration());
  c.endpoint = endpoint;
  return c;
}

export function clientsFor(srv) {
  const cfg = readConfig(srv.configPath);
  const base = srv.base;
  return {
    cfg,
    tenancy: cfg.tenancy,
    vaults: makeClient(vault.VaultsClient, srv.configPath, base),
    secrets: makeClient(secrets.SecretsClient, srv.configPath, base),
    kmsVault: makeClient(keymanagement.KmsVaultClient, srv.configPath, base),
    identity: makeClient(identity.IdentityClient, srv.configPath, base),
    mgmt(v) {
      return makeClient(keymanagement.KmsManagementClient, srv.configPath, v.managementEndpoint);
    },
    crypto(v) {
      return makeClient(keymanagement.KmsCryptoClient, srv.configPath, v.cryptoEndpoint);
    },
  };
}

export { common, keymanagement, secrets, vault, identity };
