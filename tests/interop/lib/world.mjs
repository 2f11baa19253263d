// Shared fixtures and assertions for the interop tests.

import assert from "node:assert/strict";
import crypto from "node:crypto";

import { clientsFor, common, NO_RETRY, sdkRetries, signedFetch, sleep, startServer } from "./server.mjs";

export const b64 = (s) => Buffer.from(s, "utf8").toString("base64");
export const unb64 = (s) => Buffer.from(s, "base64").toString("utf8");
export const uniq = (p = "x") => `${p}-${crypto.randomBytes(4).toString("hex")}`;

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** A string RFC 3339 timestamp; if `nearNow`, within 10 minutes of now. */
export function assertTime(value, what, { nearNow = true } = {}) {
  assert.equal(typeof value, "string", `${what} should be an RFC 3339 string, got ${JSON.stringify(value)}`);
  assert.match(value, RFC3339, `${what} is not RFC 3339: ${value}`);
  const t = Date.parse(value);
  assert.ok(Number.isFinite(t), `${what} does not parse: ${value}`);
  if (nearNow) {
    assert.ok(Math.abs(Date.now() - t) < 10 * 60 * 1000, `${what} = ${value} is not near now`);
  }
  return t;
}

/** Common checks on any SDK response. */
export function assertResp(resp, what, { etag = false } = {}) {
  assert.ok(resp, `${what}: no response`);
  assert.equal(typeof resp.opcRequestId, "string", `${what}: opc-request-id header missing`);
  assert.ok(resp.opcRequestId.length > 0, `${what}: opc-request-id empty`);
  if (etag) {
    assert.equal(typeof resp.etag, "string", `${what}: etag header missing`);
    assert.ok(resp.etag.length > 0, `${what}: etag empty`);
  }
}

/**
 * Await a promise that must reject with an OciError; check status, code (string or RegExp)
 * and message (RegExp or array of RegExps); returns the error.
 */
export async function expectOciError(promise, { status, code, message, what = "call" } = {}) {
  let err;
  try {
    const r = await promise;
    assert.fail(`${what}: expected an error ${status ?? ""} ${code ?? ""}, got success: ${JSON.stringify(r).slice(0, 500)}`);
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    err = e;
  }
  const desc = `${what}: got ${err?.statusCode} ${err?.serviceCode} "${err?.message}"`;
  assert.equal(typeof err?.statusCode, "number", `${what}: no HTTP answer (network error): ${err?.message ?? err}`);
  assert.ok(err instanceof common.OciError || typeof err?.statusCode === "number", `${what}: not an OciError: ${err}`);
  if (typeof status === "number") assert.equal(err.statusCode, status, desc);
  else if (Array.isArray(status)) assert.ok(status.includes(err.statusCode), desc);
  else if (status === "4xx") assert.ok(err.statusCode >= 400 && err.statusCode < 500, desc);
  // The error envelope: code and message both present and non-empty (spec 5.1).
  assert.notEqual(err.serviceCode, "None", `${what}: body is not the {"code","message"} envelope: ${desc}`);
  assert.ok(typeof err.serviceCode === "string" && err.serviceCode.length > 0, desc);
  assert.ok(typeof err.message === "string" && err.message.length > 0, desc);
  assert.ok(typeof err.opcRequestId === "string" && err.opcRequestId.length > 0, `${what}: opc-request-id missing on error`);
  if (code instanceof RegExp) assert.match(err.serviceCode, code, desc);
  else if (code !== undefined) assert.equal(err.serviceCode, code, desc);
  const msgs = message === undefined ? [] : Array.isArray(message) ? message : [message];
  for (const re of msgs) assert.match(err.message, re, desc);
  return err;
}

/** Poll `get()` until `pred(result)` is true. */
export async function waitFor(get, pred, { timeoutMs = 15000, intervalMs = 100, what = "condition" } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await get();
    if (pred(last)) return last;
    if (Date.now() > deadline) {
      assert.fail(`timed out waiting for ${what}; last: ${JSON.stringify(last).slice(0, 600)}`);
    }
    await sleep(intervalMs);
  }
}

/** Start tresord and build the SDK clients. opts as for startServer (serveArgs, tls, store). */
export async function startWorld(tag, opts = {}) {
  const srv = await startServer({ tag, ...opts });
  const c = clientsFor(srv);
  return { srv, ...c };
}

/**
 * tresor's own API as the world's administrator (or `auth`): method, path under the base
 * URL, optional JSON body. Returns { status, headers, text, json }.
 */
export async function tresorApi(w, method, pathname, body, { auth = w.auth } = {}) {
  return signedFetch(auth, w.srv.base + pathname, { method, body });
}

/** Like tresorApi, asserting 200 and returning the JSON body. */
export async function tresorOk(w, method, pathname, body, opts) {
  const r = await tresorApi(w, method, pathname, body, opts);
  assert.equal(r.status, 200, `${method} ${pathname}: ${r.status} ${r.text.slice(0, 500)}`);
  return r.json;
}

