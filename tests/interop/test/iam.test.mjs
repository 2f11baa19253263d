// Issue 3, IAM through the SDK: IdentityClient builds a tenancy (compartments A, A:B and C,
// groups, users with their own API keys, policies); then each user's own SDK client gets
// exactly the 200, 403 or 404 the policies imply (oci-iam.md section 10 cases 1-14, 20),
// with the errors the issue asks for; policy parse errors at CreatePolicy; List operations;
// the tenancy setting secretReadsRequireKeyUse; the policy simulator and linter
// (docs/api/tresor-v1.md).
//
// Fixture (as in oci-iam.md section 10): vault V and key K in A; vault VC and key K2 in C;
// secrets S `db-password` and S2 `api-token` in B (key K), S3 `c-secret` in C (key K2).

import { after, before, test } from "node:test";

import { createCompartment, createGroup, createPolicy, createUser, outcome } from "../lib/iam.mjs";
import {
  NO_RETRY,
  assert,
  assertNoSdkRetries,
  b64,
  createKey,
  createVault,
  expectOciError,
  listAll,
  startWorld,
  stopWorld,
  tresorApi,
  tresorOk,
  unb64,
  uniq,
} from "../lib/world.mjs";

let w;
const f = {}; // the fixture
const u = {}; // users: alice (Readers), bob (Writers), carol (no group), dave (Narrow), erin (BInspect), frank (ReadOnly), gina (Rotators)
const NOPE = "ocid1.vaultsecret.oc1.xx-local-1.aaaaaaaanonexistentsecretnonexistentsecretnonexistent";

before(async () => {
  w = await startWorld("iam");
  f.A = await createCompartment(w, w.tenancy, "A");
  f.B = await createCompartment(w, f.A.id, "B");
  f.C = await createCompartment(w, w.tenancy, "C");

  // Vaults and keys (the administrator's clients).
  f.V = (await w.kmsVault.createVault({ createVaultDetails: { compartmentId: f.A.id, displayName: "V", vaultType: "DEFAULT" } })).vault;
  f.VC = (await w.kmsVault.createVault({ createVaultDetails: { compartmentId: f.C.id, displayName: "VC", vaultType: "DEFAULT" } })).vault;
  const mk = async (v, comp, name) =>
    (
      await w.mgmt(v).createKey({
        createKeyDetails: { compartmentId: comp, displayName: name, keyShape: { algorithm: "AES", length: 32 }, protectionMode: "SOFTWARE" },
      })
    ).key;
  f.K = await mk(f.V, f.A.id, "K");
  f.K2 = await mk(f.VC, f.C.id, "K2");
  const mkSecret = async (comp, v, k, name, content) =>
    (
      await w.vaults.createSecret({
        createSecretDetails: { compartmentId: comp, vaultId: v.id, keyId: k.id, secretName: name, secretContent: { contentType: "BASE64", content: b64(content) } },
      })
    ).secret;
  f.S = await mkSecret(f.B.id, f.V, f.K, "db-password", "pw-S");
  f.S2 = await mkSecret(f.B.id, f.V, f.K, "api-token", "pw-S2");
  f.S3 = await mkSecret(f.C.id, f.VC, f.K2, "c-secret", "pw-S3");
  f.ctK = (await w.crypto(f.V).encrypt({ encryptDataDetails: { keyId: f.K.id, plaintext: b64("kms payload") } })).encryptedData.ciphertext;

  // Groups and users, each with an API key of their own.
  f.groups = {};
  for (const g of ["Readers", "Writers", "Narrow", "BInspect", "ReadOnly", "Rotators"]) f.groups[g] = await createGroup(w, g);
  const G = f.groups;
  u.alice = await createUser(w, "alice", [G.Readers]);
  u.bob = await createUser(w, "bob", [G.Writers]);
  u.carol = await createUser(w, "carol", []);
  u.dave = await createUser(w, "dave", [G.Narrow]);
  u.erin = await createUser(w, "erin", [G.BInspect]);
  u.frank = await createUser(w, "frank", [G.ReadOnly]);
  u.gina = await createUser(w, "gina", [G.Rotators]);

  // Policies known from the start; the tests add the rest.
  await createPolicy(w, "readers", ["Allow group Readers to read secret-family in compartment A"]);
  await createPolicy(w, "writers", ["Allow group Writers to manage secret-family in compartment A", "Allow group Writers to use vaults in compartment A"]);
  await createPolicy(w, "narrow", [
    "Allow group Narrow to read secret-family in compartment A where target.secret.name = /db-*/",
    "Allow group Narrow to use keys in compartment A",
  ]);
  await createPolicy(w, "binspect", ["Allow group BInspect to inspect secrets in compartment A:B"]);
  await createPolicy(w, "readonly", ["allow GROUP ReadOnly TO READ secret-family IN compartment A"]); // keywords are case-insensitive
  await createPolicy(w, "rotators", ["Allow group Rotators to use secret-family in compartment A"]);
});

