// Issue 5, the life of a secret through the SDK, on a server started with
// --enable-test-clock (docs/api/tresor-v1.md "Testing switches"): the tests move the
// server's clock and run the reaper and the rotation scheduler on demand, never sleep.
//
// Stage moves and rollback; the expiry rule (interval and absolute, blocking or not); the
// reuse rule (with and without deleted versions); scheduled deletion of secrets and secret
// versions with OCI's windows, cancel, and the reaper; generated secrets (PASSPHRASE,
// BYTES, SSH_KEY) and scheduled rotation keeping the OCID.
//
// The clock only moves forward in this file: `advance(days)` adds to the offset.

import { after, before, test } from "node:test";
import crypto from "node:crypto";

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
  listAll,
  runMaintenance,
  setClockOffset,
  startWorld,
  stopWorld,
  tresorApi,
  unb64,
  uniq,
} from "../lib/world.mjs";

let w, v, k;
let offset = 0; // seconds the server's clock is ahead of real time
let serverNow = Date.now(); // the server's clock (ms), as of the last move

before(async () => {
  // Automatic maintenance once a day (real time): only the tests run it, so "not yet due" is testable.
  w = await startWorld("seclife", { serveArgs: ["--enable-test-clock", "--maintenance-interval", "86400"] });
  v = (await createVault(w)).vault;
  k = (await createKey(w, v)).key;
});

after(async () => {
  await stopWorld(w);
});

async function advance(days) {
  offset += Math.round(days * DAY);
  const j = await setClockOffset(w, offset);
  serverNow = Date.parse(j.now);
  assert.ok(Math.abs(serverNow - (Date.now() + offset * 1000)) < 60000, `clock answer: ${JSON.stringify(j)}`);
}

const content = (text, extra = {}) => ({ secretContent: { contentType: "BASE64", content: b64(text), ...extra } });
const update = (id, details) => w.vaults.updateSecret({ secretId: id, updateSecretDetails: details, retryConfiguration: NO_RETRY });
const bundle = (secretId, extra = {}) => w.secrets.getSecretBundle({ secretId, retryConfiguration: NO_RETRY, ...extra });
const text = (b) => unb64(b.secretBundle.secretBundleContent.content);
async function stagesOf(id) {
  const vs = await listAll((r) => w.vaults.listSecretVersions(r), { secretId: id });
  return Object.fromEntries(vs.map((x) => [x.versionNumber, [...(x.stages ?? [])].sort().join("+")]));
}

// ----- stages ----------------------------------------------------------------------------

test("stages: PENDING version readable by stage; promote with currentVersionNumber; DEPRECATED past PREVIOUS", async () => {
  const s = (await createSecret(w, v, k, { content: "v1" })).secret;
  await update(s.id, content("v2"));
  await update(s.id, content("v3 pending", { stage: "PENDING" }));
  assert.deepEqual(await stagesOf(s.id), { 1: "PREVIOUS", 2: "CURRENT", 3: "LATEST+PENDING" });
  assert.equal(text(await bundle(s.id)), "v2");
  assert.equal(text(await bundle(s.id, { stage: "PENDING" })), "v3 pending");
  assert.equal(text(await bundle(s.id, { stage: "LATEST" })), "v3 pending");
  const p = await update(s.id, { currentVersionNumber: 3 });
  assert.equal(p.secret.currentVersionNumber, 3);
  assert.deepEqual(await stagesOf(s.id), { 1: "DEPRECATED", 2: "PREVIOUS", 3: "CURRENT+LATEST" });
  assert.equal(text(await bundle(s.id)), "v3 pending");
  assert.equal(text(await bundle(s.id, { stage: "DEPRECATED" })), "v1");
});

