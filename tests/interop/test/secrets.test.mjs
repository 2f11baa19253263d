// Secrets through the SDK: VaultsClient (CreateSecret, GetSecret, ListSecrets, UpdateSecret,
// ListSecretVersions, GetSecretVersion, ScheduleSecretDeletion, CancelSecretDeletion) and
// SecretsClient (GetSecretBundle, GetSecretBundleByName, ListSecretBundleVersions);
// version numbers and stages, etags and if-match, lifecycle states, timestamps.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";

import {
  NO_RETRY,
  assertNoSdkRetries,
  assertResp,
  assertTime,
  b64,
  createKey,
  createSecret,
  createVault,
  expectOciError,
  listAll,
  startWorld,
  stopWorld,
  uniq,
  unb64,
  waitFor,
  waitSecretActive,
} from "../lib/world.mjs";

let w, v, k;
const NAME = uniq("db-password");
const V1 = "correct horse battery staple";
const V2 = "Tr0ub4dor&3 \u00e9\u00e8 \u2603";
const V3 = "third";
let sec; // Secret from create
let etag1; // etag after create reached ACTIVE
let other; // a second secret in the same vault

before(async () => {
  w = await startWorld("secrets");
  v = (await createVault(w)).vault;
  k = (await createKey(w, v)).key;
});
after(async () => {
  await stopWorld(w);
});

const stagesOf = (x) => [...(x.stages || [])].sort();

async function versionsByNumber(secretId) {
  const items = await listAll((r) => w.vaults.listSecretVersions(r), { secretId });
  const m = {};
  for (const it of items) m[it.versionNumber] = it;
  return m;
}

test("CreateSecret with BASE64 content returns a Secret", async () => {
  const r = await w.vaults.createSecret({
    createSecretDetails: {
      compartmentId: w.tenancy,
      vaultId: v.id,
      keyId: k.id,
      secretName: NAME,
      description: "the database password",
      secretContent: { contentType: "BASE64", content: b64(V1), name: "v1", stage: "CURRENT" },
      metadata: { owner: "interop", port: 5432 },
      freeformTags: { env: "test" },
    },
  });
  assertResp(r, "CreateSecret", { etag: true });
  sec = r.secret;
  assert.match(sec.id, /^ocid1\.vaultsecret\./);
  assert.equal(sec.compartmentId, w.tenancy);
  assert.equal(sec.vaultId, v.id);
  assert.equal(sec.keyId, k.id);
  assert.equal(sec.secretName, NAME);
  assert.equal(sec.description, "the database password");
  assert.deepEqual(sec.metadata, { owner: "interop", port: 5432 });
  assert.deepEqual(sec.freeformTags, { env: "test" });
  assert.ok(["CREATING", "ACTIVE"].includes(sec.lifecycleState), sec.lifecycleState);
  assertTime(sec.timeCreated, "secret.timeCreated");
  assert.equal(sec.content, undefined, "Secret must not carry content");
  assert.equal(sec.secretContent, undefined, "Secret must not carry content");
});

test("GetSecret: ACTIVE, currentVersionNumber 1, same fields, etag", async () => {
  const g = await waitSecretActive(w, sec.id);
  assertResp(g, "GetSecret", { etag: true });
  etag1 = g.etag;
  const s = g.secret;
  for (const f of ["id", "compartmentId", "vaultId", "keyId", "secretName", "description", "timeCreated"]) {
    assert.equal(s[f], sec[f], `GetSecret.${f}`);
  }
  assert.deepEqual(s.metadata, { owner: "interop", port: 5432 });
  assert.equal(s.lifecycleState, "ACTIVE");
  assert.equal(s.currentVersionNumber, 1);
  assert.ok(!s.timeOfDeletion, "no timeOfDeletion on an ACTIVE secret");
});

