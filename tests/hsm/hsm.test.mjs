// Protection mode HSM end to end: a real tresord whose keys and root key live in a
// throwaway SoftHSM2 token, driven by the official OCI TypeScript SDK (the interop
// suite's, imported from tests/interop/lib).
//
// The token is made here (softhsm2-util, in a temp dir through SOFTHSM2_CONF), then
// `tresord init --root-key-in-token --pkcs11-*` and `tresord serve` (which finds the
// token through DIR/pkcs11.conf). Checked: CreateKey HSM in every OCI shape, GetKey,
// Encrypt/Decrypt/GenerateDataEncryptionKey, Sign/Verify (every signature also
// verified with node:crypto on the key version's public key), a secret under an HSM
// key, CreateKeyVersion, Schedule/CancelKeyVersionDeletion and the reaper destroying
// the token objects (counted in the token's directory), vault usage counts, a restart,
// and the refusals: CreateKey HSM without a token, a loose PIN file.
//
//   tests/hsm/run.sh                  (what meson's hsm_interop runs)
//   node --test tests/hsm/hsm.test.mjs
//   TRESOR_HSM_STORE=pg tests/pg/pg.sh run tests/hsm/run.sh    (PostgreSQL store)

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import {
  clientsFor,
  createPgDatabase,
  freePort,
  makeParentDir,
  NO_RETRY,
  runTresord,
  serveDataDir,
  startServer,
} from "../interop/lib/server.mjs";
import {
  assertNoSdkRetries,
  b64,
  createVault,
  DAY,
  expectOciError,
  runMaintenance,
  setClockOffset,
  stopWorld,
  tresorOk,
  uniq,
} from "../interop/lib/world.mjs";

const MODULES = [
  process.env.TRESOR_SOFTHSM_MODULE,
  "/usr/lib/softhsm/libsofthsm2.so",
  "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
  "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
  "/usr/local/lib/softhsm/libsofthsm2.so",
].filter(Boolean);
const MODULE = MODULES.find((m) => fs.existsSync(m));
const TOKEN_LABEL = "tresor-e2e";
// TRESOR_HSM_STORE=pg (under tests/pg/pg.sh run): the HSM server keeps its data in PostgreSQL
const STORE_PG = process.env.TRESOR_HSM_STORE === "pg";
const PIN = "314159";

const SHAPES = [
  { name: "AES-16", shape: { algorithm: "AES", length: 16 }, objects: 1 },
  { name: "AES-24", shape: { algorithm: "AES", length: 24 }, objects: 1 },
  { name: "AES-32", shape: { algorithm: "AES", length: 32 }, objects: 1 },
  { name: "RSA-2048", shape: { algorithm: "RSA", length: 256 }, objects: 2 },
  { name: "RSA-3072", shape: { algorithm: "RSA", length: 384 }, objects: 2 },
  { name: "RSA-4096", shape: { algorithm: "RSA", length: 512 }, objects: 2 },
  { name: "P-256", shape: { algorithm: "ECDSA", length: 32, curveId: "NIST_P256" }, objects: 2 },
  { name: "P-384", shape: { algorithm: "ECDSA", length: 48, curveId: "NIST_P384" }, objects: 2 },
  { name: "P-521", shape: { algorithm: "ECDSA", length: 66, curveId: "NIST_P521" }, objects: 2 },
];

const RSA_ALGS = [224, 256, 384, 512].flatMap((h) => [
  { alg: `SHA_${h}_RSA_PKCS_PSS`, md: `sha${h}`, pss: true, hlen: h / 8 },
  { alg: `SHA_${h}_RSA_PKCS1_V1_5`, md: `sha${h}`, pss: false, hlen: h / 8 },
]);
const EC_ALGS = [256, 384, 512].map((h) => ({ alg: `ECDSA_SHA_${h}`, md: `sha${h}`, hlen: h / 8 }));

let hsm; // { dir, conf, pin, tokens }
let w; // { srv, auth, tenancy, clients... }
let vault;
const keys = {}; // name -> { key, version (KeyVersion) }

// ---------------------------------------------------------------------------
// the token
// ---------------------------------------------------------------------------

