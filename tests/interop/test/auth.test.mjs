// Authentication (spec 1.7): every request but /health needs a valid OCI HTTP signature.
// Unsigned, tampered body, altered query/path, too old/new x-date, unknown key, wrong
// fingerprint, wrong private key → 401 NotAuthenticated with a message saying which check
// failed. Raw requests come from lib/sign.mjs (checked against the SDK's own output in
// signer.test.mjs); positive controls prove the signer is accepted.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";

import { NO_RETRY, keymanagement, makeClient } from "../lib/server.mjs";
import { GET_HEADERS, fingerprintOf, loadCredentials, rawRequest, signedHeaders, signedRequest } from "../lib/sign.mjs";
import { assertNoSdkRetries, expectOciError, startWorld, stopWorld } from "../lib/world.mjs";

let w, creds, port;
const messages = {};

before(async () => {
  w = await startWorld("auth");
  creds = loadCredentials(w.srv.configPath);
  port = w.srv.port;
});
after(async () => {
  await stopWorld(w);
});

const listTarget = () => `/20180608/vaults?compartmentId=${creds.tenancy}`;
const vaultBody = (name) => JSON.stringify({ compartmentId: creds.tenancy, displayName: name, vaultType: "DEFAULT" });
const otherKey = () =>
  crypto.generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" });

async function vaultCount() {
  const r = await signedRequest(port, { method: "GET", target: listTarget(), creds });
  assert.equal(r.status, 200, r.text);
  return r.json.length;
}

/** Assert a 401 NotAuthenticated envelope; returns the message. */
function assert401(r, what, messageRe) {
  assert.equal(r.status, 401, `${what}: status ${r.status} body ${r.text}`);
  assert.ok(r.json, `${what}: body is not JSON: ${r.text}`);
  assert.equal(r.json.code, "NotAuthenticated", `${what}: ${r.text}`);
  assert.equal(typeof r.json.message, "string", `${what}: ${r.text}`);
  assert.ok(r.json.message.length > 0, `${what}: empty message`);
  assert.ok(r.headers["opc-request-id"], `${what}: no opc-request-id header`);
  assert.match(String(r.headers["content-type"]), /^application\/json/, `${what}: content-type`);
  if (messageRe) assert.match(r.json.message, messageRe, `${what}: message should say which check failed: "${r.json.message}"`);
  return r.json.message;
}

// ----- positive controls ---------------------------------------------------

test("control: a GET signed like the SDK is accepted", async () => {
  const r = await signedRequest(port, { method: "GET", target: listTarget(), creds });
  assert.equal(r.status, 200, r.text);
  assert.ok(Array.isArray(r.json));
});

test("control: a POST signed like the SDK is accepted", async () => {
  const r = await signedRequest(port, { method: "POST", target: "/20180608/vaults", body: vaultBody("signed-ok"), creds });
  assert.equal(r.status, 200, r.text);
  assert.match(r.json.id, /^ocid1\.vault\./);
});

test("control: x-date 4 minutes off (either way) is accepted; the unsigned Date header is ignored", async () => {
  for (const off of [-4, 4]) {
    const r = await signedRequest(port, {
      method: "GET",
      target: listTarget(),
      creds,
      date: new Date(Date.now() + off * 60 * 1000),
    });
    assert.equal(r.status, 200, `offset ${off} min: ${r.text}`);
  }
  // SDK retry behaviour: x-date is fresh, Date is from an earlier attempt (spec 0.1).
  const { headers } = signedHeaders({ method: "GET", host: `127.0.0.1:${port}`, target: listTarget(), creds });
  headers.Date = new Date(Date.now() - 60 * 60 * 1000).toUTCString();
  const r2 = await rawRequest(port, { method: "GET", target: listTarget(), headers });
  assert.equal(r2.status, 200, `stale unsigned Date header must not matter: ${r2.text}`);
});

test("control: an Authorization header without version=\"1\", parameters in another order, lowercase header names", async () => {
  const r = await signedRequest(port, { method: "GET", target: listTarget(), creds, version: null });
  assert.equal(r.status, 200, `no version parameter: ${r.text}`);

  const { headers } = signedHeaders({ method: "POST", host: `127.0.0.1:${port}`, target: "/20180608/vaults", body: vaultBody("order"), creds,
      names: ["x-date", "(request-target)", "host", "content-type", "content-length", "x-content-sha256"] });
  const p = {};
  for (const m of headers.authorization.slice("Signature ".length).matchAll(/(\w+)="([^"]*)"/g)) p[m[1]] = m[2];
  headers.authorization = `Signature signature="${p.signature}",headers="${p.headers}",algorithm="${p.algorithm}",keyId="${p.keyId}",version="1"`;
  const r2 = await rawRequest(port, { method: "POST", target: "/20180608/vaults", headers, body: vaultBody("order") });
  assert.equal(r2.status, 200, `reordered parameters / lowercase names: ${r2.text}`);
});