test("GetSecretBundle (default = CURRENT) returns version 1's content", async () => {
  const r = await w.secrets.getSecretBundle({ secretId: sec.id });
  assertResp(r, "GetSecretBundle", { etag: true });
  const b = r.secretBundle;
  assert.equal(b.secretId, sec.id);
  assert.equal(b.versionNumber, 1);
  assert.equal(b.versionName, "v1");
  assert.equal(b.secretBundleContent.contentType, "BASE64");
  assert.equal(unb64(b.secretBundleContent.content), V1);
  assert.deepEqual(stagesOf(b), ["CURRENT", "LATEST"]);
  assertTime(b.timeCreated, "bundle.timeCreated");
});

test("ListSecrets: name filter, vault filter, lifecycleState filter, SecretSummary fields", async () => {
  other = (await createSecret(w, v, k, { name: uniq("other"), content: "x" })).secret;
  const byName = await w.vaults.listSecrets({ compartmentId: w.tenancy, name: NAME });
  assertResp(byName, "ListSecrets");
  assert.deepEqual(byName.items.map((s) => s.id), [sec.id]);
  const s = byName.items[0];
  assert.equal(s.secretName, NAME);
  assert.equal(s.vaultId, v.id);
  assert.equal(s.keyId, k.id);
  assert.equal(s.compartmentId, w.tenancy);
  assert.equal(s.lifecycleState, "ACTIVE");
  assert.equal(s.description, "the database password");
  assertTime(s.timeCreated, "SecretSummary.timeCreated");

  const byVault = await w.vaults.listSecrets({ compartmentId: w.tenancy, vaultId: v.id });
  assert.deepEqual(byVault.items.map((x) => x.id).sort(), [sec.id, other.id].sort());

  const active = await w.vaults.listSecrets({ compartmentId: w.tenancy, lifecycleState: "ACTIVE" });
  assert.deepEqual(active.items.map((x) => x.id).sort(), [sec.id, other.id].sort());
  const pending = await w.vaults.listSecrets({ compartmentId: w.tenancy, lifecycleState: "PENDING_DELETION" });
  assert.deepEqual(pending.items, []);

  const none = await w.vaults.listSecrets({ compartmentId: w.tenancy, name: "no-such-secret" });
  assert.deepEqual(none.items, []);
  assert.ok(!none.opcNextPage);
});

test("UpdateSecret with a stale if-match → 412 NoEtagMatch; nothing changes", async () => {
  const before = await versionsByNumber(sec.id);
  await expectOciError(
    w.vaults.updateSecret({
      secretId: sec.id,
      ifMatch: "not-the-etag",
      updateSecretDetails: { secretContent: { contentType: "BASE64", content: b64(V2) } },
      retryConfiguration: NO_RETRY,
    }),
    { status: 412, code: "NoEtagMatch", what: "UpdateSecret stale etag" },
  );
  assert.deepEqual(await versionsByNumber(sec.id), before);
  const g = await w.vaults.getSecret({ secretId: sec.id });
  assert.equal(g.etag, etag1);
});

let etag2;

test("UpdateSecret with new content: same OCID, version 2 is CURRENT+LATEST, version 1 PREVIOUS, etag changes", async () => {
  const r = await w.vaults.updateSecret({
    secretId: sec.id,
    ifMatch: etag1,
    updateSecretDetails: { secretContent: { contentType: "BASE64", content: b64(V2), name: "v2" } },
  });
  assertResp(r, "UpdateSecret", { etag: true });
  assert.equal(r.secret.id, sec.id, "the OCID is unchanged");
  assert.notEqual(r.etag, etag1, "etag must change on update");
  const g = await waitFor(
    () => w.vaults.getSecret({ secretId: sec.id }),
    (x) => x.secret.lifecycleState === "ACTIVE" && x.secret.currentVersionNumber === 2,
    { what: "currentVersionNumber 2" },
  );
  etag2 = g.etag;
  assert.notEqual(etag2, etag1);
  const vs = await versionsByNumber(sec.id);
  assert.deepEqual(Object.keys(vs).map(Number).sort(), [1, 2]);
  assert.deepEqual(stagesOf(vs[2]), ["CURRENT", "LATEST"]);
  assert.deepEqual(stagesOf(vs[1]), ["PREVIOUS"]);
});

