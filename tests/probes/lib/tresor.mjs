// SPDX-License-Identifier: Apache-2.0
//
// A self-contained harness for the robustness suites (tests/probes,
// tests/crash, tests/soak, tests/canary): starts tresord on a free
// loopback port with a fresh data directory, and signs requests exactly
// as the OCI TypeScript SDK 2.139.1 does (oci-wire.md section 1), with
// Node's crypto only, so it runs without `npm ci`.  Every request goes
// out through node:http with the headers the caller set, so negative
// cases (tampered body, replayed signature, injected CR/LF...) are exact.
//
// Nothing here talks to anything but 127.0.0.1.

import { spawn, spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(here, "../../..");
export const TRESORD = process.env.TRESORD || path.join(REPO, "build", "tresord");

export const EMPTY_SHA256 = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
export const GET_HEADERS = ["x-date", "(request-target)", "host"];
export const BODY_HEADERS = ["x-date", "(request-target)", "host", "Content-Type", "Content-Length", "x-content-sha256"];

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A free TCP port on 127.0.0.1 (bind to 0, read it, close). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** A fresh private temp directory (under TRESOR_TEST_TMP when set). */
export function tempDir(prefix) {
  const base = process.env.TRESOR_TEST_TMP || os.tmpdir();
  fs.mkdirSync(base, { recursive: true });
  return fs.mkdtempSync(path.join(base, `${prefix}-`));
}

/** `tresord init`: returns the data directory. */
export function initData(dataDir, port) {
  const r = spawnSync(TRESORD, ["init", "--data", dataDir, "--endpoint", `http://127.0.0.1:${port}`], {
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`tresord init failed (${r.status}): ${r.stderr}`);
  return dataDir;
}

/** Parse DIR/admin/config (profile DEFAULT) and load the API key. */
export function loadCredentials(dataDir) {
  const text = fs.readFileSync(path.join(dataDir, "admin", "config"), "utf8");
  const cfg = {};
  for (const line of text.split("\n")) {
    const m = line.match(/^\s*([a-z_]+)\s*=\s*(.*?)\s*$/);
    if (m) cfg[m[1]] = m[2];
  }
  const privateKeyPem = fs.readFileSync(cfg.key_file, "utf8");
  return {
    tenancy: cfg.tenancy,
    user: cfg.user,
    fingerprint: cfg.fingerprint,
    keyId: `${cfg.tenancy}/${cfg.user}/${cfg.fingerprint}`,
    privateKeyPem,
  };
}

// Every tresord this process started dies with it, whatever ends it (a
// failed assertion, a test runner's timeout, Ctrl-C): no orphan servers.
const live = new Set();
process.on("exit", () => {
  for (const p of live) {
    try {
      p.kill("SIGKILL");
    } catch {
      /* already gone */
    }
  }
});
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(sig, () => {
    console.error(`interrupted by ${sig}`);
    process.exit(130);
  });
}

/**
 * A tresord child process.  `logFile` receives stdout and stderr (the
 * canary scans it).  start() waits for GET /health.
 */
export class Server {
  constructor({ dataDir, port, args = [], logFile, env = {} }) {
    this.dataDir = dataDir;
    this.port = port;
    this.args = args;
    this.logFile = logFile || path.join(dataDir, "..", `tresord-${port}.log`);
    this.env = env;
    this.proc = null;
    this.exit = null;
  }

  get pid() {
    return this.proc ? this.proc.pid : undefined;
  }

  async start(timeoutMs = 20000) {
    const fd = fs.openSync(this.logFile, "a");
    this.exit = null;
    this.proc = spawn(
      TRESORD,
      ["serve", "--data", this.dataDir, "--listen", `127.0.0.1:${this.port}`, ...this.args],
      { stdio: ["ignore", fd, fd], env: { ...process.env, ...this.env } },
    );
    fs.closeSync(fd);
    const proc = this.proc;
    live.add(proc);
    this.exited = new Promise((resolve) => {
      this.proc.on("exit", (code, signal) => {
        live.delete(proc);
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.exit) {
        throw new Error(`tresord exited at start (${JSON.stringify(this.exit)}); log ${this.logFile}:\n` + tail(this.logFile));
      }
      try {
        const r = await rawRequest(this.port, { method: "GET", target: "/health", timeout: 1000 });
        if (r.status === 200) return this;
      } catch {
        /* not yet */
      }
      if (Date.now() > deadline) throw new Error(`tresord did not answer /health within ${timeoutMs} ms`);
      await sleep(25);
    }
  }

  /** SIGTERM and wait; returns the exit {code, signal}. */
  async stop(timeoutMs = 30000) {
    if (!this.proc || this.exit) return this.exit;
    this.proc.kill("SIGTERM");
    const t = setTimeout(() => this.proc.kill("SIGKILL"), timeoutMs);
    const e = await this.exited;
    clearTimeout(t);
    return e;
  }

  /** SIGKILL and wait. */
  async kill() {
    if (!this.proc || this.exit) return this.exit;
    this.proc.kill("SIGKILL");
    return this.exited;
  }
}

export function tail(file, n = 30) {
  try {
    return fs.readFileSync(file, "utf8").split("\n").slice(-n).join("\n");
  } catch {
    return "";
  }
}

/** Init a data directory and start a server on a free port. */
export async function startFresh({ prefix = "tresor", args = [], dir } = {}) {
  const root = dir || tempDir(prefix);
  const port = await freePort();
  const dataDir = path.join(root, "data");
  initData(dataDir, port);
  const server = new Server({ dataDir, port, args, logFile: path.join(root, "tresord.log") });
  await server.start();
  return { root, dataDir, port, server, creds: loadCredentials(dataDir) };
}

// ---------------------------------------------------------------------------
// signing

export function sha256b64(body) {
  return crypto.createHash("sha256").update(body ?? "").digest("base64");
}

export function signingString(names, { method, target, headers }) {
  const lower = {};
  for (const [k, v] of Object.entries(headers)) lower[k.toLowerCase()] = v;
  return names
    .map((n) => {
      const ln = n.toLowerCase();
      if (ln === "(request-target)") return `(request-target): ${method.toLowerCase()} ${target}`;
      if (!(ln in lower)) throw new Error(`signed header ${n} missing`);
      return `${ln}: ${lower[ln]}`;
    })
    .join("\n");
}

/**
 * The headers the SDK would send.  Options: method, host, target, body,
 * creds, date (Date), names, signTarget, signBody, keyId, privateKeyPem,
 * extra (headers added before signing, e.g. opc-retry-token, if-match).
 */
export function signedHeaders({
  method,
  host,
  target,
  body,
  creds,
  date = new Date(),
  names,
  signTarget,
  signBody,
  keyId,
  privateKeyPem,
  extra = {},
}) {
  const m = method.toUpperCase();
  const hasBody = m === "POST" || m === "PUT" || m === "PATCH";
  const headers = {
    host,
    "Content-Type": "application/json",
    "opc-request-id": crypto.randomUUID().replace(/-/g, "").toUpperCase(),
    "x-date": date.toUTCString(),
    ...extra,
  };
  const bodyForSigning = signBody !== undefined ? signBody : body;
  if (hasBody) {
    headers["Content-Length"] = String(Buffer.byteLength(bodyForSigning ?? "", "utf8"));
    headers["x-content-sha256"] = sha256b64(bodyForSigning ?? "");
  }
  if (!Object.keys(headers).some((k) => k.toLowerCase() === "date")) headers.Date = date.toUTCString();
  const list = names ?? (hasBody ? BODY_HEADERS : GET_HEADERS);
  const ss = signingString(list, { method: m, target: signTarget ?? target, headers });
  const signature = crypto.sign("sha256", Buffer.from(ss, "utf8"), privateKeyPem ?? creds.privateKeyPem).toString("base64");
  headers.authorization =
    `Signature version="1",keyId="${keyId ?? creds.keyId}",algorithm="rsa-sha256",` +
    `headers="${list.join(" ")}",signature="${signature}"`;
  return headers;
}

/**
 * One HTTP/1.1 request to 127.0.0.1:port with exactly `headers`.
 * Resolves { status, headers, text, json, rawHeaders }; rejects on
 * connection errors (err.code ECONNRESET, ECONNREFUSED...) and timeouts.
 */
export function rawRequest(port, { method, target, headers = {}, body, agent = false, timeout = 30000 }) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        method,
        path: target,
        headers,
        agent,
        timeout,
        setHost: !Object.keys(headers).some((k) => k.toLowerCase() === "host"),
      },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => {
          const buf = Buffer.concat(chunks);
          const text = buf.toString("utf8");
          let json;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode, headers: res.headers, rawHeaders: res.rawHeaders, text, buf, json });
        });
        res.on("error", reject);
      },
    );
    req.on("timeout", () => {
      const e = new Error("request timeout");
      e.code = "ETIMEDOUT";
      req.destroy(e);
    });
    req.on("error", reject);
    if (body !== undefined && body !== null) req.write(body);
    req.end();
  });
}

