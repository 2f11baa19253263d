// Issue 3, workload identity through the SDK's own providers: resource principals (RP 2.2:
// token and session key from environment variables) and instance principals (the builder's
// metadataBaseUrl and federationEndpoint setters), each reading the secret its dynamic group
// may read and refused one it may not; session tokens that are expired, forged, altered or
// of a deleted workload get 401 saying so (docs/api/tresor-v1.md "Workloads").
//
// Fixture: compartments A and C; vault V and key K in A; secret SA in A and SC in C (both
// under K). Function F (fnfunc) in A, function F2 in C, instance I in A. Dynamic groups
// FnA = ALL {resource.type = 'fnfunc', resource.compartment.id = A} and
// VMs = ANY {instance.compartment.id = A}; each may read secret bundles and use keys in A.

import { after, before, test } from "node:test";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";

import { createCompartment, createDynamicGroup, createPolicy, outcome, rsaKeyPair } from "../lib/iam.mjs";
import { clientsWith, common, signedFetch } from "../lib/server.mjs";
import { fingerprintOf } from "../lib/sign.mjs";
import {
  NO_RETRY,
  assert,
  assertNoSdkRetries,
  b64,
  expectOciError,
  startWorld,
  stopWorld,
  tresorApi,
  tresorOk,
  unb64,
} from "../lib/world.mjs";

let w;
const f = {};
const RP_ENV = ["OCI_RESOURCE_PRINCIPAL_VERSION", "OCI_RESOURCE_PRINCIPAL_RPST", "OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM", "OCI_RESOURCE_PRINCIPAL_REGION"];

before(async () => {
  w = await startWorld("workload");
  f.A = await createCompartment(w, w.tenancy, "A");
  f.C = await createCompartment(w, w.tenancy, "C");
  f.V = (await w.kmsVault.createVault({ createVaultDetails: { compartmentId: f.A.id, displayName: "V", vaultType: "DEFAULT" } })).vault;
  f.K = (
    await w.mgmt(f.V).createKey({
      createKeyDetails: { compartmentId: f.A.id, displayName: "K", keyShape: { algorithm: "AES", length: 32 }, protectionMode: "SOFTWARE" },
    })
  ).key;
  const mk = async (comp, name) =>
    (
      await w.vaults.createSecret({
        createSecretDetails: { compartmentId: comp, vaultId: f.V.id, keyId: f.K.id, secretName: name, secretContent: { contentType: "BASE64", content: b64(`content of ${name}`) } },
      })
    ).secret;
  f.SA = await mk(f.A.id, "in-a");
  f.SC = await mk(f.C.id, "in-c");
  await createDynamicGroup(w, "FnA", `ALL {resource.type = 'fnfunc', resource.compartment.id = '${f.A.id}'}`);
  await createDynamicGroup(w, "VMs", `ANY {instance.compartment.id = '${f.A.id}'}`);
  await createPolicy(w, "fn", ["Allow dynamic-group FnA to read secret-bundles in compartment A", "Allow dynamic-group FnA to use keys in compartment A"]);
  await createPolicy(w, "vms", ["Allow dynamic-group VMs to read secret-family in compartment A", "Allow dynamic-group VMs to use keys in compartment A"]);
});

after(async () => {
  for (const k of RP_ENV) delete process.env[k];
  await stopWorld(w);
});

const bundle = (c, secretId) => c.secrets.getSecretBundle({ secretId, retryConfiguration: NO_RETRY });

/** Enroll a RESOURCE workload with a fresh enrollment key. */
async function enrollFunction(displayName, compartmentId) {
  const enroll = await rsaKeyPair();
  const r = await tresorApi(w, "POST", "/tresor/v1/workloads", {
    compartmentId,
    displayName,
    kind: "RESOURCE",
    resourceType: "fnfunc",
    publicKey: enroll.publicKey,
  });
  assert.equal(r.status, 200, r.text);
  return { wl: r.json, enroll };
}

