// The error envelope (spec 5.1): {"code","message"} JSON, Content-Type application/json,
// opc-request-id on every response (errors included), the client's opc-request-id echoed,
// and the SDK turning it into OciError{statusCode, serviceCode, message, opcRequestId}.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";

import { NO_RETRY } from "../lib/server.mjs";
import { loadCredentials, rawRequest, signedHeaders, signedRequest } from "../lib/sign.mjs";
import {
  assertNoSdkRetries,
  assertResp,
  createKey,
  createSecret,
  createVault,
  expectOciError,
  startWorld,
  stopWorld,
} from "../lib/world.mjs";

let w, creds, v, k, s;

before(async () => {
  w = await startWorld("err");
  creds = loadCredentials(w.srv.configPath);
  v = (await createVault(w)).vault;
  k = (await createKey(w, v)).key;
  s = (await createSecret(w, v, k)).secret;
});
after(async () => {
  await stopWorld(w);
});

function assertEnvelope(r, status, code, what) {
  assert.equal(r.status, status, `${what}: ${r.status} ${r.text}`);
  assert.match(String(r.headers["content-type"]), /^application\/json/, `${what}: content-type ${r.headers["content-type"]}`);
  assert.ok(r.json && typeof r.json === "object" && !Array.isArray(r.json), `${what}: body is not a JSON object: ${r.text}`);
  assert.equal(typeof r.json.code, "string", `${what}: no code: ${r.text}`);
  assert.equal(typeof r.json.message, "string", `${what}: no message: ${r.text}`);
  assert.ok(r.json.code.length > 0 && r.json.message.length > 0, `${what}: empty code/message`);
  if (code) assert.equal(r.json.code, code, `${what}: ${r.text}`);
  assert.ok(r.headers["opc-request-id"], `${what}: no opc-request-id header`);
}

test("raw: unknown secret → 404 NotAuthorizedOrNotFound envelope with opc-request-id", async () => {
  const r = await signedRequest(w.srv.port, { method: "GET", target: "/20180608/secrets/ocid1.vaultsecret.oc1..nope", creds });
  assertEnvelope(r, 404, "NotAuthorizedOrNotFound", "GetSecret unknown");
});

test("raw: unknown path → 404 envelope", async () => {
  const r = await signedRequest(w.srv.port, { method: "GET", target: "/20180608/no-such-collection", creds });
  assertEnvelope(r, 404, null, "unknown path");
});

test("raw: the client's opc-request-id is echoed (possibly with a server suffix) on success and on error", async () => {
  const mine = "INTEROP0REQUEST0ID0000000001";
  const ok = await signedRequest(w.srv.port, {
    method: "GET",
    target: `/20180608/secrets/${s.id}`,
    creds,
    extra: { "opc-request-id": mine },
  });
  assert.equal(ok.status, 200, ok.text);
  assert.match(String(ok.headers["content-type"]), /^application\/json/, "success responses are JSON (spec 2.6)");
  assert.ok(String(ok.headers["opc-request-id"]).includes(mine), `success: ${ok.headers["opc-request-id"]}`);
  assert.ok(ok.headers.etag, "GetSecret carries an etag");
  const bad = await signedRequest(w.srv.port, {
    method: "GET",
    target: "/20180608/secrets/ocid1.vaultsecret.oc1..nope",
    creds,
    extra: { "opc-request-id": mine },
  });
  assert.ok(String(bad.headers["opc-request-id"]).includes(mine), `error: ${bad.headers["opc-request-id"]}`);
});

test("raw: a server-generated opc-request-id when the client sends none, unique per request", async () => {
  const ids = new Set();
  for (let i = 0; i < 3; i++) {
    const { headers } = signedHeaders({ method: "GET", host: `127.0.0.1:${w.srv.port}`, target: `/20180608/secrets/${s.id}`, creds });
    delete headers["opc-request-id"];
    const r = await rawRequest(w.srv.port, { method: "GET", target: `/20180608/secrets/${s.id}`, headers });
    assert.equal(r.status, 200, r.text);
    assert.ok(r.headers["opc-request-id"], "no opc-request-id generated");
    ids.add(r.headers["opc-request-id"]);
  }
  assert.equal(ids.size, 3);
});

test("raw: a method the path does not support → 405 envelope", async () => {
  const r = await signedRequest(w.srv.port, { method: "DELETE", target: `/20180608/secrets/${s.id}`, creds });
  assertEnvelope(r, 405, "MethodNotAllowed", "DELETE secret");
});

test("SDK: OciError carries statusCode, serviceCode, message and opcRequestId", async () => {
  const err = await expectOciError(w.vaults.getSecret({ secretId: "ocid1.vaultsecret.oc1..nope", retryConfiguration: NO_RETRY }), {
    status: 404,
    code: "NotAuthorizedOrNotFound",
    what: "GetSecret unknown via SDK",
  });
  assert.equal(err.operationName, "getSecret");
});

test("SDK: opcRequestId given in the request comes back in the response", async () => {
  const mine = "INTEROPSDKREQUESTID000000002";
  const r = await w.vaults.getSecret({ secretId: s.id, opcRequestId: mine });
  assertResp(r, "GetSecret");
  assert.ok(r.opcRequestId.includes(mine), r.opcRequestId);
});

test("SDK: ListSecrets body is a bare array, surfaced as items", async () => {
  const r = await w.vaults.listSecrets({ compartmentId: w.tenancy });
  assert.ok(Array.isArray(r.items));
  assert.ok(r.items.some((x) => x.id === s.id));
});

test("no SDK call needed a retry", () => assertNoSdkRetries());
