// SPDX-License-Identifier: Apache-2.0
//
// The security probe suite of issue 7: what a reviewer would throw at a
// running tresord.  Every probe must be refused with the exact status and
// OCI error code (and, for limits, a message naming the limit), and the
// store must be unchanged afterwards (a snapshot of every resource, the
// fixture secret's versions and content, taken through the API, compared
// before and after each probe).
//
//   node tests/probes/probes.mjs [--only REGEX] [--list]
//
// Environment: TRESORD, PROBES_DIR (keep the server's data dir and log
// there; the canary scans them), PROBES_BODIES (append every response
// body there), PROBES_REPORT (JSON results), PROBES_KEEP=1 (keep the temp
// directory), PROBES_SLOW=0 (skip the
// slowloris probes, which take about 15 s).
// Exit status 0 when every probe passed.

import crypto from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";

import {
  Client,
  Server,
  freePort,
  initData,
  loadCredentials,
  makeVaultAndKey,
  ok,
  rawRequest,
  signedHeaders,
  sleep,
  tempDir,
  TRESORD,
} from "./lib/tresor.mjs";
import { scan } from "../canary/scan.mjs";

// Canary secret values (also listed in tests/canary/canaries.txt): they
// must never show in an error body, a log, the audit log or the database.
export const CANARIES = ["tresor-canary-probe-6b1f0e9d4c", "tresor-canary-kms-2a7c51e8f3"];

const args = process.argv.slice(2);
const only = args.includes("--only") ? new RegExp(args[args.indexOf("--only") + 1]) : null;
const SLOW = process.env.PROBES_SLOW !== "0";

const probes = [];
function probe(name, fn, opts = {}) {
  probes.push({ name, fn, ...opts });
}

class ProbeFailure extends Error {}
function check(cond, msg) {
  if (!cond) throw new ProbeFailure(msg);
}

// ---------------------------------------------------------------------------
// fixture

const root = process.env.PROBES_DIR || tempDir("tresor-probes");
fs.mkdirSync(root, { recursive: true });
const bodiesFile = process.env.PROBES_BODIES || path.join(root, "response-bodies.txt");
let port, server, creds, c, T, fx;

function recordBody(res) {
  try {
    if (res.status >= 300) fs.appendFileSync(bodiesFile, `${res.status} ${res.text ?? ""}\n`);
  } catch {
    /* best effort */
  }
  return res;
}

async function send(method, target, opts = {}) {
  return recordBody(await c.request(method, target, opts));
}

/** Everything a probe could have changed, as one comparable string. */
async function snapshot() {
  const s = {};
  const list = async (key, target) => {
    const r = await c.get(target);
    s[key] = ok(r, `snapshot ${key}`)
      .map((o) => [o.id, o.name ?? o.displayName ?? o.secretName ?? "", o.lifecycleState, o.timeOfDeletion ?? ""].join("|"))
      .sort();
  };
  await list("secrets", `/20180608/secrets?compartmentId=${T}&limit=1000`);
  await list("vaults", `/20180608/vaults?compartmentId=${T}&limit=1000`);
  await list("keys", `${fx.mgmt}/20180608/keys?compartmentId=${T}&limit=1000`);
  await list("users", `/20160918/users?compartmentId=${T}`);
  await list("groups", `/20160918/groups?compartmentId=${T}`);
  await list("policies", `/20160918/policies?compartmentId=${T}`);
  await list("compartments", `/20160918/compartments?compartmentId=${T}`);
  await list("dynamicGroups", `/20160918/dynamicGroups?compartmentId=${T}`);
  const v = await c.get(`/20180608/secrets/${fx.secret.id}/versions`);
  s.versions = ok(v, "snapshot versions").map((x) => `${x.versionNumber}:${(x.stages || []).join(",")}`);
  const sec = ok(await c.get(`/20180608/secrets/${fx.secret.id}`), "snapshot secret");
  s.secret = [sec.secretName, sec.description ?? "", sec.lifecycleState, sec.currentVersionNumber].join("|");
  const b = ok(await c.get(`/20190301/secretbundles/${fx.secret.id}`), "snapshot bundle");
  s.bundle = crypto.createHash("sha256").update(b.secretBundleContent.content).digest("hex");
  const k = ok(await c.get(`/20160918/users/${creds.user}/apiKeys`), "snapshot api keys");
  s.apiKeys = k.map((x) => `${x.fingerprint}|${x.lifecycleState}`).sort();
  return JSON.stringify(s);
}

function diff(a, b) {
  const A = JSON.parse(a);
  const B = JSON.parse(b);
  const out = [];
  for (const k of Object.keys(A)) if (JSON.stringify(A[k]) !== JSON.stringify(B[k])) out.push(`${k}: ${JSON.stringify(A[k]).slice(0, 200)} -> ${JSON.stringify(B[k]).slice(0, 200)}`);
  return out.join("; ");
}

/**
 * Assert an OCI error answer: status, code, JSON envelope, opc-request-id,
 * and that the message matches every regex of `mentions`.
 */
function refused(res, status, code, mentions = []) {
  const where = `${res.status} ${(res.text || "").slice(0, 300)}`;
  const statuses = Array.isArray(status) ? status : [status];
  check(statuses.includes(res.status), `expected HTTP ${statuses.join(" or ")}, got ${where}`);
  check(res.json && typeof res.json.code === "string" && typeof res.json.message === "string", `no OCI error envelope {code, message}: ${where}`);
  const codes = Array.isArray(code) ? code : [code];
  check(codes.includes(res.json.code), `expected code ${codes.join(" or ")}, got ${where}`);
  check(/application\/json/.test(res.headers["content-type"] || ""), `content-type ${res.headers["content-type"]}`);
  check(res.headers["opc-request-id"], "no opc-request-id");
  for (const m of mentions) check(m.test(res.json.message), `message does not mention ${m}: ${res.json.message}`);
}

function pct(s) {
  return encodeURIComponent(s).replace(/[!'()*]/g, (ch) => "%" + ch.charCodeAt(0).toString(16).toUpperCase());
}

/** A raw HTTP exchange on a new socket; resolves the bytes received. */
function rawExchange(bytes, { waitMs = 3000 } = {}) {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    const chunks = [];
    const done = () => resolve(Buffer.concat(chunks));
    s.on("data", (d) => chunks.push(d));
    s.on("close", done);
    s.on("error", () => {});
    s.write(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes, "latin1"));
    setTimeout(() => s.destroy(), waitMs);
  });
}

function parseRaw(buf) {
  const text = buf.toString("latin1");
  const i = text.indexOf("\r\n\r\n");
  const head = i < 0 ? text : text.slice(0, i);
  const body = i < 0 ? "" : text.slice(i + 4);
  const lines = head.split("\r\n");
  const status = Number((lines[0].match(/^HTTP\/1\.[01] (\d{3})/) || [])[1] || 0);
  const headers = lines.slice(1).map((l) => l.toLowerCase());
  let json;
  try {
    json = JSON.parse(body);
  } catch {
    json = undefined;
  }
  return { status, head, headers, body, json };
}

// ---------------------------------------------------------------------------
// authentication

probe("auth: tampered body is refused", async () => {
  const body = JSON.stringify({ compartmentId: T, displayName: "tampered-a", vaultType: "DEFAULT" });
  const evil = body.replace("tampered-a", "tampered-b");
  const res = recordBody(await c.request("POST", "/20180608/vaults", { body, sendBody: evil }));
  refused(res, 401, "NotAuthenticated", [/x-content-sha256|body/i]);
});

probe("auth: body with a different length than signed is refused", async () => {
  const body = JSON.stringify({ compartmentId: T, displayName: "short", vaultType: "DEFAULT" });
  const headers = signedHeaders({ method: "POST", host: `127.0.0.1:${port}`, target: "/20180608/vaults", body, creds });
  const evil = body.replace("short", "longer-name");
  headers["Content-Length"] = String(Buffer.byteLength(evil));
  const res = recordBody(await rawRequest(port, { method: "POST", target: "/20180608/vaults", headers, body: evil }));
  refused(res, 401, "NotAuthenticated");
});