test("ListSecretVersions: SecretVersionSummary fields; sortOrder ASC/DESC; default VERSION_NUMBER descending", async () => {
  const r = await w.vaults.listSecretVersions({ secretId: sec.id });
  assertResp(r, "ListSecretVersions");
  assert.deepEqual(r.items.map((x) => x.versionNumber), [2, 1], "default sort (spec 6): VERSION_NUMBER descending");
  for (const x of r.items) {
    assert.equal(x.secretId, sec.id);
    assert.equal(x.contentType, "BASE64");
    assertTime(x.timeCreated, "SecretVersionSummary.timeCreated");
    assert.equal(x.content, undefined);
  }
  assert.equal(r.items[0].name, "v2");
  assert.equal(r.items[1].name, "v1");
  const asc = await w.vaults.listSecretVersions({ secretId: sec.id, sortBy: "VERSION_NUMBER", sortOrder: "ASC" });
  assert.deepEqual(asc.items.map((x) => x.versionNumber), [1, 2]);
  const desc = await w.vaults.listSecretVersions({ secretId: sec.id, sortBy: "VERSION_NUMBER", sortOrder: "DESC" });
  assert.deepEqual(desc.items.map((x) => x.versionNumber), [2, 1]);
});

test("GetSecretVersion returns each version's SecretVersion", async () => {
  const r1 = await w.vaults.getSecretVersion({ secretId: sec.id, secretVersionNumber: 1 });
  assertResp(r1, "GetSecretVersion", { etag: true });
  const a = r1.secretVersion;
  assert.equal(a.secretId, sec.id);
  assert.equal(a.versionNumber, 1);
  assert.equal(a.name, "v1");
  assert.equal(a.contentType, "BASE64");
  assert.deepEqual(stagesOf(a), ["PREVIOUS"]);
  assertTime(a.timeCreated, "SecretVersion.timeCreated");
  const r2 = await w.vaults.getSecretVersion({ secretId: sec.id, secretVersionNumber: 2 });
  assert.equal(r2.secretVersion.versionNumber, 2);
  assert.equal(r2.secretVersion.name, "v2");
  assert.deepEqual(stagesOf(r2.secretVersion), ["CURRENT", "LATEST"]);
  await expectOciError(w.vaults.getSecretVersion({ secretId: sec.id, secretVersionNumber: 99, retryConfiguration: NO_RETRY }), {
    status: 404,
    code: "NotAuthorizedOrNotFound",
    what: "GetSecretVersion 99",
  });
});

test("GetSecretBundle: default, by versionNumber, by stage, by secretVersionName", async () => {
  const get = async (q) => (await w.secrets.getSecretBundle({ secretId: sec.id, ...q })).secretBundle;
  const def = await get({});
  assert.equal(def.versionNumber, 2);
  assert.equal(unb64(def.secretBundleContent.content), V2);
  assert.deepEqual(stagesOf(def), ["CURRENT", "LATEST"]);

  const n1 = await get({ versionNumber: 1 });
  assert.equal(n1.versionNumber, 1);
  assert.equal(unb64(n1.secretBundleContent.content), V1);
  assert.deepEqual(stagesOf(n1), ["PREVIOUS"]);

  const n2 = await get({ versionNumber: 2 });
  assert.equal(unb64(n2.secretBundleContent.content), V2);

  assert.equal((await get({ stage: "CURRENT" })).versionNumber, 2);
  assert.equal((await get({ stage: "LATEST" })).versionNumber, 2);
  const prev = await get({ stage: "PREVIOUS" });
  assert.equal(prev.versionNumber, 1);
  assert.equal(unb64(prev.secretBundleContent.content), V1);

  const byName = await get({ secretVersionName: "v1" });
  assert.equal(byName.versionNumber, 1);

  await expectOciError(w.secrets.getSecretBundle({ secretId: sec.id, versionNumber: 42, retryConfiguration: NO_RETRY }), {
    status: 404,
    what: "GetSecretBundle versionNumber 42",
  });
  await expectOciError(w.secrets.getSecretBundle({ secretId: sec.id, stage: "PENDING", retryConfiguration: NO_RETRY }), {
    status: 404,
    what: "GetSecretBundle stage PENDING (none)",
  });
});