test("rollback: currentVersionNumber to an older version makes it CURRENT without a new version; every version stays readable", async () => {
  const s = (await createSecret(w, v, k, { content: "r1" })).secret;
  await update(s.id, content("r2"));
  await update(s.id, content("r3"));
  const etag = (await w.vaults.getSecret({ secretId: s.id })).etag;
  const r = await update(s.id, { currentVersionNumber: 1 });
  assert.equal(r.secret.currentVersionNumber, 1);
  assert.notEqual((await w.vaults.getSecret({ secretId: s.id })).etag, etag);
  assert.deepEqual(await stagesOf(s.id), { 1: "CURRENT", 2: "DEPRECATED", 3: "LATEST+PREVIOUS" });
  assert.equal(text(await bundle(s.id)), "r1");
  assert.equal(text(await bundle(s.id, { stage: "PREVIOUS" })), "r3");
  for (const [n, want] of [[1, "r1"], [2, "r2"], [3, "r3"]]) assert.equal(text(await bundle(s.id, { versionNumber: n })), want);
  // Forward again to 3, and new content after a rollback gets number 4.
  await update(s.id, { currentVersionNumber: 3 });
  assert.equal(text(await bundle(s.id)), "r3");
  const n4 = await update(s.id, content("r4"));
  assert.equal(n4.secret.currentVersionNumber, 4);
  // Refusals: an unknown version, content and currentVersionNumber together; nothing changes.
  const before = await stagesOf(s.id);
  await expectOciError(update(s.id, { currentVersionNumber: 99 }), { status: [400, 404], what: "rollback to version 99" });
  await expectOciError(update(s.id, { currentVersionNumber: 1, ...content("both") }), { status: 400, what: "content + currentVersionNumber" });
  assert.deepEqual(await stagesOf(s.id), before);
});

// ----- expiry rule -------------------------------------------------------------------------

const expiryRule = (extra) => ({ ruleType: "SECRET_EXPIRY_RULE", ...extra });

test("expiry rule, blocking: after the version's interval GetSecretBundle → 409 naming the version and when it expired; a new version reads again", async () => {
  const s = (
    await createSecret(w, v, k, {
      content: "expires",
      secretRules: [expiryRule({ secretVersionExpiryInterval: "P1D", isSecretContentRetrievalBlockedOnExpiry: true })],
    })
  ).secret;
  const g = await w.vaults.getSecret({ secretId: s.id });
  assert.equal(g.secret.secretRules?.[0]?.ruleType, "SECRET_EXPIRY_RULE");
  const expiry = Date.parse(g.secret.timeOfCurrentVersionExpiry);
  assert.ok(Math.abs(expiry - (serverNow + DAY * 1000)) < 120000, `timeOfCurrentVersionExpiry ≈ created + 1 day: ${g.secret.timeOfCurrentVersionExpiry}`);
  assert.equal(text(await bundle(s.id)), "expires");

  await advance(2);
  const e = await expectOciError(bundle(s.id), { status: 409, what: "read after expiry" });
  assert.notEqual(e.serviceCode, "IncorrectState", "a permanent refusal must not be the 409 the SDK retries");
  assert.match(e.message, /expired/);
  assert.match(e.message, /version 1\b/);
  assert.ok(e.message.includes(new Date(expiry).toISOString().slice(0, 16)), `names when: ${e.message}`);
  await expectOciError(w.secrets.getSecretBundleByName({ secretName: s.secretName, vaultId: v.id, retryConfiguration: NO_RETRY }), {
    status: 409,
    what: "by name after expiry",
  });
  // metadata is still there
  assert.equal((await w.vaults.getSecret({ secretId: s.id })).secret.lifecycleState, "ACTIVE");
  await update(s.id, content("fresh"));
  assert.equal(text(await bundle(s.id)), "fresh");
  await expectOciError(bundle(s.id, { versionNumber: 1 }), { status: 409, what: "expired version 1 by number" });
});

test("expiry rule, not blocking: an expired version is still returned, with its timeOfExpiry", async () => {
  const s = (
    await createSecret(w, v, k, {
      content: "soft",
      secretRules: [expiryRule({ secretVersionExpiryInterval: "P1D", isSecretContentRetrievalBlockedOnExpiry: false })],
    })
  ).secret;
  await advance(2);
  const b = await bundle(s.id);
  assert.equal(text(b), "soft");
  assert.ok(Date.parse(b.secretBundle.timeOfExpiry) < serverNow, `timeOfExpiry in the past: ${b.secretBundle.timeOfExpiry}`);
});