probe("auth: altered query is refused", async () => {
  const signed = `/20180608/secrets?compartmentId=${T}&name=a`;
  const sent = `/20180608/secrets?compartmentId=${T}&name=b`;
  const res = recordBody(await c.request("GET", sent, { signTarget: signed }));
  refused(res, 401, "NotAuthenticated", [/signature/i]);
});

probe("auth: altered path is refused", async () => {
  const res = recordBody(await c.request("GET", `/20180608/secrets/${fx.secret.id}`, { signTarget: `/20180608/secrets/${fx.other.id}` }));
  refused(res, 401, "NotAuthenticated");
});

probe("auth: altered method is refused", async () => {
  const body = JSON.stringify({ description: "changed" });
  const headers = signedHeaders({ method: "POST", host: `127.0.0.1:${port}`, target: `/20180608/secrets/${fx.secret.id}`, body, creds });
  const res = recordBody(await rawRequest(port, { method: "PUT", target: `/20180608/secrets/${fx.secret.id}`, headers, body }));
  refused(res, 401, "NotAuthenticated");
});

probe("auth: signature replayed past the clock window (x-date 6 min old)", async () => {
  const res = await send("GET", `/20180608/secrets/${fx.secret.id}`, { date: new Date(Date.now() - 6 * 60 * 1000) });
  refused(res, 401, "NotAuthenticated", [/behind|skew|clock/i]);
});

probe("auth: a captured request replayed 6 min later (same bytes) is refused", async () => {
  const body = JSON.stringify({ secretContent: { contentType: "BASE64", content: Buffer.from("replayed").toString("base64") } });
  // signed "6 minutes ago": what an attacker would replay now
  const res = await send("PUT", `/20180608/secrets/${fx.secret.id}`, { body, date: new Date(Date.now() - 361 * 1000) });
  refused(res, 401, "NotAuthenticated");
});

probe("auth: x-date far in the future is refused", async () => {
  const res = await send("GET", `/20180608/secrets/${fx.secret.id}`, { date: new Date(Date.now() + 24 * 3600 * 1000) });
  refused(res, 401, "NotAuthenticated", [/ahead|skew|clock/i]);
});

probe("auth: a signed Date header (no x-date) far in the future is refused", async () => {
  const future = new Date(Date.now() + 2 * 3600 * 1000);
  const target = `/20180608/secrets/${fx.secret.id}`;
  const headers = signedHeaders({
    method: "GET",
    host: `127.0.0.1:${port}`,
    target,
    creds,
    date: future,
    names: ["date", "(request-target)", "host"],
  });
  delete headers["x-date"];
  const res = recordBody(await rawRequest(port, { method: "GET", target, headers }));
  refused(res, 401, "NotAuthenticated", [/ahead|skew|clock/i]);
});

probe("auth: x-date 10 years ahead is refused", async () => {
  const res = await send("GET", `/20180608/secrets/${fx.secret.id}`, { date: new Date(Date.now() + 3650 * 86400 * 1000) });
  refused(res, 401, "NotAuthenticated");
});

probe("auth: unsigned x-date newer than a stale signed date does not help", async () => {
  // sign `date` (old), send a fresh x-date that is not in the signed list
  const old = new Date(Date.now() - 3600 * 1000);
  const headers = signedHeaders({
    method: "GET",
    host: `127.0.0.1:${port}`,
    target: `/20180608/secrets/${fx.secret.id}`,
    creds,
    date: old,
    names: ["date", "(request-target)", "host"],
    extra: { date: old.toUTCString() },
  });
  headers["x-date"] = new Date().toUTCString();
  delete headers.Date;
  const res = recordBody(await rawRequest(port, { method: "GET", target: `/20180608/secrets/${fx.secret.id}`, headers }));
  refused(res, 401, "NotAuthenticated");
});

probe("auth: keyId of a deleted API key is refused", async () => {
  const before = await snapshot();
  const u = fx.extraUser;
  const good = new Client({ port, creds: u.creds });
  const r1 = await good.get(`/20180608/vaults?compartmentId=${T}`);
  check(r1.status === 200, `the user's key works before deletion: ${r1.status} ${r1.text.slice(0, 200)}`);
  ok(await c.delete(`/20160918/users/${u.id}/apiKeys/${encodeURIComponent(u.creds.fingerprint)}`), "DeleteApiKey");
  const r2 = recordBody(await good.get(`/20180608/vaults?compartmentId=${T}`));
  good.close();
  refused(r2, 401, "NotAuthenticated", [/key/i]);
  check((await snapshot()) === before, "store changed");
}, { unchanged: false });

probe("auth: keyId of a deleted user is refused", async () => {
  const u = fx.doomedUser;
  const good = new Client({ port, creds: u.creds });
  const r1 = await good.get(`/20180608/vaults?compartmentId=${T}`);
  check(r1.status === 200, `the user's key works before deletion: ${r1.status}`);
  // OCI requires a user's keys and memberships gone first
  ok(await c.delete(`/20160918/userGroupMemberships/${u.membership}`), "RemoveUserFromGroup");
  ok(await c.delete(`/20160918/users/${u.id}/apiKeys/${encodeURIComponent(u.creds.fingerprint)}`), "DeleteApiKey");
  const del = await c.delete(`/20160918/users/${u.id}`);
  check(del.status >= 200 && del.status < 300, `DeleteUser: ${del.status} ${del.text}`);
  const r2 = recordBody(await good.get(`/20180608/vaults?compartmentId=${T}`));
  good.close();
  refused(r2, 401, "NotAuthenticated");
}, { unchanged: false });

probe("auth: keyId naming another user with the admin's key is refused", async () => {
  const res = await send("GET", `/20180608/vaults?compartmentId=${T}`, { keyId: `${T}/${fx.extraUser.id}/${creds.fingerprint}` });
  refused(res, 401, "NotAuthenticated");
});

probe("auth: forged session token (ST$) is refused", async () => {
  const hdr = Buffer.from('{"alg":"none","typ":"JWT"}').toString("base64url");
  const claims = Buffer.from(JSON.stringify({ sub: creds.user, res_tenant: T, ptype: "resource", exp: 4e9 })).toString("base64url");
  const res = await send("GET", `/20180608/vaults?compartmentId=${T}`, { keyId: `ST$${hdr}.${claims}.` });
  refused(res, 401, "NotAuthenticated", [/token/i]);
});

probe("auth: algorithm other than rsa-sha256 is refused", async () => {
  const headers = signedHeaders({ method: "GET", host: `127.0.0.1:${port}`, target: `/20180608/vaults?compartmentId=${T}`, creds });
  headers.authorization = headers.authorization.replace("rsa-sha256", "hmac-sha256");
  const res = recordBody(await rawRequest(port, { method: "GET", target: `/20180608/vaults?compartmentId=${T}`, headers }));
  refused(res, 401, "NotAuthenticated", [/algorithm/i]);
});

probe("auth: POST whose signature leaves out the body headers is refused", async () => {
  const body = JSON.stringify({ compartmentId: T, displayName: "nobody", vaultType: "DEFAULT" });
  const res = await send("POST", "/20180608/vaults", { body, names: ["x-date", "(request-target)", "host"] });
  refused(res, 401, "NotAuthenticated", [/cover/i]);
});

probe("auth: duplicated signed header is refused", async () => {
  const target = `/20180608/vaults?compartmentId=${T}`;
  const headers = signedHeaders({ method: "GET", host: `127.0.0.1:${port}`, target, creds });
  const lines = [`GET ${target} HTTP/1.1`];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  lines.push(`x-date: ${new Date(Date.now() - 3600e3).toUTCString()}`, "Connection: close", "", "");
  const r = parseRaw(await rawExchange(lines.join("\r\n")));
  check(r.status === 401 && r.json?.code === "NotAuthenticated", `expected 401 NotAuthenticated, got ${r.status} ${r.body.slice(0, 200)}`);
});