after(async () => {
  await stopWorld(w);
});

const bundle = (c, secretId) => c.secrets.getSecretBundle({ secretId, retryConfiguration: NO_RETRY });
const getSecret = (c, secretId) => c.vaults.getSecret({ secretId, retryConfiguration: NO_RETRY });
const listSecrets = (c, compartmentId, extra = {}) => c.vaults.listSecrets({ compartmentId, retryConfiguration: NO_RETRY, ...extra });
const newContent = (text) => ({ secretContent: { contentType: "BASE64", content: b64(text) } });

/** Run a table of [who, what, call, expected status]; report every mismatch at once. */
async function table(rows) {
  const bad = [];
  const out = [];
  for (const [who, what, call, want] of rows) {
    const o = await outcome(call());
    out.push(o);
    if (o.status !== want) bad.push(`${who} ${what}: expected ${want}, got ${o.status} ${o.code ?? ""} ${o.message ?? ""}`);
  }
  assert.deepEqual(bad, [], "decisions differ from what the policies imply");
  return out;
}

/** The 404 for a secret nobody may see, with the id removed from the message. */
function normalised(o, id) {
  return { status: o.status, code: o.code, message: (o.message ?? "").split(id).join("<id>") };
}

// ----- identity ---------------------------------------------------------------------

test("IdentityClient built the tenancy: A:B nests under A, users in their groups, API keys listed with OCI fingerprints", async () => {
  assert.equal(f.B.compartmentId, f.A.id);
  assert.equal(f.A.compartmentId, w.tenancy);
  const subs = await listAll((r) => w.identity.listCompartments(r), { compartmentId: f.A.id });
  assert.deepEqual(subs.map((c) => c.id), [f.B.id]);
  const ms = await listAll((r) => w.identity.listUserGroupMemberships(r), { compartmentId: w.tenancy, userId: u.alice.user.id });
  assert.deepEqual(ms.map((m) => m.groupId), [f.groups.Readers.id]);
  const keys = (await w.identity.listApiKeys({ userId: u.alice.user.id })).items;
  assert.deepEqual(keys.map((k) => k.fingerprint), [u.alice.fingerprint]);
  assert.equal(keys[0].keyId, `${w.tenancy}/${u.alice.user.id}/${u.alice.fingerprint}`);
});

test("a user's own SDK client authenticates as that user: no grant gives 404, never 401", async () => {
  const o = await outcome(listSecrets(u.carol, f.B.id));
  assert.equal(o.status, 404, JSON.stringify(o));
  assert.equal(o.code, "NotAuthorizedOrNotFound");
});

// ----- policy statements refused at CreatePolicy / UpdatePolicy ---------------------

test("CreatePolicy with a statement that does not parse → 400 naming the statement index, the column and what was expected; nothing created", async () => {
  const name = uniq("bad");
  const e = await expectOciError(
    w.identity.createPolicy({
      createPolicyDetails: {
        compartmentId: w.tenancy,
        name,
        description: "x",
        statements: ["Allow group Readers to read secret-family in compartment A", "Allow group Readers to frobnicate secrets in tenancy"],
      },
      retryConfiguration: NO_RETRY,
    }),
    { status: 400, what: "CreatePolicy with a bad statement" },
  );
  assert.match(e.serviceCode, /^(InvalidParameter|CannotParseRequest)$/);
  assert.match(e.message, /statement 1\b/, "names the statement's index (0-based: the second)");
  assert.match(e.message, /column \d+/, "names the column");
  assert.match(e.message, /expected/i, "says what was expected");
  assert.match(e.message, /frobnicate/, "shows what was found");
  const pols = await listAll((r) => w.identity.listPolicies(r), { compartmentId: w.tenancy });
  assert.ok(!pols.some((p) => p.name === name), "the refused policy was created anyway");
});

