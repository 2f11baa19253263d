// SPDX-License-Identifier: Apache-2.0
// A small OCI client for the benchmark's control plane (setup, checks),
// on Node's built-ins only, so `make bench` does not need `npm ci`.
// Requests are signed exactly as the TypeScript SDK 2.139.1 signs them
// (spec oci-wire.md section 1; same logic as tests/interop/lib/sign.mjs):
// rsa-sha256 over "x-date (request-target) host", plus "Content-Type
// Content-Length x-content-sha256" for POST, PUT and PATCH.
//
// It also holds the fallback pre-signer (presignLua) used when the C
// pre-signer on libtresor's signer (bench/presign.c) was not built.

import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";

export const GET_HEADERS = ["x-date", "(request-target)", "host"];
export const BODY_HEADERS = ["x-date", "(request-target)", "host",
  "Content-Type", "Content-Length", "x-content-sha256"];

export function sha256b64(body) {
  return crypto.createHash("sha256").update(body ?? "").digest("base64");
}

/** OCI API-key fingerprint: MD5 over DER SubjectPublicKeyInfo, "aa:bb:..". */
export function fingerprintOf(keyPem) {
  const pub = crypto.createPublicKey(keyPem).export({ type: "spki", format: "der" });
  return crypto.createHash("md5").update(pub).digest("hex").match(/../g).join(":");
}

/** Profile DEFAULT of an OCI config file. */
export function readConfig(file) {
  const out = {};
  let sect = null;
  for (const raw of fs.readFileSync(file, "utf8").split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const m = /^\[(.+)\]$/.exec(line);
    if (m) { sect = m[1]; continue; }
    const eq = line.indexOf("=");
    if (sect === "DEFAULT" && eq > 0) out[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return out;
}

/** {keyId, privateKeyPem, tenancy, user} from an OCI config file. */
export function credsFromConfig(file) {
  const cfg = readConfig(file);
  return {
    keyId: `${cfg.tenancy}/${cfg.user}/${cfg.fingerprint}`,
    privateKeyPem: fs.readFileSync(cfg.key_file, "utf8"),
    keyFile: cfg.key_file,
    tenancy: cfg.tenancy,
    user: cfg.user,
  };
}

/** The headers the SDK sends for one request, signed at `date`. */
export function signedHeaders({ method, host, target, body, creds, date = new Date() }) {
  const m = method.toUpperCase();
  const hasBody = m === "POST" || m === "PUT" || m === "PATCH";
  const headers = {
    host,
    "Content-Type": "application/json",
    "x-date": date.toUTCString(),
  };
  if (hasBody) {
    headers["Content-Length"] = String(Buffer.byteLength(body ?? "", "utf8"));
    headers["x-content-sha256"] = sha256b64(body ?? "");
  }
  const names = hasBody ? BODY_HEADERS : GET_HEADERS;
  const lower = {};
  for (const [k, v] of Object.entries(headers)) lower[k.toLowerCase()] = v;
  const ss = names.map((n) => {
    const ln = n.toLowerCase();
    return ln === "(request-target)" ? `(request-target): ${m.toLowerCase()} ${target}` : `${ln}: ${lower[ln]}`;
  }).join("\n");
  const sig = crypto.sign("sha256", Buffer.from(ss, "utf8"), creds.privateKeyPem).toString("base64");
  headers.authorization = `Signature version="1",keyId="${creds.keyId}",algorithm="rsa-sha256",` +
    `headers="${names.join(" ")}",signature="${sig}"`;
  return headers;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });

/** A signed request to 127.0.0.1:port; resolves {status, json, text, headers}. */
export function call(port, creds, method, target, bodyObj) {
  const body = bodyObj === undefined ? undefined : JSON.stringify(bodyObj);
  const headers = signedHeaders({ method, host: `127.0.0.1:${port}`, target, body, creds });
  if (body === undefined && ["POST", "PUT", "PATCH"].includes(method)) headers["Content-Length"] = "0";
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, method, path: target, headers, agent, timeout: 60000 }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`${method} ${target}: timeout`)));
    req.on("error", reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** Like call() but throws unless the status is 2xx; returns the JSON. */
export async function ok(port, creds, method, target, bodyObj) {
  const r = await call(port, creds, method, target, bodyObj);
  if (r.status < 200 || r.status > 299) {
    throw new Error(`${method} ${target} -> ${r.status} ${r.text.slice(0, 400)}`);
  }
  return r.json;
}

/** Run `fn` over `items` with at most `n` in flight; results in order. */
export async function pool(items, n, fn) {
  const out = new Array(items.length);
  let next = 0;
  async function worker() {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  }
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return out;
}

/**
 * The fallback pre-signer: the same output as bench/presign.c from
 * input lines "METHOD TARGET [BODY]": one line per request, fields
 * separated by tabs: method, target, x-date, authorization,
 * x-content-sha256, content-length, body (the last three empty for GET).
 */
export function presignTsv(lines, { host, creds, date = new Date() }) {
  const out = [];
  for (const line of lines) {
    if (line.trim() === "") continue;
    const a = line.indexOf(" ");
    const b = line.indexOf(" ", a + 1);
    const method = line.slice(0, a);
    const target = b < 0 ? line.slice(a + 1) : line.slice(a + 1, b);
    const body = b < 0 ? undefined : line.slice(b + 1);
    const h = signedHeaders({ method, host, target, body, creds, date });
    out.push([method, target, h["x-date"], h.authorization, h["x-content-sha256"] ?? "",
      h["Content-Length"] ?? "", body ?? ""].join("\t"));
  }
  return out.join("\n") + "\n";
}
