// KMS through the SDK: KmsVaultClient (CreateVault, GetVault, ListVaults), the vault's
// management and crypto endpoints, KmsManagementClient (CreateKey, GetKey, ListKeys,
// CreateKeyVersion, ListKeyVersions), KmsCryptoClient (Encrypt, Decrypt,
// GenerateDataEncryptionKey), key rotation.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";

import {
  NO_RETRY,
  assertNoSdkRetries,
  assertResp,
  assertTime,
  createKey,
  createVault,
  expectOciError,
  startWorld,
  stopWorld,
  uniq,
  waitFor,
} from "../lib/world.mjs";

let w;
let vaultA, vaultB, keyA, keyB, vaultCreateResp, keyCreateResp;
const nameA = uniq("vault-a");

before(async () => {
  w = await startWorld("kms");
});
after(async () => {
  await stopWorld(w);
});

const VAULT_STATES = ["CREATING", "ACTIVE"];

test("CreateVault returns a Vault model with an etag and opc-request-id", async () => {
  const r = await w.kmsVault.createVault({
    createVaultDetails: { compartmentId: w.tenancy, displayName: nameA, vaultType: "DEFAULT", freeformTags: { team: "interop" } },
  });
  vaultCreateResp = r;
  assertResp(r, "CreateVault", { etag: true });
  const v = r.vault;
  assert.match(v.id, /^ocid1\.vault\./);
  assert.equal(v.compartmentId, w.tenancy);
  assert.equal(v.displayName, nameA);
  assert.equal(v.vaultType, "DEFAULT");
  assert.ok(VAULT_STATES.includes(v.lifecycleState), `state ${v.lifecycleState}`);
  assertTime(v.timeCreated, "vault.timeCreated");
  assert.equal(typeof v.managementEndpoint, "string");
  assert.equal(typeof v.cryptoEndpoint, "string");
  assert.equal(typeof v.wrappingkeyId, "string", "Vault.wrappingkeyId is required in the model");
  assert.deepEqual(v.freeformTags, { team: "interop" });
});

test("GetVault reaches ACTIVE; fields match the create response", async () => {
  const g = await waitFor(
    () => w.kmsVault.getVault({ vaultId: vaultCreateResp.vault.id }),
    (x) => x.vault.lifecycleState === "ACTIVE",
    { what: "vault ACTIVE" },
  );
  assertResp(g, "GetVault", { etag: true });
  vaultA = g.vault;
  for (const f of ["id", "compartmentId", "displayName", "vaultType", "managementEndpoint", "cryptoEndpoint", "timeCreated"]) {
    assert.equal(vaultA[f], vaultCreateResp.vault[f], `GetVault.${f}`);
  }
});

test("the vault's managementEndpoint and cryptoEndpoint lead back to this tresord", () => {
  for (const f of ["managementEndpoint", "cryptoEndpoint"]) {
    const u = new URL(vaultA[f]);
    assert.equal(u.protocol, new URL(w.srv.base).protocol, `${f} keeps the scheme of the server (http or https): ${vaultA[f]}`);
    assert.equal(u.host, `127.0.0.1:${w.srv.port}`, `${f} = ${vaultA[f]}`);
    assert.ok(!/\/20180608(\/|$)/.test(u.pathname), `${f} must not include the API version: ${vaultA[f]}`);
  }
  assert.notEqual(vaultA.managementEndpoint, vaultA.cryptoEndpoint);
});

test("ListVaults lists the vault as a VaultSummary", async () => {
  const second = await createVault(w, uniq("vault-b"));
  vaultB = second.vault;
  const r = await w.kmsVault.listVaults({ compartmentId: w.tenancy });
  assertResp(r, "ListVaults");
  assert.ok(Array.isArray(r.items));
  const a = r.items.find((x) => x.id === vaultA.id);
  assert.ok(a, "vault A missing from ListVaults");
  assert.ok(r.items.some((x) => x.id === vaultB.id), "vault B missing from ListVaults");
  for (const f of ["compartmentId", "displayName", "managementEndpoint", "cryptoEndpoint", "vaultType", "timeCreated"]) {
    assert.equal(a[f], vaultA[f], `VaultSummary.${f}`);
  }
  assert.equal(a.lifecycleState, "ACTIVE");
  assert.ok(!r.opcNextPage, "no opc-next-page when everything fits");
});