test("GetSecretBundleByName (secretName + vaultId)", async () => {
  const r = await w.secrets.getSecretBundleByName({ secretName: NAME, vaultId: v.id });
  assertResp(r, "GetSecretBundleByName");
  const b = r.secretBundle;
  assert.equal(b.secretId, sec.id);
  assert.equal(b.versionNumber, 2);
  assert.equal(unb64(b.secretBundleContent.content), V2);
  const b1 = (await w.secrets.getSecretBundleByName({ secretName: NAME, vaultId: v.id, versionNumber: 1 })).secretBundle;
  assert.equal(unb64(b1.secretBundleContent.content), V1);
  const bp = (await w.secrets.getSecretBundleByName({ secretName: NAME, vaultId: v.id, stage: "PREVIOUS" })).secretBundle;
  assert.equal(bp.versionNumber, 1);
  await expectOciError(
    w.secrets.getSecretBundleByName({ secretName: "no-such-name", vaultId: v.id, retryConfiguration: NO_RETRY }),
    { status: 404, code: "NotAuthorizedOrNotFound", what: "GetSecretBundleByName unknown" },
  );
});

test("ListSecretBundleVersions lists summaries without content", async () => {
  const r = await w.secrets.listSecretBundleVersions({ secretId: sec.id });
  assertResp(r, "ListSecretBundleVersions");
  const m = {};
  for (const x of r.items) m[x.versionNumber] = x;
  assert.deepEqual(Object.keys(m).map(Number).sort(), [1, 2]);
  for (const x of r.items) {
    assert.equal(x.secretId, sec.id);
    assert.equal(x.secretBundleContent, undefined, "summaries carry no content");
    assertTime(x.timeCreated, "SecretBundleVersionSummary.timeCreated");
  }
  assert.deepEqual(stagesOf(m[2]), ["CURRENT", "LATEST"]);
  assert.deepEqual(stagesOf(m[1]), ["PREVIOUS"]);
  assert.equal(m[1].versionName, "v1");
});

test("UpdateSecret without content (description only) makes no new version but changes the etag", async () => {
  const r = await w.vaults.updateSecret({
    secretId: sec.id,
    ifMatch: etag2,
    updateSecretDetails: { description: "rotated by interop" },
  });
  assertResp(r, "UpdateSecret", { etag: true });
  assert.notEqual(r.etag, etag2);
  const g = await waitSecretActive(w, sec.id);
  assert.equal(g.secret.description, "rotated by interop");
  assert.equal(g.secret.currentVersionNumber, 2);
  const vs = await versionsByNumber(sec.id);
  assert.deepEqual(Object.keys(vs).map(Number).sort(), [1, 2]);
});

test("a third version: numbers go up by one; exactly one CURRENT, one LATEST, one PREVIOUS", async () => {
  const g0 = await w.vaults.getSecret({ secretId: sec.id });
  const r = await w.vaults.updateSecret({
    secretId: sec.id,
    updateSecretDetails: { secretContent: { contentType: "BASE64", content: b64(V3) } },
  });
  assert.equal(r.secret.id, sec.id);
  assert.notEqual(r.etag, g0.etag);
  const g = await waitFor(
    () => w.vaults.getSecret({ secretId: sec.id }),
    (x) => x.secret.lifecycleState === "ACTIVE" && x.secret.currentVersionNumber === 3,
    { what: "currentVersionNumber 3" },
  );
  assert.equal(g.secret.currentVersionNumber, 3);
  const vs = await versionsByNumber(sec.id);
  assert.deepEqual(Object.keys(vs).map(Number).sort(), [1, 2, 3]);
  assert.deepEqual(stagesOf(vs[3]), ["CURRENT", "LATEST"]);
  assert.ok(stagesOf(vs[2]).includes("PREVIOUS"));
  const count = (st) => Object.values(vs).filter((x) => (x.stages || []).includes(st)).length;
  assert.equal(count("CURRENT"), 1);
  assert.equal(count("LATEST"), 1);
  assert.equal(count("PREVIOUS"), 1);
  const b = (await w.secrets.getSecretBundle({ secretId: sec.id })).secretBundle;
  assert.equal(unb64(b.secretBundleContent.content), V3);
});

