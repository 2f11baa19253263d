// SPDX-License-Identifier: Apache-2.0
//
// The SIGKILL crash test (issue 7, "no acknowledged write lost").
//
// CLIENTS concurrent clients create secrets (CreateSecret) and add
// versions (UpdateSecret) with known, unique content.  A client records a
// write as acknowledged only after a 2xx answer was read in full.  At a
// random moment (KILL_MIN_MS..KILL_MAX_MS after the load starts) tresord
// is killed with SIGKILL, then restarted on the same data directory with
// no manual step.  After every restart:
//
//   - SQLite's PRAGMA integrity_check on a copy of the files as the kill
//     left them (tresor.db + tresor.db-wal) answers "ok";
//   - every acknowledged write is readable with exactly its content
//     (GetSecretBundle by version number);
//   - every secret's versions are 1..n without a gap, n >= the highest
//     acknowledged version;
//   - nothing half-written is visible: every version that exists holds
//     content a client really sent for that secret (writes whose answer
//     was lost may or may not exist, but never garbled), and no secret
//     exists that no client tried to create.
//
// Environment: ROUNDS (default 50), DURATION (seconds; stop starting new
// rounds after this, 0 = no limit), CLIENTS (4), KILL_MIN_MS (50),
// KILL_MAX_MS (800), SEED (random), TRESORD, CRASH_DIR (keep the run's
// directory there instead of a temp dir), CRASH_REPORT (write the JSON
// summary to this file), CRASH_KEEP=1 (keep the temp dir).
// Exit status 0 when no acknowledged write was lost and every check held.

import { spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";

import {
  Client,
  Server,
  freePort,
  initData,
  loadCredentials,
  makeVaultAndKey,
  ok,
  sleep,
  tempDir,
  TRESORD,
} from "../probes/lib/tresor.mjs";
import { scan } from "../canary/scan.mjs";

const ROUNDS = Number(process.env.ROUNDS || 50);
const DURATION = Number(process.env.DURATION || 0);
const CLIENTS = Number(process.env.CLIENTS || 4);
const KILL_MIN = Number(process.env.KILL_MIN_MS || 50);
const KILL_MAX = Number(process.env.KILL_MAX_MS || 800);
const MAX_VERSIONS = 20; // below tresor's 30 active versions per secret

// a small seeded PRNG so a failing run can be replayed with SEED=
let seed = Number(process.env.SEED || crypto.randomInt(1, 2 ** 31));
const SEED0 = seed;
function rand() {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
}
const randInt = (a, b) => a + Math.floor(rand() * (b - a + 1));

const t0 = Date.now();
const root = process.env.CRASH_DIR || tempDir("tresor-crash");
fs.mkdirSync(root, { recursive: true });
const runTag = crypto.randomBytes(3).toString("hex");
const log = (...a) => console.log(`[crash ${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...a);

const stats = {
  seed: SEED0,
  rounds: 0,
  ackedCreates: 0,
  ackedUpdates: 0,
  unknownOutcomes: 0,
  unackedButCommitted: 0,
  unackedAndAbsent: 0,
  lostAcked: 0,
  wrongContent: 0,
  gaps: 0,
  phantoms: 0,
  integrityFailures: 0,
  restartFailures: 0,
  httpErrors: {},
  versionsVerified: 0,
  restartMs: [],
  killDelaysMs: [],
  failures: [],
};

function fail(msg) {
  stats.failures.push(msg);
  log("FAIL:", msg);
}

// secrets by name: { name, id, owner, acked: Map<version, content>,
//   sent: Set<content>, lastVersion, created: bool|undefined }
const secrets = new Map();

let port;
let server;
let creds;
let tenancy;
let vaultId;
let keyId;

function contentFor(name, attempt) {
  return `crash:${runTag}:${name}:${attempt}:${crypto.randomBytes(6).toString("hex")}`;
}
const enc = (s) => Buffer.from(s, "utf8").toString("base64");
const dec = (s) => Buffer.from(s, "base64").toString("utf8");

function countHttpError(res, op) {
  const k = `${op} ${res.status} ${res.json?.code ?? ""}`.trim();
  stats.httpErrors[k] = (stats.httpErrors[k] || 0) + 1;
}

/** One client's load loop, until `stop.now` or the server goes away. */
async function clientLoop(id, stop) {
  const c = new Client({ port, creds, maxSockets: 1 });
  let attempt = 0;
  try {
    while (!stop.now) {
      const mine = [...secrets.values()].filter((s) => s.owner === id && s.id && s.lastVersion < MAX_VERSIONS);
      const create = mine.length < 3 || rand() < 0.25;
      attempt++;
      if (create) {
        const name = `c${id}-${runTag}-${String(attempt).padStart(5, "0")}-${randInt(0, 1e6)}`;
        const content = contentFor(name, attempt);
        const s = { name, id: null, owner: id, acked: new Map(), sent: new Set([content]), lastVersion: 0, pending: true };
        secrets.set(name, s);
        let res;
        try {
          res = await c.post(
            "/20180608/secrets",
            {
              compartmentId: tenancy,
              vaultId,
              keyId,
              secretName: name,
              secretContent: { contentType: "BASE64", content: enc(content) },
            },
            { extra: { "opc-retry-token": crypto.randomUUID() } },
          );
        } catch (e) {
          stats.unknownOutcomes++;
          break; // the server is gone: this round is over for us
        }
        if (res.status === 200) {
          s.id = res.json.id;
          s.pending = false;
          s.acked.set(1, content);
          s.lastVersion = 1;
          stats.ackedCreates++;
        } else {
          countHttpError(res, "CreateSecret");
          if (res.status !== 429) secrets.delete(name); // refused: nothing written
          if (res.status === 429) await sleep(200);
        }
      } else {
        const s = mine[randInt(0, mine.length - 1)];
        const content = contentFor(s.name, attempt);
        s.sent.add(content);
        let res;
        try {
          res = await c.put(`/20180608/secrets/${s.id}`, {
            secretContent: { contentType: "BASE64", content: enc(content) },
          });
        } catch (e) {
          stats.unknownOutcomes++;
          s.uncertain = true;
          break;
        }
        if (res.status === 200) {
          const v = res.json.currentVersionNumber;
          if (!s.uncertain && v !== s.lastVersion + 1) {
            fail(`${s.name}: UpdateSecret acknowledged version ${v}, expected ${s.lastVersion + 1}`);
          }
          if (s.acked.has(v)) fail(`${s.name}: version ${v} acknowledged twice`);
          s.acked.set(v, content);
          s.lastVersion = Math.max(s.lastVersion, v);
          s.uncertain = false;
          stats.ackedUpdates++;
        } else {
          countHttpError(res, "UpdateSecret");
          if (res.status === 429) await sleep(200);
        }
      }
    }
  } finally {
    c.close();
  }
}

/** integrity_check on a copy of the files as they are now. */
function integrityCheck(label) {
  const dir = fs.mkdtempSync(path.join(root, "ic-"));
  const db = path.join(server.dataDir, "tresor.db");
  for (const sfx of ["", "-wal"]) {
    if (fs.existsSync(db + sfx)) fs.copyFileSync(db + sfx, path.join(dir, "tresor.db" + sfx));
  }
  const r = spawnSync("sqlite3", [path.join(dir, "tresor.db"), "PRAGMA integrity_check"], { encoding: "utf8" });
  fs.rmSync(dir, { recursive: true, force: true });
  const out = (r.stdout || "").trim();
  if (r.status !== 0 || out !== "ok") {
    stats.integrityFailures++;
    fail(`${label}: integrity_check: ${out} ${r.stderr || ""}`.trim());
    return false;
  }
  return true;
}

async function pool(items, n, fn) {
  let i = 0;
  const workers = Array.from({ length: n }, async () => {
    while (i < items.length) {
      const it = items[i++];
      await fn(it);
    }
  });
  await Promise.all(workers);
}

/** Check every secret against what the clients know. */
async function verify(label) {
  const c = new Client({ port, creds, maxSockets: 8 });
  try {
    // no phantom secrets: everything listed was sent by a client
    let page;
    const listed = new Map();
    do {
      const q = `/20180608/secrets?compartmentId=${tenancy}&vaultId=${vaultId}&limit=1000` + (page ? `&page=${page}` : "");
      const res = await c.get(q);
      for (const s of ok(res, "ListSecrets")) listed.set(s.secretName, s);
      page = res.headers["opc-next-page"];
    } while (page);
    for (const [name, item] of listed) {
      const s = secrets.get(name);
      if (!s) {
        stats.phantoms++;
        fail(`${label}: secret ${name} (${item.id}) exists but no client created it`);
        continue;
      }
      if (s.pending) {
        // created, but the answer was lost: adopt it
        s.id = item.id;
        s.pending = false;
        s.uncertain = true;
      } else if (s.id !== item.id) {
        fail(`${label}: secret ${name} has id ${item.id}, acknowledged as ${s.id}`);
      }
    }
    for (const [name, s] of [...secrets]) {
      if (s.pending) {
        // never committed: it must not exist (checked above), forget it
        stats.unackedAndAbsent++;
        secrets.delete(name);
      } else if (!listed.has(name)) {
        stats.lostAcked += s.acked.size;
        fail(`${label}: acknowledged secret ${name} (${s.id}) is missing`);
        secrets.delete(name);
      }
    }
    await pool([...secrets.values()], 8, async (s) => {
      const vres = await c.get(`/20180608/secrets/${s.id}/versions?limit=1000&sortOrder=ASC`);
      const versions = ok(vres, `ListSecretVersions ${s.name}`).map((v) => v.versionNumber).sort((a, b) => a - b);
      const max = versions.length ? versions[versions.length - 1] : 0;
      for (let i = 0; i < versions.length; i++) {
        if (versions[i] !== i + 1) {
          stats.gaps++;
          fail(`${label}: ${s.name} versions are not 1..n: ${versions.join(",")}`);
          break;
        }
      }
      for (const [v] of s.acked) {
        if (!versions.includes(v)) {
          stats.lostAcked++;
          fail(`${label}: ${s.name} acknowledged version ${v} is missing (have ${versions.join(",")})`);
        }
      }
      for (const v of versions) {
        const b = await c.get(`/20190301/secretbundles/${s.id}?versionNumber=${v}`);
        if (b.status !== 200) {
          fail(`${label}: ${s.name} v${v}: GetSecretBundle ${b.status} ${b.text.slice(0, 200)}`);
          if (s.acked.has(v)) stats.lostAcked++;
          continue;
        }
        stats.versionsVerified++;
        const got = dec(b.json.secretBundleContent.content);
        if (s.acked.has(v)) {
          if (got !== s.acked.get(v)) {
            stats.wrongContent++;
            fail(`${label}: ${s.name} v${v} holds "${got}", acknowledged "${s.acked.get(v)}"`);
          }
        } else if (s.sent.has(got)) {
          // committed, answer lost: legitimate; remember it
          stats.unackedButCommitted++;
          s.acked.set(v, got);
        } else {
          stats.wrongContent++;
          fail(`${label}: ${s.name} v${v} holds content no client sent: "${got.slice(0, 80)}"`);
        }
      }
      s.lastVersion = Math.max(max, s.lastVersion);
      s.uncertain = false;
    });
  } finally {
    c.close();
  }
}

async function restart(label) {
  const t = Date.now();
  try {
    await server.start(30000);
  } catch (e) {
    stats.restartFailures++;
    fail(`${label}: restart after SIGKILL failed: ${e.message}`);
    throw e;
  }
  stats.restartMs.push(Date.now() - t);
}

async function main() {
  if (!fs.existsSync(TRESORD)) throw new Error(`no tresord at ${TRESORD} (build first, or set TRESORD)`);
  port = await freePort();
  const dataDir = path.join(root, "data");
  initData(dataDir, port);
  creds = loadCredentials(dataDir);
  tenancy = creds.tenancy;
  server = new Server({ dataDir, port, logFile: path.join(root, "tresord.log") });
  await server.start();
  log(`tresord ${TRESORD} on 127.0.0.1:${port}, data ${dataDir}, seed ${SEED0}`);
  {
    const c = new Client({ port, creds });
    const vk = await makeVaultAndKey(c, tenancy, { name: "crash" });
    vaultId = vk.vault.id;
    keyId = vk.key.id;
    c.close();
  }
  for (let round = 1; round <= ROUNDS; round++) {
    if (DURATION > 0 && (Date.now() - t0) / 1000 > DURATION) {
      log(`DURATION ${DURATION}s reached after ${round - 1} rounds`);
      break;
    }
    const stop = { now: false };
    const before = stats.ackedCreates + stats.ackedUpdates;
    const loops = Array.from({ length: CLIENTS }, (_, i) => clientLoop(i, stop));
    const delay = randInt(KILL_MIN, KILL_MAX);
    stats.killDelaysMs.push(delay);
    await sleep(delay);
    await server.kill();
    stop.now = true;
    await Promise.all(loops);
    stats.rounds = round;
    integrityCheck(`round ${round}`);
    await restart(`round ${round}`);
    await verify(`round ${round}`);
    log(
      `round ${round}: killed after ${delay} ms, ${stats.ackedCreates + stats.ackedUpdates - before} writes acknowledged ` +
        `(total ${stats.ackedCreates + stats.ackedUpdates}), ${secrets.size} secrets, failures ${stats.failures.length}`,
    );
  }
  const e = await server.stop();
  if (e.code !== 0) fail(`tresord exited ${JSON.stringify(e)} on SIGTERM`);
  integrityCheck("final (after SIGTERM)");
  // every content written is a secret: none may show in the data files
  // or the log (a sample keeps the scan short)
  const all = [...secrets.values()].flatMap((s) => [...s.sent]);
  const sample = all.filter((_, i) => i % Math.max(1, Math.floor(all.length / 100)) === 0);
  fs.writeFileSync(path.join(root, "canaries.txt"), sample.join("\n") + "\n");
  const r = scan({ values: sample, dirs: [root], exclude: [path.join(root, "canaries.txt"), path.join(server.dataDir, "root.key")] });
  for (const f of r.findings) fail(`canary: ${f.form} of written content in ${f.file} at ${f.offset}`);
  log(`canary scan: ${sample.length} contents, ${r.files} files, ${r.findings.length} found`);
}

let status = 0;
try {
  await main();
} catch (e) {
  fail(`aborted: ${e.stack || e}`);
  if (server) await server.kill();
}
const versionsAcked = stats.ackedCreates + stats.ackedUpdates;
const rm = stats.restartMs.slice().sort((a, b) => a - b);
const summary = {
  ...stats,
  restartMs: { min: rm[0], median: rm[Math.floor(rm.length / 2)], max: rm[rm.length - 1] },
  killDelaysMs: undefined,
  acknowledgedWrites: versionsAcked,
  secrets: secrets.size,
  seconds: Math.round((Date.now() - t0) / 1000),
  dir: root,
};
console.log(JSON.stringify(summary, null, 2));
if (process.env.CRASH_REPORT) fs.writeFileSync(process.env.CRASH_REPORT, JSON.stringify(summary, null, 2) + "\n");
if (stats.failures.length > 0 || stats.rounds === 0) status = 1;
console.log(
  `crash test: ${stats.rounds} rounds, ${versionsAcked} acknowledged writes ` +
    `(${stats.ackedCreates} creates, ${stats.ackedUpdates} updates), ${stats.versionsVerified} version reads, ` +
    `lost ${stats.lostAcked}, wrong ${stats.wrongContent}, gaps ${stats.gaps}, phantoms ${stats.phantoms}, ` +
    `integrity failures ${stats.integrityFailures}, restart failures ${stats.restartFailures}: ${status === 0 ? "PASS" : "FAIL"}`,
);
if (status === 0 && !process.env.CRASH_DIR && process.env.CRASH_KEEP !== "1") {
  fs.rmSync(root, { recursive: true, force: true });
}
process.exit(status);