function makeToken() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tresor-hsm-"));
  const tokens = path.join(dir, "tokens");
  fs.mkdirSync(tokens, { mode: 0o700 });
  const conf = path.join(dir, "softhsm2.conf");
  fs.writeFileSync(
    conf,
    `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`,
  );
  process.env.SOFTHSM2_CONF = conf; // for every tresord spawned from here on
  execFileSync("softhsm2-util", ["--init-token", "--free", "--label", TOKEN_LABEL, "--so-pin", "1234", "--pin", PIN], {
    stdio: "pipe",
  });
  const pin = path.join(dir, "user.pin");
  fs.writeFileSync(pin, `${PIN}\n`, { mode: 0o600 });
  fs.chmodSync(pin, 0o600);
  return { dir, conf, pin, tokens };
}

/** Objects in the token: SoftHSM2's file store keeps one <uuid>.object file per object. */
function tokenObjects() {
  let n = 0;
  for (const t of fs.readdirSync(hsm.tokens)) {
    const d = path.join(hsm.tokens, t);
    if (!fs.statSync(d).isDirectory()) continue;
    n += fs.readdirSync(d).filter((f) => f.endsWith(".object") && f !== "token.object").length;
  }
  return n;
}

function pkcs11Args() {
  return ["--pkcs11-module", MODULE, "--pkcs11-token-label", TOKEN_LABEL, "--pkcs11-pin-file", hsm.pin];
}

/** init with the root key in the token, serve with the test clock (token from DIR/pkcs11.conf). */
async function startHsmServer() {
  const parent = await makeParentDir("hsm");
  const dir = path.join(parent, "data");
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const store = STORE_PG ? ["--store", await createPgDatabase()] : [];
  const r = await runTresord(["init", "--data", dir, "--endpoint", base, "--root-key-in-token", ...pkcs11Args(), ...store]);
  assert.equal(r.code, 0, `tresord init --root-key-in-token failed:\n${r.stderr}\n${r.stdout}`);
  const srv = await serveDataDir({ parent, dir, port, base, serveArgs: ["--enable-test-clock"] });
  return srv;
}

// ---------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------

function mgmt() {
  return w.mgmt(vault);
}
function kcrypto() {
  return w.crypto(vault);
}

async function createHsmKey(name, shape, extra = {}) {
  const r = await mgmt().createKey({
    createKeyDetails: { compartmentId: w.tenancy, displayName: uniq(name), keyShape: shape, protectionMode: "HSM", ...extra },
  });
  assert.equal(r.key.protectionMode, "HSM");
  assert.equal(r.key.lifecycleState, "ENABLED");
  const kv = await mgmt().getKeyVersion({ keyId: r.key.id, keyVersionId: r.key.currentKeyVersion });
  return { key: r.key, version: kv.keyVersion };
}

/** Check a signature with node:crypto on the PEM public key (over the RAW message). */
function nodeVerify(pem, a, message, sigB64) {
  const sig = Buffer.from(sigB64, "base64");
  if (a.alg.startsWith("ECDSA")) return crypto.verify(a.md, message, { key: pem, dsaEncoding: "der" }, sig);
  const opts = a.pss
    ? { key: pem, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: a.hlen }
    : { key: pem, padding: crypto.constants.RSA_PKCS1_PADDING };
  return crypto.verify(a.md, message, opts, sig);
}

async function signAndCheck(k, a) {
  const message = Buffer.from(`signed in the token with ${a.alg} by ${k.key.id}`);
  const pem = k.version.publicKey;
  for (const messageType of ["RAW", "DIGEST"]) {
    const m = messageType === "RAW" ? message : crypto.createHash(a.md).update(message).digest();
    const s = await kcrypto().sign({
      signDataDetails: { keyId: k.key.id, message: m.toString("base64"), signingAlgorithm: a.alg, messageType },
    });
    assert.equal(s.signedData.keyVersionId, k.version.id);
    assert.equal(s.signedData.signingAlgorithm, a.alg);
    assert.ok(nodeVerify(pem, a, message, s.signedData.signature), `${a.alg} ${messageType}: node:crypto rejects the signature`);
    const v = await kcrypto().verify({
      verifyDataDetails: {
        keyId: k.key.id,
        keyVersionId: k.version.id,
        message: m.toString("base64"),
        signature: s.signedData.signature,
        signingAlgorithm: a.alg,
        messageType,
      },
    });
    assert.equal(v.verifiedData.isSignatureValid, true, `${a.alg} ${messageType}: Verify says invalid`);
    const bad = Buffer.from(s.signedData.signature, "base64");
    bad[bad.length >> 1] ^= 0x20;
    const v2 = await kcrypto().verify({
      verifyDataDetails: {
        keyId: k.key.id,
        keyVersionId: k.version.id,
        message: m.toString("base64"),
        signature: bad.toString("base64"),
        signingAlgorithm: a.alg,
        messageType,
      },
    });
    assert.equal(v2.verifiedData.isSignatureValid, false, `${a.alg} ${messageType}: a damaged signature verifies`);
    assert.equal(nodeVerify(pem, a, message, bad.toString("base64")), false);
  }
}

