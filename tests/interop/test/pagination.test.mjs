// Pagination: limit/page and opc-next-page (present only when more remain, URL-safe),
// on ListSecrets, ListSecretVersions, ListSecretBundleVersions, ListKeys, and the SDK's
// paginator helpers (listAll*, *RecordIterator, *ResponseIterator).

import { after, before, test } from "node:test";
import assert from "node:assert/strict";

import { loadCredentials, signedRequest } from "../lib/sign.mjs";
import {
  assertNoSdkRetries,
  assertResp,
  b64,
  createKey,
  createSecret,
  createVault,
  startWorld,
  stopWorld,
  uniq,
  waitFor,
} from "../lib/world.mjs";

let w, v, k, creds;
const PREFIX = uniq("page");
const names = [0, 1, 2, 3, 4].map((i) => `${PREFIX}-${i}`);
const ids = [];

before(async () => {
  w = await startWorld("page");
  creds = loadCredentials(w.srv.configPath);
  v = (await createVault(w)).vault;
  k = (await createKey(w, v)).key;
  // Created in reverse name order, so name order and creation order differ.
  for (const n of [...names].reverse()) ids.push((await createSecret(w, v, k, { name: n, content: n })).secret.id);
});
after(async () => {
  await stopWorld(w);
});

/** Walk all pages by hand; returns { pages: [[...items]], tokens: [...] }. */
async function walk(call, req) {
  const pages = [];
  const tokens = [];
  let page;
  for (let i = 0; i < 50; i++) {
    const r = await call({ ...req, page });
    assertResp(r, "list page");
    pages.push(r.items);
    if (!r.opcNextPage) return { pages, tokens };
    assert.match(r.opcNextPage, /^[A-Za-z0-9._~-]+$/, `page token must be URL-safe (spec 2.4): ${r.opcNextPage}`);
    tokens.push(r.opcNextPage);
    page = r.opcNextPage;
  }
  assert.fail("pagination did not end within 50 pages");
}

test("ListSecrets, 5 secrets, limit 2: pages of 2, 2, 1; no duplicates; no opc-next-page on the last", async () => {
  const { pages, tokens } = await walk((r) => w.vaults.listSecrets(r), { compartmentId: w.tenancy, vaultId: v.id, limit: 2 });
  assert.deepEqual(pages.map((p) => p.length), [2, 2, 1]);
  assert.equal(tokens.length, 2);
  const got = pages.flat().map((s) => s.id);
  assert.equal(new Set(got).size, 5, "duplicates across pages");
  assert.deepEqual([...got].sort(), [...ids].sort());
});

test("ListSecrets sorted by NAME ASC across pages", async () => {
  const { pages } = await walk((r) => w.vaults.listSecrets(r), {
    compartmentId: w.tenancy,
    vaultId: v.id,
    limit: 2,
    sortBy: "NAME",
    sortOrder: "ASC",
  });
  assert.deepEqual(pages.flat().map((s) => s.secretName), names);
});

test("ListSecrets sorted by NAME DESC across pages", async () => {
  const { pages } = await walk((r) => w.vaults.listSecrets(r), {
    compartmentId: w.tenancy,
    vaultId: v.id,
    limit: 3,
    sortBy: "NAME",
    sortOrder: "DESC",
  });
  assert.deepEqual(pages.map((p) => p.length), [3, 2]);
  assert.deepEqual(pages.flat().map((s) => s.secretName), [...names].reverse());
});

test("ListSecrets default order is TIMECREATED descending (spec 6); TIMECREATED ASC reverses it", async () => {
  const def = await walk((r) => w.vaults.listSecrets(r), { compartmentId: w.tenancy, vaultId: v.id, limit: 2 });
  const t = def.pages.flat().map((s) => Date.parse(s.timeCreated));
  for (let i = 1; i < t.length; i++) assert.ok(t[i - 1] >= t[i], `default order not newest first: ${t}`);
  const ids1 = def.pages.flat().map((s) => s.id);
  // Created one after the other, so the default order is the reverse creation order
  // (asserted only when no two share a timestamp).
  if (new Set(t).size === t.length) assert.deepEqual(ids1, [...ids].reverse());
  const asc = await walk((r) => w.vaults.listSecrets(r), {
    compartmentId: w.tenancy,
    vaultId: v.id,
    limit: 2,
    sortBy: "TIMECREATED",
    sortOrder: "ASC",
  });
  if (new Set(t).size === t.length) assert.deepEqual(asc.pages.flat().map((s) => s.id), ids);
  const ta = asc.pages.flat().map((s) => Date.parse(s.timeCreated));
  for (let i = 1; i < ta.length; i++) assert.ok(ta[i - 1] <= ta[i], `ASC order not oldest first: ${ta}`);
});