// ---------------------------------------------------------------------------
// names and bodies

const createSecret = (name, extra = {}) =>
  send("POST", "/20180608/secrets", {
    body: JSON.stringify({
      compartmentId: T,
      vaultId: fx.vault.id,
      keyId: fx.key.id,
      secretName: name,
      secretContent: { contentType: "BASE64", content: Buffer.from("probe").toString("base64") },
      ...extra,
    }),
  });

for (const [label, name] of [
  ["'../'", "../etc/passwd"],
  ["a slash", "a/b"],
  ["a backslash", "a\\b"],
  ["NUL", "a\u0000b"],
  ["CR LF", "a\r\nX-Injected: 1"],
  ["a tab", "a\tb"],
  ["DEL", "a\u007fb"],
  ["ESC (terminal escape)", "a\u001b[31mred"],
  ["10 KB of text", "a".repeat(10 * 1024)],
  ["256 characters", "b".repeat(256)],
  ["an empty string", ""],
  ["SQL", "x'; DROP TABLE objects; --"],
  ["non-ASCII", "sécret"],
  ["a zero-width space", "a\u200bb"],
]) {
  probe(`names: secret name with ${label} is refused`, async () => {
    const res = await createSecret(name);
    const code = label === "NUL" ? ["InvalidParameter", "CannotParseRequest"] : "InvalidParameter";
    refused(res, 400, code, label === "NUL" ? [] : [/secretName/]);
    if (label.startsWith("256") || label.startsWith("10 KB")) check(/255/.test(res.json.message), `the limit 255 is not named: ${res.json.message}`);
  });
}

for (const [label, field, value, limit] of [
  ["vault displayName of 256 characters", "displayName", "v".repeat(256), /255/],
  ["vault displayName with a control character", "displayName", "v\u0001", /displayName/],
]) {
  probe(`names: ${label} is refused`, async () => {
    const res = await send("POST", "/20180608/vaults", { body: JSON.stringify({ compartmentId: T, vaultType: "DEFAULT", displayName: "ok", [field]: value }) });
    refused(res, 400, "InvalidParameter", [limit]);
  });
}

probe("names: user name of 10 KB is refused", async () => {
  const res = await send("POST", "/20160918/users", { body: JSON.stringify({ compartmentId: T, name: "u".repeat(10240), description: "d" }) });
  refused(res, 400, "InvalidParameter", [/name/]);
});

probe("names: description of 10 KB is refused", async () => {
  const res = await send("PUT", `/20180608/secrets/${fx.secret.id}`, { body: JSON.stringify({ description: "d".repeat(10240) }) });
  refused(res, 400, "InvalidParameter", [/description/]);
});

probe("json: duplicate keys are refused", async () => {
  const body = `{"compartmentId":"${T}","displayName":"dup1","displayName":"dup2","vaultType":"DEFAULT"}`;
  const res = await send("POST", "/20180608/vaults", { body });
  refused(res, 400, ["CannotParseRequest", "InvalidParameter"], [/duplicate/i]);
});

probe("json: duplicate keys in a nested object are refused", async () => {
  const body = `{"secretContent":{"contentType":"BASE64","content":"YQ==","content":"Yg=="}}`;
  const res = await send("PUT", `/20180608/secrets/${fx.secret.id}`, { body });
  refused(res, 400, ["CannotParseRequest", "InvalidParameter"], [/duplicate/i]);
});

probe("json: invalid UTF-8 in a string is refused", async () => {
  const body = Buffer.concat([Buffer.from(`{"description":"`), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from(`"}`)]);
  const target = `/20180608/secrets/${fx.secret.id}`;
  const res = recordBody(await rawRequest(port, { method: "PUT", target, headers: signedHeadersBytes("PUT", target, body), body }));
  refused(res, 400, ["CannotParseRequest", "InvalidParameter"], [/UTF-8|unicode|encoding|decode/i]);
});

probe("json: invalid UTF-8 in a member name is refused", async () => {
  const body = Buffer.concat([Buffer.from(`{"`), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from(`":1}`)]);
  const target = `/20180608/secrets/${fx.secret.id}`;
  const res = recordBody(await rawRequest(port, { method: "PUT", target, headers: signedHeadersBytes("PUT", target, body), body }));
  refused(res, 400, ["CannotParseRequest", "InvalidParameter"]);
});

probe("json: an unknown member whose name is cut inside a UTF-8 character", async () => {
  // the message quotes at most 64 bytes of the name: the cut must not
  // leave half a character (which made the error itself fail with 500)
  const name = "x" + "é".repeat(40);
  const res = await send("PUT", `/20180608/secrets/${fx.secret.id}`, { body: JSON.stringify({ [name]: 1 }) });
  refused(res, 400, "InvalidParameter", [/unknown field/]);
});

probe("json: NUL escaped inside a string is refused", async () => {
  const res = await send("PUT", `/20180608/secrets/${fx.secret.id}`, { body: `{"description":"a\\u0000b"}` });
  refused(res, 400, ["CannotParseRequest", "InvalidParameter"]);
});

probe("json: a lone surrogate escape is refused", async () => {
  const res = await send("PUT", `/20180608/secrets/${fx.secret.id}`, { body: `{"description":"\\ud800"}` });
  refused(res, 400, ["CannotParseRequest", "InvalidParameter"]);
});

probe("json: a top-level array is refused", async () => {
  const res = await send("PUT", `/20180608/secrets/${fx.secret.id}`, { body: `[{"description":"x"}]` });
  refused(res, 400, ["CannotParseRequest", "InvalidParameter"], [/object/i]);
});

probe("json: trailing garbage after the object is refused", async () => {
  const res = await send("PUT", `/20180608/secrets/${fx.secret.id}`, { body: `{"description":"x"} {"description":"y"}` });
  refused(res, 400, ["CannotParseRequest", "InvalidParameter"]);
});

// ---------------------------------------------------------------------------
// numbers

for (const [label, body] of [
  ["an integer past 2^63", `{"currentVersionNumber":9223372036854775808}`],
  ["an integer of 30 digits", `{"currentVersionNumber":123456789012345678901234567890}`],
  ["a negative version number", `{"currentVersionNumber":-1}`],
  ["a zero version number", `{"currentVersionNumber":0}`],
  ["INT64_MIN", `{"currentVersionNumber":-9223372036854775808}`],
  ["a real that overflows", `{"currentVersionNumber":1e400}`],
  ["a fraction", `{"currentVersionNumber":1.5}`],
]) {
  probe(`numbers: currentVersionNumber ${label} is refused`, async () => {
    const res = await send("PUT", `/20180608/secrets/${fx.secret.id}`, { body });
    refused(res, 400, ["InvalidParameter", "CannotParseRequest"]);
  });
}

for (const [label, q] of [
  ["versionNumber 2^64", "versionNumber=18446744073709551616"],
  ["versionNumber 2^63", "versionNumber=9223372036854775808"],
  ["versionNumber -1", "versionNumber=-1"],
  ["versionNumber 0x10", "versionNumber=0x10"],
  ["versionNumber with a space", "versionNumber=1%20"],
]) {
  probe(`numbers: GetSecretBundle ${label} is refused`, async () => {
    const res = await send("GET", `/20190301/secretbundles/${fx.secret.id}?${q}`);
    refused(res, 400, "InvalidParameter", [/versionNumber/]);
  });
}

probe("numbers: a version number 2^64 in the path is refused", async () => {
  const res = await send("GET", `/20180608/secrets/${fx.secret.id}/version/18446744073709551617`);
  refused(res, [400, 404], ["InvalidParameter", "NotAuthorizedOrNotFound"]);
});