test("expiry rule with timeOfAbsoluteExpiry: blocked after that time, for every version", async () => {
  const abs = new Date(serverNow + 3 * DAY * 1000).toISOString();
  const s = (
    await createSecret(w, v, k, {
      content: "abs",
      secretRules: [expiryRule({ timeOfAbsoluteExpiry: abs, isSecretContentRetrievalBlockedOnExpiry: true })],
    })
  ).secret;
  await advance(1);
  assert.equal(text(await bundle(s.id)), "abs");
  await advance(3);
  const e = await expectOciError(bundle(s.id), { status: 409, what: "after the absolute expiry" });
  assert.match(e.message, /expired/);
});

test("expiry rule errors: interval outside P1D..P90D, absolute expiry outside 1..365 days, two expiry rules → 400, nothing created", async () => {
  const bad = [
    [expiryRule({ secretVersionExpiryInterval: "P91D" })],
    [expiryRule({ secretVersionExpiryInterval: "P0D" })],
    [expiryRule({ timeOfAbsoluteExpiry: new Date(serverNow + 400 * DAY * 1000).toISOString() })],
    [expiryRule({ timeOfAbsoluteExpiry: new Date(serverNow - DAY * 1000).toISOString() })],
    [expiryRule({ secretVersionExpiryInterval: "P2D" }), expiryRule({ secretVersionExpiryInterval: "P3D" })],
  ];
  for (const secretRules of bad) {
    const name = uniq("badrule");
    await expectOciError(
      w.vaults.createSecret({
        createSecretDetails: { compartmentId: w.tenancy, vaultId: v.id, keyId: k.id, secretName: name, ...content("x"), secretRules },
        retryConfiguration: NO_RETRY,
      }),
      { status: 400, what: `secretRules ${JSON.stringify(secretRules)}` },
    );
    const l = await w.vaults.listSecrets({ compartmentId: w.tenancy, name });
    assert.equal(l.items.length, 0);
  }
});

// ----- reuse rule ---------------------------------------------------------------------------

const reuseRule = (onDeleted) => ({ ruleType: "SECRET_REUSE_RULE", isEnforcedOnDeletedSecretVersions: onDeleted });

test("reuse rule: content equal to an earlier version's → 400 naming the rule and the version; no version made; other content fine", async () => {
  const s = (await createSecret(w, v, k, { content: "alpha", secretRules: [reuseRule(false)] })).secret;
  await update(s.id, content("beta"));
  const before = await stagesOf(s.id);
  const e = await expectOciError(update(s.id, content("alpha")), { status: 400, what: "reuse of v1's content" });
  assert.match(e.message, /reuse/);
  assert.match(e.message, /version 1\b/);
  assert.ok(!e.message.includes("alpha"), "the error does not echo the content");
  assert.deepEqual(await stagesOf(s.id), before);
  await expectOciError(update(s.id, content("beta", { stage: "PENDING" })), { status: 400, what: "reuse of the current content as PENDING" });
  assert.equal((await update(s.id, content("gamma"))).secret.currentVersionNumber, 3);
  // Without a reuse rule the same content may repeat.
  const free = (await createSecret(w, v, k, { content: "same" })).secret;
  assert.equal((await update(free.id, content("same"))).secret.currentVersionNumber, 2);
});

// ----- deletion windows and the reaper ---------------------------------------------------------