/** A session key pair and a token for it, requested with the workload's enrollment key. */
async function sessionToken(fn, { ttlSeconds } = {}) {
  const sess = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
  const enrollAuth = new common.SimpleAuthenticationDetailsProvider(w.tenancy, fn.wl.id, fn.wl.fingerprint, fn.enroll.privateKey, null, null);
  const body = { sessionPublicKey: sess.publicKey.export({ type: "spki", format: "der" }).toString("base64") };
  if (ttlSeconds !== undefined) body.ttlSeconds = ttlSeconds;
  const r = await signedFetch(enrollAuth, `${w.srv.base}/tresor/v1/authentication/resourcePrincipalSessionToken`, { method: "POST", body });
  return { r, token: r.json?.token, sessionPem: sess.privateKey.export({ type: "pkcs8", format: "pem" }) };
}

/** Clients authenticated by the SDK's RP 2.2 provider, built from the environment. */
async function rpClients(token, sessionPem) {
  process.env.OCI_RESOURCE_PRINCIPAL_VERSION = "2.2";
  process.env.OCI_RESOURCE_PRINCIPAL_RPST = token;
  process.env.OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM = sessionPem;
  process.env.OCI_RESOURCE_PRINCIPAL_REGION = "xx-local-1";
  try {
    const rp = await common.ResourcePrincipalAuthenticationDetailsProvider.builder();
    return clientsWith(w.srv, rp, w.tenancy);
  } finally {
    for (const k of RP_ENV) delete process.env[k];
  }
}

const jwtParts = (t) => t.split(".");
const decodePart = (p) => JSON.parse(Buffer.from(p, "base64url").toString("utf8"));
const encodePart = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");

/** Re-sign header.claims as tresor does (docs: HS256 under a key derived from the root key). */
function macWithRootKey(headerAndClaims) {
  const root = fs.readFileSync(path.join(w.srv.dir, "root.key"));
  const sub = crypto.createHmac("sha256", root).update("tresor/session-token/v1").digest();
  return crypto.createHmac("sha256", sub).update(headerAndClaims).digest("base64url");
}

test("enrollment: RESOURCE and INSTANCE workloads get OCIDs of their type, the enrollment key's fingerprint, GET and list", async () => {
  f.F = await enrollFunction("fn-a", f.A.id);
  assert.match(f.F.wl.id, /^ocid1\.fnfunc\./);
  assert.equal(f.F.wl.compartmentId, f.A.id);
  assert.equal(f.F.wl.kind, "RESOURCE");
  assert.equal(f.F.wl.fingerprint, fingerprintOf(f.F.enroll.publicKey));
  f.F2 = await enrollFunction("fn-c", f.C.id);
  const inst = await tresorApi(w, "POST", "/tresor/v1/workloads", { compartmentId: f.A.id, displayName: "vm-a", kind: "INSTANCE" });
  assert.equal(inst.status, 200, inst.text);
  f.I = inst.json;
  assert.match(f.I.id, /^ocid1\.instance\./);
  assert.match(f.I.metadataBaseUrl, new RegExp(`^${w.srv.base.replace(/[.]/g, "\\.")}/tresor/v1/imds/[^/]+/opc/v2/$`));
  const g = await tresorOk(w, "GET", `/tresor/v1/workloads/${f.F.wl.id}`);
  assert.equal(g.id, f.F.wl.id);
  assert.equal(g.metadataBaseUrl, undefined, "the capability URL is returned once, at enrollment");
  const l = await tresorOk(w, "GET", `/tresor/v1/workloads?compartmentId=${f.A.id}`);
  const ids = (Array.isArray(l) ? l : l.items).map((x) => x.id).sort();
  assert.deepEqual(ids, [f.F.wl.id, f.I.id].sort());
});

test("RP token: signed with the enrollment key; a JWT whose claims name the workload, its compartment and the session key", async () => {
  const s = await sessionToken(f.F);
  assert.equal(s.r.status, 200, s.r.text);
  f.tokF = s;
  const [h, c, sig] = jwtParts(s.token);
  assert.ok(sig.length > 0);
  assert.equal(decodePart(h).alg, "HS256");
  const claims = decodePart(c);
  assert.equal(claims.sub, f.F.wl.id);
  assert.equal(claims.res_compartment, f.A.id);
  assert.equal(claims.res_tenant, w.tenancy);
  assert.equal(claims.res_type, "fnfunc");
  assert.equal(claims.ptype, "resource");
  assert.ok(Math.abs(claims.exp - claims.iat - 3600) <= 1, `default lifetime 1 hour: ${claims.exp - claims.iat}`);
  assert.ok(Math.abs(Date.parse(s.r.json.expiresAt) / 1000 - claims.exp) <= 1);
  assert.ok(claims.jwk, "the session public key as a JWK");
});

