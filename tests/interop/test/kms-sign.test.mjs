// Issue 5, KMS asymmetric keys through the SDK: Sign and Verify for RSA (PKCS#1 v1.5 and
// PSS with SHA-256/384/512) and ECDSA (P-256, P-384, P-521) with OCI's algorithm names and
// message types (RAW, DIGEST); every signature is checked with node's crypto (OpenSSL)
// against the public key from GetKeyVersion, and tampered input is rejected by both.
// Also: the usage report (GET /tresor/v1/usage) counts what this file did.

import { after, before, test } from "node:test";
import crypto from "node:crypto";

import { createGroup, createPolicy, createUser } from "../lib/iam.mjs";
import {
  NO_RETRY,
  assert,
  assertNoSdkRetries,
  b64,
  createKey,
  createSecret,
  createVault,
  expectOciError,
  startWorld,
  stopWorld,
  tresorApi,
  tresorOk,
  waitFor,
} from "../lib/world.mjs";

let w;
let v;
const keys = {}; // name -> { key, version (KeyVersion with publicKey) }
const ops = { sign: 0, verify: 0, encrypt: 0, decrypt: 0, gdek: 0 };

const SHAPES = {
  rsa2048: { algorithm: "RSA", length: 256 },
  p256: { algorithm: "ECDSA", length: 32, curveId: "NIST_P256" },
  p384: { algorithm: "ECDSA", length: 48, curveId: "NIST_P384" },
  p521: { algorithm: "ECDSA", length: 66, curveId: "NIST_P521" },
};

// OCI algorithm name → key, node digest, padding.
const ALGS = [
  ["SHA_256_RSA_PKCS1_V1_5", "rsa2048", "sha256", "pkcs1"],
  ["SHA_384_RSA_PKCS1_V1_5", "rsa2048", "sha384", "pkcs1"],
  ["SHA_512_RSA_PKCS1_V1_5", "rsa2048", "sha512", "pkcs1"],
  ["SHA_256_RSA_PKCS_PSS", "rsa2048", "sha256", "pss"],
  ["SHA_384_RSA_PKCS_PSS", "rsa2048", "sha384", "pss"],
  ["SHA_512_RSA_PKCS_PSS", "rsa2048", "sha512", "pss"],
  ["ECDSA_SHA_256", "p256", "sha256", "ecdsa"],
  ["ECDSA_SHA_384", "p384", "sha384", "ecdsa"],
  ["ECDSA_SHA_512", "p521", "sha512", "ecdsa"],
];

before(async () => {
  w = await startWorld("sign");
  v = (await createVault(w)).vault;
  const mgmt = w.mgmt(v);
  for (const [name, keyShape] of Object.entries(SHAPES)) {
    const r = await mgmt.createKey({
      createKeyDetails: { compartmentId: w.tenancy, displayName: name, keyShape, protectionMode: "SOFTWARE" },
    });
    const key = (
      await waitFor(
        () => mgmt.getKey({ keyId: r.key.id }),
        (g) => g.key.lifecycleState === "ENABLED",
        { what: `key ${name} ENABLED` },
      )
    ).key;
    const version = (await mgmt.getKeyVersion({ keyId: key.id, keyVersionId: key.currentKeyVersion })).keyVersion;
    keys[name] = { key, version };
  }
});

after(async () => {
  await stopWorld(w);
});

function nodeVerify(alg, pem, message, signature) {
  const [, , hash, pad] = ALGS.find((a) => a[0] === alg);
  const key = { key: pem };
  if (pad === "pss") Object.assign(key, { padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: crypto.constants.RSA_PSS_SALTLEN_AUTO });
  if (pad === "pkcs1") key.padding = crypto.constants.RSA_PKCS1_PADDING;
  if (pad === "ecdsa") key.dsaEncoding = "der";
  return crypto.verify(hash, message, key, signature);
}