test("ScheduleSecretDeletion: stale if-match → 412; then PENDING_DELETION with timeOfDeletion; lifecycle filter follows", async () => {
  const g0 = await w.vaults.getSecret({ secretId: sec.id });
  const when = new Date(Date.now() + 3 * 24 * 3600 * 1000);
  await expectOciError(
    w.vaults.scheduleSecretDeletion({
      secretId: sec.id,
      ifMatch: "stale",
      scheduleSecretDeletionDetails: { timeOfDeletion: when },
      retryConfiguration: NO_RETRY,
    }),
    { status: 412, code: "NoEtagMatch", what: "ScheduleSecretDeletion stale etag" },
  );
  assert.equal((await w.vaults.getSecret({ secretId: sec.id })).secret.lifecycleState, "ACTIVE");

  const r = await w.vaults.scheduleSecretDeletion({
    secretId: sec.id,
    ifMatch: g0.etag,
    scheduleSecretDeletionDetails: { timeOfDeletion: when },
  });
  assertResp(r, "ScheduleSecretDeletion");
  const g = await waitFor(
    () => w.vaults.getSecret({ secretId: sec.id }),
    (x) => x.secret.lifecycleState === "PENDING_DELETION",
    { what: "PENDING_DELETION" },
  );
  assert.notEqual(g.etag, g0.etag, "etag must change on ScheduleSecretDeletion");
  const t = assertTime(g.secret.timeOfDeletion, "secret.timeOfDeletion", { nearNow: false });
  assert.ok(Math.abs(t - when.getTime()) < 2000, `timeOfDeletion ${g.secret.timeOfDeletion} != requested ${when.toISOString()}`);

  const pending = await w.vaults.listSecrets({ compartmentId: w.tenancy, lifecycleState: "PENDING_DELETION" });
  assert.deepEqual(pending.items.map((x) => x.id), [sec.id]);
  assert.equal(pending.items[0].lifecycleState, "PENDING_DELETION");
  const active = await w.vaults.listSecrets({ compartmentId: w.tenancy, lifecycleState: "ACTIVE" });
  assert.deepEqual(active.items.map((x) => x.id), [other.id]);
});

test("CancelSecretDeletion: stale if-match → 412; then ACTIVE again without timeOfDeletion", async () => {
  const g0 = await w.vaults.getSecret({ secretId: sec.id });
  await expectOciError(
    w.vaults.cancelSecretDeletion({ secretId: sec.id, ifMatch: "stale", retryConfiguration: NO_RETRY }),
    { status: 412, code: "NoEtagMatch", what: "CancelSecretDeletion stale etag" },
  );
  assert.equal((await w.vaults.getSecret({ secretId: sec.id })).secret.lifecycleState, "PENDING_DELETION");
  const r = await w.vaults.cancelSecretDeletion({ secretId: sec.id, ifMatch: g0.etag });
  assertResp(r, "CancelSecretDeletion");
  const g = await waitSecretActive(w, sec.id);
  assert.notEqual(g.etag, g0.etag, "etag must change on CancelSecretDeletion");
  assert.ok(!g.secret.timeOfDeletion, `timeOfDeletion should be cleared, got ${g.secret.timeOfDeletion}`);
  assert.equal(g.secret.currentVersionNumber, 3);
  const b = (await w.secrets.getSecretBundle({ secretId: sec.id })).secretBundle;
  assert.equal(unb64(b.secretBundleContent.content), V3);
});

