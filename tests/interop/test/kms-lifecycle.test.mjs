// Issue 5, keys and vaults through the SDK (server with --enable-test-clock): a disabled
// key or one pending deletion blocks reads of its secrets with a 409 naming the key and its
// state; key and vault deletion windows, cancel and cascade; key rotation keeps every old
// ciphertext and secret version readable; the re-wrap endpoint
// (POST /tresor/v1/keys/{id}/actions/rewrapSecretVersions) interrupted by its limit and by
// a server restart, then resumed to completion, with reads served throughout.

import { after, before, test } from "node:test";

import { createGroup, createPolicy, createUser } from "../lib/iam.mjs";
import { clientsFor, serveDataDir } from "../lib/server.mjs";
import {
  DAY,
  NO_RETRY,
  assert,
  assertNoSdkRetries,
  b64,
  createKey,
  createSecret,
  createVault,
  expectOciError,
  runMaintenance,
  setClockOffset,
  startWorld,
  stopWorld,
  tresorApi,
  tresorOk,
  unb64,
  waitFor,
} from "../lib/world.mjs";

let w;
let offset = 0;
let serverNow = Date.now();

before(async () => {
  w = await startWorld("kmslife", { serveArgs: ["--enable-test-clock", "--maintenance-interval", "86400"] });
});

after(async () => {
  await stopWorld(w);
});

async function advance(days) {
  offset += Math.round(days * DAY);
  serverNow = Date.parse((await setClockOffset(w, offset)).now);
}

const bundle = (secretId) => w.secrets.getSecretBundle({ secretId, retryConfiguration: NO_RETRY });
const text = (b) => unb64(b.secretBundle.secretBundleContent.content);

async function keyState(v, keyId, state) {
  return (
    await waitFor(
      () => w.mgmt(v).getKey({ keyId }),
      (g) => g.key.lifecycleState === state,
      { what: `key ${keyId} ${state}` },
    )
  ).key;
}

/** Reads of a secret under a key that is not ENABLED: 409 (not IncorrectState) naming the key and state. */
async function expectBlocked(secret, key, state, what) {
  for (const [how, call] of [
    ["GetSecretBundle", () => bundle(secret.id)],
    ["GetSecretBundleByName", () => w.secrets.getSecretBundleByName({ secretName: secret.secretName, vaultId: secret.vaultId, retryConfiguration: NO_RETRY })],
  ]) {
    const e = await expectOciError(call(), { status: 409, what: `${what}: ${how}` });
    assert.notEqual(e.serviceCode, "IncorrectState", `${what}: a key state is not transient; the SDK would retry IncorrectState for ~95 s`);
    assert.ok(e.message.includes(key.id), `${what}: names the key ${key.id}: ${e.message}`);
    assert.match(e.message, new RegExp(state), `${what}: names the state ${state}`);
  }
}

test("DisableKey blocks reading its secrets (409 naming the key and DISABLED), and new versions; EnableKey restores; other keys unaffected", async () => {
  const v = (await createVault(w)).vault;
  const k = (await createKey(w, v)).key;
  const k2 = (await createKey(w, v)).key;
  const s = (await createSecret(w, v, k, { content: "under k" })).secret;
  const s2 = (await createSecret(w, v, k2, { content: "under k2" })).secret;
  await w.mgmt(v).disableKey({ keyId: k.id });
  await keyState(v, k.id, "DISABLED");
  await expectBlocked(s, k, "DISABLED", "disabled key");
  await expectOciError(
    w.vaults.updateSecret({ secretId: s.id, updateSecretDetails: { secretContent: { contentType: "BASE64", content: b64("x") } }, retryConfiguration: NO_RETRY }),
    { status: 409, what: "UpdateSecret with new content under a disabled key" },
  );
  await expectOciError(
    w.crypto(v).encrypt({ encryptDataDetails: { keyId: k.id, plaintext: b64("x") }, retryConfiguration: NO_RETRY }),
    { status: [400, 409], what: "Encrypt with a disabled key" },
  );
  assert.equal(text(await bundle(s2.id)), "under k2");
  await w.mgmt(v).enableKey({ keyId: k.id });
  await keyState(v, k.id, "ENABLED");
  assert.equal(text(await bundle(s.id)), "under k");
});