test("ListVaults paginates with limit=1 and opc-next-page", async () => {
  const seen = [];
  let page;
  let pages = 0;
  for (;;) {
    const r = await w.kmsVault.listVaults({ compartmentId: w.tenancy, limit: 1, page });
    pages++;
    assert.ok(r.items.length <= 1);
    seen.push(...r.items.map((x) => x.id));
    if (!r.opcNextPage) break;
    assert.match(r.opcNextPage, /^[A-Za-z0-9._~-]+$/, "page token must be URL-safe (spec 2.4)");
    page = r.opcNextPage;
    assert.ok(pages < 20, "pagination does not end");
  }
  assert.equal(new Set(seen).size, seen.length, "duplicates across pages");
  assert.ok(seen.includes(vaultA.id) && seen.includes(vaultB.id));
  assert.equal(pages, seen.length, "one item per page, no empty trailing page");
});

test("CreateKey (AES-256, SOFTWARE) on the vault's management endpoint", async () => {
  const mgmt = w.mgmt(vaultA);
  const name = uniq("key-a");
  const r = await mgmt.createKey({
    createKeyDetails: {
      compartmentId: w.tenancy,
      displayName: name,
      keyShape: { algorithm: "AES", length: 32 },
      protectionMode: "SOFTWARE",
    },
  });
  keyCreateResp = r;
  assertResp(r, "CreateKey", { etag: true });
  const k = r.key;
  assert.match(k.id, /^ocid1\.key\./);
  assert.equal(k.compartmentId, w.tenancy);
  assert.equal(k.vaultId, vaultA.id, "the vault is implied by the management endpoint (spec 2.3)");
  assert.equal(k.displayName, name);
  assert.deepEqual({ algorithm: k.keyShape.algorithm, length: k.keyShape.length }, { algorithm: "AES", length: 32 });
  assert.equal(k.protectionMode, "SOFTWARE");
  assert.ok(["CREATING", "ENABLED"].includes(k.lifecycleState), `state ${k.lifecycleState}`);
  assert.equal(typeof k.currentKeyVersion, "string", "Key.currentKeyVersion is required");
  assertTime(k.timeCreated, "key.timeCreated");
});

test("GetKey reaches ENABLED; currentKeyVersion is set", async () => {
  const mgmt = w.mgmt(vaultA);
  const g = await waitFor(
    () => mgmt.getKey({ keyId: keyCreateResp.key.id }),
    (x) => x.key.lifecycleState === "ENABLED",
    { what: "key ENABLED" },
  );
  assertResp(g, "GetKey", { etag: true });
  keyA = g.key;
  assert.equal(keyA.id, keyCreateResp.key.id);
  assert.equal(keyA.vaultId, vaultA.id);
  assert.match(keyA.currentKeyVersion, /^ocid1\.keyversion\./);
  assert.equal(keyA.protectionMode, "SOFTWARE");
});

test("ListKeys on each vault's management endpoint lists only that vault's keys", async () => {
  keyB = (await createKey(w, vaultB, uniq("key-b"))).key;
  assert.equal(keyB.vaultId, vaultB.id);
  const la = await w.mgmt(vaultA).listKeys({ compartmentId: w.tenancy });
  assertResp(la, "ListKeys");
  const lb = await w.mgmt(vaultB).listKeys({ compartmentId: w.tenancy });
  assert.deepEqual(la.items.map((k) => k.id), [keyA.id]);
  assert.deepEqual(lb.items.map((k) => k.id), [keyB.id]);
  const s = la.items[0];
  assert.equal(s.vaultId, vaultA.id);
  assert.equal(s.displayName, keyA.displayName);
  assert.equal(s.compartmentId, w.tenancy);
  assert.equal(s.lifecycleState, "ENABLED");
  assert.equal(s.protectionMode, "SOFTWARE");
  assert.equal(s.algorithm, "AES");
  assertTime(s.timeCreated, "KeySummary.timeCreated");
});