probe("numbers: keyShape length past 2^63 is refused", async () => {
  const res = await send("POST", `${fx.mgmt}/20180608/keys`, {
    body: `{"compartmentId":"${T}","displayName":"k","keyShape":{"algorithm":"AES","length":99999999999999999999},"protectionMode":"SOFTWARE"}`,
  });
  refused(res, 400, ["InvalidParameter", "CannotParseRequest"]);
});

probe("numbers: keyShape length 2^31 is refused", async () => {
  const res = await send("POST", `${fx.mgmt}/20180608/keys`, {
    body: `{"compartmentId":"${T}","displayName":"k","keyShape":{"algorithm":"AES","length":2147483648},"protectionMode":"SOFTWARE"}`,
  });
  refused(res, 400, "InvalidParameter", [/length/]);
});

probe("numbers: timeOfDeletion in the year 99999 is refused", async () => {
  const res = await send("POST", `/20180608/secrets/${fx.secret.id}/actions/scheduleDeletion`, { body: `{"timeOfDeletion":"99999-01-01T00:00:00Z"}` });
  refused(res, 400, "InvalidParameter", [/timeOfDeletion/]);
});

probe("numbers: limit past 2^64 is refused", async () => {
  const res = await send("GET", `/20180608/secrets?compartmentId=${T}&limit=18446744073709551616`);
  refused(res, 400, "InvalidParameter", [/limit/]);
});

// ---------------------------------------------------------------------------
// limits

probe("limits: page size past 1000 is refused with the limit named", async () => {
  const res = await send("GET", `/20180608/secrets?compartmentId=${T}&limit=1001`);
  refused(res, 400, "InvalidParameter", [/limit/, /1000/]);
});

probe("limits: JSON nested 17 levels is refused with the limit named", async () => {
  const body = `{"compartmentId":"${T}","displayName":"d","vaultType":"DEFAULT","freeformTags":` + '{"a":'.repeat(16) + "1" + "}".repeat(16) + "}";
  const res = await send("POST", "/20180608/vaults", { body });
  refused(res, 400, ["CannotParseRequest", "InvalidParameter", "LimitExceeded"], [/16/]);
});

probe("limits: JSON array of 1001 elements is refused with the limit named", async () => {
  const res = await send("POST", "/tresor/v1/actions/lintPolicy", { body: JSON.stringify({ statements: Array(1001).fill("Allow group A to read secrets in tenancy") }) });
  refused(res, 400, ["CannotParseRequest", "InvalidParameter", "LimitExceeded"], [/1000/]);
});

probe("limits: JSON object of 1001 members is refused with the limit named", async () => {
  const tags = {};
  for (let i = 0; i < 1001; i++) tags[`k${i}`] = "v";
  const res = await send("PUT", `/20180608/secrets/${fx.secret.id}`, { body: JSON.stringify({ freeformTags: tags }) });
  refused(res, 400, ["CannotParseRequest", "InvalidParameter", "LimitExceeded"], [/1000|64/]);
});

probe("limits: 65 freeform tags are refused with the limit named", async () => {
  const tags = {};
  for (let i = 0; i < 65; i++) tags[`k${i}`] = "v";
  const res = await send("PUT", `/20180608/secrets/${fx.secret.id}`, { body: JSON.stringify({ freeformTags: tags }) });
  refused(res, 400, ["LimitExceeded", "InvalidParameter"], [/64/]);
});

probe("limits: a 2 MiB JSON body is refused with 413 and the limit named", async () => {
  const res = await send("POST", "/20180608/vaults", { body: JSON.stringify({ compartmentId: T, displayName: "x".repeat(2 * 1024 * 1024), vaultType: "DEFAULT" }) });
  refused(res, 413, ["RequestEntityTooLarge", "LimitExceeded"], [/1048576|1 ?MiB/]);
});

probe("limits: a 17 MiB body is refused with 413 and the limit named", async () => {
  const r = parseRaw(await rawExchange(`POST /20180608/vaults HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${17 * 1024 * 1024}\r\nConnection: close\r\n\r\n{`));
  check(r.status === 413, `expected 413, got ${r.status} ${r.head.split("\r\n")[0]}`);
  // Known gap (see the issue 7 note): past 16 MiB h2o refuses the body itself, before
  // tresor sees the request, with its own plain-text 413; below it tresor answers with
  // OCI's envelope (the 1 MiB JSON limit, the 25 KiB content limit).
  if (r.json) check(/16777216|16 ?MiB|limit/i.test(r.json.message), `limit not named: ${r.json.message}`);
  else check(/too large/i.test(r.body), `neither an envelope nor h2o's refusal: ${r.body.slice(0, 120)}`);
});

probe("limits: secret content over 25 KiB is refused with the limit named", async () => {
  const content = crypto.randomBytes(26 * 1024).toString("base64");
  const res = await send("PUT", `/20180608/secrets/${fx.secret.id}`, { body: JSON.stringify({ secretContent: { contentType: "BASE64", content } }) });
  refused(res, 400, ["InvalidParameter", "LimitExceeded"], [/25/]);
});

probe("limits: 101 policy statements are refused with the limit named", async () => {
  const statements = Array.from({ length: 101 }, () => "Allow group Administrators to read secrets in tenancy");
  const res = await send("POST", "/20160918/policies", { body: JSON.stringify({ compartmentId: T, name: "p101", description: "d", statements }) });
  refused(res, 400, ["LimitExceeded", "InvalidParameter"], [/100/]);
});

probe("limits: a policy statement of 10 KB is refused with the limit named", async () => {
  const statements = ["Allow group " + "A".repeat(10240) + " to read secrets in tenancy"];
  const res = await send("POST", "/20160918/policies", { body: JSON.stringify({ compartmentId: T, name: "plong", description: "d", statements }) });
  refused(res, 400, ["LimitExceeded", "InvalidParameter"], [/\d{3,}/]);
});

probe("limits: more than 32 query parameters are refused with the limit named", async () => {
  const q = Array.from({ length: 40 }, (_, i) => `p${i}=1`).join("&");
  const res = await send("GET", `/20180608/secrets?compartmentId=${T}&${q}`);
  refused(res, 400, ["InvalidParameter", "LimitExceeded"], [/32/]);
});

probe("limits: a path of 5000 bytes is refused with the limit named", async () => {
  const res = await send("GET", `/20180608/secrets/${"a".repeat(5000)}`);
  refused(res, [400, 414], ["InvalidParameter", "LimitExceeded"], [/4096/]);
});

probe("limits: a 64 KB request header is refused with the limit named", async () => {
  const r = parseRaw(await rawExchange(`GET /20180608/vaults?compartmentId=${T} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${"a".repeat(64 * 1024)}\r\nConnection: close\r\n\r\n`));
  check([400, 413, 431].includes(r.status), `expected 400/413/431, got ${r.status} ${r.head.split("\r\n")[0]}`);
  check(r.json && r.json.code && /\d{3,}/.test(r.json.message || ""), `no OCI envelope naming the limit: ${r.body.slice(0, 120)}`);
});

probe("limits: 1 MB of request headers is refused with the limit named", async () => {
  const r = parseRaw(await rawExchange(`GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${"a".repeat(1 << 20)}\r\nConnection: close\r\n\r\n`));
  check([400, 413, 431].includes(r.status), `expected 400/413/431, got ${r.status}`);
  // Known gap: this size never reaches tresor: h2o's HTTP parser refuses it (plain text).
  if (r.json) check(r.json.code && /\d{3,}/.test(r.json.message || ""), `limit not named: ${r.body.slice(0, 80)}`);
});

probe("limits: 20 KB of request headers (below h2o's own limits) are refused with 400 naming the limit", async () => {
  const r = parseRaw(await rawExchange(`GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${"a".repeat(20000)}\r\nConnection: close\r\n\r\n`));
  check(r.status === 400, `expected 400, got ${r.status}`);
  check(r.json && r.json.code === "LimitExceeded" && /16384/.test(r.json.message || ""), `no envelope naming 16384: ${r.body.slice(0, 120)}`);
});