test("asymmetric keys: GetKeyVersion gives the public key (PEM) of the right type and size", async () => {
  const want = {
    rsa2048: (k) => k.asymmetricKeyType === "rsa" && k.asymmetricKeyDetails.modulusLength === 2048,
    p256: (k) => k.asymmetricKeyType === "ec" && k.asymmetricKeyDetails.namedCurve === "prime256v1",
    p384: (k) => k.asymmetricKeyType === "ec" && k.asymmetricKeyDetails.namedCurve === "secp384r1",
    p521: (k) => k.asymmetricKeyType === "ec" && k.asymmetricKeyDetails.namedCurve === "secp521r1",
  };
  for (const [name, { key }] of Object.entries(keys)) {
    assert.deepEqual({ ...key.keyShape }, SHAPES[name], `${name} keyShape`);
    const kv = keys[name].version;
    assert.equal(kv.id, key.currentKeyVersion);
    assert.equal(typeof kv.publicKey, "string", `${name}: KeyVersion.publicKey missing`);
    assert.match(kv.publicKey, /^-----BEGIN PUBLIC KEY-----/);
    const pk = crypto.createPublicKey(kv.publicKey);
    const details = JSON.stringify(pk.asymmetricKeyDetails, (_k, x) => (typeof x === "bigint" ? String(x) : x));
    assert.ok(want[name](pk), `${name}: public key is ${pk.asymmetricKeyType} ${details}`);
  }
});

for (const [alg, keyName] of ALGS) {
  test(`Sign ${alg} (RAW): OpenSSL verifies the signature with GetKeyVersion's public key; KMS Verify agrees; tampering fails both`, async () => {
    const { key, version } = keys[keyName];
    const c = w.crypto(v);
    const message = crypto.randomBytes(100 + Math.floor(Math.random() * 200));
    const s = await c.sign({ signDataDetails: { keyId: key.id, message: message.toString("base64"), signingAlgorithm: alg } });
    ops.sign++;
    assert.equal(s.signedData.keyId, key.id);
    assert.equal(s.signedData.keyVersionId, version.id);
    assert.equal(s.signedData.signingAlgorithm, alg);
    const sig = Buffer.from(s.signedData.signature, "base64");
    assert.ok(nodeVerify(alg, version.publicKey, message, sig), `OpenSSL rejects tresor's ${alg} signature`);
    const tampered = Buffer.from(message);
    tampered[0] ^= 1;
    assert.equal(nodeVerify(alg, version.publicKey, tampered, sig), false);

    const verify = (msg, signature) =>
      c.verify({
        verifyDataDetails: { keyId: key.id, keyVersionId: version.id, message: msg.toString("base64"), signature, signingAlgorithm: alg },
      });
    assert.equal((await verify(message, s.signedData.signature)).verifiedData.isSignatureValid, true);
    assert.equal((await verify(tampered, s.signedData.signature)).verifiedData.isSignatureValid, false);
    ops.verify += 2;

    // A signature made by OpenSSL with a key of our own does not verify under tresor's key.
    const rsa = keyName.startsWith("rsa");
    const mine = crypto.generateKeyPairSync(rsa ? "rsa" : "ec", rsa ? { modulusLength: 2048 } : { namedCurve: crypto.createPublicKey(version.publicKey).asymmetricKeyDetails.namedCurve });
    const [, , hash, pad] = ALGS.find((a) => a[0] === alg);
    const signOpts = { key: mine.privateKey };
    if (pad === "pss") Object.assign(signOpts, { padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: crypto.constants.RSA_PSS_SALTLEN_DIGEST });
    const foreign = crypto.sign(hash, message, signOpts).toString("base64");
    assert.equal((await verify(message, foreign)).verifiedData.isSignatureValid, false);
    ops.verify++;
  });
}