test("ScheduleSecretDeletion without a body ({} is not sent) uses a default time; cancel restores", async () => {
  const r = await w.vaults.scheduleSecretDeletion({ secretId: other.id, scheduleSecretDeletionDetails: {} });
  assertResp(r, "ScheduleSecretDeletion {}");
  const g = await waitFor(
    () => w.vaults.getSecret({ secretId: other.id }),
    (x) => x.secret.lifecycleState === "PENDING_DELETION",
    { what: "PENDING_DELETION" },
  );
  const t = assertTime(g.secret.timeOfDeletion, "timeOfDeletion", { nearNow: false });
  assert.ok(t > Date.now(), "default timeOfDeletion is in the future");
  await w.vaults.cancelSecretDeletion({ secretId: other.id });
  await waitSecretActive(w, other.id);
});

test("query values the SDK does not encode: '+' stays '+', a space arrives as %20 (spec 2.4)", async () => {
  // Secret names are restricted to [A-Za-z0-9._-] by tresor; version names are free text.
  const s = (await createSecret(w, v, k, { content: "plus", versionName: "p+q" })).secret;
  await w.vaults.updateSecret({
    secretId: s.id,
    updateSecretDetails: { secretContent: { contentType: "BASE64", content: b64("space"), name: "p q" } },
  });
  const get = async (secretVersionName) =>
    (await w.secrets.getSecretBundle({ secretId: s.id, secretVersionName })).secretBundle;
  const plus = await get("p+q");
  assert.equal(plus.versionNumber, 1, "'+' in a query value must stay '+' (not become a space)");
  assert.equal(unb64(plus.secretBundleContent.content), "plus");
  const space = await get("p q");
  assert.equal(space.versionNumber, 2);
  assert.equal(unb64(space.secretBundleContent.content), "space");
  const byName = await w.secrets.getSecretBundleByName({ secretName: s.secretName, vaultId: v.id, secretVersionName: "p+q" });
  assert.equal(byName.secretBundle.versionNumber, 1);
});

test("query values the SDK signs in legacy form (non-ASCII, {}|^, quote) still authenticate (spec 1.6)", async () => {
  // The SDK signs `é` raw but fetch sends %C3%A9, and signs `{` as %7B but sends it raw:
  // the official SDK's own requests only verify against the legacy form.
  for (const name of ["caf\u00e9", "a{b}|c^", "it's"]) {
    const s = (await createSecret(w, v, k, { content: name, versionName: name })).secret;
    const b = (await w.secrets.getSecretBundle({ secretId: s.id, secretVersionName: name })).secretBundle;
    assert.equal(b.versionName, name);
    assert.equal(unb64(b.secretBundleContent.content), name);
  }
});

test("UpdateSecret with stage PENDING: a new PENDING+LATEST version, CURRENT unchanged; currentVersionNumber promotes it", async () => {
  const s = (await createSecret(w, v, k, { content: "live" })).secret;
  const r = await w.vaults.updateSecret({
    secretId: s.id,
    updateSecretDetails: { secretContent: { contentType: "BASE64", content: b64("staged"), stage: "PENDING" } },
  });
  assert.equal(r.secret.id, s.id);
  let vs = await versionsByNumber(s.id);
  assert.deepEqual(stagesOf(vs[2]), ["LATEST", "PENDING"]);
  assert.deepEqual(stagesOf(vs[1]), ["CURRENT"]);
  assert.equal(unb64((await w.secrets.getSecretBundle({ secretId: s.id })).secretBundle.secretBundleContent.content), "live");
  const pend = (await w.secrets.getSecretBundle({ secretId: s.id, stage: "PENDING" })).secretBundle;
  assert.equal(unb64(pend.secretBundleContent.content), "staged");
  await w.vaults.updateSecret({ secretId: s.id, updateSecretDetails: { currentVersionNumber: 2 } });
  const g = await waitSecretActive(w, s.id);
  assert.equal(g.secret.currentVersionNumber, 2);
  vs = await versionsByNumber(s.id);
  assert.deepEqual(stagesOf(vs[2]), ["CURRENT", "LATEST"]);
  assert.deepEqual(stagesOf(vs[1]), ["PREVIOUS"]);
  assert.equal(unb64((await w.secrets.getSecretBundle({ secretId: s.id })).secretBundle.secretBundleContent.content), "staged");
});