probe("limits: 70 request headers (below h2o's own limits) are refused with 400 naming the limit", async () => {
  const hs = Array.from({ length: 70 }, (_, i) => `X-H${i}: v`).join("\r\n");
  const r = parseRaw(await rawExchange(`GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n${hs}\r\nConnection: close\r\n\r\n`));
  check(r.status === 400, `expected 400, got ${r.status}`);
  check(r.json && r.json.code === "LimitExceeded" && /64/.test(r.json.message || ""), `no envelope naming 64: ${r.body.slice(0, 120)}`);
});

probe("limits: 150 request headers are refused with the limit named", async () => {
  const hs = Array.from({ length: 150 }, (_, i) => `X-H${i}: v`).join("\r\n");
  const r = parseRaw(await rawExchange(`GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n${hs}\r\nConnection: close\r\n\r\n`));
  check([400, 413, 431].includes(r.status), `expected 400/413/431, got ${r.status}`);
  // Known gap: h2o's parser stops at 100 headers itself (plain text); see the 70-header probe.
  if (r.json) check(r.json.code && /\d{2,}/.test(r.json.message || ""), `limit not named: ${r.body.slice(0, 80)}`);
});

probe("limits: an Authorization header of 20 KB is refused", async () => {
  const target = `/20180608/vaults?compartmentId=${T}`;
  const headers = signedHeaders({ method: "GET", host: `127.0.0.1:${port}`, target, creds });
  headers.authorization = headers.authorization.replace('signature="', `pad="${"p".repeat(20000)}",signature="`);
  const res = recordBody(await rawRequest(port, { method: "GET", target, headers }));
  // refused before authentication: the headers pass the 16 KiB limit
  refused(res, 400, "LimitExceeded", [/16384/]);
});

// ---------------------------------------------------------------------------
// SQL metacharacters in every filter

const SQL = ["x' OR '1'='1", "%", "_", "x\"; DROP TABLE objects; --", "1 OR 1=1", "\\", "*"];
// filters whose value is free text: answer 200 with nothing matched
const freeText = [
  ["ListSecrets name", (v) => `/20180608/secrets?compartmentId=${T}&name=${pct(v)}`],
  ["ListUsers name", (v) => `/20160918/users?compartmentId=${T}&name=${pct(v)}`],
  ["ListGroups name", (v) => `/20160918/groups?compartmentId=${T}&name=${pct(v)}`],
  ["ListPolicies name", (v) => `/20160918/policies?compartmentId=${T}&name=${pct(v)}`],
  ["ListCompartments name", (v) => `/20160918/compartments?compartmentId=${T}&name=${pct(v)}`],
  ["ListDynamicGroups name", (v) => `/20160918/dynamicGroups?compartmentId=${T}&name=${pct(v)}`],
];
for (const [label, url] of freeText) {
  probe(`sql: ${label} with SQL metacharacters matches nothing`, async () => {
    for (const v of SQL) {
      const res = await send("GET", url(v));
      check(res.status === 200 && Array.isArray(res.json), `${JSON.stringify(v)}: ${res.status} ${res.text.slice(0, 200)}`);
      check(res.json.length === 0, `${JSON.stringify(v)} matched ${res.json.length} items`);
    }
  });
}
// OCID filters: an OCID that names nothing matches nothing (200 []), a
// value that is not an OCID may also be refused (400 naming it)
const idFilters = [
  ["ListSecrets vaultId", "vaultId", (v) => `/20180608/secrets?compartmentId=${T}&vaultId=${pct(v)}`],
  ["ListUserGroupMemberships userId", "userId", (v) => `/20160918/userGroupMemberships?compartmentId=${T}&userId=${pct(v)}`],
  ["ListUserGroupMemberships groupId", "groupId", (v) => `/20160918/userGroupMemberships?compartmentId=${T}&groupId=${pct(v)}`],
];
for (const [label, param, url] of idFilters) {
  probe(`sql: ${label} with SQL metacharacters matches nothing or is refused`, async () => {
    for (const v of SQL) {
      const res = await send("GET", url(v));
      if (res.status === 200) check(Array.isArray(res.json) && res.json.length === 0, `${JSON.stringify(v)} matched ${res.text.slice(0, 100)}`);
      else refused(res, 400, "InvalidParameter", [new RegExp(param)]);
    }
  });
}
// enumerations, numbers, booleans and page tokens: 400 naming the parameter
const strict = [
  ["ListSecrets lifecycleState", "lifecycleState", (v) => `/20180608/secrets?compartmentId=${T}&lifecycleState=${pct(v)}`],
  ["ListSecrets sortBy", "sortBy", (v) => `/20180608/secrets?compartmentId=${T}&sortBy=${pct(v)}`],
  ["ListSecrets sortOrder", "sortOrder", (v) => `/20180608/secrets?compartmentId=${T}&sortOrder=${pct(v)}`],
  ["ListSecrets limit", "limit", (v) => `/20180608/secrets?compartmentId=${T}&limit=${pct(v)}`],
  ["ListSecrets page", "page", (v) => `/20180608/secrets?compartmentId=${T}&page=${pct(v)}`],
  ["ListVaults sortBy", "sortBy", (v) => `/20180608/vaults?compartmentId=${T}&sortBy=${pct(v)}`],
  ["ListVaults page", "page", (v) => `/20180608/vaults?compartmentId=${T}&page=${pct(v)}`],
  ["ListKeys algorithm", "algorithm", (v) => `{MGMT}/20180608/keys?compartmentId=${T}&algorithm=${pct(v)}`],
  ["ListKeys protectionMode", "protectionMode", (v) => `{MGMT}/20180608/keys?compartmentId=${T}&protectionMode=${pct(v)}`],
  ["ListKeys length", "length", (v) => `{MGMT}/20180608/keys?compartmentId=${T}&length=${pct(v)}`],
  ["ListKeys curveId", "curveId", (v) => `{MGMT}/20180608/keys?compartmentId=${T}&curveId=${pct(v)}`],
  ["ListKeys sortOrder", "sortOrder", (v) => `{MGMT}/20180608/keys?compartmentId=${T}&sortOrder=${pct(v)}`],
  ["ListKeyVersions sortBy", "sortBy", (v) => `{MGMT}/20180608/keys/{KEY}/keyVersions?sortBy=${pct(v)}`],
  ["ListSecretVersions sortOrder", "sortOrder", (v) => `/20180608/secrets/{SECRET}/versions?sortOrder=${pct(v)}`],
  ["ListSecretVersions page", "page", (v) => `/20180608/secrets/{SECRET}/versions?page=${pct(v)}`],
  ["ListSecretBundleVersions sortBy", "sortBy", (v) => `/20190301/secretbundles/{SECRET}/versions?sortBy=${pct(v)}`],
  ["ListUsers lifecycleState", "lifecycleState", (v) => `/20160918/users?compartmentId=${T}&lifecycleState=${pct(v)}`],
  ["ListUsers sortBy", "sortBy", (v) => `/20160918/users?compartmentId=${T}&sortBy=${pct(v)}`],
  ["ListGroups lifecycleState", "lifecycleState", (v) => `/20160918/groups?compartmentId=${T}&lifecycleState=${pct(v)}`],
  ["ListPolicies sortOrder", "sortOrder", (v) => `/20160918/policies?compartmentId=${T}&sortOrder=${pct(v)}`],
  ["ListCompartments accessLevel", "accessLevel", (v) => `/20160918/compartments?compartmentId=${T}&accessLevel=${pct(v)}`],
  ["ListCompartments compartmentIdInSubtree", "compartmentIdInSubtree", (v) => `/20160918/compartments?compartmentId=${T}&compartmentIdInSubtree=${pct(v)}`],
  ["ListCompartments lifecycleState", "lifecycleState", (v) => `/20160918/compartments?compartmentId=${T}&lifecycleState=${pct(v)}`],
  ["ListDynamicGroups sortBy", "sortBy", (v) => `/20160918/dynamicGroups?compartmentId=${T}&sortBy=${pct(v)}`],
];
for (const [label, param, url] of strict) {
  probe(`sql: ${label} with SQL metacharacters is refused (400 naming '${param}')`, async () => {
    for (const v of SQL) {
      const target = url(v).replace("{MGMT}", fx.mgmt).replace("{KEY}", fx.key.id).replace("{SECRET}", fx.secret.id);
      const res = await send("GET", target);
      refused(res, 400, "InvalidParameter", [new RegExp(param)]);
    }
  });
}
probe("sql: compartmentId with SQL metacharacters is refused in every list", async () => {
  for (const base of ["/20180608/secrets", "/20180608/vaults", `${fx.mgmt}/20180608/keys`, "/20160918/users", "/20160918/groups", "/20160918/policies", "/20160918/compartments", "/20160918/dynamicGroups", "/20160918/userGroupMemberships", "/tresor/v1/workloads"]) {
    for (const v of SQL) {
      const res = await send("GET", `${base}?compartmentId=${pct(v)}`);
      try {
        refused(res, [400, 404], ["InvalidParameter", "NotAuthorizedOrNotFound"]);
      } catch (e) {
        throw new ProbeFailure(`${base} compartmentId=${JSON.stringify(v)}: ${e.message}`);
      }
    }
  }
});
probe("sql: a secret OCID with SQL metacharacters in the path is not found", async () => {
  for (const v of SQL) {
    const res = await send("GET", `/20190301/secretbundles/${pct(fx.secret.id + v)}`);
    refused(res, [400, 404], ["InvalidParameter", "NotAuthorizedOrNotFound"]);
  }
});
probe("sql: GetSecretBundleByName with SQL metacharacters finds nothing", async () => {
  for (const v of SQL) {
    const res = await send("POST", `/20190301/secretbundles/actions/getByName?secretName=${pct(v)}&vaultId=${fx.vault.id}`, { body: "" });
    refused(res, [400, 404], ["InvalidParameter", "NotAuthorizedOrNotFound"]);
  }
});