test("policy locations: outside the policy's subtree, an unknown compartment or group → 400; A:B from the root is accepted", async () => {
  const bad = [
    [f.A.id, "Allow group Readers to read secret-family in compartment C", /C|compartment/],
    [w.tenancy, "Allow group Readers to read secret-family in compartment B", /B|compartment/], // B is not a child of the root
    [w.tenancy, "Allow group Readers to read secret-family in compartment NoSuch", /NoSuch/],
    [w.tenancy, "Allow group NoSuchGroup to read secret-family in compartment A", /NoSuchGroup/],
  ];
  for (const [comp, stmt, re] of bad) {
    const e = await expectOciError(
      w.identity.createPolicy({
        createPolicyDetails: { compartmentId: comp, name: uniq("loc"), description: "x", statements: [stmt] },
        retryConfiguration: NO_RETRY,
      }),
      { status: 400, what: `CreatePolicy "${stmt}" attached to ${comp === w.tenancy ? "the root" : "A"}` },
    );
    assert.match(e.message, re, stmt);
  }
  const ok = await createPolicy(w, uniq("path"), ["Allow group Readers to inspect secrets in compartment A:B"]);
  const inA = await createPolicy(w, uniq("inA"), ["Allow group Readers to inspect secrets in compartment B"], f.A.id);
  await w.identity.deletePolicy({ policyId: ok.id });
  await w.identity.deletePolicy({ policyId: inA.id });
});

test("UpdatePolicy with a statement that does not parse → 400 naming index and column; the statements stay as they were", async () => {
  const p = await createPolicy(w, uniq("upd"), ["Allow group Readers to inspect vaults in compartment A"]);
  const e = await expectOciError(
    w.identity.updatePolicy({
      policyId: p.id,
      updatePolicyDetails: { statements: ["Allow group Readers to inspect vaults in compartment A", "Allow group Readers to read"] },
      retryConfiguration: NO_RETRY,
    }),
    { status: 400, what: "UpdatePolicy with a bad statement" },
  );
  assert.match(e.message, /statement 1\b/);
  assert.match(e.message, /column \d+/);
  const g = await w.identity.getPolicy({ policyId: p.id });
  assert.deepEqual(g.policy.statements, ["Allow group Readers to inspect vaults in compartment A"]);
  await w.identity.deletePolicy({ policyId: p.id });
});

// ----- decisions ---------------------------------------------------------------------

test("case 1: read secret-family in A without use keys: metadata 200, content 403, other compartments and verbs 404", async () => {
  const a = u.alice;
  await table([
    ["alice", "GetSecret(S) (inherited A→B)", () => getSecret(a, f.S.id), 200],
    ["alice", "ListSecretVersions(S)", () => a.vaults.listSecretVersions({ secretId: f.S.id, retryConfiguration: NO_RETRY }), 200],
    ["alice", "GetSecretBundle(S)", () => bundle(a, f.S.id), 403],
    ["alice", "GetSecretBundleByName(db-password)", () => a.secrets.getSecretBundleByName({ secretName: "db-password", vaultId: f.V.id, retryConfiguration: NO_RETRY }), 403],
    ["alice", "ListSecretBundleVersions(S) (a content read, issue 3)", () => a.secrets.listSecretBundleVersions({ secretId: f.S.id, retryConfiguration: NO_RETRY }), 403],
    ["alice", "GetSecret(S3 in C) (no sideways inheritance)", () => getSecret(a, f.S3.id), 404],
    ["alice", "GetSecretBundle(S3 in C)", () => bundle(a, f.S3.id), 404],
    ["alice", "UpdateSecret(S) (read < use)", () => a.vaults.updateSecret({ secretId: f.S.id, updateSecretDetails: { description: "x" }, retryConfiguration: NO_RETRY }), 404],
    ["alice", "ScheduleSecretDeletion(S) (read < manage)", () => a.vaults.scheduleSecretDeletion({ secretId: f.S.id, scheduleSecretDeletionDetails: {}, retryConfiguration: NO_RETRY }), 404],
    ["alice", "GetKey(K) (no keys grant)", () => a.mgmt(f.V).getKey({ keyId: f.K.id, retryConfiguration: NO_RETRY }), 404],
    ["alice", "Decrypt with K (no keys grant)", () => a.crypto(f.V).decrypt({ decryptDataDetails: { keyId: f.K.id, ciphertext: f.ctK }, retryConfiguration: NO_RETRY }), 404],
    ["alice", "GetVault(V) (no vaults grant)", () => a.kmsVault.getVault({ vaultId: f.V.id, retryConfiguration: NO_RETRY }), 404],
  ]);
});