test("Sign with messageType DIGEST: the digest is signed as is; OpenSSL verifies it over the original message", async () => {
  for (const [alg, keyName, hash] of [
    ["SHA_256_RSA_PKCS1_V1_5", "rsa2048", "sha256"],
    ["SHA_512_RSA_PKCS_PSS", "rsa2048", "sha512"],
    ["ECDSA_SHA_384", "p384", "sha384"],
  ]) {
    const { key, version } = keys[keyName];
    const message = crypto.randomBytes(5000);
    const digest = crypto.createHash(hash).update(message).digest();
    const s = await w.crypto(v).sign({
      signDataDetails: { keyId: key.id, message: digest.toString("base64"), messageType: "DIGEST", signingAlgorithm: alg },
    });
    ops.sign++;
    assert.ok(nodeVerify(alg, version.publicKey, message, Buffer.from(s.signedData.signature, "base64")), `${alg} DIGEST`);
    const vr = await w.crypto(v).verify({
      verifyDataDetails: {
        keyId: key.id,
        keyVersionId: version.id,
        message: digest.toString("base64"),
        messageType: "DIGEST",
        signature: s.signedData.signature,
        signingAlgorithm: alg,
      },
    });
    ops.verify++;
    assert.equal(vr.verifiedData.isSignatureValid, true);
  }
});

test("Sign errors: an AES key, an algorithm that does not fit the key, a DIGEST of the wrong length, an unknown algorithm → 400 naming the field", async () => {
  const aes = (await createKey(w, v)).key;
  const c = w.crypto(v);
  const sign = (keyId, signingAlgorithm, message = b64("m"), extra = {}) =>
    c.sign({ signDataDetails: { keyId, message, signingAlgorithm, ...extra }, retryConfiguration: NO_RETRY });
  await expectOciError(sign(aes.id, "SHA_256_RSA_PKCS1_V1_5"), { status: 400, what: "Sign with an AES key" });
  const e1 = await expectOciError(sign(keys.rsa2048.key.id, "ECDSA_SHA_256"), { status: 400, what: "ECDSA on an RSA key" });
  assert.match(e1.message, /signingAlgorithm/);
  const e2 = await expectOciError(sign(keys.p256.key.id, "SHA_256_RSA_PKCS_PSS"), { status: 400, what: "RSA PSS on an EC key" });
  assert.match(e2.message, /signingAlgorithm/);
  await expectOciError(sign(keys.p256.key.id, "ECDSA_SHA_999"), { status: 400, what: "unknown algorithm" });
  await expectOciError(sign(keys.rsa2048.key.id, "SHA_256_RSA_PKCS1_V1_5", b64("not a 32-byte digest"), { messageType: "DIGEST" }), {
    status: 400,
    what: "DIGEST of the wrong length",
  });
  await expectOciError(sign(keys.rsa2048.key.id, "SHA_256_RSA_PKCS1_V1_5", b64("m"), { messageType: "HASHED" }), {
    status: 400,
    message: /messageType/,
    what: "bad messageType",
  });
});

test("after CreateKeyVersion: signatures use the new version (its own public key); old signatures still verify with the old version", async () => {
  const { key, version: old } = keys.p256;
  const c = w.crypto(v);
  const message = Buffer.from("signed before rotation");
  const before = await c.sign({ signDataDetails: { keyId: key.id, message: message.toString("base64"), signingAlgorithm: "ECDSA_SHA_256" } });
  const kv2 = (await w.mgmt(v).createKeyVersion({ keyId: key.id })).keyVersion;
  await waitFor(
    () => w.mgmt(v).getKey({ keyId: key.id }),
    (g) => g.key.currentKeyVersion === kv2.id,
    { what: "rotation" },
  );
  const nv = (await w.mgmt(v).getKeyVersion({ keyId: key.id, keyVersionId: kv2.id })).keyVersion;
  assert.notEqual(nv.publicKey, old.publicKey, "a new key version has a new key pair");
  const after = await c.sign({ signDataDetails: { keyId: key.id, message: message.toString("base64"), signingAlgorithm: "ECDSA_SHA_256" } });
  ops.sign += 2;
  assert.equal(after.signedData.keyVersionId, kv2.id);
  assert.ok(nodeVerify("ECDSA_SHA_256", nv.publicKey, message, Buffer.from(after.signedData.signature, "base64")));
  assert.equal(nodeVerify("ECDSA_SHA_256", old.publicKey, message, Buffer.from(after.signedData.signature, "base64")), false);
  const vOld = await c.verify({
    verifyDataDetails: { keyId: key.id, keyVersionId: old.id, message: message.toString("base64"), signature: before.signedData.signature, signingAlgorithm: "ECDSA_SHA_256" },
  });
  ops.verify++;
  assert.equal(vOld.verifiedData.isSignatureValid, true);
});