test("control: signing `date` instead of `x-date` (other OCI SDKs and the CLI) is accepted", async () => {
  const r = await signedRequest(port, {
    method: "GET",
    target: listTarget(),
    creds,
    names: ["date", "(request-target)", "host"],
    extra: { date: new Date().toUTCString() },
  });
  assert.equal(r.status, 200, r.text);
});

test("control: the fingerprint in keyId is compared case-insensitively (spec 1.2); unknown query parameters are ignored (spec 2.4)", async () => {
  const r = await signedRequest(port, {
    method: "GET",
    target: listTarget(),
    keyId: `${creds.tenancy}/${creds.user}/${creds.fingerprint.toUpperCase()}`,
    privateKeyPem: creds.privateKeyPem,
  });
  assert.equal(r.status, 200, r.text);
  const r2 = await signedRequest(port, { method: "GET", target: `${listTarget()}&someFutureParam=1`, creds });
  assert.equal(r2.status, 200, r2.text);
});

test("GET /health needs no signature", async () => {
  const r = await rawRequest(port, { method: "GET", target: "/health" });
  assert.equal(r.status, 200);
});

// ----- refusals --------------------------------------------------------------

test("unsigned request → 401 NotAuthenticated (GET and POST); nothing created", async () => {
  const n = await vaultCount();
  const r = await rawRequest(port, { method: "GET", target: listTarget(), headers: { "Content-Type": "application/json" } });
  messages.unsigned = assert401(r, "unsigned GET", /authori[sz]ation|signature|signed|missing/i);
  const body = vaultBody("unsigned");
  const r2 = await rawRequest(port, {
    method: "POST",
    target: "/20180608/vaults",
    headers: { "Content-Type": "application/json", "Content-Length": String(Buffer.byteLength(body)) },
    body,
  });
  assert401(r2, "unsigned POST");
  assert.equal(await vaultCount(), n);
});

test("body altered after signing (x-content-sha256 no longer matches) → 401; nothing created", async () => {
  const n = await vaultCount();
  const signed = vaultBody("tamper-AAAA");
  const sent = vaultBody("tamper-BBBB"); // same length
  assert.equal(Buffer.byteLength(signed), Buffer.byteLength(sent));
  const r = await signedRequest(port, { method: "POST", target: "/20180608/vaults", body: signed, sendBody: sent, creds });
  messages.body = assert401(r, "tampered body", /x-content-sha256|body|content|hash|digest/i);
  assert.equal(await vaultCount(), n);
});

test("body altered and x-content-sha256 recomputed (signature covers the old hash) → 401", async () => {
  const n = await vaultCount();
  const signed = vaultBody("tamper-CCCC");
  const sent = vaultBody("tamper-DDDD");
  const { headers } = signedHeaders({ method: "POST", host: `127.0.0.1:${port}`, target: "/20180608/vaults", body: signed, creds });
  headers["x-content-sha256"] = crypto.createHash("sha256").update(sent).digest("base64");
  const r = await rawRequest(port, { method: "POST", target: "/20180608/vaults", headers, body: sent });
  assert401(r, "tampered body + hash", /signature/i);
  assert.equal(await vaultCount(), n);
});

test("Content-Length not matching the signed one → 401 or 400, nothing created", async () => {
  const n = await vaultCount();
  const signed = vaultBody("len");
  const sent = signed + "   ";
  const { headers } = signedHeaders({ method: "POST", host: `127.0.0.1:${port}`, target: "/20180608/vaults", body: signed, creds });
  headers["Content-Length"] = String(Buffer.byteLength(sent));
  const r = await rawRequest(port, { method: "POST", target: "/20180608/vaults", headers, body: sent });
  assert.ok(r.status === 401 || r.status === 400, `status ${r.status}: ${r.text}`);
  assert.equal(await vaultCount(), n);
});

test("query altered after signing → 401", async () => {
  const r = await signedRequest(port, {
    method: "GET",
    target: `${listTarget()}&limit=2`,
    signTarget: `${listTarget()}&limit=1`,
    creds,
  });
  messages.query = assert401(r, "altered query", /signature/i);
});

test("path altered after signing → 401", async () => {
  const r = await signedRequest(port, {
    method: "GET",
    target: "/20180608/vaults/ocid1.vault.oc1..bbbb",
    signTarget: "/20180608/vaults/ocid1.vault.oc1..aaaa",
    creds,
  });
  assert401(r, "altered path", /signature/i);
});

test("Host altered after signing → 401", async () => {
  const { headers } = signedHeaders({ method: "GET", host: `127.0.0.1:${port}`, target: listTarget(), creds });
  headers.host = `localhost:${port}`;
  const r2 = await rawRequest(port, { method: "GET", target: listTarget(), headers });
  assert401(r2, "altered Host");
});