test("wrong lifecycle state → 409: cancel on ACTIVE, schedule twice, update while PENDING_DELETION", async () => {
  const s = (await createSecret(w, v, k, { content: "state" })).secret;
  await expectOciError(w.vaults.cancelSecretDeletion({ secretId: s.id, retryConfiguration: NO_RETRY }), {
    status: 409,
    what: "CancelSecretDeletion on ACTIVE",
  });
  await w.vaults.scheduleSecretDeletion({ secretId: s.id, scheduleSecretDeletionDetails: {} });
  await expectOciError(
    w.vaults.scheduleSecretDeletion({ secretId: s.id, scheduleSecretDeletionDetails: {}, retryConfiguration: NO_RETRY }),
    { status: 409, what: "ScheduleSecretDeletion twice" },
  );
  const before = await versionsByNumber(s.id);
  await expectOciError(
    w.vaults.updateSecret({
      secretId: s.id,
      updateSecretDetails: { secretContent: { contentType: "BASE64", content: b64("nope") } },
      retryConfiguration: NO_RETRY,
    }),
    { status: 409, what: "UpdateSecret while PENDING_DELETION" },
  );
  assert.deepEqual(await versionsByNumber(s.id), before);
  await w.vaults.cancelSecretDeletion({ secretId: s.id });
});

test("GetSecretBundle(ByName) of a PENDING_DELETION secret: 409 IncorrectState naming the state and the time of deletion (issue 5)", async () => {
  // Issue 5 asks for 409 IncorrectState here, as OCI answers.  The SDK retries that code by
  // default (FINDINGS.md, bug 1): tresor keeps OCI's code so that code written against OCI
  // behaves the same; callers that know better turn retries off, as here.
  const s = (await createSecret(w, v, k, { content: "doomed" })).secret;
  await w.vaults.scheduleSecretDeletion({ secretId: s.id, scheduleSecretDeletionDetails: {} });
  const got = await w.vaults.getSecret({ secretId: s.id });
  const when = new Date(got.secret.timeOfDeletion).toISOString().slice(0, 16);
  const calls = {
    GetSecretBundle: () => w.secrets.getSecretBundle({ secretId: s.id, retryConfiguration: NO_RETRY }),
    GetSecretBundleByName: () =>
      w.secrets.getSecretBundleByName({ secretName: s.secretName, vaultId: v.id, retryConfiguration: NO_RETRY }),
  };
  for (const [name, call] of Object.entries(calls)) {
    await assert.rejects(call(), (e) => {
      assert.equal(e.statusCode, 409, `${name}: ${e}`);
      assert.equal(e.serviceCode, "IncorrectState", name);
      assert.match(e.message, /PENDING_DELETION/, name);
      assert.ok(e.message.includes(when), `${name}: "${e.message}" should name ${when}`);
      return true;
    });
  }
  await w.vaults.cancelSecretDeletion({ secretId: s.id });
  const r = await w.secrets.getSecretBundle({ secretId: s.id });
  assert.equal(unb64(r.secretBundle.secretBundleContent.content), "doomed");
});

test("concurrent UpdateSecret with the same if-match: exactly one wins, the others get 412", async () => {
  const s = (await createSecret(w, v, k, { content: "race" })).secret;
  const g = await w.vaults.getSecret({ secretId: s.id });
  const N = 6;
  const results = await Promise.allSettled(
    Array.from({ length: N }, (_, i) =>
      w.vaults.updateSecret({
        secretId: s.id,
        ifMatch: g.etag,
        updateSecretDetails: { secretContent: { contentType: "BASE64", content: b64(`racer ${i}`) } },
        retryConfiguration: NO_RETRY,
      }),
    ),
  );
  const ok = results.filter((r) => r.status === "fulfilled");
  const failed = results.filter((r) => r.status === "rejected").map((r) => `${r.reason.statusCode} ${r.reason.serviceCode}`);
  assert.equal(ok.length, 1, `successes: ${ok.length}; failures: ${failed}`);
  assert.deepEqual(failed, Array(N - 1).fill("412 NoEtagMatch"));
  const vs = await versionsByNumber(s.id);
  assert.deepEqual(Object.keys(vs).map(Number).sort(), [1, 2]);
});