test("403 for read without use keys names KEY_DECRYPT / use keys, the key OCID, its compartment, and a statement that would grant it", async () => {
  const e = await expectOciError(bundle(u.alice, f.S.id), { status: 403, code: "NotAuthorized", what: "alice GetSecretBundle(S)" });
  assert.match(e.message, /KEY_DECRYPT|use keys/, "names the missing permission");
  assert.ok(e.message.includes(f.K.id), `names the key OCID ${f.K.id}: ${e.message}`);
  assert.ok(e.message.includes(f.A.id) || /compartment A\b/.test(e.message), `names the key's compartment (A): ${e.message}`);
  assert.ok(!e.message.includes("pw-S"), "no content in the error");
  const m = /statement that would grant it:\s*(.+?)\s*$/i.exec(e.message) ?? /(Allow .+)$/.exec(e.message);
  assert.ok(m, `no suggested statement in: ${e.message}`);
  f.suggested = m[1].replace(/[.]$/, "");
  assert.match(f.suggested, /^Allow group Readers to use keys in /i);
});

test("the suggested statement, created as a policy, makes the read succeed (case 2)", async () => {
  assert.ok(f.suggested, "previous test found the suggestion");
  await createPolicy(w, "readers-keys", [f.suggested]);
  const b = await bundle(u.alice, f.S.id);
  assert.equal(unb64(b.secretBundle.secretBundleContent.content), "pw-S");
  const byName = await u.alice.secrets.getSecretBundleByName({ secretName: "api-token", vaultId: f.V.id, retryConfiguration: NO_RETRY });
  assert.equal(unb64(byName.secretBundle.secretBundleContent.content), "pw-S2");
  const d = await u.alice.crypto(f.V).decrypt({ decryptDataDetails: { keyId: f.K.id, ciphertext: f.ctK }, retryConfiguration: NO_RETRY });
  assert.equal(unb64(d.decryptedData.plaintext), "kms payload");
  await table([
    ["alice", "Encrypt with K (use keys)", () => u.alice.crypto(f.V).encrypt({ encryptDataDetails: { keyId: f.K.id, plaintext: b64("x") }, retryConfiguration: NO_RETRY }), 200],
    ["alice", "CreateKeyVersion(K) (KEY_ROTATE is manage)", () => u.alice.mgmt(f.V).createKeyVersion({ keyId: f.K.id, retryConfiguration: NO_RETRY }), 404],
    ["alice", "GetSecretBundle(S3 in C) still", () => bundle(u.alice, f.S3.id), 404],
  ]);
});

test("no read at all → 404 NotAuthorizedOrNotFound, identical to a secret that does not exist (status, code, message)", async () => {
  const denied = await outcome(bundle(u.carol, f.S.id));
  const missing = await outcome(bundle(u.carol, NOPE));
  const missingAdmin = await outcome(bundle(w, NOPE));
  assert.equal(denied.status, 404, JSON.stringify(denied));
  assert.equal(denied.code, "NotAuthorizedOrNotFound");
  assert.deepEqual(normalised(denied, f.S.id), normalised(missing, NOPE), "a denial must look exactly like a missing secret");
  assert.deepEqual(normalised(missing, NOPE), normalised(missingAdmin, NOPE));
  // Same for metadata, and for a user who may read other compartments (alice on S3).
  const d2 = await outcome(getSecret(u.carol, f.S.id));
  const m2 = await outcome(getSecret(u.carol, NOPE));
  assert.deepEqual(normalised(d2, f.S.id), normalised(m2, NOPE));
  const d3 = await outcome(bundle(u.alice, f.S3.id));
  assert.deepEqual(normalised(d3, f.S3.id), normalised(missing, NOPE));
});

