// opc-retry-token (spec 6): a retried create with the same token returns the first result,
// not a duplicate; the same token with a different body → 409 InvalidatedRetryToken.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";

import {
  NO_RETRY,
  assertNoSdkRetries,
  assertResp,
  createKey,
  createVault,
  expectOciError,
  listAll,
  secretDetails,
  startWorld,
  stopWorld,
  uniq,
} from "../lib/world.mjs";

let w, v, k;
const token = () => `interop-${crypto.randomUUID()}`;

before(async () => {
  w = await startWorld("rt");
  v = (await createVault(w)).vault;
  k = (await createKey(w, v)).key;
});
after(async () => {
  await stopWorld(w);
});

const secretIdsInVault = async () =>
  (await listAll((r) => w.vaults.listSecrets(r), { compartmentId: w.tenancy, vaultId: v.id })).map((s) => s.id).sort();

let secretToken;
let firstSecret;

test("CreateSecret twice with the same opcRetryToken and body returns the first secret, creates one", async () => {
  secretToken = token();
  const details = secretDetails(w, v, k, { name: uniq("rt-secret"), content: "once" });
  const before = await secretIdsInVault();
  const a = await w.vaults.createSecret({ createSecretDetails: details, opcRetryToken: secretToken });
  assertResp(a, "CreateSecret #1", { etag: true });
  firstSecret = a.secret;
  const b = await w.vaults.createSecret({ createSecretDetails: { ...details }, opcRetryToken: secretToken, retryConfiguration: NO_RETRY });
  assertResp(b, "CreateSecret #2", { etag: true });
  assert.equal(b.secret.id, a.secret.id, "the retried create must return the first secret");
  assert.equal(b.secret.secretName, a.secret.secretName);
  assert.equal(b.secret.timeCreated, a.secret.timeCreated);
  const after = await secretIdsInVault();
  assert.deepEqual(after, [...before, a.secret.id].sort(), "exactly one secret was created");
  const versions = await w.vaults.listSecretVersions({ secretId: a.secret.id });
  assert.equal(versions.items.length, 1, "and exactly one version");
});

test("same opcRetryToken with a different body → 409 InvalidatedRetryToken, nothing created", async () => {
  const before = await secretIdsInVault();
  const details = secretDetails(w, v, k, { name: uniq("rt-other"), content: "different" });
  await expectOciError(
    w.vaults.createSecret({ createSecretDetails: details, opcRetryToken: secretToken, retryConfiguration: NO_RETRY }),
    { status: 409, code: "InvalidatedRetryToken", what: "CreateSecret reused token, other body" },
  );
  assert.deepEqual(await secretIdsInVault(), before);
});

test("CreateVault twice with the same opcRetryToken returns one vault", async () => {
  const t = token();
  const details = { compartmentId: w.tenancy, displayName: uniq("rt-vault"), vaultType: "DEFAULT" };
  const before = (await w.kmsVault.listVaults({ compartmentId: w.tenancy })).items.length;
  const a = await w.kmsVault.createVault({ createVaultDetails: details, opcRetryToken: t });
  const b = await w.kmsVault.createVault({ createVaultDetails: { ...details }, opcRetryToken: t });
  assert.equal(b.vault.id, a.vault.id);
  const after = (await w.kmsVault.listVaults({ compartmentId: w.tenancy })).items;
  assert.equal(after.length, before + 1);
  assert.equal(after.filter((x) => x.displayName === details.displayName).length, 1);
  await expectOciError(
    w.kmsVault.createVault({
      createVaultDetails: { ...details, displayName: uniq("rt-vault-x") },
      opcRetryToken: t,
      retryConfiguration: NO_RETRY,
    }),
    { status: 409, code: "InvalidatedRetryToken", what: "CreateVault reused token, other body" },
  );
  assert.equal((await w.kmsVault.listVaults({ compartmentId: w.tenancy })).items.length, before + 1);
});

test("CreateKey twice with the same opcRetryToken returns one key", async () => {
  const t = token();
  const mgmt = w.mgmt(v);
  const details = {
    compartmentId: w.tenancy,
    displayName: uniq("rt-key"),
    keyShape: { algorithm: "AES", length: 32 },
    protectionMode: "SOFTWARE",
  };
  const before = (await mgmt.listKeys({ compartmentId: w.tenancy })).items.length;
  const a = await mgmt.createKey({ createKeyDetails: details, opcRetryToken: t });
  const b = await mgmt.createKey({ createKeyDetails: { ...details }, opcRetryToken: t });
  assert.equal(b.key.id, a.key.id);
  assert.equal((await mgmt.listKeys({ compartmentId: w.tenancy })).items.length, before + 1);
});

test("CreateKeyVersion twice with the same opcRetryToken adds one version", async () => {
  const t = token();
  const mgmt = w.mgmt(v);
  const before = (await mgmt.listKeyVersions({ keyId: k.id })).items.length;
  const a = await mgmt.createKeyVersion({ keyId: k.id, opcRetryToken: t });
  const b = await mgmt.createKeyVersion({ keyId: k.id, opcRetryToken: t });
  assert.equal(b.keyVersion.id, a.keyVersion.id);
  assert.equal((await mgmt.listKeyVersions({ keyId: k.id })).items.length, before + 1);
});

test("concurrent CreateSecret calls with one token create one secret", async () => {
  const t = token();
  const details = secretDetails(w, v, k, { name: uniq("rt-par"), content: "parallel" });
  const before = await secretIdsInVault();
  const results = await Promise.allSettled(
    Array.from({ length: 5 }, () =>
      w.vaults.createSecret({ createSecretDetails: { ...details }, opcRetryToken: t, retryConfiguration: NO_RETRY }),
    ),
  );
  const ids = new Set(results.filter((r) => r.status === "fulfilled").map((r) => r.value.secret.id));
  const failures = results.filter((r) => r.status === "rejected").map((r) => `${r.reason.statusCode} ${r.reason.serviceCode}`);
  assert.ok(ids.size === 1, `distinct secrets returned: ${ids.size}; failures: ${failures}`);
  for (const f of failures) assert.match(f, /^409 /, `a concurrent replay may only be refused with 409: ${f}`);
  const after = await secretIdsInVault();
  assert.equal(after.length, before.length + 1, "exactly one secret created");
});

test("without an explicit token the SDK sends a fresh one per call: two calls, two secrets", async () => {
  const before = await secretIdsInVault();
  const a = await w.vaults.createSecret({ createSecretDetails: secretDetails(w, v, k, { name: uniq("auto-a") }) });
  const b = await w.vaults.createSecret({ createSecretDetails: secretDetails(w, v, k, { name: uniq("auto-b") }) });
  assert.notEqual(a.secret.id, b.secret.id);
  assert.equal((await secretIdsInVault()).length, before.length + 2);
});

test("a token is scoped to its operation (spec 6): the secret token reused on CreateVault creates a vault", async () => {
  const before = (await w.kmsVault.listVaults({ compartmentId: w.tenancy })).items.length;
  const r = await w.kmsVault.createVault({
    createVaultDetails: { compartmentId: w.tenancy, displayName: uniq("rt-scope"), vaultType: "DEFAULT" },
    opcRetryToken: secretToken,
  });
  assert.match(r.vault.id, /^ocid1\.vault\./);
  assert.notEqual(r.vault.id, firstSecret.id);
  assert.equal((await w.kmsVault.listVaults({ compartmentId: w.tenancy })).items.length, before + 1);
});

test("no SDK call needed a retry", () => assertNoSdkRetries());