test("ScheduleKeyDeletion: window 7..30 days (default 30); reads blocked while PENDING_DELETION; cancel restores; the reaper deletes the key at its time", async () => {
  const v = (await createVault(w)).vault;
  const k = (await createKey(w, v)).key;
  const s = (await createSecret(w, v, k, { content: "key goes" })).secret;
  const mgmt = w.mgmt(v);
  for (const days of [6, 31]) {
    await expectOciError(
      mgmt.scheduleKeyDeletion({ keyId: k.id, scheduleKeyDeletionDetails: { timeOfDeletion: new Date(serverNow + days * DAY * 1000) }, retryConfiguration: NO_RETRY }),
      { status: 400, message: /timeOfDeletion/, what: `key deletion in ${days} days` },
    );
  }
  assert.equal((await mgmt.getKey({ keyId: k.id })).key.lifecycleState, "ENABLED");
  const d = await mgmt.scheduleKeyDeletion({ keyId: k.id, scheduleKeyDeletionDetails: {} });
  const pending = await keyState(v, k.id, "PENDING_DELETION");
  assert.ok(Math.abs(Date.parse(pending.timeOfDeletion) - (serverNow + 30 * DAY * 1000)) < 120000, `default 30 days: ${pending.timeOfDeletion}`);
  assert.ok(d.key);
  await expectBlocked(s, k, "PENDING_DELETION", "key pending deletion");
  await mgmt.cancelKeyDeletion({ keyId: k.id });
  await keyState(v, k.id, "ENABLED");
  assert.equal(text(await bundle(s.id)), "key goes");

  await mgmt.scheduleKeyDeletion({ keyId: k.id, scheduleKeyDeletionDetails: { timeOfDeletion: new Date(serverNow + 7 * DAY * 1000 + 60000) } });
  await advance(6);
  await runMaintenance(w);
  assert.equal((await mgmt.getKey({ keyId: k.id })).key.lifecycleState, "PENDING_DELETION", "not due yet");
  await advance(2);
  await runMaintenance(w);
  const gone = await mgmt.getKey({ keyId: k.id, retryConfiguration: NO_RETRY }).then(
    (r) => r.key.lifecycleState,
    (e) => e.statusCode,
  );
  assert.ok(gone === "DELETED" || gone === 404, `after the reaper: ${gone}`);
  const o = await bundle(s.id).then(
    () => 200,
    (e) => e.statusCode,
  );
  assert.notEqual(o, 200, "a secret whose key is deleted can never be read again");
  await expectOciError(mgmt.cancelKeyDeletion({ keyId: k.id, retryConfiguration: NO_RETRY }), { status: [404, 409], what: "cancel after deletion" });
});

test("ScheduleVaultDeletion: window 7..30 days; its keys go PENDING_DELETION with it (reads blocked); cancel restores vault and keys", async () => {
  const v = (await createVault(w)).vault;
  const k = (await createKey(w, v)).key;
  const s = (await createSecret(w, v, k, { content: "vault goes" })).secret;
  await expectOciError(
    w.kmsVault.scheduleVaultDeletion({ vaultId: v.id, scheduleVaultDeletionDetails: { timeOfDeletion: new Date(serverNow + 3 * DAY * 1000) }, retryConfiguration: NO_RETRY }),
    { status: 400, message: /timeOfDeletion/, what: "vault deletion in 3 days" },
  );
  await w.kmsVault.scheduleVaultDeletion({ vaultId: v.id, scheduleVaultDeletionDetails: {} });
  const gv = await waitFor(
    () => w.kmsVault.getVault({ vaultId: v.id }),
    (g) => g.vault.lifecycleState === "PENDING_DELETION",
    { what: "vault PENDING_DELETION" },
  );
  assert.ok(Math.abs(Date.parse(gv.vault.timeOfDeletion) - (serverNow + 30 * DAY * 1000)) < 120000);
  const kk = await keyState(v, k.id, "PENDING_DELETION");
  assert.ok(kk.timeOfDeletion);
  const e = await expectOciError(bundle(s.id), { status: 409, what: "read in a vault pending deletion" });
  assert.notEqual(e.serviceCode, "IncorrectState");
  await expectOciError(
    w.vaults.createSecret({
      createSecretDetails: { compartmentId: w.tenancy, vaultId: v.id, keyId: k.id, secretName: "late", secretContent: { contentType: "BASE64", content: b64("x") } },
      retryConfiguration: NO_RETRY,
    }),
    { status: [400, 409], what: "CreateSecret in a vault pending deletion" },
  );
  await w.kmsVault.cancelVaultDeletion({ vaultId: v.id });
  await waitFor(
    () => w.kmsVault.getVault({ vaultId: v.id }),
    (g) => g.vault.lifecycleState === "ACTIVE",
    { what: "vault ACTIVE" },
  );
  await keyState(v, k.id, "ENABLED");
  assert.equal(text(await bundle(s.id)), "vault goes");
});

