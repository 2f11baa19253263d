// Durability across a restart: after SIGTERM (exit 0) and a new `serve` on the same data
// dir, everything made before is there and usable: vaults, keys and their versions,
// secrets and all their versions, ciphertexts, etags, and stored retry tokens.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";

import { clientsFor, serveDataDir } from "../lib/server.mjs";
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
  uniq,
  unb64,
  waitFor,
} from "../lib/world.mjs";

let w;
const st = {};

before(async () => {
  w = await startWorld("restart");
});
after(async () => {
  await stopWorld(w);
});

test("before the restart: vault, rotated key, secret with two versions, ciphertexts, a retry token", async () => {
  st.vault = (await createVault(w)).vault;
  st.key = (await createKey(w, st.vault)).key;
  const c = w.crypto(st.vault);
  st.ct1 = (await c.encrypt({ encryptDataDetails: { keyId: st.key.id, plaintext: b64("before rotation") } })).encryptedData.ciphertext;
  st.kv2 = (await w.mgmt(st.vault).createKeyVersion({ keyId: st.key.id })).keyVersion;
  await waitFor(
    () => w.mgmt(st.vault).getKey({ keyId: st.key.id }),
    (g) => g.key.currentKeyVersion === st.kv2.id,
    { what: "rotation" },
  );
  st.ct2 = (
    await c.encrypt({ encryptDataDetails: { keyId: st.key.id, plaintext: b64("after rotation"), associatedData: { a: "b" } } })
  ).encryptedData.ciphertext;
  st.token = `restart-${uniq("t")}`;
  st.details = secretDetails(w, st.vault, st.key, { name: uniq("durable"), content: "v1 content" });
  st.secret = (await w.vaults.createSecret({ createSecretDetails: st.details, opcRetryToken: st.token })).secret;
  await w.vaults.updateSecret({
    secretId: st.secret.id,
    updateSecretDetails: { secretContent: { contentType: "BASE64", content: b64("v2 content") } },
  });
  st.etag = (await w.vaults.getSecret({ secretId: st.secret.id })).etag;
});

test("SIGTERM → exit 0, then serve again on the same data dir", async () => {
  const r = await w.srv.stop("SIGTERM");
  assert.deepEqual({ code: r.code, signal: r.signal ?? null }, { code: 0, signal: null }, w.srv.logTail());
  const { parent, dir, port, base } = w.srv;
  w.srv = await serveDataDir({ parent, dir, port, base });
  Object.assign(w, clientsFor(w.srv));
});

test("after the restart: vault, key and both key versions are there", async () => {
  const g = await w.kmsVault.getVault({ vaultId: st.vault.id });
  assert.equal(g.vault.lifecycleState, "ACTIVE");
  const k = await w.mgmt(g.vault).getKey({ keyId: st.key.id });
  assert.equal(k.key.currentKeyVersion, st.kv2.id);
  const kvs = await w.mgmt(g.vault).listKeyVersions({ keyId: st.key.id });
  assert.equal(kvs.items.length, 2);
});

test("after the restart: old ciphertexts decrypt (both key versions)", async () => {
  const c = w.crypto(st.vault);
  const d1 = await c.decrypt({ decryptDataDetails: { keyId: st.key.id, ciphertext: st.ct1 } });
  assert.equal(unb64(d1.decryptedData.plaintext), "before rotation");
  const d2 = await c.decrypt({ decryptDataDetails: { keyId: st.key.id, ciphertext: st.ct2, associatedData: { a: "b" } } });
  assert.equal(unb64(d2.decryptedData.plaintext), "after rotation");
});

test("after the restart: both secret versions read back, stages and etag unchanged", async () => {
  const g = await w.vaults.getSecret({ secretId: st.secret.id });
  assert.equal(g.etag, st.etag, "etag should survive a restart when nothing changed");
  assert.equal(g.secret.currentVersionNumber, 2);
  const b2 = (await w.secrets.getSecretBundle({ secretId: st.secret.id })).secretBundle;
  assert.equal(unb64(b2.secretBundleContent.content), "v2 content");
  const b1 = (await w.secrets.getSecretBundle({ secretId: st.secret.id, stage: "PREVIOUS" })).secretBundle;
  assert.equal(unb64(b1.secretBundleContent.content), "v1 content");
});

test("after the restart: the stored retry token still replays, and still refuses another body", async () => {
  const again = await w.vaults.createSecret({ createSecretDetails: st.details, opcRetryToken: st.token });
  assert.equal(again.secret.id, st.secret.id);
  await expectOciError(
    w.vaults.createSecret({
      createSecretDetails: { ...st.details, secretName: uniq("other") },
      opcRetryToken: st.token,
      retryConfiguration: NO_RETRY,
    }),
    { status: 409, code: "InvalidatedRetryToken", what: "replay after restart, other body" },
  );
});

test("after the restart: new writes work", async () => {
  const s = await createSecret(w, st.vault, st.key, { content: "new" });
  assert.match(s.secret.id, /^ocid1\.vaultsecret\./);
});

test("no SDK call needed a retry", () => assertNoSdkRetries());