/** Test clock (serve --enable-test-clock): move the server's clock to real time + seconds. */
export async function setClockOffset(w, offsetSeconds) {
  const j = await tresorOk(w, "PUT", "/tresor/v1/testing/clock", { offsetSeconds });
  assert.equal(j.offsetSeconds, offsetSeconds, JSON.stringify(j));
  return j;
}

/** Test clock: run the reaper and the rotation scheduler now. */
export async function runMaintenance(w) {
  return tresorOk(w, "POST", "/tresor/v1/testing/maintenance");
}

export const DAY = 86400;

/** Stop with SIGTERM, assert exit 0, clean up. */
export async function stopWorld(w) {
  if (!w?.srv) return;
  const r = await w.srv.stop("SIGTERM");
  const tail = w.srv.logTail();
  await w.srv.cleanup();
  assert.deepEqual(
    { code: r.code, signal: r.signal ?? null },
    { code: 0, signal: null },
    `tresord should exit 0 on SIGTERM; got ${JSON.stringify(r)}\nlog:\n${tail}`,
  );
}

/** Fails if the SDK had to retry any call that was expected to succeed. */
export function assertNoSdkRetries() {
  assert.deepEqual(sdkRetries, [], "SDK retried calls (server answered a retryable error on a call expected to succeed)");
}

export async function createVault(w, displayName = uniq("vault"), extra = {}) {
  const r = await w.kmsVault.createVault({
    createVaultDetails: { compartmentId: w.tenancy, displayName, vaultType: "DEFAULT" },
    ...extra,
  });
  assertResp(r, "CreateVault", { etag: true });
  const v = r.vault;
  if (v.lifecycleState === "ACTIVE") return { vault: v, resp: r };
  const got = await waitFor(
    () => w.kmsVault.getVault({ vaultId: v.id }),
    (g) => g.vault.lifecycleState === "ACTIVE",
    { what: `vault ${v.id} ACTIVE` },
  );
  return { vault: got.vault, resp: r };
}

export async function createKey(w, v, displayName = uniq("key"), extra = {}) {
  const mgmt = w.mgmt(v);
  const r = await mgmt.createKey({
    createKeyDetails: {
      compartmentId: w.tenancy,
      displayName,
      keyShape: { algorithm: "AES", length: 32 },
      protectionMode: "SOFTWARE",
    },
    ...extra,
  });
  assertResp(r, "CreateKey", { etag: true });
  const k = r.key;
  if (k.lifecycleState === "ENABLED") return { key: k, resp: r };
  const got = await waitFor(
    () => mgmt.getKey({ keyId: k.id }),
    (g) => g.key.lifecycleState === "ENABLED",
    { what: `key ${k.id} ENABLED` },
  );
  return { key: got.key, resp: r };
}

export function secretDetails(w, v, k, { name = uniq("secret"), content = "s3cr3t", versionName, ...rest } = {}) {
  const secretContent = { contentType: "BASE64", content: b64(content) };
  if (versionName) secretContent.name = versionName;
  return {
    compartmentId: w.tenancy,
    vaultId: v.id,
    keyId: k.id,
    secretName: name,
    secretContent,
    ...rest,
  };
}

export async function waitSecretActive(w, id) {
  const g = await waitFor(
    () => w.vaults.getSecret({ secretId: id }),
    (x) => x.secret.lifecycleState === "ACTIVE",
    { what: `secret ${id} ACTIVE` },
  );
  return g;
}

export async function createSecret(w, v, k, opts = {}, extra = {}) {
  const r = await w.vaults.createSecret({ createSecretDetails: secretDetails(w, v, k, opts), ...extra });
  assertResp(r, "CreateSecret", { etag: true });
  if (r.secret.lifecycleState !== "ACTIVE") await waitSecretActive(w, r.secret.id);
  return r;
}

/** Every page of a list call (follows opcNextPage), returning all items. */
export async function listAll(call, req) {
  const items = [];
  let page;
  for (let i = 0; i < 1000; i++) {
    const r = await call({ ...req, page });
    items.push(...r.items);
    if (!r.opcNextPage) return items;
    page = r.opcNextPage;
  }
  assert.fail("pagination did not terminate");
}

/** A comparable picture of the secrets store: secrets in the compartment, plus versions of the given secrets. */
export async function storeSnapshot(w, secretIds = []) {
  const all = await listAll((r) => w.vaults.listSecrets(r), { compartmentId: w.tenancy });
  const secretsView = all
    .map((s) => ({ id: s.id, name: s.secretName, vaultId: s.vaultId, state: s.lifecycleState }))
    .sort((a, b) => a.id.localeCompare(b.id));
  const versions = {};
  for (const id of secretIds) {
    const g = await w.vaults.getSecret({ secretId: id });
    const vs = await listAll((r) => w.vaults.listSecretVersions(r), { secretId: id });
    versions[id] = {
      etag: g.etag,
      currentVersionNumber: g.secret.currentVersionNumber,
      state: g.secret.lifecycleState,
      versions: vs.map((x) => ({ n: x.versionNumber, stages: [...(x.stages || [])].sort() })).sort((a, b) => a.n - b.n),
    };
  }
  return { secrets: secretsView, versions };
}

export { NO_RETRY, assert };