// ---------------------------------------------------------------------------
// header injection through every echoed value

const injected = (r) => r.headers.some((h) => /^(x-injected|set-cookie)\s*:/.test(h)) || /x-injected|set-cookie/i.test(r.head.split("\r\n").slice(1).join("\n"));

probe("inject: CR LF in opc-request-id (raw) is refused or dropped", async () => {
  for (const sep of ["\r\n", "\r", "\n"]) {
    const r = parseRaw(await rawExchange(`GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nopc-request-id: abc${sep}X-Injected: 1\r\nConnection: close\r\n\r\n`));
    check(!injected(r), `header injected with ${JSON.stringify(sep)}: ${r.head}`);
    check(r.status === 400 || r.status === 200, `status ${r.status}`);
    const rid = r.headers.find((h) => h.startsWith("opc-request-id:")) || "";
    check(!/injected/.test(rid), `opc-request-id echoes the injected text: ${rid}`);
  }
});

probe("inject: opc-request-id with odd characters is not echoed as sent", async () => {
  const res = await send("GET", `/20180608/vaults?compartmentId=${T}`, { extra: { "opc-request-id": "abc;<script>%0d%0aX-Injected:1" } });
  check(res.status === 200, `status ${res.status}`);
  check(!/[<>;%]/.test(res.headers["opc-request-id"]), `echoed: ${res.headers["opc-request-id"]}`);
});

probe("inject: CR LF in if-match and opc-retry-token (raw) is refused", async () => {
  for (const h of ["if-match", "opc-retry-token"]) {
    const r = parseRaw(await rawExchange(`PUT /20180608/secrets/${fx.secret.id} HTTP/1.1\r\nHost: 127.0.0.1\r\n${h}: e\rX-Injected: 1\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`));
    check(!injected(r), `header injected through ${h}: ${r.head}`);
    check(r.status === 400 || r.status === 401, `status ${r.status}`);
  }
});

probe("inject: percent-encoded CR LF in a query value is refused", async () => {
  const res = await send("GET", `/20180608/secrets?compartmentId=${T}&name=a%0d%0aX-Injected:%201`);
  refused(res, 400, "InvalidParameter", [/control/i]);
  check(!("x-injected" in res.headers), "header injected");
});

probe("inject: percent-encoded CR LF in a path parameter is refused", async () => {
  const res = await send("GET", `/20180608/secrets/abc%0d%0aX-Injected:%201`);
  refused(res, 400, "InvalidParameter");
  check(!("x-injected" in res.headers), "header injected");
});

probe("inject: CR LF in a sortBy value echoed in the message stays in the JSON", async () => {
  const res = await send("GET", `/20180608/secrets?compartmentId=${T}&sortBy=%0d%0aX-Injected:%201`);
  refused(res, 400, "InvalidParameter");
  check(!("x-injected" in res.headers), "header injected");
});

probe("inject: CR LF inside JSON member names echoed in a message stays in the JSON", async () => {
  const res = await send("PUT", `/20180608/secrets/${fx.secret.id}`, { body: JSON.stringify({ "a\r\nX-Injected: 1": 1 }) });
  refused(res, 400, "InvalidParameter");
  check(!("x-injected" in res.headers), "header injected");
});

probe("inject: a bare LF in a header value is not reflected in the response headers", async () => {
  // a bare LF ends the header line (RFC 7230 3.5 allows it), so the rest
  // becomes a request header of its own: harmless, as long as nothing of
  // it comes back in the response head
  const r = parseRaw(await rawExchange(`GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nopc-request-id: tok\nX-Injected: 1\r\nConnection: close\r\n\r\n`));
  check(!injected(r), `header injected: ${r.head}`);
});

probe("inject: invalid UTF-8 in the path answers 404, not 500", async () => {
  const r = parseRaw(await rawExchange(Buffer.concat([Buffer.from("GET /"), Buffer.from([0xff, 0xfe]), Buffer.from("/20180608/vaults HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")])));
  check(r.status === 404 || r.status === 400, `expected 404 NotFound or 400, got ${r.status} ${r.body.slice(0, 120)}`);
  check(r.json && (r.json.code === "NotFound" || r.json.code === "InvalidParameter"), `code ${r.body.slice(0, 120)}`);
});

probe("inject: invalid UTF-8 in a query value answers 400, not 500", async () => {
  const res = await send("GET", `/20180608/secrets?compartmentId=${T}&name=%ff%fe`);
  check(res.status === 400 || (res.status === 200 && Array.isArray(res.json) && res.json.length === 0), `got ${res.status} ${res.text.slice(0, 200)}`);
});

// ---------------------------------------------------------------------------
// connections: a read's answer waits for the audit log's sync, and while it
// waits its socket is held (src/http/server.c, hold_reading); what a client
// does meanwhile must change nothing

/** Signed raw GETs as one HTTP/1.1 byte string, and their request ids. */
function signedGets(targets) {
  const ids = [];
  const text = targets
    .map((target) => {
      const h = signedHeaders({ method: "GET", host: `127.0.0.1:${port}`, target, creds });
      ids.push(h["opc-request-id"]);
      return [`GET ${target} HTTP/1.1`, ...Object.entries(h).map(([k, v]) => `${k}: ${v}`), "", ""].join("\r\n");
    })
    .join("");
  return { bytes: Buffer.from(text, "latin1"), ids };
}

/** Split HTTP/1.1 responses (Content-Length framed) out of `buf`. */
function splitResponses(buf) {
  const out = [];
  let text = buf.toString("latin1");
  for (;;) {
    const i = text.indexOf("\r\n\r\n");
    if (i < 0) break;
    const len = Number((text.slice(0, i).match(/\r\ncontent-length: *(\d+)/i) || [])[1] || 0);
    if (text.length < i + 4 + len) break;
    out.push(parseRaw(Buffer.from(text.slice(0, i + 4 + len), "latin1")));
    text = text.slice(i + 4 + len);
  }
  return out;
}

