// Bad input changes nothing: each refusal is checked against a snapshot of the store
// (secrets in the compartment, versions/etag/current version of a reference secret)
// taken before and after.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";

import { loadCredentials, signedRequest } from "../lib/sign.mjs";
import {
  NO_RETRY,
  assertNoSdkRetries,
  b64,
  createKey,
  createSecret,
  createVault,
  expectOciError,
  secretDetails,
  startWorld,
  stopWorld,
  storeSnapshot,
  uniq,
  unb64,
} from "../lib/world.mjs";

let w, v, k, ref, creds;
const REF_NAME = uniq("ref");

before(async () => {
  w = await startWorld("bad");
  creds = loadCredentials(w.srv.configPath);
  v = (await createVault(w)).vault;
  k = (await createKey(w, v)).key;
  ref = (await createSecret(w, v, k, { name: REF_NAME, content: "reference" })).secret;
});
after(async () => {
  await stopWorld(w);
});

/** Run `fn` (which must produce the expected refusal) and check the store is unchanged. */
async function refusedAndUnchanged(fn) {
  const before = await storeSnapshot(w, [ref.id]);
  const err = await fn();
  const after = await storeSnapshot(w, [ref.id]);
  assert.deepEqual(after, before, "the store changed after a refused request");
  return err;
}

const create = (details) => w.vaults.createSecret({ createSecretDetails: details, retryConfiguration: NO_RETRY });
const update = (details) => w.vaults.updateSecret({ secretId: ref.id, updateSecretDetails: details, retryConfiguration: NO_RETRY });

test("CreateSecret with contentType PLAIN → 400 InvalidParameter telling to send BASE64", async () => {
  await refusedAndUnchanged(() =>
    expectOciError(
      create({ ...secretDetails(w, v, k), secretContent: { contentType: "PLAIN", content: "hello" } }),
      { status: 400, code: "InvalidParameter", message: /BASE64/, what: "PLAIN create" },
    ),
  );
});

test("UpdateSecret with contentType PLAIN → 400 InvalidParameter telling to send BASE64; no new version", async () => {
  await refusedAndUnchanged(() =>
    expectOciError(update({ secretContent: { contentType: "PLAIN", content: "hello" } }), {
      status: 400,
      code: "InvalidParameter",
      message: /BASE64/,
      what: "PLAIN update",
    }),
  );
});

test("invalid base64 content → 400 naming the field (create and update)", async () => {
  for (const bad of ["not base64!!", "ab$d"]) {
    await refusedAndUnchanged(() =>
      expectOciError(create({ ...secretDetails(w, v, k), secretContent: { contentType: "BASE64", content: bad } }), {
        status: 400,
        message: /content/,
        what: `create content=${JSON.stringify(bad)}`,
      }),
    );
  }
  await refusedAndUnchanged(() =>
    expectOciError(update({ secretContent: { contentType: "BASE64", content: "%%%%" } }), {
      status: 400,
      message: /content/,
      what: "update invalid base64",
    }),
  );
});

test("content over 25 KB once decoded → 400 naming the field (create and update)", async () => {
  const big = Buffer.alloc(25 * 1024 + 1, 0x61).toString("base64");
  await refusedAndUnchanged(() =>
    expectOciError(create({ ...secretDetails(w, v, k), secretContent: { contentType: "BASE64", content: big } }), {
      status: 400,
      message: /content/,
      what: "create 25 KB + 1",
    }),
  );
  await refusedAndUnchanged(() =>
    expectOciError(update({ secretContent: { contentType: "BASE64", content: big } }), {
      status: 400,
      message: /content/,
      what: "update 25 KB + 1",
    }),
  );
});

test("a JSON field of the wrong type → 400 naming the field", async () => {
  await refusedAndUnchanged(() =>
    expectOciError(create({ ...secretDetails(w, v, k), secretName: 12345 }), {
      status: 400,
      message: /secretName/,
      what: "secretName: number",
    }),
  );
  await refusedAndUnchanged(() =>
    expectOciError(create({ ...secretDetails(w, v, k), description: ["a", "b"] }), {
      status: 400,
      message: /description/,
      what: "description: array",
    }),
  );
  await refusedAndUnchanged(() =>
    expectOciError(create({ ...secretDetails(w, v, k), metadata: "not-an-object" }), {
      status: 400,
      message: /metadata/,
      what: "metadata: string",
    }),
  );
  await refusedAndUnchanged(() =>
    expectOciError(update({ description: 42 }), { status: 400, message: /description/, what: "update description: number" }),
  );
});

test("a missing required field → 400 naming the field", async () => {
  for (const field of ["compartmentId", "vaultId", "keyId", "secretName"]) {
    const d = secretDetails(w, v, k);
    delete d[field];
    await refusedAndUnchanged(() =>
      expectOciError(create(d), { status: 400, message: new RegExp(field), what: `missing ${field}` }),
    );
  }
  await refusedAndUnchanged(() =>
    expectOciError(create({ ...secretDetails(w, v, k), secretContent: { content: b64("x") } }), {
      status: 400,
      message: /contentType/,
      what: "missing secretContent.contentType",
    }),
  );
});