/** A signing client for one principal. */
export class Client {
  constructor({ port, creds, keepAlive = true, maxSockets = 4 }) {
    this.port = port;
    this.creds = creds;
    this.agent = keepAlive ? new http.Agent({ keepAlive: true, maxSockets }) : false;
  }

  get host() {
    return `127.0.0.1:${this.port}`;
  }

  /** Sign and send; opts as signedHeaders plus sendBody, timeout. */
  async request(method, target, opts = {}) {
    const body = opts.body === undefined ? undefined : typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body);
    const headers = signedHeaders({ method, host: this.host, target, creds: this.creds, ...opts, body });
    const sendBody = opts.sendBody !== undefined ? opts.sendBody : body;
    const res = await rawRequest(this.port, {
      method: method.toUpperCase(),
      target,
      headers,
      body: sendBody,
      agent: this.agent,
      timeout: opts.timeout ?? 30000,
    });
    res.requestHeaders = headers;
    return res;
  }

  get(target, opts) {
    return this.request("GET", target, opts);
  }
  post(target, body, opts = {}) {
    return this.request("POST", target, { ...opts, body: body ?? "" });
  }
  put(target, body, opts = {}) {
    return this.request("PUT", target, { ...opts, body });
  }
  delete(target, opts) {
    return this.request("DELETE", target, opts);
  }

  close() {
    if (this.agent) this.agent.destroy();
  }
}