test("secret deletion: window 1..30 days (default 30); before the time the reaper leaves it; after, the secret is DELETED/gone and its name free", async () => {
  const s = (await createSecret(w, v, k, { content: "to delete" })).secret;
  // default window
  await w.vaults.scheduleSecretDeletion({ secretId: s.id, scheduleSecretDeletionDetails: {} });
  let g = await w.vaults.getSecret({ secretId: s.id });
  assert.equal(g.secret.lifecycleState, "PENDING_DELETION");
  assert.ok(Math.abs(Date.parse(g.secret.timeOfDeletion) - (serverNow + 30 * DAY * 1000)) < 120000, `default 30 days: ${g.secret.timeOfDeletion}`);
  await w.vaults.cancelSecretDeletion({ secretId: s.id });
  // a window of 2 days
  const when = new Date(serverNow + 2 * DAY * 1000);
  await w.vaults.scheduleSecretDeletion({ secretId: s.id, scheduleSecretDeletionDetails: { timeOfDeletion: when } });
  g = await w.vaults.getSecret({ secretId: s.id });
  assert.equal(Date.parse(g.secret.timeOfDeletion), when.getTime());

  await advance(1);
  await runMaintenance(w);
  g = await w.vaults.getSecret({ secretId: s.id });
  assert.equal(g.secret.lifecycleState, "PENDING_DELETION", "not due yet: the reaper leaves it");
  const e = await expectOciError(bundle(s.id), { status: 409, code: "IncorrectState", what: "read while pending deletion" });
  assert.match(e.message, /PENDING_DELETION/);

  await advance(2);
  const m = await runMaintenance(w);
  assert.ok(m.jobsDone >= 1, JSON.stringify(m));
  const after = await w.vaults.getSecret({ secretId: s.id, retryConfiguration: NO_RETRY }).then(
    (r) => r.secret.lifecycleState,
    (err) => err.statusCode,
  );
  assert.ok(after === "DELETED" || after === 404, `after the reaper: ${after}`);
  await expectOciError(bundle(s.id), { status: 404, what: "content of a reaped secret" });
  const active = await w.vaults.listSecrets({ compartmentId: w.tenancy, name: s.secretName, lifecycleState: "ACTIVE" });
  assert.equal(active.items.length, 0);
  const again = (await createSecret(w, v, k, { name: s.secretName, content: "new life" })).secret;
  assert.notEqual(again.id, s.id);
  assert.equal(text(await bundle(again.id)), "new life");
});

test("secret version deletion: only DEPRECATED versions; cancel restores; the reaper removes the version at its time", async () => {
  const s = (await createSecret(w, v, k, { content: "d1" })).secret;
  await update(s.id, content("d2"));
  await update(s.id, content("d3"));
  assert.deepEqual(await stagesOf(s.id), { 1: "DEPRECATED", 2: "PREVIOUS", 3: "CURRENT+LATEST" });
  const sched = (n, timeOfDeletion) =>
    w.vaults.scheduleSecretVersionDeletion({
      secretId: s.id,
      secretVersionNumber: n,
      scheduleSecretVersionDeletionDetails: timeOfDeletion ? { timeOfDeletion } : {},
      retryConfiguration: NO_RETRY,
    });
  for (const n of [2, 3]) {
    const e = await expectOciError(sched(n), { status: [400, 409], what: `schedule deletion of version ${n} (in use)` });
    assert.match(e.message, /DEPRECATED|in use/);
  }
  await sched(1);
  let v1 = (await w.vaults.getSecretVersion({ secretId: s.id, secretVersionNumber: 1 })).secretVersion;
  assert.ok(v1.timeOfDeletion, "timeOfDeletion set");
  await w.vaults.cancelSecretVersionDeletion({ secretId: s.id, secretVersionNumber: 1 });
  v1 = (await w.vaults.getSecretVersion({ secretId: s.id, secretVersionNumber: 1 })).secretVersion;
  assert.ok(!v1.timeOfDeletion, `cancel clears timeOfDeletion: ${v1.timeOfDeletion}`);

  await sched(1, new Date(serverNow + 2 * DAY * 1000));
  await advance(1);
  await runMaintenance(w);
  v1 = (await w.vaults.getSecretVersion({ secretId: s.id, secretVersionNumber: 1 })).secretVersion;
  assert.ok(v1.timeOfDeletion, "not due yet: the version is still there, pending deletion");
  const pend = await expectOciError(bundle(s.id, { versionNumber: 1 }), { status: [404, 409], what: "content of a version pending deletion" });
  assert.notEqual(pend.serviceCode, "IncorrectState", "a version pending deletion will not become readable by waiting");
  await advance(2);
  await runMaintenance(w);
  const left = await stagesOf(s.id);
  assert.ok(!("1" in left) || left[1] === "", `version 1 is gone from the list: ${JSON.stringify(left)}`);
  await expectOciError(bundle(s.id, { versionNumber: 1 }), { status: 404, what: "reaped version 1" });
  assert.equal(text(await bundle(s.id)), "d3");
  assert.equal(text(await bundle(s.id, { versionNumber: 2 })), "d2");
});

