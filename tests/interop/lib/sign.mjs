// A minimal OCI request signer in Node's crypto, reproducing what the TypeScript SDK
// 2.139.1 sends (spec oci-wire.md section 1), for the negative cases that the SDK
// cannot produce: unsigned, tampered body, altered query, old date, unknown key,
// wrong fingerprint. Requests go out through node:http so every header is exactly
// what the test sets.

import crypto from "node:crypto";
import fs from "node:fs";
import { MODE, readConfig, transport } from "./server.mjs";

export const EMPTY_SHA256 = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";

export const GET_HEADERS = ["x-date", "(request-target)", "host"];
export const BODY_HEADERS = ["x-date", "(request-target)", "host", "Content-Type", "Content-Length", "x-content-sha256"];

export function sha256b64(body) {
  return crypto.createHash("sha256").update(body ?? "").digest("base64");
}

/** OCI API-key fingerprint: MD5 over DER SubjectPublicKeyInfo, lowercase hex joined by ':'. */
export function fingerprintOf(keyPem) {
  const pub = crypto.createPublicKey(keyPem).export({ type: "spki", format: "der" });
  return crypto
    .createHash("md5")
    .update(pub)
    .digest("hex")
    .match(/../g)
    .join(":");
}

/** Credentials from a tresord-written OCI config file (profile DEFAULT). */
export function loadCredentials(configPath) {
  const cfg = readConfig(configPath);
  const privateKeyPem = fs.readFileSync(cfg.key_file, "utf8");
  return {
    cfg,
    tenancy: cfg.tenancy,
    user: cfg.user,
    fingerprint: cfg.fingerprint,
    keyId: `${cfg.tenancy}/${cfg.user}/${cfg.fingerprint}`,
    privateKeyPem,
  };
}

/** Build the draft-cavage signing string: one `name: value` line per signed header. */
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

export function rsaSign(privateKeyPem, data) {
  return crypto.sign("sha256", Buffer.from(data, "utf8"), privateKeyPem).toString("base64");
}

export function authorizationHeader({ keyId, names, signature, version = "1", algorithm = "rsa-sha256" }) {
  const parts = [];
  if (version !== null) parts.push(`version="${version}"`);
  parts.push(`keyId="${keyId}"`, `algorithm="${algorithm}"`, `headers="${names.join(" ")}"`, `signature="${signature}"`);
  return `Signature ${parts.join(",")}`;
}

/**
 * Produce the headers the SDK would send for this request.
 *   method, host ("127.0.0.1:PORT"), target (path + "?" + query, as sent),
 *   body (string or undefined), creds ({keyId, privateKeyPem}),
 *   date (Date; default now), names (signed header list; default per method),
 *   signTarget (sign this target instead of `target`), version ("1" or null to omit).
 * Returns { headers, signingString }.
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
  version = "1",
  algorithm = "rsa-sha256",
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
  const list = names ?? (hasBody ? BODY_HEADERS : GET_HEADERS);
  const ss = signingString(list, { method: m, target: signTarget ?? target, headers });
  const signature = rsaSign(privateKeyPem ?? creds.privateKeyPem, ss);
  headers.authorization = authorizationHeader({
    keyId: keyId ?? creds.keyId,
    names: list,
    signature,
    version,
    algorithm,
  });
  if (!Object.keys(headers).some((k) => k.toLowerCase() === "date")) headers.Date = date.toUTCString();
  return { headers, signingString: ss };
}

/**
 * Send a raw HTTP/1.1 request to 127.0.0.1:port (over TLS in TLS mode, or as opts.tls
 * says). `headers` are sent as given (Content-Length is whatever the caller put there;
 * the actual body is `body`). Returns { status, headers, text, json }.
 */
export function rawRequest(port, { method, target, headers = {}, body, tls = MODE.tls }) {
  const { mod, opts } = transport(tls);
  return new Promise((resolve, reject) => {
    const req = mod.request(
      {
        ...opts,
        host: "127.0.0.1",
        port,
        method,
        path: target,
        headers,
        agent: false,
        timeout: 10000,
        setHost: !Object.keys(headers).some((k) => k.toLowerCase() === "host"),
      },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let json;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode, headers: res.headers, text, json });
        });
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error("raw request timeout")));
    req.on("error", reject);
    if (body !== undefined && body !== null) req.write(body);
    req.end();
  });
}

/** Sign like the SDK and send. opts as for signedHeaders plus `port`; `sendBody` overrides the body actually sent. */
export async function signedRequest(port, opts) {
  const host = opts.host ?? `127.0.0.1:${port}`;
  const { headers, signingString: ss } = signedHeaders({ ...opts, host });
  const sendBody = opts.sendBody !== undefined ? opts.sendBody : opts.body;
  const res = await rawRequest(port, { method: opts.method.toUpperCase(), target: opts.target, headers, body: sendBody, tls: opts.tls });
  res.requestHeaders = headers;
  res.signingString = ss;
  return res;
}