/** Assert a 2xx answer and return its JSON. */
export function ok(res, what) {
  if (res.status < 200 || res.status > 299) {
    throw new Error(`${what}: HTTP ${res.status} ${res.text.slice(0, 500)}`);
  }
  return res.json;
}

/** Create a vault and an AES key in it; returns { vault, key, mgmt, crypto }. */
export async function makeVaultAndKey(client, tenancy, { name = "vault", keyShape = { algorithm: "AES", length: 32 } } = {}) {
  const vault = ok(
    await client.post("/20180608/vaults", { compartmentId: tenancy, displayName: name, vaultType: "DEFAULT" }),
    "CreateVault",
  );
  const mgmt = new URL(vault.managementEndpoint).pathname;
  const cryptoPath = new URL(vault.cryptoEndpoint).pathname;
  const key = ok(
    await client.post(`${mgmt}/20180608/keys`, {
      compartmentId: tenancy,
      displayName: `${name}-key`,
      keyShape,
      protectionMode: "SOFTWARE",
    }),
    "CreateKey",
  );
  return { vault, key, mgmt, crypto: cryptoPath };
}

/** Process figures from /proc: RSS (kB), open fds, threads. */
export function procStats(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const rss = Number((status.match(/^VmRSS:\s+(\d+)/m) || [])[1] || 0);
  const threads = Number((status.match(/^Threads:\s+(\d+)/m) || [])[1] || 0);
  let fds = 0;
  try {
    fds = fs.readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    fds = -1;
  }
  return { rssKb: rss, fds, threads };
}

export const b64 = (s) => Buffer.from(s, "utf8").toString("base64");
export const unb64 = (s) => Buffer.from(s, "base64").toString("utf8");