test("cases 12-13: CreateSecret needs manage secret-family + use vaults + use keys on its key", async () => {
  const b = u.bob;
  const create = (name, v, k, comp = f.B.id) =>
    b.vaults.createSecret({
      createSecretDetails: { compartmentId: comp, vaultId: v.id, keyId: k.id, secretName: name, secretContent: { contentType: "BASE64", content: b64("bob") } },
      retryConfiguration: NO_RETRY,
    });
  const before = await outcome(create("bob-1", f.V, f.K));
  assert.ok([403, 404].includes(before.status), `without use keys: ${JSON.stringify(before)}`);
  assert.notEqual(before.status, 200);
  await createPolicy(w, "writers-key", [`Allow group Writers to use keys in compartment A where target.key.id = '${f.K.id}'`]);
  const ok = await create("bob-1", f.V, f.K);
  f.bobSecret = ok.secret;
  await table([
    ["bob", "CreateSecret with K2 in C (no grant in C)", () => create("bob-2", f.VC, f.K2, f.C.id), 404],
    ["bob", "GetSecretBundle(bob-1)", () => bundle(b, f.bobSecret.id), 200],
    ["bob", "UpdateSecret(S) new content (use keys on K)", () => b.vaults.updateSecret({ secretId: f.S.id, updateSecretDetails: newContent("pw-S v2"), retryConfiguration: NO_RETRY }), 200],
    ["bob", "ScheduleSecretDeletion(bob-1) (manage)", () => b.vaults.scheduleSecretDeletion({ secretId: f.bobSecret.id, scheduleSecretDeletionDetails: {}, retryConfiguration: NO_RETRY }), 200],
    ["bob", "CancelSecretDeletion(bob-1)", () => b.vaults.cancelSecretDeletion({ secretId: f.bobSecret.id, retryConfiguration: NO_RETRY }), 200],
    ["bob", "CreateVault (no manage vaults)", () => b.kmsVault.createVault({ createVaultDetails: { compartmentId: f.A.id, displayName: "x", vaultType: "DEFAULT" }, retryConfiguration: NO_RETRY }), 404],
  ]);
});

test("cases 6, 8: a where clause with a /pattern/ grants db-password only; the secret-name variable does not apply to ListSecrets", async () => {
  const d = u.dave;
  await table([
    ["dave", "GetSecretBundle(S db-password)", () => bundle(d, f.S.id), 200],
    ["dave", "GetSecretBundle(S2 api-token)", () => bundle(d, f.S2.id), 404],
    ["dave", "GetSecret(S2 api-token)", () => getSecret(d, f.S2.id), 404],
    ["dave", "ListSecrets(B) (target.secret.name does not apply)", () => listSecrets(d, f.B.id), 404],
  ]);
  // 'DB-PASSWORD' in quotes matches case-insensitively (case 8).
  const g = await createGroup(w, "Upper");
  const x = await createUser(w, "xavier", [g]);
  await createPolicy(w, "upper", [
    "Allow group Upper to read secret-family in compartment A where target.secret.name = 'DB-PASSWORD'",
    "Allow group Upper to use keys in compartment A",
  ]);
  await table([
    ["xavier", "GetSecretBundle(S) with 'DB-PASSWORD'", () => bundle(x, f.S.id), 200],
    ["xavier", "GetSecretBundle(S2)", () => bundle(x, f.S2.id), 404],
  ]);
});

test("List operations return only what the caller may inspect", async () => {
  // erin: inspect secrets in A:B only.
  const inB = await listAll((r) => listSecrets(u.erin, r.compartmentId, r), { compartmentId: f.B.id });
  const allB = await listAll((r) => w.vaults.listSecrets(r), { compartmentId: f.B.id });
  assert.deepEqual(inB.map((s) => s.id).sort(), allB.map((s) => s.id).sort(), "erin sees every secret of B");
  assert.ok(inB.length >= 3);
  assert.ok(inB.every((s) => s.compartmentId === f.B.id));
  await table([
    ["erin", "ListSecrets(A) (grants do not flow upward)", () => listSecrets(u.erin, f.A.id), 404],
    ["erin", "ListSecrets(C)", () => listSecrets(u.erin, f.C.id), 404],
    ["erin", "GetSecret(S) (inspect < read)", () => getSecret(u.erin, f.S.id), 404],
    ["erin", "ListVaults(A)", () => u.erin.kmsVault.listVaults({ compartmentId: f.A.id, retryConfiguration: NO_RETRY }), 404],
    ["erin", "ListSecrets(B, vaultId=VC) still only B", () => listSecrets(u.erin, f.B.id, { vaultId: f.VC.id }), 200],
    ["carol", "ListSecrets(B)", () => listSecrets(u.carol, f.B.id), 404],
    ["alice", "ListKeys(A) via V (use keys ⊇ inspect)", () => u.alice.mgmt(f.V).listKeys({ compartmentId: f.A.id, retryConfiguration: NO_RETRY }), 200],
    ["alice", "ListKeys(C) via VC", () => u.alice.mgmt(f.VC).listKeys({ compartmentId: f.C.id, retryConfiguration: NO_RETRY }), 404],
    ["alice", "ListVaults(A) (no vaults grant)", () => u.alice.kmsVault.listVaults({ compartmentId: f.A.id, retryConfiguration: NO_RETRY }), 404],
    ["alice", "ListPolicies (no policies grant)", () => u.alice.identity.listPolicies({ compartmentId: w.tenancy, retryConfiguration: NO_RETRY }), 404],
  ]);
  const keys = (await u.alice.mgmt(f.V).listKeys({ compartmentId: f.A.id, retryConfiguration: NO_RETRY })).items;
  assert.deepEqual(keys.map((k) => k.id), [f.K.id]);
  // alice: read secret-family in A covers B; C stays invisible.
  const aliceB = (await listSecrets(u.alice, f.B.id)).items.map((s) => s.id).sort();
  assert.deepEqual(aliceB, allB.map((s) => s.id).sort());
});