test("a key is not reachable through another vault's management endpoint", async () => {
  await expectOciError(w.mgmt(vaultB).getKey({ keyId: keyA.id, retryConfiguration: NO_RETRY }), {
    status: 404,
    code: "NotAuthorizedOrNotFound",
    what: "GetKey via the wrong vault",
  });
});

test("ListKeyVersions: a new key has one version, the current one", async () => {
  const r = await w.mgmt(vaultA).listKeyVersions({ keyId: keyA.id });
  assertResp(r, "ListKeyVersions");
  assert.equal(r.items.length, 1);
  const kv = r.items[0];
  assert.equal(kv.id, keyA.currentKeyVersion);
  assert.equal(kv.keyId, keyA.id);
  assert.equal(kv.vaultId, vaultA.id);
  assert.equal(kv.compartmentId, w.tenancy);
  assertTime(kv.timeCreated, "KeyVersionSummary.timeCreated");
});

test("an endpoint copied with a trailing slash still works (the SDK then sends //, spec 2.3)", async () => {
  const { makeClient, keymanagement } = await import("../lib/server.mjs");
  const mgmt = makeClient(keymanagement.KmsManagementClient, w.srv.configPath, vaultA.managementEndpoint + "/");
  const g = await mgmt.getKey({ keyId: keyA.id });
  assert.equal(g.key.id, keyA.id);
  const kv = makeClient(keymanagement.KmsVaultClient, w.srv.configPath, w.srv.base + "/");
  const l = await kv.listVaults({ compartmentId: w.tenancy });
  assert.ok(l.items.some((x) => x.id === vaultA.id));
});

// ----- crypto --------------------------------------------------------------

const PLAIN = Buffer.from("attack at dawn \u2603 " + crypto.randomBytes(8).toString("hex"));
let ct1; // ciphertext made with the first key version

test("Encrypt/Decrypt round trip without associatedData", async () => {
  const c = w.crypto(vaultA);
  const e = await c.encrypt({ encryptDataDetails: { keyId: keyA.id, plaintext: PLAIN.toString("base64") } });
  assertResp(e, "Encrypt");
  const ed = e.encryptedData;
  assert.equal(typeof ed.ciphertext, "string");
  assert.ok(ed.ciphertext.length > 0);
  assert.equal(Buffer.from(ed.ciphertext, "base64").includes(PLAIN), false, "ciphertext contains the plaintext");
  if (ed.keyId !== undefined) assert.equal(ed.keyId, keyA.id);
  if (ed.keyVersionId !== undefined) assert.equal(ed.keyVersionId, keyA.currentKeyVersion);
  if (ed.encryptionAlgorithm !== undefined) assert.equal(ed.encryptionAlgorithm, "AES_256_GCM");
  ct1 = ed.ciphertext;

  const d = await c.decrypt({ decryptDataDetails: { keyId: keyA.id, ciphertext: ct1 } });
  assertResp(d, "Decrypt");
  assert.equal(d.decryptedData.plaintext, PLAIN.toString("base64"));
  assert.equal(typeof d.decryptedData.plaintextChecksum, "string", "DecryptedData.plaintextChecksum is required");
  assert.ok(d.decryptedData.plaintextChecksum.length > 0);
  if (d.decryptedData.keyId !== undefined) assert.equal(d.decryptedData.keyId, keyA.id);
});

test("Encrypt twice gives different ciphertexts (random nonce)", async () => {
  const c = w.crypto(vaultA);
  const a = await c.encrypt({ encryptDataDetails: { keyId: keyA.id, plaintext: PLAIN.toString("base64") } });
  const b = await c.encrypt({ encryptDataDetails: { keyId: keyA.id, plaintext: PLAIN.toString("base64") } });
  assert.notEqual(a.encryptedData.ciphertext, b.encryptedData.ciphertext);
});