test("ListSecrets with limit = number of items: one page, no opc-next-page", async () => {
  const r = await w.vaults.listSecrets({ compartmentId: w.tenancy, vaultId: v.id, limit: 5 });
  assert.equal(r.items.length, 5);
  assert.ok(!r.opcNextPage, `opc-next-page sent although nothing remains: ${r.opcNextPage}`);
});

test("raw: the opc-next-page header is absent (not empty) on the last page", async () => {
  const base = `/20180608/secrets?compartmentId=${w.tenancy}&vaultId=${v.id}&limit=2`;
  const r1 = await signedRequest(w.srv.port, { method: "GET", target: base, creds });
  assert.equal(r1.status, 200, r1.text);
  assert.ok(r1.headers["opc-next-page"], "first page should have opc-next-page");
  const r2 = await signedRequest(w.srv.port, { method: "GET", target: `${base}&page=${r1.headers["opc-next-page"]}`, creds });
  const r3 = await signedRequest(w.srv.port, { method: "GET", target: `${base}&page=${r2.headers["opc-next-page"]}`, creds });
  assert.equal(r3.status, 200, r3.text);
  assert.equal(r3.json.length, 1);
  assert.equal(r3.headers["opc-next-page"], undefined, "no opc-next-page header on the last page");
  assert.ok(Array.isArray(r1.json), "list body is a bare JSON array (spec 2.6)");
});

test("SDK paginators: listAllSecrets, listSecretsRecordIterator, listSecretsResponseIterator", async () => {
  const req = { compartmentId: w.tenancy, vaultId: v.id, limit: 2 };
  const all = [];
  for await (const s of w.vaults.listAllSecrets({ ...req })) all.push(s.id);
  assert.deepEqual([...all].sort(), [...ids].sort());

  const rec = [];
  for await (const s of w.vaults.listSecretsRecordIterator({ ...req })) rec.push(s.id);
  assert.deepEqual([...rec].sort(), [...ids].sort());

  const sizes = [];
  for await (const resp of w.vaults.listSecretsResponseIterator({ ...req })) sizes.push(resp.items.length);
  assert.deepEqual(sizes, [2, 2, 1]);
});

test("ListSecretVersions and ListSecretBundleVersions paginate (5 versions, limit 2)", async () => {
  const sid = ids[0];
  for (let i = 2; i <= 5; i++) {
    await w.vaults.updateSecret({
      secretId: sid,
      updateSecretDetails: { secretContent: { contentType: "BASE64", content: b64(`version ${i}`) } },
    });
    await waitFor(
      () => w.vaults.getSecret({ secretId: sid }),
      (x) => x.secret.currentVersionNumber === i && x.secret.lifecycleState === "ACTIVE",
      { what: `version ${i} current` },
    );
  }
  const sv = await walk((r) => w.vaults.listSecretVersions(r), { secretId: sid, limit: 2, sortBy: "VERSION_NUMBER", sortOrder: "ASC" });
  assert.deepEqual(sv.pages.map((p) => p.map((x) => x.versionNumber)), [[1, 2], [3, 4], [5]]);

  const bv = await walk((r) => w.secrets.listSecretBundleVersions(r), { secretId: sid, limit: 2, sortBy: "VERSION_NUMBER", sortOrder: "DESC" });
  assert.deepEqual(bv.pages.map((p) => p.map((x) => x.versionNumber)), [[5, 4], [3, 2], [1]]);

  const viaHelper = [];
  for await (const x of w.vaults.listSecretVersionsRecordIterator({ secretId: sid, limit: 2 })) viaHelper.push(x.versionNumber);
  assert.deepEqual([...viaHelper].sort(), [1, 2, 3, 4, 5]);
  const bundleHelper = [];
  for await (const x of w.secrets.listSecretBundleVersionsRecordIterator({ secretId: sid, limit: 2 })) bundleHelper.push(x.versionNumber);
  assert.deepEqual([...bundleHelper].sort(), [1, 2, 3, 4, 5]);
});

test("ListKeys and ListKeyVersions paginate (limit 1)", async () => {
  const mgmt = w.mgmt(v);
  const k2 = (await createKey(w, v)).key;
  const kk = await walk((r) => mgmt.listKeys(r), { compartmentId: w.tenancy, limit: 1 });
  assert.deepEqual(kk.pages.map((p) => p.length), [1, 1]);
  assert.deepEqual(kk.pages.flat().map((x) => x.id).sort(), [k.id, k2.id].sort());

  await mgmt.createKeyVersion({ keyId: k2.id });
  const kv = await walk((r) => mgmt.listKeyVersions(r), { keyId: k2.id, limit: 1 });
  assert.deepEqual(kv.pages.map((p) => p.length), [1, 1]);
  const all = [];
  for await (const x of mgmt.listKeyVersionsRecordIterator({ keyId: k2.id, limit: 1 })) all.push(x.id);
  assert.equal(new Set(all).size, 2);
});

test("no SDK call needed a retry", () => assertNoSdkRetries());