test("case 14: use secret-family updates content only with use keys while secretReadsRequireKeyUse is on; never creates or deletes", async () => {
  const g = u.gina;
  const e = await expectOciError(
    g.vaults.updateSecret({ secretId: f.S2.id, updateSecretDetails: newContent("gina v2"), retryConfiguration: NO_RETRY }),
    { status: 403, what: "gina UpdateSecret(S2) with new content, setting on" },
  );
  assert.match(e.message, /KEY_ENCRYPT|use keys/);
  assert.ok(e.message.includes(f.K.id));
  await table([
    ["gina", "UpdateSecret(S2) description only", () => g.vaults.updateSecret({ secretId: f.S2.id, updateSecretDetails: { description: "by gina" }, retryConfiguration: NO_RETRY }), 200],
    ["gina", "ScheduleSecretDeletion(S2) (manage)", () => g.vaults.scheduleSecretDeletion({ secretId: f.S2.id, scheduleSecretDeletionDetails: {}, retryConfiguration: NO_RETRY }), 404],
  ]);
});

test("tenancy setting secretReadsRequireKeyUse: GET true; PUT false gives OCI's table (read secret-family reads content, use secret-family updates it); PUT true restores", async () => {
  assert.deepEqual(await tresorOk(w, "GET", "/tresor/v1/settings"), { secretReadsRequireKeyUse: true });
  // A caller without manage policies may not change it.
  const denied = await tresorApi(w, "PUT", "/tresor/v1/settings", { secretReadsRequireKeyUse: false }, { auth: u.alice.auth });
  assert.equal(denied.status, 404, denied.text);
  assert.deepEqual(await tresorOk(w, "GET", "/tresor/v1/settings"), { secretReadsRequireKeyUse: true });

  await expectOciError(bundle(u.frank, f.S.id), { status: 403, what: "frank, setting on" });
  try {
    const off = await tresorOk(w, "PUT", "/tresor/v1/settings", { secretReadsRequireKeyUse: false });
    assert.equal(off.secretReadsRequireKeyUse, false);
    assert.deepEqual(await tresorOk(w, "GET", "/tresor/v1/settings"), { secretReadsRequireKeyUse: false });
    const b = await bundle(u.frank, f.S.id);
    assert.match(unb64(b.secretBundle.secretBundleContent.content), /^pw-S/);
    const upd = await u.gina.vaults.updateSecret({ secretId: f.S2.id, updateSecretDetails: newContent("gina v2"), retryConfiguration: NO_RETRY });
    assert.equal(upd.secret.currentVersionNumber, 2);
    // CreateSecret still needs use keys (OCI's table): frank has none, and no manage either; bob without a K2 grant.
    await table([
      ["frank", "Decrypt with K (still needs use keys)", () => u.frank.crypto(f.V).decrypt({ decryptDataDetails: { keyId: f.K.id, ciphertext: f.ctK }, retryConfiguration: NO_RETRY }), 404],
      ["frank", "GetSecretBundle(S3 in C)", () => bundle(u.frank, f.S3.id), 404],
      ["carol", "GetSecretBundle(S)", () => bundle(u.carol, f.S.id), 404],
    ]);
  } finally {
    await tresorOk(w, "PUT", "/tresor/v1/settings", { secretReadsRequireKeyUse: true });
  }
  assert.deepEqual(await tresorOk(w, "GET", "/tresor/v1/settings"), { secretReadsRequireKeyUse: true });
  await expectOciError(bundle(u.frank, f.S.id), { status: 403, what: "frank, setting on again" });
});