test("Encrypt/Decrypt with associatedData; wrong or missing associatedData fails with a 4xx envelope", async () => {
  const c = w.crypto(vaultA);
  const aad = { app: "interop", tenant: "t1" };
  const e = await c.encrypt({ encryptDataDetails: { keyId: keyA.id, plaintext: PLAIN.toString("base64"), associatedData: aad } });
  const ct = e.encryptedData.ciphertext;
  const d = await c.decrypt({ decryptDataDetails: { keyId: keyA.id, ciphertext: ct, associatedData: { ...aad } } });
  assert.equal(d.decryptedData.plaintext, PLAIN.toString("base64"));
  // Same pairs, other insertion order: the map is a map.
  const d2 = await c.decrypt({ decryptDataDetails: { keyId: keyA.id, ciphertext: ct, associatedData: { tenant: "t1", app: "interop" } } });
  assert.equal(d2.decryptedData.plaintext, PLAIN.toString("base64"));

  await expectOciError(
    c.decrypt({ decryptDataDetails: { keyId: keyA.id, ciphertext: ct, associatedData: { app: "other", tenant: "t1" } }, retryConfiguration: NO_RETRY }),
    { status: "4xx", what: "Decrypt with wrong associatedData" },
  );
  await expectOciError(c.decrypt({ decryptDataDetails: { keyId: keyA.id, ciphertext: ct }, retryConfiguration: NO_RETRY }), {
    status: "4xx",
    what: "Decrypt without the associatedData",
  });
  await expectOciError(
    c.decrypt({ decryptDataDetails: { keyId: keyA.id, ciphertext: ct1, associatedData: aad }, retryConfiguration: NO_RETRY }),
    { status: "4xx", what: "Decrypt of a no-AAD ciphertext with associatedData" },
  );
});

test("Decrypt of a tampered ciphertext fails with a 4xx envelope", async () => {
  const c = w.crypto(vaultA);
  const buf = Buffer.from(ct1, "base64");
  buf[buf.length - 1] ^= 0x01;
  await expectOciError(c.decrypt({ decryptDataDetails: { keyId: keyA.id, ciphertext: buf.toString("base64") }, retryConfiguration: NO_RETRY }), {
    status: "4xx",
    what: "Decrypt tampered",
  });
});

test("Encrypt through another vault's crypto endpoint → 404 NotAuthorizedOrNotFound", async () => {
  await expectOciError(
    w.crypto(vaultB).encrypt({ encryptDataDetails: { keyId: keyA.id, plaintext: PLAIN.toString("base64") }, retryConfiguration: NO_RETRY }),
    { status: 404, code: "NotAuthorizedOrNotFound", what: "Encrypt with key A at vault B" },
  );
});

test("Decrypt with another key fails with a 4xx envelope", async () => {
  const c = w.crypto(vaultB);
  await expectOciError(c.decrypt({ decryptDataDetails: { keyId: keyB.id, ciphertext: ct1 }, retryConfiguration: NO_RETRY }), {
    status: "4xx",
    what: "Decrypt with key B of a key-A ciphertext",
  });
});

test("GenerateDataEncryptionKey with includePlaintextKey=true: the ciphertext decrypts to the plaintext key", async () => {
  const c = w.crypto(vaultA);
  const r = await c.generateDataEncryptionKey({
    generateKeyDetails: { keyId: keyA.id, keyShape: { algorithm: "AES", length: 32 }, includePlaintextKey: true },
  });
  assertResp(r, "GenerateDataEncryptionKey");
  const g = r.generatedKey;
  assert.equal(typeof g.ciphertext, "string");
  assert.equal(typeof g.plaintext, "string", "plaintext requested but absent");
  const dek = Buffer.from(g.plaintext, "base64");
  assert.equal(dek.length, 32);
  assert.equal(typeof g.plaintextChecksum, "string", "plaintextChecksum expected with the plaintext");
  const d = await c.decrypt({ decryptDataDetails: { keyId: keyA.id, ciphertext: g.ciphertext } });
  assert.equal(d.decryptedData.plaintext, g.plaintext);
});

