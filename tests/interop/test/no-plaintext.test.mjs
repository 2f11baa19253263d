// The database never holds plaintext: store known values (CreateSecret, UpdateSecret, a
// rolled-back version), stop the server, and search every byte of tresor.db and
// tresor.db-wal (and every other file in DIR but the admin's key) for the values, raw,
// base64 (all three alignments, standard and URL-safe) and hex. Also checked while the
// server runs, when the WAL holds the fresh pages.
// PostgreSQL leg: instead of tresor.db, a pg_dump of the server's database and, after a
// CHECKPOINT, the cluster's own files for that database (base/<oid>) and its WAL.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

import { MODE, psql } from "../lib/server.mjs";

import {
  assertNoSdkRetries,
  b64,
  createKey,
  createSecret,
  createVault,
  startWorld,
  stopWorld,
  unb64,
  waitFor,
} from "../lib/world.mjs";

let w;
const canaries = [
  `tresor-canary-create-${crypto.randomBytes(12).toString("hex")}`,
  `tresor-canary-update-${crypto.randomBytes(12).toString("hex")}`,
  `TRESOR CANARY encrypt ${crypto.randomBytes(12).toString("hex")}`,
];

before(async () => {
  w = await startWorld("noplain");
});
after(async () => {
  // stopWorld asserts exit 0; it was already stopped in the test, which is fine.
  await stopWorld(w);
});

/** Byte patterns under which a value could sit in a file. */
function needles(value) {
  const buf = Buffer.from(value, "utf8");
  const out = [
    { how: "raw", bytes: buf },
    { how: "hex", bytes: Buffer.from(buf.toString("hex")) },
    { how: "HEX", bytes: Buffer.from(buf.toString("hex").toUpperCase()) },
  ];
  for (let o = 0; o < 3; o++) {
    const part = buf.subarray(o);
    const full = Math.floor(part.length / 3) * 3; // whole 3-byte groups encode identically wherever they sit
    const std = part.subarray(0, full).toString("base64");
    out.push({ how: `base64@${o}`, bytes: Buffer.from(std) });
    out.push({ how: `base64url@${o}`, bytes: Buffer.from(part.subarray(0, full).toString("base64url")) });
  }
  return out;
}

function filesToScan(dir) {
  const out = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && path.relative(dir, p) !== path.join("admin", "key.pem")) out.push(p);
    }
  };
  walk(dir);
  return out;
}

function scanBuffer(data, where, hits) {
  for (const c of canaries) {
    for (const n of needles(c)) {
      if (data.includes(n.bytes)) hits.push(`${where}: ${c} (${n.how})`);
    }
  }
}

function scan(dir) {
  const hits = [];
  for (const f of filesToScan(dir)) scanBuffer(fs.readFileSync(f), path.relative(dir, f), hits);
  return hits;
}

const PG = MODE.store === "pg";

/** PostgreSQL leg: pg_dump of the database, then its files and the WAL after a CHECKPOINT. */
async function scanPg() {
  const st = w.srv.store;
  assert.equal(st.kind, "pg");
  const hits = [];
  const bin = process.env.TRESOR_TEST_PG_BIN;
  const pgDump = bin && fs.existsSync(path.join(bin, "pg_dump")) ? path.join(bin, "pg_dump") : "pg_dump";
  const dump = execFileSync(pgDump, ["-d", st.conninfo, "--no-owner"], { maxBuffer: 256 * 1024 * 1024 });
  assert.ok(dump.length > 1000, "pg_dump printed almost nothing");
  scanBuffer(dump, `pg_dump ${st.dbname}`, hits);
  const dataDir = process.env.TRESOR_TEST_PG_DIR && path.join(process.env.TRESOR_TEST_PG_DIR, "data");
  if (dataDir && fs.existsSync(dataDir)) {
    await psql("CHECKPOINT");
    const oid = (await psql(`SELECT oid FROM pg_database WHERE datname = '${st.dbname}'`)).trim();
    assert.match(oid, /^\d+$/);
    for (const sub of [path.join("base", oid), "pg_wal"]) {
      const d = path.join(dataDir, sub);
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        if (e.isFile()) scanBuffer(fs.readFileSync(path.join(d, e.name)), `cluster ${sub}/${e.name}`, hits);
      }
    }
  }
  return hits;
}

test("store known values through the SDK and read them back", async () => {
  const v = (await createVault(w)).vault;
  const k = (await createKey(w, v)).key;
  const s = (await createSecret(w, v, k, { content: canaries[0] })).secret;
  await w.vaults.updateSecret({
    secretId: s.id,
    updateSecretDetails: { secretContent: { contentType: "BASE64", content: b64(canaries[1]) } },
  });
  await waitFor(
    () => w.vaults.getSecret({ secretId: s.id }),
    (x) => x.secret.currentVersionNumber === 2 && x.secret.lifecycleState === "ACTIVE",
    { what: "version 2" },
  );
  const b1 = (await w.secrets.getSecretBundle({ secretId: s.id, versionNumber: 1 })).secretBundle;
  const b2 = (await w.secrets.getSecretBundle({ secretId: s.id })).secretBundle;
  assert.equal(unb64(b1.secretBundleContent.content), canaries[0]);
  assert.equal(unb64(b2.secretBundleContent.content), canaries[1]);
  // KMS plaintext passes through; nothing of it may be kept either.
  const c = w.crypto(v);
  const e = await c.encrypt({ encryptDataDetails: { keyId: k.id, plaintext: b64(canaries[2]) } });
  const d = await c.decrypt({ decryptDataDetails: { keyId: k.id, ciphertext: e.encryptedData.ciphertext } });
  assert.equal(unb64(d.decryptedData.plaintext), canaries[2]);
});

test("while running: the database (tresor.db and -wal, or PostgreSQL's dump, files and WAL) holds none of the values", async () => {
  if (PG) {
    assert.deepEqual(await scanPg(), []);
    assert.deepEqual(scan(w.srv.dir), []);
    return;
  }
  const wal = path.join(w.srv.dir, "tresor.db-wal");
  assert.ok(fs.existsSync(path.join(w.srv.dir, "tresor.db")));
  assert.ok(fs.existsSync(wal), "tresor.db-wal should exist while running (WAL mode)");
  assert.deepEqual(scan(w.srv.dir), []);
});

test("after SIGTERM: no file in DIR holds any of the values (raw, base64, hex)", async () => {
  const r = await w.srv.stop("SIGTERM");
  assert.equal(r.code, 0, `exit ${JSON.stringify(r)}`);
  const files = filesToScan(w.srv.dir).map((f) => path.relative(w.srv.dir, f));
  assert.ok(files.includes(PG ? "store.url" : "tresor.db"), `files: ${files}`);
  if (PG) assert.deepEqual(await scanPg(), []);
  // Sanity check of the scanner itself: it finds a value that is there.
  const probe = Buffer.concat([Buffer.from("xx"), Buffer.from(b64("zz" + canaries[0] + "zz"))]);
  assert.ok(needles(canaries[0]).some((n) => probe.includes(n.bytes)), "scanner self-test");
  assert.deepEqual(scan(w.srv.dir), []);
});

test("the server log holds none of the values either", () => {
  const log = fs.readFileSync(w.srv.logPath);
  const hits = [];
  for (const c of canaries) for (const n of needles(c)) if (log.includes(n.bytes)) hits.push(`${c} (${n.how})`);
  assert.deepEqual(hits, []);
});

test("no SDK call needed a retry", () => assertNoSdkRetries());