test("10 concurrent UpdateSecret calls without if-match: versions 2..11, each once; one CURRENT, LATEST, PREVIOUS", async () => {
  const s = (await createSecret(w, v, k, { content: "base" })).secret;
  const N = 10;
  const rs = await Promise.allSettled(
    Array.from({ length: N }, (_, i) =>
      w.vaults.updateSecret({
        secretId: s.id,
        updateSecretDetails: { secretContent: { contentType: "BASE64", content: b64(`parallel ${i}`) } },
        retryConfiguration: NO_RETRY,
      }),
    ),
  );
  const failed = rs.filter((r) => r.status === "rejected").map((r) => `${r.reason.statusCode} ${r.reason.serviceCode} ${r.reason.message}`);
  assert.deepEqual(failed, [], "every update without if-match should succeed");
  const vs = await versionsByNumber(s.id);
  assert.deepEqual(
    Object.keys(vs).map(Number).sort((a, b) => a - b),
    Array.from({ length: N + 1 }, (_, i) => i + 1),
  );
  const count = (st) => Object.values(vs).filter((x) => (x.stages || []).includes(st)).length;
  assert.equal(count("CURRENT"), 1);
  assert.equal(count("LATEST"), 1);
  assert.equal(count("PREVIOUS"), 1);
  assert.deepEqual(stagesOf(vs[N + 1]), ["CURRENT", "LATEST"]);
  const g = await w.vaults.getSecret({ secretId: s.id });
  assert.equal(g.secret.currentVersionNumber, N + 1);
  // Every version's content is one of the values sent, each value exactly once.
  const contents = [];
  for (let n = 2; n <= N + 1; n++) {
    const b = (await w.secrets.getSecretBundle({ secretId: s.id, versionNumber: n })).secretBundle;
    contents.push(unb64(b.secretBundleContent.content));
  }
  assert.deepEqual(contents.sort(), Array.from({ length: N }, (_, i) => `parallel ${i}`).sort());
});

test("50 concurrent GetSecretBundle calls all succeed", async () => {
  const rs = await Promise.all(Array.from({ length: 50 }, () => w.secrets.getSecretBundle({ secretId: sec.id })));
  for (const r of rs) assert.equal(unb64(r.secretBundle.secretBundleContent.content), V3);
});

test("errors: unknown secret → 404 NotAuthorizedOrNotFound on every operation", async () => {
  const id = "ocid1.vaultsecret.oc1..doesnotexist";
  const o = { what: "unknown secret", status: 404, code: "NotAuthorizedOrNotFound" };
  await expectOciError(w.vaults.getSecret({ secretId: id, retryConfiguration: NO_RETRY }), o);
  await expectOciError(w.vaults.listSecretVersions({ secretId: id, retryConfiguration: NO_RETRY }), o);
  await expectOciError(w.secrets.getSecretBundle({ secretId: id, retryConfiguration: NO_RETRY }), o);
  await expectOciError(w.secrets.listSecretBundleVersions({ secretId: id, retryConfiguration: NO_RETRY }), o);
  await expectOciError(
    w.vaults.updateSecret({ secretId: id, updateSecretDetails: { description: "x" }, retryConfiguration: NO_RETRY }),
    o,
  );
  await expectOciError(w.vaults.cancelSecretDeletion({ secretId: id, retryConfiguration: NO_RETRY }), o);
});

test("no SDK call needed a retry", () => assertNoSdkRetries());