/** True when `r` answers the request whose opc-request-id was `id` (OCI: id/server-id). */
function answerOf(r, id) {
  return r.headers.some((h) => h.startsWith(`opc-request-id: ${id.toLowerCase()}/`));
}

/** Send `bytes` on a new socket (then `after(socket)`); the answers that came. */
function exchange(bytes, { want, after = () => {}, waitMs = 5000 }) {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    const chunks = [];
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      s.destroy();
      resolve(splitResponses(Buffer.concat(chunks)));
    };
    s.on("data", (d) => {
      chunks.push(d);
      if (splitResponses(Buffer.concat(chunks)).length >= want) finish();
    });
    s.on("close", finish);
    s.on("error", () => {});
    s.write(bytes, () => after(s));
    setTimeout(finish, waitMs);
  });
}

probe("connections: pipelined signed reads on one connection are all answered, in order", async () => {
  const bundle = `/20190301/secretbundles/${fx.secret.id}`;
  const targets = [bundle, `/20180608/secrets/${fx.secret.id}`, bundle, bundle];
  const { bytes, ids } = signedGets(targets);
  const res = await exchange(bytes, { want: targets.length });
  check(res.length === targets.length, `${res.length} of ${targets.length} pipelined requests answered`);
  res.forEach((r, i) => {
    check(r.status === 200, `answer ${i + 1}: ${r.status} ${r.body.slice(0, 200)}`);
    check(answerOf(r, ids[i]), `answer ${i + 1} is not for request ${i + 1} (${ids[i]})`);
  });
  const want = ok(await c.get(bundle), "bundle").secretBundleContent.content;
  check(res[0].json.secretBundleContent.content === want && res[3].json.secretBundleContent.content === want, "pipelined bundle content differs");
  check(res[1].json.id === fx.secret.id, "the second answer is not the secret's metadata");
});

probe("connections: a request sent in two pieces while the one before waits is answered", async () => {
  const bundle = `/20190301/secretbundles/${fx.secret.id}`;
  const { bytes, ids } = signedGets([bundle, bundle]);
  const cut = bytes.indexOf("GET ", 10) + 7;
  const res = await exchange(bytes.subarray(0, cut), { want: 2, after: (s) => setTimeout(() => s.write(bytes.subarray(cut)), 1) });
  check(res.length === 2 && res.every((r) => r.status === 200), `answers: ${res.map((r) => r.status).join(",")}`);
  check(answerOf(res[0], ids[0]) && answerOf(res[1], ids[1]), "the answers are not the requests' own, in order");
});

probe("connections: a client that half-closes after its read still gets the answer", async () => {
  const { bytes } = signedGets([`/20190301/secretbundles/${fx.secret.id}`]);
  const res = await exchange(bytes, { want: 1, after: (s) => s.end() });
  check(res.length === 1 && res[0].status === 200, `got ${res.map((r) => r.status).join(",") || "no answer"}`);
});

probe("connections: clients that hang up while their reads wait disturb no one", async () => {
  const { bytes } = signedGets([`/20190301/secretbundles/${fx.secret.id}`]);
  const gone = [];
  for (let i = 0; i < 200; i++) gone.push(exchange(bytes, { want: 1, after: (s) => s.destroy(), waitMs: 2000 }));
  const traffic = await normalTraffic(1500);
  await Promise.all(gone);
  checkServed(traffic);
  const again = await exchange(signedGets([`/20190301/secretbundles/${fx.secret.id}`]).bytes, { want: 1 });
  check(again.length === 1 && again[0].status === 200, "a read after the hang-ups failed");
});

// ---------------------------------------------------------------------------
// slowloris

async function normalTraffic(ms) {
  const cc = new Client({ port, creds, keepAlive: false });
  const lat = [];
  const errors = [];
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const t = Date.now();
    try {
      const r = await cc.get(`/20190301/secretbundles/${fx.secret.id}`, { timeout: 5000 });
      if (r.status !== 200) errors.push(r.status);
    } catch (e) {
      errors.push(e.code || e.message);
    }
    lat.push(Date.now() - t);
    await sleep(200);
  }
  cc.close();
  lat.sort((a, b) => a - b);
  return { n: lat.length, errors, p50: lat[Math.floor(lat.length / 2)], p90: lat[Math.floor(lat.length * 0.9)], max: lat[lat.length - 1] };
}

// Others are served: no error, nine in ten answered fast.  One slow
// answer is allowed: every answer waits for an fdatasync of the audit
// log, and after the heavy suites before this one, ext4's journal may
// hold such a sync behind other files' write-back for a second or more.
function checkServed(traffic) {
  check(traffic.errors.length === 0, `normal requests failed: ${traffic.errors.slice(0, 5).join(",")}`);
  check(traffic.p90 < 500 && traffic.max < 4000,
    `normal requests slowed down: p50 ${traffic.p50} ms, p90 ${traffic.p90} ms, max ${traffic.max} ms over ${traffic.n}`);
}

function slowClients(n, payload, { startAfter = 0 } = {}) {
  const socks = [];
  const t0 = Date.now();
  for (let i = 0; i < n; i++) {
    const s = net.connect(port, "127.0.0.1");
    s.pos = 0;
    s.closedAfter = null;
    s.on("error", () => {});
    s.on("close", () => {
      s.closedAfter = Date.now() - t0;
    });
    socks.push(s);
  }
  const iv = setInterval(() => {
    for (const s of socks) {
      if (s.destroyed || s.closedAfter !== null) continue;
      if (Date.now() - t0 < startAfter) continue;
      if (s.pos < payload.length) {
        s.write(payload.subarray(s.pos, s.pos + 1));
        s.pos++;
      }
    }
  }, 1000);
  if (startAfter > 0) for (const s of socks) s.write(payload.subarray(0, 0));
  return {
    socks,
    stop() {
      clearInterval(iv);
      for (const s of socks) s.destroy();
    },
  };
}

probe("slowloris: 300 clients sending headers at 1 byte/s are dropped, others served", async () => {
  const payload = Buffer.from(`GET /20180608/vaults?compartmentId=${T} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ${"a".repeat(100)}\r\n\r\n`);
  const slow = slowClients(300, payload);
  const traffic = await normalTraffic(14000);
  const dropped = slow.socks.filter((s) => s.closedAfter !== null);
  const latest = Math.max(...dropped.map((s) => s.closedAfter));
  slow.stop();
  checkServed(traffic);
  check(dropped.length === 300, `only ${dropped.length} of 300 slow connections were dropped within 14 s`);
  check(latest <= 13000, `slow connections dropped only after ${latest} ms`);
}, { slow: true });

probe("slowloris: 100 clients sending a body at 1 byte/s are dropped, others served", async () => {
  const target = `/20180608/secrets/${fx.secret.id}`;
  const body = JSON.stringify({ description: "slow" + "x".repeat(200) });
  const headers = signedHeaders({ method: "PUT", host: `127.0.0.1:${port}`, target, body, creds });
  const head = [`PUT ${target} HTTP/1.1`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), "", ""].join("\r\n");
  const socks = [];
  const t0 = Date.now();
  for (let i = 0; i < 100; i++) {
    const s = net.connect(port, "127.0.0.1");
    s.closedAfter = null;
    s.on("error", () => {});
    s.on("close", () => {
      s.closedAfter = Date.now() - t0;
    });
    s.write(head);
    s.pos = 0;
    socks.push(s);
  }
  const iv = setInterval(() => {
    for (const s of socks) if (!s.destroyed && s.closedAfter === null && s.pos < body.length) s.write(body[s.pos++]);
  }, 1000);
  const traffic = await normalTraffic(25000);
  clearInterval(iv);
  const dropped = socks.filter((s) => s.closedAfter !== null);
  for (const s of socks) s.destroy();
  checkServed(traffic);
  check(dropped.length === 100, `only ${dropped.length} of 100 slow-body connections were dropped within 25 s`);
}, { slow: true });