async function encrypt(k, text, associatedData) {
  const r = await kcrypto().encrypt({
    encryptDataDetails: { keyId: k.key.id, plaintext: b64(text), ...(associatedData ? { associatedData } : {}) },
  });
  return r.encryptedData;
}

async function decrypt(k, ciphertext, associatedData, extra = {}) {
  const r = await kcrypto().decrypt(
    { decryptDataDetails: { keyId: k.key.id, ciphertext, ...(associatedData ? { associatedData } : {}) }, ...extra },
  );
  return Buffer.from(r.decryptedData.plaintext, "base64").toString("utf8");
}

// ---------------------------------------------------------------------------
// set-up
// ---------------------------------------------------------------------------

before(async () => {
  assert.ok(MODULE, "SoftHSM2 is not installed (tests/hsm/run.sh skips in that case)");
  hsm = makeToken();
  const srv = await startHsmServer();
  w = { srv, ...clientsFor(srv) };
  ({ vault } = await createVault(w));
});

after(async () => {
  try {
    await stopWorld(w);
  } finally {
    if (hsm && process.env.TRESOR_INTEROP_KEEP !== "1") fs.rmSync(hsm.dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------------------
// tests
// ---------------------------------------------------------------------------

test("init keeps the root key in the token: root.key is a marker, pkcs11.conf records the token", () => {
  const root = path.join(w.srv.dir, "root.key");
  const st = fs.statSync(root);
  assert.equal(st.mode & 0o777, 0o600);
  assert.notEqual(st.size, 32, "root.key must not hold a 32-byte key");
  const text = fs.readFileSync(root);
  assert.equal(text.subarray(0, 35).toString(), "tresor-root-key-in-pkcs11-token/v1\n");
  const conf = path.join(w.srv.dir, "pkcs11.conf");
  assert.equal(fs.statSync(conf).mode & 0o777, 0o600);
  const c = fs.readFileSync(conf, "utf8");
  assert.match(c, new RegExp(`^module ${fs.realpathSync(MODULE).replace(/[.]/g, "\\.")}$`, "m"));
  assert.match(c, new RegExp(`^token label:${TOKEN_LABEL}$`, "m"));
  assert.match(c, /^pin-file \//m);
  assert.doesNotMatch(c, new RegExp(PIN), "pkcs11.conf must not hold the PIN");
  // the root key is the one object in the token so far
  assert.equal(tokenObjects(), 1);
});

test("CreateKey with protectionMode HSM in every OCI key shape, generated in the token", async () => {
  for (const s of SHAPES) {
    const before0 = tokenObjects();
    const k = await createHsmKey(s.name, s.shape);
    assert.equal(tokenObjects(), before0 + s.objects, `${s.name}: objects made in the token`);
    const g = await mgmt().getKey({ keyId: k.key.id });
    assert.equal(g.key.protectionMode, "HSM");
    assert.deepEqual(g.key.keyShape, s.shape);
    assert.equal(k.version.lifecycleState, "ENABLED");
    if (s.shape.algorithm === "AES") assert.equal(k.version.publicKey ?? null, null);
    else assert.match(k.version.publicKey, /^-----BEGIN PUBLIC KEY-----/);
    keys[s.name] = k;
  }
  const l = await mgmt().listKeys({ compartmentId: w.tenancy, protectionMode: "HSM" });
  assert.equal(l.items.length, SHAPES.length);
  assert.ok(l.items.every((i) => i.protectionMode === "HSM"));
});

test("Encrypt, Decrypt and GenerateDataEncryptionKey run in the token", async () => {
  for (const name of ["AES-16", "AES-24", "AES-32"]) {
    const k = keys[name];
    const ad = { purpose: "hsm-test", key: name };
    const e = await encrypt(k, `plaintext for ${name}`, ad);
    assert.equal(e.keyVersionId, k.version.id);
    assert.equal(await decrypt(k, e.ciphertext, ad), `plaintext for ${name}`);
    await expectOciError(decrypt(k, e.ciphertext, { purpose: "other" }, { retryConfiguration: NO_RETRY }), {
      status: 400,
      what: `${name} Decrypt with other associatedData`,
    });
    const g = await kcrypto().generateDataEncryptionKey({
      generateKeyDetails: { keyId: k.key.id, keyShape: { algorithm: "AES", length: 32 }, includePlaintextKey: true },
    });
    const dek = Buffer.from(g.generatedKey.plaintext, "base64");
    assert.equal(dek.length, 32);
    const d = await kcrypto().decrypt({ decryptDataDetails: { keyId: k.key.id, ciphertext: g.generatedKey.ciphertext } });
    assert.equal(d.decryptedData.plaintext, g.generatedKey.plaintext);
    const g2 = await kcrypto().generateDataEncryptionKey({
      generateKeyDetails: { keyId: k.key.id, keyShape: { algorithm: "AES", length: 16 }, includePlaintextKey: false },
    });
    assert.equal(g2.generatedKey.plaintext ?? null, null);
    const d2 = await kcrypto().decrypt({ decryptDataDetails: { keyId: k.key.id, ciphertext: g2.generatedKey.ciphertext } });
    assert.equal(Buffer.from(d2.decryptedData.plaintext, "base64").length, 16);
  }
});

test("Sign and Verify with every RSA algorithm, checked with node:crypto", async () => {
  for (const name of ["RSA-2048", "RSA-3072", "RSA-4096"]) {
    for (const a of RSA_ALGS) await signAndCheck(keys[name], a);
  }
});

test("Sign and Verify with every ECDSA algorithm and curve, checked with node:crypto", async () => {
  for (const name of ["P-256", "P-384", "P-521"]) {
    for (const a of EC_ALGS) await signAndCheck(keys[name], a);
  }
});

test("a secret under an HSM key: create, read, new version, read both", async () => {
  const k = keys["AES-32"];
  const s = await w.vaults.createSecret({
    createSecretDetails: {
      compartmentId: w.tenancy,
      vaultId: vault.id,
      keyId: k.key.id,
      secretName: uniq("hsm-secret"),
      secretContent: { contentType: "BASE64", content: b64("first, under the token's key") },
    },
  });
  const id = s.secret.id;
  const b1 = await w.secrets.getSecretBundle({ secretId: id });
  assert.equal(Buffer.from(b1.secretBundle.secretBundleContent.content, "base64").toString(), "first, under the token's key");
  await w.vaults.updateSecret({
    secretId: id,
    updateSecretDetails: { secretContent: { contentType: "BASE64", content: b64("second") } },
  });
  const b2 = await w.secrets.getSecretBundle({ secretId: id });
  assert.equal(b2.secretBundle.versionNumber, 2);
  assert.equal(Buffer.from(b2.secretBundle.secretBundleContent.content, "base64").toString(), "second");
  const old = await w.secrets.getSecretBundle({ secretId: id, versionNumber: 1 });
  assert.equal(Buffer.from(old.secretBundle.secretBundleContent.content, "base64").toString(), "first, under the token's key");
  keys.secretId = id;
  // one more, under another key, that will be left under a deleted key version
  const d = await w.vaults.createSecret({
    createSecretDetails: {
      compartmentId: w.tenancy,
      vaultId: vault.id,
      keyId: keys["AES-16"].key.id,
      secretName: uniq("hsm-doomed"),
      secretContent: { contentType: "BASE64", content: b64("left behind") },
    },
  });
  keys.doomedSecretId = d.secret.id;
});

let rotated; // { k, v1, c1, v2, c2 }

test("CreateKeyVersion makes a new token key; older ciphertexts still decrypt", async () => {
  const k = keys["AES-32"];
  const c1 = await encrypt(k, "before rotation");
  const n0 = tokenObjects();
  const r = await mgmt().createKeyVersion({ keyId: k.key.id });
  assert.equal(tokenObjects(), n0 + 1);
  const v2 = r.keyVersion;
  assert.notEqual(v2.id, k.version.id);
  assert.equal(v2.lifecycleState, "ENABLED");
  const g = await mgmt().getKey({ keyId: k.key.id });
  assert.equal(g.key.currentKeyVersion, v2.id);
  const c2 = await encrypt(k, "after rotation");
  assert.equal(c2.keyVersionId, v2.id);
  assert.equal(await decrypt(k, c1.ciphertext), "before rotation");
  assert.equal(await decrypt(k, c2.ciphertext), "after rotation");
  // the secret made under version 1 still reads
  const b = await w.secrets.getSecretBundle({ secretId: keys.secretId });
  assert.equal(Buffer.from(b.secretBundle.secretBundleContent.content, "base64").toString(), "second");
  rotated = { k, v1: k.version, c1, v2, c2 };
  const n1 = tokenObjects();
  await mgmt().createKeyVersion({ keyId: keys["AES-16"].key.id });
  assert.equal(tokenObjects(), n1 + 1);

  // an asymmetric key rotates too: a new key pair, a new public key
  const ek = keys["P-256"];
  const n2 = tokenObjects();
  const er = await mgmt().createKeyVersion({ keyId: ek.key.id });
  assert.equal(tokenObjects(), n2 + 2);
  assert.notEqual(er.keyVersion.publicKey, ek.version.publicKey);
  await signAndCheck({ key: ek.key, version: er.keyVersion }, EC_ALGS[0]);
});

test("ScheduleKeyVersionDeletion and CancelKeyVersionDeletion follow OCI's rules", async () => {
  const { k, v1, v2, c1 } = rotated;
  const m = mgmt();
  // the current version cannot be deleted
  await expectOciError(
    m.scheduleKeyVersionDeletion({ keyId: k.key.id, keyVersionId: v2.id, scheduleKeyVersionDeletionDetails: {}, retryConfiguration: NO_RETRY }),
    { status: 409, message: /current version/, what: "delete the current version" },
  );
  // the window is 7 to 30 days
  await expectOciError(
    m.scheduleKeyVersionDeletion({
      keyId: k.key.id,
      keyVersionId: v1.id,
      scheduleKeyVersionDeletionDetails: { timeOfDeletion: new Date(Date.now() + 3 * DAY * 1000) },
      retryConfiguration: NO_RETRY,
    }),
    { status: 400, message: /7 and 30 days/, what: "3 days" },
  );
  await expectOciError(
    m.scheduleKeyVersionDeletion({
      keyId: k.key.id,
      keyVersionId: v1.id,
      scheduleKeyVersionDeletionDetails: { timeOfDeletion: new Date(Date.now() + 31 * DAY * 1000) },
      retryConfiguration: NO_RETRY,
    }),
    { status: 400, what: "31 days" },
  );
  // a stale if-match
  await expectOciError(
    m.scheduleKeyVersionDeletion({
      keyId: k.key.id,
      keyVersionId: v1.id,
      scheduleKeyVersionDeletionDetails: {},
      ifMatch: "not-the-etag",
      retryConfiguration: NO_RETRY,
    }),
    { status: 412, what: "stale if-match" },
  );
  const got = await m.getKeyVersion({ keyId: k.key.id, keyVersionId: v1.id });
  assert.equal(typeof got.etag, "string");

  const when = new Date(Date.now() + 8 * DAY * 1000);
  const s = await m.scheduleKeyVersionDeletion({
    keyId: k.key.id,
    keyVersionId: v1.id,
    scheduleKeyVersionDeletionDetails: { timeOfDeletion: when },
    ifMatch: got.etag,
  });
  assert.equal(s.keyVersion.lifecycleState, "PENDING_DELETION");
  assert.ok(Math.abs(new Date(s.keyVersion.timeOfDeletion).getTime() - when.getTime()) < 1000);
  assert.notEqual(s.etag, got.etag);
  const g = await m.getKeyVersion({ keyId: k.key.id, keyVersionId: v1.id });
  assert.equal(g.keyVersion.lifecycleState, "PENDING_DELETION");
  // a version pending deletion decrypts nothing
  await expectOciError(decrypt(k, c1.ciphertext, undefined, { retryConfiguration: NO_RETRY }), {
    status: 409,
    message: /PENDING_DELETION/,
    what: "Decrypt with a version pending deletion",
  });
  await expectOciError(
    m.scheduleKeyVersionDeletion({ keyId: k.key.id, keyVersionId: v1.id, scheduleKeyVersionDeletionDetails: {}, retryConfiguration: NO_RETRY }),
    { status: 409, what: "schedule twice" },
  );

  // cancel: ENABLED again, and it decrypts again
  const c = await m.cancelKeyVersionDeletion({ keyId: k.key.id, keyVersionId: v1.id });
  assert.equal(c.keyVersion.lifecycleState, "ENABLED");
  assert.equal(c.keyVersion.timeOfDeletion ?? null, null);
  assert.equal(await decrypt(k, c1.ciphertext), "before rotation");
  await expectOciError(m.cancelKeyVersionDeletion({ keyId: k.key.id, keyVersionId: v1.id, retryConfiguration: NO_RETRY }), {
    status: 409,
    what: "cancel when not pending",
  });
  // a cancelled deletion does not happen
  await setClockOffset(w, 31 * DAY);
  await runMaintenance(w);
  await setClockOffset(w, 0);
  assert.equal((await m.getKeyVersion({ keyId: k.key.id, keyVersionId: v1.id })).keyVersion.lifecycleState, "ENABLED");
  // unknown version
  await expectOciError(
    m.cancelKeyVersionDeletion({ keyId: k.key.id, keyVersionId: "ocid1.keyversion.oc1.xx-local-1.nosuchversion", retryConfiguration: NO_RETRY }),
    { status: 404, what: "unknown key version" },
  );
});

test("the reaper deletes a key version: DELETED, material destroyed in the token", async () => {
  const { k, v1, c1, c2 } = rotated;
  const m = mgmt();
  // tresor's re-wrap moves the secret's data keys to the current version first
  const rw = await tresorOk(w, "POST", `/tresor/v1/keys/${k.key.id}/actions/rewrapSecretVersions`);
  assert.equal(rw.rewrapped, 2, JSON.stringify(rw));
  assert.equal(rw.complete, true);
  // AES-16's old version goes without that: its secret becomes unreadable
  const k16 = keys["AES-16"];
  await m.scheduleKeyVersionDeletion({ keyId: k16.key.id, keyVersionId: k16.version.id, scheduleKeyVersionDeletionDetails: {} });
  const s = await m.scheduleKeyVersionDeletion({ keyId: k.key.id, keyVersionId: v1.id, scheduleKeyVersionDeletionDetails: {} });
  assert.equal(s.keyVersion.lifecycleState, "PENDING_DELETION");
  const days = (new Date(s.keyVersion.timeOfDeletion).getTime() - Date.now()) / (DAY * 1000);
  assert.ok(days > 29.9 && days < 30.1, `default window is 30 days, got ${days}`);
  const n0 = tokenObjects();
  await setClockOffset(w, 29 * DAY);
  await runMaintenance(w);
  assert.equal(tokenObjects(), n0, "not due yet");
  await setClockOffset(w, 31 * DAY);
  const done = await runMaintenance(w);
  assert.ok(done.jobsDone >= 1, JSON.stringify(done));
  await setClockOffset(w, 0);
  assert.equal(tokenObjects(), n0 - 2, "the token objects of the deleted versions are destroyed");
  const g = await m.getKeyVersion({ keyId: k.key.id, keyVersionId: v1.id });
  assert.equal(g.keyVersion.lifecycleState, "DELETED");
  const l = await m.listKeyVersions({ keyId: k.key.id });
  assert.deepEqual(
    l.items.map((i) => [i.id, i.lifecycleState]).sort(),
    [
      [v1.id, "DELETED"],
      [rotated.v2.id, "ENABLED"],
    ].sort(),
  );
  await expectOciError(decrypt(k, c1.ciphertext, undefined, { retryConfiguration: NO_RETRY }), {
    status: 409,
    message: /DELETED/,
    what: "Decrypt with a deleted version",
  });
  assert.equal(await decrypt(k, c2.ciphertext), "after rotation");
  const b = await w.secrets.getSecretBundle({ secretId: keys.secretId, versionNumber: 1 });
  assert.equal(Buffer.from(b.secretBundle.secretBundleContent.content, "base64").toString(), "first, under the token's key");
  await expectOciError(w.secrets.getSecretBundle({ secretId: keys.doomedSecretId, retryConfiguration: NO_RETRY }), {
    status: 409,
    message: /deleted/,
    what: "a secret whose key version was deleted",
  });
  // a DELETED version cannot be restored
  await expectOciError(m.cancelKeyVersionDeletion({ keyId: k.key.id, keyVersionId: v1.id, retryConfiguration: NO_RETRY }), {
    status: 409,
    what: "cancel a deleted version",
  });
});

test("GetVaultUsage counts HSM keys and versions apart from SOFTWARE ones", async () => {
  const sw = await mgmt().createKey({
    createKeyDetails: { compartmentId: w.tenancy, displayName: uniq("sw"), keyShape: { algorithm: "AES", length: 32 }, protectionMode: "SOFTWARE" },
  });
  assert.equal(sw.key.protectionMode, "SOFTWARE");
  const u = await w.kmsVault.getVaultUsage({ vaultId: vault.id });
  assert.equal(u.vaultUsage.keyCount, SHAPES.length);
  // one version a shape, plus the second ones of AES-16, AES-32 and P-256, minus the
  // DELETED first ones of AES-16 and AES-32
  assert.equal(u.vaultUsage.keyVersionCount, SHAPES.length + 1);
  assert.equal(u.vaultUsage.softwareKeyCount, 1);
  assert.equal(u.vaultUsage.softwareKeyVersionCount, 1);
});

test("deleting a whole HSM key destroys its token objects", async () => {
  const k = keys["RSA-2048"];
  const m = mgmt();
  const n0 = tokenObjects();
  const s = await m.scheduleKeyDeletion({ keyId: k.key.id, scheduleKeyDeletionDetails: {} });
  assert.equal(s.key.lifecycleState, "PENDING_DELETION");
  await setClockOffset(w, 31 * DAY);
  await runMaintenance(w);
  await setClockOffset(w, 0);
  assert.equal(tokenObjects(), n0 - 2, "both objects of the key pair are destroyed");
});

test("after a restart the token still holds everything (root key, HSM keys)", async () => {
  const r = await w.srv.stop("SIGTERM");
  assert.equal(r.code, 0, w.srv.logTail());
  const srv = await serveDataDir({ ...w.srv, serveArgs: ["--enable-test-clock"] });
  w = { srv, ...clientsFor(srv) };
  const b = await w.secrets.getSecretBundle({ secretId: keys.secretId });
  assert.equal(Buffer.from(b.secretBundle.secretBundleContent.content, "base64").toString(), "second");
  assert.equal(await decrypt(rotated.k, rotated.c2.ciphertext), "after rotation");
  await signAndCheck(keys["P-384"], EC_ALGS[1]);
});

test("serve refuses a PIN file that others can read", async () => {
  const loose = path.join(hsm.dir, "loose.pin");
  fs.writeFileSync(loose, `${PIN}\n`);
  fs.chmodSync(loose, 0o644);
  const port = await freePort();
  const r = await runTresord(["serve", "--data", w.srv.dir, "--listen", `127.0.0.1:${port}`, "--pkcs11-pin-file", loose], {
    timeoutMs: 15000,
  });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /PIN file .* (group or others|0600)/);
});

test("without a token, CreateKey HSM answers 400 naming the tresord options", async () => {
  const plain = await startServer({ tag: "nohsm", tls: false, store: "sqlite" });
  try {
    const pw = { srv: plain, ...clientsFor(plain) };
    const { vault: v } = await createVault(pw);
    const m = pw.mgmt(v);
    for (const protectionMode of ["HSM", undefined]) {
      await expectOciError(
        m.createKey({
          createKeyDetails: {
            compartmentId: pw.tenancy,
            displayName: uniq("nohsm"),
            keyShape: { algorithm: "AES", length: 32 },
            ...(protectionMode ? { protectionMode } : {}),
          },
          retryConfiguration: NO_RETRY,
        }),
        { status: 400, code: "InvalidParameter", message: [/--pkcs11-module/, /--pkcs11-pin-file/, /SOFTWARE/], what: "CreateKey HSM without a token" },
      );
    }
    await stopWorld(pw);
  } finally {
    await plain.cleanup();
  }
});

test("no SDK retries were needed", () => {
  assertNoSdkRetries();
});