test("RP token requests: signed by another key → 401; ttlSeconds outside 60..86400 → 400 naming it", async () => {
  const other = await rsaKeyPair();
  const bad = new common.SimpleAuthenticationDetailsProvider(w.tenancy, f.F.wl.id, f.F.wl.fingerprint, other.privateKey, null, null);
  const sess = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
  const body = { sessionPublicKey: sess.publicKey.export({ type: "spki", format: "der" }).toString("base64") };
  const r = await signedFetch(bad, `${w.srv.base}/tresor/v1/authentication/resourcePrincipalSessionToken`, { method: "POST", body });
  assert.equal(r.status, 401, r.text);
  assert.equal(r.json?.code, "NotAuthenticated");
  for (const ttlSeconds of [10, 86401]) {
    const s = await sessionToken(f.F, { ttlSeconds });
    assert.equal(s.r.status, 400, s.r.text);
    assert.match(s.r.json?.message ?? "", /ttlSeconds/);
  }
  const ok = await sessionToken(f.F, { ttlSeconds: 120 });
  assert.equal(ok.r.status, 200, ok.r.text);
  const claims = decodePart(jwtParts(ok.token)[1]);
  assert.equal(claims.exp - claims.iat, 120);
});

test("resource principal (SDK RP 2.2 provider from env): reads the secret allowed to its dynamic group, refused the other", async () => {
  const c = await rpClients(f.tokF.token, f.tokF.sessionPem);
  const b = await bundle(c, f.SA.id);
  assert.equal(unb64(b.secretBundle.secretBundleContent.content), "content of in-a");
  const byName = await c.secrets.getSecretBundleByName({ secretName: "in-a", vaultId: f.V.id, retryConfiguration: NO_RETRY });
  assert.equal(byName.secretBundle.secretId, f.SA.id);
  await expectOciError(bundle(c, f.SC.id), { status: 404, code: "NotAuthorizedOrNotFound", what: "F reads SC (compartment C)" });
  // read secret-bundles is not read secrets: metadata is refused.
  await expectOciError(c.vaults.getSecret({ secretId: f.SA.id, retryConfiguration: NO_RETRY }), { status: 404, what: "F GetSecret(SA)" });
});

test("resource principal in C: the dynamic group's compartment condition does not match → 404 for the secret in A", async () => {
  const s = await sessionToken(f.F2);
  assert.equal(s.r.status, 200, s.r.text);
  const c = await rpClients(s.token, s.sessionPem);
  await expectOciError(bundle(c, f.SA.id), { status: 404, code: "NotAuthorizedOrNotFound", what: "F2 reads SA" });
});

test("instance principal (SDK builder, metadataBaseUrl + federationEndpoint setters): reads the allowed secret, refused the other", async () => {
  const ib = new common.InstancePrincipalsAuthenticationDetailsProviderBuilder();
  ib.metadataBaseUrl = f.I.metadataBaseUrl;
  ib.federationEndpoint = `${w.srv.base}/auth`;
  const ip = await ib.build();
  const c = clientsWith(w.srv, ip, w.tenancy);
  const b = await bundle(c, f.SA.id);
  assert.equal(unb64(b.secretBundle.secretBundleContent.content), "content of in-a");
  const g = await c.vaults.getSecret({ secretId: f.SA.id, retryConfiguration: NO_RETRY });
  assert.equal(g.secret.id, f.SA.id);
  await expectOciError(bundle(c, f.SC.id), { status: 404, code: "NotAuthorizedOrNotFound", what: "I reads SC" });
  // The instance-principal token is no resource principal: FnA's grant does not apply, VMs' does.
  const sim = await tresorOk(w, "POST", "/tresor/v1/actions/simulatePolicy", {
    principal: { workloadId: f.I.id },
    operation: "GetSecretBundle",
    target: { secretId: f.SA.id },
  });
  assert.equal(sim.decision, "ALLOW");
  assert.ok(sim.checks.some((ch) => /vms/.test(ch.grantedBy ?? "")), JSON.stringify(sim.checks));
});