test("a secret name already used in the vault → 409; the same name in another vault is fine", async () => {
  await refusedAndUnchanged(() =>
    expectOciError(create(secretDetails(w, v, k, { name: REF_NAME, content: "dup" })), { status: 409, what: "duplicate name" }),
  );
  const v2 = (await createVault(w)).vault;
  const k2 = (await createKey(w, v2)).key;
  const s2 = await createSecret(w, v2, k2, { name: REF_NAME, content: "other vault" });
  assert.notEqual(s2.secret.id, ref.id);
  // GetSecretBundleByName is scoped by vault.
  const b1 = (await w.secrets.getSecretBundleByName({ secretName: REF_NAME, vaultId: v.id })).secretBundle;
  const b2 = (await w.secrets.getSecretBundleByName({ secretName: REF_NAME, vaultId: v2.id })).secretBundle;
  assert.equal(unb64(b1.secretBundleContent.content), "reference");
  assert.equal(unb64(b2.secretBundleContent.content), "other vault");
});

test("references to an unknown vault or key → 4xx, nothing created", async () => {
  await refusedAndUnchanged(() =>
    expectOciError(create({ ...secretDetails(w, v, k), vaultId: "ocid1.vault.oc1..nope" }), { status: "4xx", what: "unknown vault" }),
  );
  await refusedAndUnchanged(() =>
    expectOciError(create({ ...secretDetails(w, v, k), keyId: "ocid1.key.oc1..nope" }), { status: "4xx", what: "unknown key" }),
  );
});

test("a body that is not JSON → 400, nothing created", async () => {
  await refusedAndUnchanged(async () => {
    const r = await signedRequest(w.srv.port, { method: "POST", target: "/20180608/secrets", body: "{not json", creds });
    assert.equal(r.status, 400, r.text);
    assert.ok(r.json && typeof r.json.code === "string" && typeof r.json.message === "string", `not an error envelope: ${r.text}`);
  });
});

test("ScheduleSecretDeletion with timeOfDeletion outside 1–30 days → 400 naming timeOfDeletion; still ACTIVE", async () => {
  for (const days of [-1, 0.5, 31, 100]) {
    const when = new Date(Date.now() + days * 24 * 3600 * 1000);
    await refusedAndUnchanged(() =>
      expectOciError(
        w.vaults.scheduleSecretDeletion({
          secretId: ref.id,
          scheduleSecretDeletionDetails: { timeOfDeletion: when },
          retryConfiguration: NO_RETRY,
        }),
        { status: 400, message: /timeOfDeletion/, what: `timeOfDeletion in ${days} days` },
      ),
    );
  }
});

test("concurrent CreateSecret with the same name: exactly one succeeds, the others get 409", async () => {
  const name = uniq("race");
  const N = 6;
  const before = await storeSnapshot(w);
  const results = await Promise.allSettled(
    Array.from({ length: N }, (_, i) => create(secretDetails(w, v, k, { name, content: `r${i}` }))),
  );
  const ok = results.filter((r) => r.status === "fulfilled");
  const codes = results.filter((r) => r.status === "rejected").map((r) => r.reason.statusCode);
  assert.equal(ok.length, 1, `successes ${ok.length}, failures ${codes}`);
  assert.deepEqual(codes, Array(N - 1).fill(409));
  const after = await storeSnapshot(w);
  assert.equal(after.secrets.length, before.secrets.length + 1);
  assert.equal(after.secrets.filter((x) => x.name === name).length, 1);
});

test("content of 1.5 MB (a 2 MB request) → a 4xx OCI error envelope, not a dropped connection; nothing stored", async () => {
  // Issue 2: content over 25 KB once decoded → 400 naming the field. A server may cap the
  // request size earlier, but it must still answer with {"code","message"} and
  // opc-request-id (spec 5.1), and read the body before answering: a connection closed
  // while the SDK is still sending is a network error, which the SDK retries (CreateSecret
  // retries by default).
  const big = Buffer.alloc(1536 * 1024, 0x62).toString("base64");
  await refusedAndUnchanged(() =>
    expectOciError(create({ ...secretDetails(w, v, k), secretContent: { contentType: "BASE64", content: big } }), {
      status: [400, 413],
      message: /content|large|size|limit|exceed/i,
      what: "CreateSecret with 1.5 MB content",
    }),
  );
  const g = await w.vaults.getSecret({ secretId: ref.id });
  assert.equal(g.secret.id, ref.id, "server still answers");
});

test("content of exactly 25,000 bytes is accepted and round-trips", async () => {
  const payload = Buffer.alloc(25000);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 7 + 3) & 0xff;
  const s = await createSecret(w, v, k, { name: uniq("big") }, {});
  const r = await w.vaults.updateSecret({
    secretId: s.secret.id,
    updateSecretDetails: { secretContent: { contentType: "BASE64", content: payload.toString("base64") } },
  });
  assert.equal(r.secret.id, s.secret.id);
  const b = (await w.secrets.getSecretBundle({ secretId: s.secret.id, versionNumber: 2 })).secretBundle;
  assert.ok(Buffer.from(b.secretBundleContent.content, "base64").equals(payload));
});

test("no SDK call needed a retry", () => assertNoSdkRetries());