test("GenerateDataEncryptionKey with includePlaintextKey=false: no plaintext; ciphertext decrypts to a 32-byte key", async () => {
  const c = w.crypto(vaultA);
  const r = await c.generateDataEncryptionKey({
    generateKeyDetails: { keyId: keyA.id, keyShape: { algorithm: "AES", length: 32 }, includePlaintextKey: false },
  });
  assertResp(r, "GenerateDataEncryptionKey");
  const g = r.generatedKey;
  assert.ok(g.plaintext === undefined || g.plaintext === null, `plaintext returned although not requested: ${g.plaintext}`);
  const d = await c.decrypt({ decryptDataDetails: { keyId: keyA.id, ciphertext: g.ciphertext } });
  assert.equal(Buffer.from(d.decryptedData.plaintext, "base64").length, 32);
});

test("GenerateDataEncryptionKey with associatedData: decrypt needs the same associatedData", async () => {
  const c = w.crypto(vaultA);
  const aad = { purpose: "dek" };
  const r = await c.generateDataEncryptionKey({
    generateKeyDetails: { keyId: keyA.id, keyShape: { algorithm: "AES", length: 16 }, includePlaintextKey: true, associatedData: aad },
  });
  assert.equal(Buffer.from(r.generatedKey.plaintext, "base64").length, 16);
  const d = await c.decrypt({ decryptDataDetails: { keyId: keyA.id, ciphertext: r.generatedKey.ciphertext, associatedData: aad } });
  assert.equal(d.decryptedData.plaintext, r.generatedKey.plaintext);
  await expectOciError(c.decrypt({ decryptDataDetails: { keyId: keyA.id, ciphertext: r.generatedKey.ciphertext }, retryConfiguration: NO_RETRY }), {
    status: "4xx",
    what: "DEK decrypt without associatedData",
  });
});

// ----- rotation ------------------------------------------------------------

let kv2;

test("CreateKeyVersion: a new version becomes the key's currentKeyVersion", async () => {
  const mgmt = w.mgmt(vaultA);
  const before = await mgmt.getKey({ keyId: keyA.id });
  const r = await mgmt.createKeyVersion({ keyId: keyA.id });
  assertResp(r, "CreateKeyVersion", { etag: true });
  kv2 = r.keyVersion;
  assert.match(kv2.id, /^ocid1\.keyversion\./);
  assert.notEqual(kv2.id, keyA.currentKeyVersion);
  assert.equal(kv2.keyId, keyA.id);
  assert.equal(kv2.vaultId, vaultA.id);
  assert.equal(kv2.compartmentId, w.tenancy);
  assertTime(kv2.timeCreated, "KeyVersion.timeCreated");
  if (kv2.lifecycleState !== undefined) assert.ok(["CREATING", "ENABLED"].includes(kv2.lifecycleState), kv2.lifecycleState);
  const after = await waitFor(
    () => mgmt.getKey({ keyId: keyA.id }),
    (g) => g.key.currentKeyVersion === kv2.id && g.key.lifecycleState === "ENABLED",
    { what: "currentKeyVersion = new version" },
  );
  assert.notEqual(after.etag, before.etag, "the key's etag should change when a version is added");
});

test("ListKeyVersions lists both versions", async () => {
  const r = await w.mgmt(vaultA).listKeyVersions({ keyId: keyA.id });
  const ids = r.items.map((x) => x.id).sort();
  assert.deepEqual(ids, [keyA.currentKeyVersion, kv2.id].sort());
  for (const x of r.items) assert.equal(x.keyId, keyA.id);
});