test("reuse rule over deleted versions: isEnforcedOnDeletedSecretVersions true refuses a reaped version's content; false allows it", async () => {
  const mk = async (onDeleted) => {
    const s = (await createSecret(w, v, k, { content: "old-one", secretRules: [reuseRule(onDeleted)] })).secret;
    await update(s.id, content("two"));
    await update(s.id, content("three"));
    await w.vaults.scheduleSecretVersionDeletion({
      secretId: s.id,
      secretVersionNumber: 1,
      scheduleSecretVersionDeletionDetails: { timeOfDeletion: new Date(serverNow + DAY * 1000 + 60000) },
    });
    return s;
  };
  const strict = await mk(true);
  const loose = await mk(false);
  // While version 1 is only pending deletion, the loose rule ignores it and the strict one does not.
  await expectOciError(update(strict.id, content("old-one")), { status: 400, message: /reuse/, what: "strict, v1 pending deletion" });
  await advance(2);
  await runMaintenance(w);
  await expectOciError(bundle(strict.id, { versionNumber: 1 }), { status: 404, what: "v1 reaped" });
  const e = await expectOciError(update(strict.id, content("old-one")), { status: 400, what: "strict, v1 reaped" });
  assert.match(e.message, /reuse/);
  assert.match(e.message, /deleted/);
  assert.equal((await update(loose.id, content("old-one"))).secret.currentVersionNumber, 4);
  await expectOciError(update(loose.id, content("three")), { status: 400, message: /reuse/, what: "loose, v3 still exists" });
});

// ----- generated secrets and scheduled rotation -------------------------------------------

async function createGenerated(generationContext, extra = {}) {
  const r = await w.vaults.createSecret({
    createSecretDetails: {
      compartmentId: w.tenancy,
      vaultId: v.id,
      keyId: k.id,
      secretName: uniq("gen"),
      enableAutoGeneration: true,
      secretGenerationContext: generationContext,
      ...extra,
    },
  });
  return r.secret;
}

test("generated PASSPHRASE (SECRETS_DEFAULT_PASSWORD, DBAAS_DEFAULT_PASSWORD): the asked length, mixed classes, different each time", async () => {
  for (const [generationTemplate, passphraseLength] of [
    ["SECRETS_DEFAULT_PASSWORD", 24],
    ["DBAAS_DEFAULT_PASSWORD", 20],
  ]) {
    const s = await createGenerated({ generationType: "PASSPHRASE", generationTemplate, passphraseLength });
    assert.equal(s.isAutoGenerationEnabled, true);
    const p1 = text(await bundle(s.id));
    assert.equal(p1.length, passphraseLength, `${generationTemplate}: ${JSON.stringify(p1)}`);
    for (const re of [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/]) assert.match(p1, re, `${generationTemplate} has a character of each class: ${p1}`);
    assert.ok(/^[\x21-\x7e]+$/.test(p1), "printable, no spaces");
    await w.vaults.rotateSecret({ secretId: s.id });
    const g = await w.vaults.getSecret({ secretId: s.id });
    assert.equal(g.secret.id, s.id);
    assert.equal(g.secret.currentVersionNumber, 2);
    const p2 = text(await bundle(s.id));
    assert.equal(p2.length, passphraseLength);
    assert.notEqual(p2, p1, "RotateSecret generates new content");
  }
});