test("x-date more than 5 minutes old or ahead → 401", async () => {
  const old = await signedRequest(port, { method: "GET", target: listTarget(), creds, date: new Date(Date.now() - 6 * 60 * 1000) });
  messages.date = assert401(old, "x-date 6 min old", /date|time|clock|skew|old|expired|window/i);
  const future = await signedRequest(port, { method: "GET", target: listTarget(), creds, date: new Date(Date.now() + 6 * 60 * 1000) });
  assert401(future, "x-date 6 min ahead", /date|time|clock|skew|future|window/i);
  const veryOld = await signedRequest(port, { method: "GET", target: listTarget(), creds, date: new Date(Date.now() - 24 * 3600 * 1000) });
  assert401(veryOld, "x-date 1 day old");
});

test("no signed date header at all → 401", async () => {
  const r = await signedRequest(port, { method: "GET", target: listTarget(), creds, names: ["(request-target)", "host"] });
  assert401(r, "no date in signed headers");
});

test("signed by an unknown key (a fresh RSA key, its own fingerprint) → 401", async () => {
  const pem = otherKey();
  const r = await signedRequest(port, {
    method: "GET",
    target: listTarget(),
    keyId: `${creds.tenancy}/${creds.user}/${fingerprintOf(pem)}`,
    privateKeyPem: pem,
  });
  messages.key = assert401(r, "unknown key", /key|fingerprint|unknown|not found/i);
});

test("wrong fingerprint in keyId (signed with the admin key) → 401", async () => {
  const r = await signedRequest(port, {
    method: "GET",
    target: listTarget(),
    keyId: `${creds.tenancy}/${creds.user}/00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff`,
    privateKeyPem: creds.privateKeyPem,
  });
  assert401(r, "wrong fingerprint", /key|fingerprint|unknown|not found/i);
});

test("right keyId, signed with another private key → 401 (signature)", async () => {
  const r = await signedRequest(port, { method: "GET", target: listTarget(), keyId: creds.keyId, privateKeyPem: otherKey() });
  assert401(r, "wrong private key", /signature/i);
});

test("unknown user or tenancy in keyId → 401", async () => {
  for (const keyId of [
    `${creds.tenancy}/ocid1.user.oc1..nobody/${creds.fingerprint}`,
    `ocid1.tenancy.oc1..nobody/${creds.user}/${creds.fingerprint}`,
    "garbage",
  ]) {
    const r = await signedRequest(port, { method: "GET", target: listTarget(), keyId, privateKeyPem: creds.privateKeyPem });
    assert401(r, `keyId ${keyId}`);
  }
});

test("malformed Authorization headers → 401", async () => {
  for (const auth of ["Signature", "Signature garbage", "Basic Zm9vOmJhcg==", 'Signature keyId="x",algorithm="rsa-sha256"']) {
    const r = await rawRequest(port, {
      method: "GET",
      target: listTarget(),
      headers: { authorization: auth, "x-date": new Date().toUTCString() },
    });
    assert401(r, `Authorization: ${auth}`);
  }
});

test('version other than "1" → 401 (spec 1.1)', async () => {
  const r = await signedRequest(port, { method: "GET", target: listTarget(), creds, version: "2" });
  assert401(r, 'version="2"');
});

test("a POST whose signature leaves out the body headers → 401 (spec 1.7 item 2)", async () => {
  const n = await vaultCount();
  const r = await signedRequest(port, { method: "POST", target: "/20180608/vaults", body: vaultBody("nobodyhdrs"), creds, names: GET_HEADERS });
  assert401(r, "POST signed without content headers");
  assert.equal(await vaultCount(), n);
});

test("401 messages differ by the check that failed", () => {
  const keys = ["unsigned", "body", "query", "date", "key"];
  for (const k of keys) assert.ok(messages[k], `no message recorded for ${k} (earlier test failed)`);
  const distinct = new Set(keys.map((k) => messages[k]));
  assert.equal(distinct.size, keys.length, `messages are not specific: ${JSON.stringify(messages, null, 1)}`);
});

test("through the SDK: a config whose key tresor does not know → OciError 401 NotAuthenticated", async () => {
  const pem = otherKey();
  const dir = fs.mkdtempSync(path.join(w.srv.parent, "badcfg-"));
  fs.writeFileSync(path.join(dir, "key.pem"), pem, { mode: 0o600 });
  const cfg = fs
    .readFileSync(w.srv.configPath, "utf8")
    .replace(/^fingerprint\s*=.*$/m, `fingerprint=${fingerprintOf(pem)}`)
    .replace(/^key_file\s*=.*$/m, `key_file=${path.join(dir, "key.pem")}`);
  fs.writeFileSync(path.join(dir, "config"), cfg, { mode: 0o600 });
  const kv = makeClient(keymanagement.KmsVaultClient, path.join(dir, "config"), w.srv.base);
  await expectOciError(kv.listVaults({ compartmentId: creds.tenancy, retryConfiguration: NO_RETRY }), {
    status: 401,
    code: "NotAuthenticated",
    what: "SDK with unknown key",
  });
});

test("no SDK call needed a retry", () => assertNoSdkRetries());