// ---------------------------------------------------------------------------
// canary: secret values never in error bodies

probe("canary: secret content never appears in an error body", async () => {
  // errors that have the secret or its content at hand
  const attempts = [
    await send("PUT", `/20180608/secrets/${fx.canary.id}`, {
      body: JSON.stringify({ currentVersionNumber: 1, secretContent: { contentType: "BASE64", content: Buffer.from(CANARIES[0]).toString("base64") } }),
    }),
    await send("PUT", `/20180608/secrets/${fx.canary.id}`, {
      body: JSON.stringify({ secretContent: { contentType: "BASE64", content: Buffer.from(CANARIES[0]).toString("base64"), stage: "NOPE" } }),
    }),
    await send("GET", `/20190301/secretbundles/${fx.canary.id}?versionNumber=99`),
    await send("GET", `/20190301/secretbundles/${fx.canary.id}?stage=PENDING`),
    await send("POST", `${fx.crypto}/20180608/decrypt`, { body: JSON.stringify({ keyId: fx.key.id, ciphertext: fx.canaryCiphertext, associatedData: { wrong: "aad" } }) }),
    await send("POST", `${fx.crypto}/20180608/decrypt`, { body: JSON.stringify({ keyId: fx.key.id, ciphertext: fx.canaryCiphertext.slice(0, -4) + "AAAA" }) }),
  ];
  for (const r of attempts) {
    check(r.status >= 400, `expected an error, got ${r.status}`);
    for (const cn of CANARIES) {
      for (const form of [cn, Buffer.from(cn).toString("base64"), Buffer.from(cn).toString("base64url")]) {
        check(!r.text.includes(form), `canary ${form} in an error body: ${r.text.slice(0, 200)}`);
      }
    }
  }
});

// ---------------------------------------------------------------------------
// runner

/** Headers for a body given as raw bytes (signature over the bytes). */
function signedHeadersBytes(method, target, bytes) {
  const date = new Date();
  const headers = {
    host: `127.0.0.1:${port}`,
    "Content-Type": "application/json",
    "x-date": date.toUTCString(),
    "Content-Length": String(bytes.length),
    "x-content-sha256": crypto.createHash("sha256").update(bytes).digest("base64"),
  };
  const ss = [
    `x-date: ${headers["x-date"]}`,
    `(request-target): ${method.toLowerCase()} ${target}`,
    `host: ${headers.host}`,
    `content-type: application/json`,
    `content-length: ${headers["Content-Length"]}`,
    `x-content-sha256: ${headers["x-content-sha256"]}`,
  ].join("\n");
  const sig = crypto.sign("sha256", Buffer.from(ss), creds.privateKeyPem).toString("base64");
  headers.authorization = `Signature version="1",keyId="${creds.keyId}",algorithm="rsa-sha256",headers="x-date (request-target) host content-type content-length x-content-sha256",signature="${sig}"`;
  return headers;
}

async function newUser(name, { admin = true } = {}) {
  const user = ok(await c.post("/20160918/users", { compartmentId: T, name, description: "probe user" }), "CreateUser");
  const { publicKey, privateKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
  const pub = publicKey.export({ type: "spki", format: "pem" });
  const key = ok(await c.post(`/20160918/users/${user.id}/apiKeys`, { key: pub }), "UploadApiKey");
  let membership;
  if (admin) {
    const groups = ok(await c.get(`/20160918/groups?compartmentId=${T}&name=Administrators`), "ListGroups");
    membership = ok(await c.post("/20160918/userGroupMemberships", { userId: user.id, groupId: groups[0].id }), "AddUserToGroup").id;
  }
  return {
    id: user.id,
    membership,
    creds: {
      tenancy: T,
      user: user.id,
      fingerprint: key.fingerprint,
      keyId: `${T}/${user.id}/${key.fingerprint}`,
      privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }),
    },
  };
}

async function setup() {
  if (!fs.existsSync(TRESORD)) throw new Error(`no tresord at ${TRESORD}`);
  port = await freePort();
  const dataDir = path.join(root, "data");
  initData(dataDir, port);
  creds = loadCredentials(dataDir);
  T = creds.tenancy;
  server = new Server({ dataDir, port, logFile: path.join(root, "tresord.log") });
  await server.start();
  c = new Client({ port, creds });
  const vk = await makeVaultAndKey(c, T, { name: "probes" });
  fx = { vault: vk.vault, key: vk.key, mgmt: vk.mgmt, crypto: vk.crypto };
  const mk = async (name, content) =>
    ok(
      await c.post("/20180608/secrets", {
        compartmentId: T,
        vaultId: fx.vault.id,
        keyId: fx.key.id,
        secretName: name,
        description: "fixture",
        secretContent: { contentType: "BASE64", content: Buffer.from(content).toString("base64") },
      }),
      `CreateSecret ${name}`,
    );
  fx.secret = await mk("fixture", "fixture-content-1");
  fx.other = await mk("other", "other-content");
  fx.canary = await mk("canary", CANARIES[0]);
  const enc = ok(
    await c.post(`${fx.crypto}/20180608/encrypt`, { keyId: fx.key.id, plaintext: Buffer.from(CANARIES[1]).toString("base64"), associatedData: { app: "probe" } }),
    "Encrypt",
  );
  fx.canaryCiphertext = enc.ciphertext;
  fx.extraUser = await newUser("probe-user");
  fx.doomedUser = await newUser("probe-doomed");
}

const results = [];
let failed = 0;
try {
  await setup();
  let before = await snapshot();
  for (const p of probes) {
    if (only && !only.test(p.name)) continue;
    if (p.slow && !SLOW) continue;
    if (args.includes("--list")) {
      console.log(p.name);
      continue;
    }
    const t = Date.now();
    let error = null;
    try {
      await p.fn();
      if (p.unchanged !== false) {
        const after = await snapshot();
        if (after !== before) error = `the store changed: ${diff(before, after)}`;
      }
    } catch (e) {
      error = e instanceof ProbeFailure ? e.message : `${e.stack || e}`;
    }
    // the server must still be up
    if (server.exit) error = `${error ? error + "; " : ""}tresord died: ${JSON.stringify(server.exit)}`;
    before = await snapshot().catch(() => before);
    results.push({ name: p.name, pass: !error, error, ms: Date.now() - t });
    if (error) failed++;
    console.log(`${error ? "FAIL" : "ok  "} ${p.name}${error ? "\n       " + error : ""}`);
  }
  c.close();
  const e = await server.stop();
  if (e && e.code !== 0) {
    failed++;
    console.log(`FAIL tresord exit status on SIGTERM: ${JSON.stringify(e)}`);
  }
  // the canary: no probe put a secret value in a log, the audit log,
  // the database files or an error body
  if (!only) {
    const r = scan({ values: CANARIES, dirs: [root], exclude: [path.join(root, "data", "root.key")] });
    const error = r.findings.length
      ? r.findings.map((f) => `${f.form} of ${f.value} in ${path.relative(root, f.file)}`).join("; ")
      : null;
    results.push({ name: "canary: no secret value in logs, data files or error bodies", pass: !error, error });
    if (error) failed++;
    console.log(`${error ? "FAIL" : "ok  "} canary: no secret value in logs, data files or error bodies (${r.files} files)${error ? "\n       " + error : ""}`);
  }
} catch (e) {
  failed++;
  console.log(`FAIL setup: ${e.stack || e}`);
  if (server) await server.kill();
}
if (process.env.PROBES_REPORT) fs.writeFileSync(process.env.PROBES_REPORT, JSON.stringify(results, null, 2) + "\n");
console.log(`probes: ${results.length - failed} of ${results.length} passed${failed ? `, ${failed} FAILED` : ""}`);
// the evidence is in the output above; PROBES_DIR or PROBES_KEEP=1 keeps the files
if (!process.env.PROBES_DIR && process.env.PROBES_KEEP !== "1") fs.rmSync(root, { recursive: true, force: true });
process.exit(failed ? 1 : 0);