test("generated versions say so: SecretVersion.isContentAutoGenerated is true (GetSecretVersion, ListSecretVersions), false for given content", async () => {
  const s = await createGenerated({ generationType: "PASSPHRASE", generationTemplate: "SECRETS_DEFAULT_PASSWORD", passphraseLength: 20 });
  await w.vaults.rotateSecret({ secretId: s.id });
  const got = {};
  for (const n of [1, 2]) got[`get v${n}`] = (await w.vaults.getSecretVersion({ secretId: s.id, secretVersionNumber: n })).secretVersion.isContentAutoGenerated;
  for (const x of await listAll((r) => w.vaults.listSecretVersions(r), { secretId: s.id })) got[`list v${x.versionNumber}`] = x.isContentAutoGenerated;
  const plain = (await createSecret(w, v, k, { content: "typed in" })).secret;
  got["given content"] = (await w.vaults.getSecretVersion({ secretId: plain.id, secretVersionNumber: 1 })).secretVersion.isContentAutoGenerated;
  assert.deepEqual(got, { "get v1": true, "get v2": true, "list v1": true, "list v2": true, "given content": false });
});

test("generated BYTES (BYTES_512, BYTES_1024) and SSH_KEY (RSA_2048): sizes and formats as OCI's templates define", async () => {
  const sizes = {};
  for (const tpl of ["BYTES_512", "BYTES_1024"]) {
    const s = await createGenerated({ generationType: "BYTES", generationTemplate: tpl });
    const b = await bundle(s.id);
    const raw = Buffer.from(b.secretBundle.secretBundleContent.content, "base64");
    sizes[tpl] = raw.length;
    assert.ok(new Set(raw).size > 16, "random bytes");
    const again = await w.vaults.rotateSecret({ secretId: s.id });
    assert.ok(again);
    assert.notDeepEqual(Buffer.from((await bundle(s.id)).secretBundle.secretBundleContent.content, "base64"), raw);
  }
  // OCI's docs name the templates only; 512 (and 1024) bytes, or bits, are both readings of the name.
  assert.ok([64, 512].includes(sizes.BYTES_512), `BYTES_512 gave ${sizes.BYTES_512} bytes`);
  assert.equal(sizes.BYTES_1024, 2 * sizes.BYTES_512);
  // SSH_KEY: by default a JSON document with the key pair (PEM), which belong together.
  const s = await createGenerated({ generationType: "SSH_KEY", generationTemplate: "RSA_2048" });
  const doc = JSON.parse(text(await bundle(s.id)));
  const key = crypto.createPrivateKey(doc.privateKey);
  assert.equal(key.asymmetricKeyType, "rsa");
  assert.equal(key.asymmetricKeyDetails.modulusLength, 2048);
  assert.equal(
    crypto.createPublicKey(doc.publicKey).export({ type: "spki", format: "pem" }),
    crypto.createPublicKey(key).export({ type: "spki", format: "pem" }),
    "publicKey is the private key's",
  );
});

test("a secretTemplate places the generated content: %GENERATED_PASSPHRASE% inside a JSON document", async () => {
  const s = await createGenerated({
    generationType: "PASSPHRASE",
    generationTemplate: "SECRETS_DEFAULT_PASSWORD",
    passphraseLength: 16,
    secretTemplate: '{"user": "app", "password": "%GENERATED_PASSPHRASE%"}',
  });
  const doc = JSON.parse(text(await bundle(s.id)));
  assert.equal(doc.user, "app");
  assert.equal(doc.password.length, 16);
  assert.ok(!doc.password.includes("%GENERATED"));
});

test("generated secrets refuse content and bad contexts: unknown template, passphrase too long → 400", async () => {
  await expectOciError(
    w.vaults.createSecret({
      createSecretDetails: {
        compartmentId: w.tenancy,
        vaultId: v.id,
        keyId: k.id,
        secretName: uniq("gen"),
        enableAutoGeneration: true,
        secretGenerationContext: { generationType: "BYTES", generationTemplate: "BYTES_9" },
      },
      retryConfiguration: NO_RETRY,
    }),
    { status: 400, what: "BYTES_9" },
  );
  await expectOciError(
    w.vaults.createSecret({
      createSecretDetails: {
        compartmentId: w.tenancy,
        vaultId: v.id,
        keyId: k.id,
        secretName: uniq("gen"),
        enableAutoGeneration: true,
        secretGenerationContext: { generationType: "PASSPHRASE", generationTemplate: "SECRETS_DEFAULT_PASSWORD", passphraseLength: 10000 },
      },
      retryConfiguration: NO_RETRY,
    }),
    { status: 400, message: /passphraseLength/, what: "passphraseLength 10000" },
  );
});