// ----- simulator and linter -----------------------------------------------------------

test("policy simulator (signed POST /tresor/v1/actions/simulatePolicy): decision and httpStatus agree with the real calls", async () => {
  const cases = [
    ["alice", "GetSecretBundle", { secretId: f.S.id }, () => bundle(u.alice, f.S.id)],
    ["alice", "GetSecretBundle", { secretId: f.S3.id }, () => bundle(u.alice, f.S3.id)],
    ["frank", "GetSecretBundle", { secretId: f.S.id }, () => bundle(u.frank, f.S.id)],
    ["frank", "GetSecret", { secretId: f.S.id }, () => getSecret(u.frank, f.S.id)],
    ["carol", "GetSecretBundle", { secretId: f.S.id }, () => bundle(u.carol, f.S.id)],
    ["dave", "GetSecretBundle", { secretId: f.S2.id }, () => bundle(u.dave, f.S2.id)],
    ["erin", "ListSecrets", { compartmentId: f.B.id }, () => listSecrets(u.erin, f.B.id)],
    ["erin", "ListSecrets", { compartmentId: f.A.id }, () => listSecrets(u.erin, f.A.id)],
  ];
  const bad = [];
  for (const [who, operation, target, call] of cases) {
    const sim = await tresorApi(w, "POST", "/tresor/v1/actions/simulatePolicy", { principal: { userName: who }, operation, target });
    assert.equal(sim.status, 200, `${who} ${operation}: ${sim.text}`);
    const real = await outcome(call());
    const j = sim.json;
    if (j.httpStatus !== real.status || j.decision !== (real.status === 200 ? "ALLOW" : "DENY")) {
      bad.push(`${who} ${operation} ${JSON.stringify(target)}: simulator ${j.decision}/${j.httpStatus}, real ${real.status} ${real.code ?? ""}`);
    }
    assert.ok(Array.isArray(j.checks) && j.checks.length > 0, `${who} ${operation}: no checks`);
    for (const ch of j.checks) assert.ok(Array.isArray(ch.trace), `check without a trace: ${JSON.stringify(ch)}`);
  }
  assert.deepEqual(bad, []);
});

test("simulator: the trace names the granting statements; a 403 carries missingPermission and suggestedStatement", async () => {
  const allow = await tresorOk(w, "POST", "/tresor/v1/actions/simulatePolicy", {
    principal: { userId: u.alice.user.id },
    operation: "GetSecretBundle",
    target: { secretId: f.S.id },
  });
  assert.equal(allow.decision, "ALLOW");
  assert.equal(allow.httpStatus, 200);
  const on = Object.fromEntries(allow.checks.map((c) => [c.on, c]));
  assert.ok(on.secret && on.key, `checks on the secret and on its key: ${JSON.stringify(allow.checks)}`);
  assert.equal(on.key.targetId, f.K.id);
  assert.match(on.secret.grantedBy, /readers/);
  assert.match(on.key.grantedBy, /readers-keys/);
  assert.ok(on.secret.trace.some((t) => /Allow group Readers to read secret-family in compartment A/.test(t) && /match/i.test(t)), JSON.stringify(on.secret.trace));

  const deny = await tresorOk(w, "POST", "/tresor/v1/actions/simulatePolicy", {
    principal: { userName: "frank" },
    operation: "GetSecretBundle",
    target: { secretId: f.S.id },
  });
  assert.equal(deny.decision, "DENY");
  assert.equal(deny.httpStatus, 403);
  assert.match(String(deny.missingPermission), /KEY_DECRYPT/);
  assert.match(String(deny.suggestedStatement), /^Allow group ReadOnly to use keys in /i);
});

test("simulator: a user simulates herself with no grant; simulating someone else needs read policies", async () => {
  const self = await tresorApi(w, "POST", "/tresor/v1/actions/simulatePolicy", { operation: "GetSecret", target: { secretId: f.S.id } }, { auth: u.carol.auth });
  assert.equal(self.status, 200, self.text);
  assert.equal(self.json.decision, "DENY");
  assert.equal(self.json.httpStatus, 404);
  const other = await tresorApi(
    w,
    "POST",
    "/tresor/v1/actions/simulatePolicy",
    { principal: { userName: "alice" }, operation: "GetSecret", target: { secretId: f.S.id } },
    { auth: u.carol.auth },
  );
  assert.ok([403, 404].includes(other.status), `carol simulating alice: ${other.status} ${other.text}`);
  assert.ok(other.json?.code && other.json?.message, `error envelope: ${other.text}`);
});