test("after rotation, Encrypt uses the new version and old ciphertext still decrypts", async () => {
  const c = w.crypto(vaultA);
  const e = await c.encrypt({ encryptDataDetails: { keyId: keyA.id, plaintext: PLAIN.toString("base64") } });
  assert.equal(e.encryptedData.keyVersionId, kv2.id, "Encrypt should report the new key version");
  const d2 = await c.decrypt({ decryptDataDetails: { keyId: keyA.id, ciphertext: e.encryptedData.ciphertext } });
  assert.equal(d2.decryptedData.plaintext, PLAIN.toString("base64"));
  if (d2.decryptedData.keyVersionId !== undefined) assert.equal(d2.decryptedData.keyVersionId, kv2.id);
  const d1 = await c.decrypt({ decryptDataDetails: { keyId: keyA.id, ciphertext: ct1 } });
  assert.equal(d1.decryptedData.plaintext, PLAIN.toString("base64"));
  if (d1.decryptedData.keyVersionId !== undefined) assert.equal(d1.decryptedData.keyVersionId, keyA.currentKeyVersion);
});

test("5 concurrent CreateKeyVersion calls: 5 new distinct versions; the current one encrypts", async () => {
  const mgmt = w.mgmt(vaultA);
  const before = (await mgmt.listKeyVersions({ keyId: keyA.id })).items.length;
  const rs = await Promise.all(Array.from({ length: 5 }, () => mgmt.createKeyVersion({ keyId: keyA.id })));
  const ids = new Set(rs.map((r) => r.keyVersion.id));
  assert.equal(ids.size, 5);
  const after = (await mgmt.listKeyVersions({ keyId: keyA.id })).items;
  assert.equal(after.length, before + 5);
  const k = (await mgmt.getKey({ keyId: keyA.id })).key;
  assert.ok(ids.has(k.currentKeyVersion), "currentKeyVersion is one of the new versions");
  const e = await w.crypto(vaultA).encrypt({ encryptDataDetails: { keyId: keyA.id, plaintext: PLAIN.toString("base64") } });
  assert.equal(e.encryptedData.keyVersionId, k.currentKeyVersion);
  const d = await w.crypto(vaultA).decrypt({ decryptDataDetails: { keyId: keyA.id, ciphertext: ct1 } });
  assert.equal(d.decryptedData.plaintext, PLAIN.toString("base64"));
});

test("KMS errors: unknown vault, unknown key, Encrypt with a bad plaintext type", async () => {
  await expectOciError(w.kmsVault.getVault({ vaultId: "ocid1.vault.oc1..doesnotexist", retryConfiguration: NO_RETRY }), {
    status: 404,
    code: "NotAuthorizedOrNotFound",
    what: "GetVault unknown",
  });
  await expectOciError(w.mgmt(vaultA).getKey({ keyId: "ocid1.key.oc1..doesnotexist", retryConfiguration: NO_RETRY }), {
    status: 404,
    code: "NotAuthorizedOrNotFound",
    what: "GetKey unknown",
  });
  await expectOciError(
    w.crypto(vaultA).encrypt({ encryptDataDetails: { keyId: keyA.id, plaintext: 12345 }, retryConfiguration: NO_RETRY }),
    { status: 400, message: /plaintext/, what: "Encrypt plaintext: number" },
  );
  await expectOciError(
    w.crypto(vaultA).encrypt({ encryptDataDetails: { keyId: keyA.id }, retryConfiguration: NO_RETRY }),
    { status: 400, message: /plaintext/, what: "Encrypt without plaintext" },
  );
});

test("CreateVault with a missing displayName → 400 naming it; no vault is created", async () => {
  const before = (await w.kmsVault.listVaults({ compartmentId: w.tenancy })).items.map((v) => v.id).sort();
  await expectOciError(
    w.kmsVault.createVault({ createVaultDetails: { compartmentId: w.tenancy, vaultType: "DEFAULT" }, retryConfiguration: NO_RETRY }),
    { status: 400, message: /displayName/, what: "CreateVault without displayName" },
  );
  const after = (await w.kmsVault.listVaults({ compartmentId: w.tenancy })).items.map((v) => v.id).sort();
  assert.deepEqual(after, before);
});

test("no SDK call needed a retry", () => assertNoSdkRetries());