test("scheduled rotation: SCHEDULED with nextRotationTime = now + interval; when due the scheduler adds a version under the same OCID", async () => {
  const s = await createGenerated(
    { generationType: "PASSPHRASE", generationTemplate: "SECRETS_DEFAULT_PASSWORD", passphraseLength: 32 },
    {
      rotationConfig: {
        rotationInterval: "P30D",
        isScheduledRotationEnabled: true,
        targetSystemDetails: { targetSystemType: "FUNCTION", functionId: "ocid1.fnfunc.oc1..rotator" },
      },
    },
  );
  const g0 = (await w.vaults.getSecret({ secretId: s.id })).secret;
  assert.equal(g0.rotationStatus, "SCHEDULED");
  assert.ok(Math.abs(Date.parse(g0.nextRotationTime) - (serverNow + 30 * DAY * 1000)) < 120000, `next ≈ +30 days: ${g0.nextRotationTime}`);
  const p1 = text(await bundle(s.id));

  await advance(29);
  await runMaintenance(w);
  assert.equal((await w.vaults.getSecret({ secretId: s.id })).secret.currentVersionNumber, 1, "not due yet");

  await advance(2);
  await runMaintenance(w);
  const g1 = (await w.vaults.getSecret({ secretId: s.id })).secret;
  assert.equal(g1.id, s.id);
  assert.equal(g1.currentVersionNumber, 2);
  assert.ok(g1.lastRotationTime, "lastRotationTime set");
  assert.ok(Math.abs(Date.parse(g1.lastRotationTime) - serverNow) < 120000, `lastRotationTime ≈ the moved clock: ${g1.lastRotationTime}`);
  assert.ok(Math.abs(Date.parse(g1.nextRotationTime) - (Date.parse(g1.lastRotationTime) + 30 * DAY * 1000)) < 120000, `next = last + 30 days: ${g1.nextRotationTime}`);
  const p2 = text(await bundle(s.id));
  assert.notEqual(p2, p1);
  assert.equal(p2.length, 32);
  assert.equal(text(await bundle(s.id, { versionNumber: 1 })), p1, "the old version stays readable");
  // A second maintenance run right away does not rotate again (one rotation per due time).
  await runMaintenance(w);
  assert.equal((await w.vaults.getSecret({ secretId: s.id })).secret.currentVersionNumber, 2);
  // Turning scheduled rotation off: no more rotations.
  await update(s.id, {
    rotationConfig: { rotationInterval: "P30D", isScheduledRotationEnabled: false, targetSystemDetails: { targetSystemType: "FUNCTION", functionId: "ocid1.fnfunc.oc1..rotator" } },
  });
  await advance(31);
  await runMaintenance(w);
  const g2 = (await w.vaults.getSecret({ secretId: s.id })).secret;
  assert.equal(g2.currentVersionNumber, 2);
  assert.notEqual(g2.rotationStatus, "SCHEDULED");
});

test("test clock endpoints need manage policies; without --enable-test-clock they do not exist", async () => {
  const other = await startWorld("noclock");
  try {
    const r = await tresorApi(other, "PUT", "/tresor/v1/testing/clock", { offsetSeconds: 10 });
    assert.equal(r.status, 404, r.text);
    const m = await tresorApi(other, "POST", "/tresor/v1/testing/maintenance");
    assert.equal(m.status, 404, m.text);
  } finally {
    await stopWorld(other);
  }
});

test("no SDK call needed a retry", () => assertNoSdkRetries());