// ----- rotation and re-wrap -------------------------------------------------------------------

const st = {};

test("CreateKeyVersion: old ciphertexts (with associatedData) and secret versions made under the old version still decrypt; new ones use the new version", async () => {
  st.v = (await createVault(w)).vault;
  st.k = (await createKey(w, st.v)).key;
  st.kv1 = st.k.currentKeyVersion;
  const c = w.crypto(st.v);
  st.ct1 = (await c.encrypt({ encryptDataDetails: { keyId: st.k.id, plaintext: b64("old ct"), associatedData: { tenant: "t1" } } })).encryptedData;
  assert.equal(st.ct1.keyVersionId, st.kv1);
  st.secrets = [];
  for (let i = 0; i < 5; i++) {
    const s = (await createSecret(w, st.v, st.k, { content: `rw-${i}-v1` })).secret;
    if (i % 2 === 0) {
      await w.vaults.updateSecret({ secretId: s.id, updateSecretDetails: { secretContent: { contentType: "BASE64", content: b64(`rw-${i}-v2`) } } });
    }
    st.secrets.push(s);
  }
  st.oldVersions = 5 + 3; // versions made under kv1
  st.kv2 = (await w.mgmt(st.v).createKeyVersion({ keyId: st.k.id })).keyVersion.id;
  await waitFor(
    () => w.mgmt(st.v).getKey({ keyId: st.k.id }),
    (g) => g.key.currentKeyVersion === st.kv2,
    { what: "rotation" },
  );
  const d = await c.decrypt({ decryptDataDetails: { keyId: st.k.id, ciphertext: st.ct1.ciphertext, associatedData: { tenant: "t1" } } });
  assert.equal(unb64(d.decryptedData.plaintext), "old ct");
  assert.equal(d.decryptedData.keyVersionId, st.kv1);
  const e2 = (await c.encrypt({ encryptDataDetails: { keyId: st.k.id, plaintext: b64("new ct") } })).encryptedData;
  assert.equal(e2.keyVersionId, st.kv2);
  for (const [i, s] of st.secrets.entries()) {
    assert.equal(text(await bundle(s.id)), i % 2 === 0 ? `rw-${i}-v2` : `rw-${i}-v1`);
  }
  // A version made after the rotation (not to be re-wrapped).
  await w.vaults.updateSecret({ secretId: st.secrets[1].id, updateSecretDetails: { secretContent: { contentType: "BASE64", content: b64("rw-1-v2") } } });
});

const rewrap = (query = "") => tresorApi(w, "POST", `/tresor/v1/keys/${st.k.id}/actions/rewrapSecretVersions${query}`);

test("re-wrap: only with manage keys; an unknown key → 404", async () => {
  const g = await createGroup(w, "KeyUsers");
  const u = await createUser(w, "keyuser", [g]);
  await createPolicy(w, "keyusers", ["Allow group KeyUsers to use keys in tenancy"]);
  const r = await tresorApi(w, "POST", `/tresor/v1/keys/${st.k.id}/actions/rewrapSecretVersions`, undefined, { auth: u.auth });
  assert.equal(r.status, 404, r.text);
  const n = await tresorApi(w, "POST", `/tresor/v1/keys/ocid1.key.oc1.xx-local-1.nosuchkey/actions/rewrapSecretVersions`);
  assert.equal(n.status, 404, n.text);
  assert.equal(n.json?.code, "NotAuthorizedOrNotFound");
});