// ----- usage ---------------------------------------------------------------------------

test("usage report (GET /tresor/v1/usage): retrievals and KMS operations per principal and per secret, cost, callers without caching", async () => {
  const g = await createGroup(w, "Apps");
  const app = await createUser(w, "app", [g]);
  await createPolicy(w, "apps", ["Allow group Apps to read secret-family in tenancy", "Allow group Apps to use keys in tenancy"]);
  const aes = (await createKey(w, v)).key;
  const s1 = (await createSecret(w, v, aes, { content: "usage one" })).secret;
  const s2 = (await createSecret(w, v, aes, { content: "usage two" })).secret;
  // app: 61 reads of s1 within the hour (no caching), 2 of s2, 3 Encrypt + 1 Decrypt + 1 GDEK.
  for (let i = 0; i < 61; i++) await app.secrets.getSecretBundle({ secretId: s1.id });
  await app.secrets.getSecretBundle({ secretId: s2.id });
  await app.secrets.getSecretBundleByName({ secretName: s2.secretName, vaultId: v.id });
  const ac = app.crypto(v);
  let ct;
  for (let i = 0; i < 3; i++) ct = (await ac.encrypt({ encryptDataDetails: { keyId: aes.id, plaintext: b64(`p${i}`) } })).encryptedData.ciphertext;
  await ac.decrypt({ decryptDataDetails: { keyId: aes.id, ciphertext: ct } });
  await ac.generateDataEncryptionKey({ generateKeyDetails: { keyId: aes.id, keyShape: { algorithm: "AES", length: 32 }, includePlaintextKey: false } });

  const u = await tresorOk(w, "GET", "/tresor/v1/usage");
  const mine = u.byPrincipal?.[app.user.id];
  assert.ok(mine, `app in byPrincipal: ${JSON.stringify(u).slice(0, 800)}`);
  assert.equal(mine.secretRetrievals, 63);
  assert.equal(mine.kmsOperations, 5);
  const admin = u.byPrincipal[w.cfg.user];
  assert.ok(admin, "the administrator's calls are counted too");
  assert.equal(admin.kmsOperations ?? 0, ops.sign + ops.verify, `admin KMS operations = Sign + Verify calls of this file (${JSON.stringify(ops)})`);
  assert.equal(u.byTarget?.[s1.id]?.secretRetrievals, 61);
  assert.equal(u.byTarget?.[s2.id]?.secretRetrievals, 2);
  assert.equal(u.secretRetrievals, 63 + (admin.secretRetrievals ?? 0));
  assert.equal(u.kmsOperations, 5 + ops.sign + ops.verify);
  assert.equal(u.estimatedCostUsd, 0, "under 10,000 calls a month is free");
  const flagged = JSON.stringify(u.callersWithoutCaching);
  assert.ok(flagged.includes(app.user.id), `app read one secret 61 times in an hour: ${flagged}`);
  assert.ok(!flagged.includes(w.cfg.user), `the admin did not: ${flagged}`);
  assert.match(flagged, /cach/i, "with the advice to cache");

  // A window that ends before these calls counts none of them; a caller without read vaults is refused.
  const old = await tresorOk(w, "GET", `/tresor/v1/usage?timeStart=2020-01-01T00:00:00Z&timeEnd=2020-02-01T00:00:00Z`);
  assert.equal(old.secretRetrievals, 0);
  assert.equal(old.kmsOperations, 0);
  const bad = await tresorApi(w, "GET", "/tresor/v1/usage?timeStart=yesterday");
  assert.equal(bad.status, 400, bad.text);
  const g2 = await createGroup(w, "Nobody");
  const nobody = await createUser(w, "nobody", [g2]);
  const denied = await tresorApi(w, "GET", "/tresor/v1/usage", undefined, { auth: nobody.auth });
  assert.equal(denied.status, 404, denied.text);
});

test("no SDK call needed a retry", () => assertNoSdkRetries());