test("an expired session token → 401 NotAuthenticated saying it expired (and when)", async () => {
  const [h, c] = jwtParts(f.tokF.token);
  const claims = decodePart(c);
  const now = Math.floor(Date.now() / 1000);
  claims.iat = now - 7200;
  claims.exp = now - 3600;
  const hc = `${h}.${encodePart(claims)}`;
  const expired = `${hc}.${macWithRootKey(hc)}`;
  // control: the same re-signing with the real claims reproduces tresor's own token, so the
  // MAC below is genuine and only the expiry can be what the server refuses.
  assert.equal(macWithRootKey(`${h}.${c}`), jwtParts(f.tokF.token)[2], "test's re-signing does not match tresor's token format");
  const rc = await rpClients(expired, f.tokF.sessionPem);
  const e = await expectOciError(bundle(rc, f.SA.id), { status: 401, code: "NotAuthenticated", what: "expired token" });
  assert.match(e.message, /expired/i);
  assert.ok(e.message.includes(new Date(claims.exp * 1000).toISOString().slice(0, 16)), `names when it expired: ${e.message}`);
});

test("forged or altered session tokens → 401 NotAuthenticated saying the signature is invalid", async () => {
  const [h, c, sig] = jwtParts(f.tokF.token);
  const claims = decodePart(c);
  const variants = {
    "claims altered (compartment C), old signature": `${h}.${encodePart({ ...claims, res_compartment: f.C.id })}.${sig}`,
    "claims altered (exp + 1 day), old signature": `${h}.${encodePart({ ...claims, exp: claims.exp + 86400 })}.${sig}`,
    "signed with another HS256 key": (() => {
      const hc = `${h}.${c}`;
      return `${hc}.${crypto.createHmac("sha256", crypto.randomBytes(32)).update(hc).digest("base64url")}`;
    })(),
  };
  for (const [what, tok] of Object.entries(variants)) {
    const rc = await rpClients(tok, f.tokF.sessionPem);
    const e = await expectOciError(bundle(rc, f.SA.id), { status: 401, code: "NotAuthenticated", what });
    assert.match(e.message, /signature|forged/i, `${what}: ${e.message}`);
  }
  // alg "none": not issued by tresor.
  const none = `${encodePart({ alg: "none", typ: "JWT" })}.${c}.`;
  const rc = await rpClients(none, f.tokF.sessionPem);
  const e = await expectOciError(bundle(rc, f.SA.id), { status: 401, code: "NotAuthenticated", what: "alg none" });
  assert.match(e.message, /token/i);
});

test("a valid token used with another session key → 401 (the request signature must match the token's key)", async () => {
  const other = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" });
  const r = await signedFetch(
    { getKeyId: async () => `ST$${f.tokF.token}`, getPrivateKey: () => other, getPassphrase: () => null },
    `${w.srv.base}/20190301/secretbundles/${f.SA.id}`,
  );
  assert.equal(r.status, 401, r.text);
  assert.equal(r.json?.code, "NotAuthenticated");
  // control: with the right session key the same raw request is accepted.
  const ok = await signedFetch(
    { getKeyId: async () => `ST$${f.tokF.token}`, getPrivateKey: () => f.tokF.sessionPem, getPassphrase: () => null },
    `${w.srv.base}/20190301/secretbundles/${f.SA.id}`,
  );
  assert.equal(ok.status, 200, ok.text);
});

test("deleting the workload stops its existing tokens at once (401)", async () => {
  const s = await sessionToken(f.F);
  const c = await rpClients(s.token, s.sessionPem);
  await bundle(c, f.SA.id);
  const d = await tresorApi(w, "DELETE", `/tresor/v1/workloads/${f.F.wl.id}`);
  assert.ok(d.status === 200 || d.status === 204, d.text);
  const o = await outcome(bundle(c, f.SA.id));
  assert.equal(o.status, 401, JSON.stringify(o));
  assert.equal(o.code, "NotAuthenticated");
  // and no new token either
  const again = await sessionToken(f.F);
  assert.equal(again.r.status, 401, again.r.text);
});

test("no SDK call needed a retry", () => assertNoSdkRetries());