test("re-wrap interrupted by its limit, then by a server restart, resumed to completion; reads answer between every step", async () => {
  const all = st.oldVersions;
  const step1 = await rewrap("?limit=3");
  assert.equal(step1.status, 200, step1.text);
  assert.deepEqual(
    { ...step1.json },
    { keyId: st.k.id, keyVersionId: st.kv2, rewrapped: 3, remaining: all - 3, complete: false },
  );
  for (const s of st.secrets) await bundle(s.id);

  // "Interrupted": the server stops between two steps (SIGTERM, exit 0) and starts again.
  const r = await w.srv.stop("SIGTERM");
  assert.deepEqual({ code: r.code, signal: r.signal ?? null }, { code: 0, signal: null }, w.srv.logTail());
  const { parent, dir, port, base, serveArgs } = w.srv;
  w.srv = await serveDataDir({ parent, dir, port, base, serveArgs });
  Object.assign(w, clientsFor(w.srv));
  await setClockOffset(w, offset); // the test clock does not survive a restart

  const step2 = (await rewrap("?limit=3")).json;
  assert.deepEqual({ rewrapped: step2.rewrapped, remaining: step2.remaining, complete: step2.complete }, { rewrapped: 3, remaining: all - 6, complete: false });
  const step3 = (await rewrap()).json;
  assert.deepEqual({ rewrapped: step3.rewrapped, remaining: step3.remaining, complete: step3.complete }, { rewrapped: all - 6, remaining: 0, complete: true });
  const step4 = (await rewrap()).json;
  assert.deepEqual({ rewrapped: step4.rewrapped, remaining: step4.remaining, complete: step4.complete }, { rewrapped: 0, remaining: 0, complete: true }, "idempotent");
  for (const [i, s] of st.secrets.entries()) {
    const want = i % 2 === 0 || i === 1 ? `rw-${i}-v2` : `rw-${i}-v1`;
    assert.equal(text(await bundle(s.id)), want);
    assert.equal(text(await w.secrets.getSecretBundle({ secretId: s.id, versionNumber: 1 })), `rw-${i}-v1`);
  }
  const bad = await rewrap("?limit=0");
  assert.equal(bad.status, 400, bad.text);
});

test("after re-wrap, deleting the old key version leaves every secret readable; only ciphertexts of that version stop decrypting", async () => {
  const mgmt = w.mgmt(st.v);
  const sched = await mgmt
    .scheduleKeyVersionDeletion({
      keyId: st.k.id,
      keyVersionId: st.kv1,
      scheduleKeyVersionDeletionDetails: { timeOfDeletion: new Date(serverNow + 7 * DAY * 1000 + 60000) },
      retryConfiguration: NO_RETRY,
    })
    .then(
      (r) => r,
      (e) => e,
    );
  assert.ok(!(sched instanceof Error) && !sched.statusCode, `ScheduleKeyVersionDeletion(old version): ${sched?.statusCode} ${sched?.message}`);
  await advance(8);
  await runMaintenance(w);
  const kv = await mgmt.getKeyVersion({ keyId: st.k.id, keyVersionId: st.kv1, retryConfiguration: NO_RETRY }).then(
    (r) => r.keyVersion.lifecycleState,
    (e) => e.statusCode,
  );
  assert.ok(kv === "DELETED" || kv === 404, `old key version after the reaper: ${kv}`);
  for (const [i, s] of st.secrets.entries()) {
    assert.equal(text(await w.secrets.getSecretBundle({ secretId: s.id, versionNumber: 1 })), `rw-${i}-v1`, "re-wrapped versions do not need the old key version");
  }
  await expectOciError(
    w.crypto(st.v).decrypt({ decryptDataDetails: { keyId: st.k.id, ciphertext: st.ct1.ciphertext, associatedData: { tenant: "t1" } }, retryConfiguration: NO_RETRY }),
    { status: "4xx", what: "Decrypt of a ciphertext of the deleted key version" },
  );
});

test("no SDK call needed a retry", () => assertNoSdkRetries());