test("policy linter (signed POST /tresor/v1/actions/lintPolicy): each risky statement flagged with its rule, risk and fix; clean ones not", async () => {
  const statements = [
    "Allow any-user to read secret-family in tenancy", // 0 any-user
    "Allow group Writers to manage secret-family in tenancy", // 1 tenancy-wide manage
    "Allow group Readers to read secret-family in tenancy", // 2 tenancy-wide read, no where
    "Allow group Readers to read secret-family in compartment A where target.secret.name = 'db-*'", // 3 quoted wildcard
    "Allow group Readers to use keys in compartment A", // 4 clean
    "Allow group BInspect to read secret-family in compartment A where target.secret.name = /db-*/", // 5 pattern; BInspect has no key grant anywhere
    "Allow group Readers to frobnicate", // 6 does not parse
  ];
  const j = await tresorOk(w, "POST", "/tresor/v1/actions/lintPolicy", { statements });
  assert.ok(Array.isArray(j.findings), JSON.stringify(j));
  const by = (i) => j.findings.filter((x) => x.statementIndex === i).map((x) => x.rule);
  for (const fd of j.findings) {
    assert.equal(fd.statement, statements[fd.statementIndex]);
    assert.ok(fd.risk && fd.fix, `finding without risk/fix: ${JSON.stringify(fd)}`);
  }
  assert.ok(by(0).includes("any-user-sensitive"), `statement 0: ${by(0)}`);
  assert.ok(by(1).includes("tenancy-manage-secret-family"), `statement 1: ${by(1)}`);
  assert.ok(by(2).includes("tenancy-wide-secret-read"), `statement 2: ${by(2)}`);
  assert.ok(by(3).includes("quoted-wildcard"), `statement 3: ${by(3)}`);
  assert.deepEqual(by(4), [], "a plain use keys in a compartment is fine");
  assert.ok(by(5).includes("secret-read-without-key-use"), `statement 5 (BInspect has no use keys): ${by(5)}`);
  assert.ok(!by(5).includes("quoted-wildcard"), "/db-*/ is a pattern, not a quoted wildcard");
  assert.equal(by(6).length, 1, `statement 6 (does not parse) is one finding, not a refusal: ${by(6)}`);
});

test("linter: a statement that does not parse is a finding with rule `parse-error`, severity `error` (docs/api/tresor-v1.md), naming the column", async () => {
  const j = await tresorOk(w, "POST", "/tresor/v1/actions/lintPolicy", {
    statements: ["Allow group Readers to use keys in compartment A", "Allow group Readers to frobnicate"],
  });
  const fd = j.findings.filter((x) => x.statementIndex === 1);
  assert.equal(fd.length, 1, JSON.stringify(j.findings));
  assert.match(`${fd[0].risk} ${fd[0].fix}`, /column \d+/);
  // docs/api/tresor-v1.md: "Statements that do not parse are reported as findings with rule `parse-error` (severity `error`), not refused."
  assert.equal(fd[0].rule, "parse-error", JSON.stringify(fd[0]));
  assert.equal(fd[0].severity, "error", JSON.stringify(fd[0]));
});

test("linter on a stored policy (policyId); a read grant with no key grant is flagged", async () => {
  const p = await createPolicy(w, uniq("lintme"), ["Allow group ReadOnly to read secret-family in compartment A"]);
  const j = await tresorOk(w, "POST", "/tresor/v1/actions/lintPolicy", { policyId: p.id });
  assert.ok(j.findings.some((x) => x.statementIndex === 0 && x.rule === "secret-read-without-key-use"), JSON.stringify(j.findings));
  await w.identity.deletePolicy({ policyId: p.id });
});

test("case 20: removing alice from Readers → her next GetSecretBundle(S) is 404", async () => {
  await bundle(u.alice, f.S.id);
  const ms = await listAll((r) => w.identity.listUserGroupMemberships(r), { compartmentId: w.tenancy, userId: u.alice.user.id });
  for (const m of ms) await w.identity.removeUserFromGroup({ userGroupMembershipId: m.id });
  const o = await outcome(bundle(u.alice, f.S.id));
  assert.equal(o.status, 404, JSON.stringify(o));
});

test("no SDK call needed a retry", () => assertNoSdkRetries());
