// SPDX-License-Identifier: Apache-2.0
//
// A torn or corrupt database is detected at start, with a clear message,
// and never served (issue 7).  A reference data directory gets some
// secrets and is left by SIGKILL (so a WAL exists), then each case works
// on its own copy:
//
//   truncated-db      tresor.db cut to half its size         -> refused
//   scribbled-pages   3 pages in the middle overwritten       -> refused
//   bad-header        the 100-byte SQLite header overwritten  -> refused
//   empty-db          tresor.db of zero bytes                 -> refused
//   torn-wal          the WAL cut in the middle of a frame    -> served
//                     (SQLite's normal recovery: a torn tail is not
//                     committed), with every acknowledged write before
//                     the last checkpoint intact and integrity ok
//   no-wal            the WAL deleted after a clean stop      -> served
//
// "Refused" means: `tresord serve` exits non-zero within 20 s, prints a
// message naming the database on stderr, and /health never answered.
// Exit status 0 when every case behaves.

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
  rawRequest,
  sleep,
  tempDir,
  TRESORD,
} from "../probes/lib/tresor.mjs";

const root = process.env.CRASH_DIR ? path.join(process.env.CRASH_DIR, "corrupt") : tempDir("tresor-corrupt");
fs.mkdirSync(root, { recursive: true });
const results = [];
let failed = 0;

function note(name, pass, detail) {
  results.push({ name, pass, detail });
  if (!pass) failed++;
  console.log(`${pass ? "ok  " : "FAIL"} ${name}: ${detail}`);
}

function copyDir(from, to) {
  fs.cpSync(from, to, { recursive: true });
}

/** Start serve on `dataDir`; resolve how it went within `ms`. */
async function tryServe(dataDir, ms = 20000) {
  const port = await freePort();
  const logFile = path.join(path.dirname(dataDir), `serve-${path.basename(path.dirname(dataDir))}.log`);
  const s = new Server({ dataDir, port, logFile });
  let served = false;
  s.exit = null;
  const startP = s.start(ms).then(
    () => {
      served = true;
    },
    () => {},
  );
  await startP;
  let hung = false;
  if (!served && !s.exit) {
    hung = true; // neither served nor exited: stop it
    await s.kill();
  }
  let exit = hung ? { code: null, signal: "hung" } : s.exit;
  if (served) {
    const e = await s.stop();
    exit = e;
  }
  return { served, exit, log: fs.readFileSync(logFile, "utf8"), port };
}

function integrity(db) {
  const r = spawnSync("sqlite3", [db, "PRAGMA integrity_check"], { encoding: "utf8" });
  return (r.stdout || "").trim() + (r.stderr || "").trim();
}

async function main() {
  if (!fs.existsSync(TRESORD)) throw new Error(`no tresord at ${TRESORD}`);
  // the reference: a few hundred writes, then SIGKILL
  const port = await freePort();
  const ref = path.join(root, "ref", "data");
  fs.mkdirSync(path.dirname(ref), { recursive: true });
  initData(ref, port);
  const creds = loadCredentials(ref);
  const server = new Server({ dataDir: ref, port, logFile: path.join(root, "ref", "tresord.log") });
  await server.start();
  const c = new Client({ port, creds });
  const { vault, key } = await makeVaultAndKey(c, creds.tenancy, { name: "corrupt" });
  const written = [];
  for (let i = 0; i < 60; i++) {
    const content = `corrupt-case-${i}-${crypto.randomBytes(8).toString("hex")}`.repeat(20);
    const s = ok(
      await c.post("/20180608/secrets", {
        compartmentId: creds.tenancy,
        vaultId: vault.id,
        keyId: key.id,
        secretName: `s${i}`,
        secretContent: { contentType: "BASE64", content: Buffer.from(content).toString("base64") },
      }),
      "CreateSecret",
    );
    written.push({ id: s.id, content });
  }
  c.close();
  // a clean copy (SIGTERM: checkpointed, no WAL)
  const stopped = path.join(root, "clean", "data");
  await server.stop();
  copyDir(ref, stopped);
  // and a copy left by SIGKILL with a WAL
  await server.start();
  const c2 = new Client({ port, creds });
  for (let i = 0; i < 20; i++) {
    ok(
      await c2.put(`/20180608/secrets/${written[i].id}`, {
        secretContent: { contentType: "BASE64", content: Buffer.from(`v2-${i}`).toString("base64") },
      }),
      "UpdateSecret",
    );
  }
  c2.close();
  await server.kill();
  const killed = ref;
  const db = (d) => path.join(d, "tresor.db");

  const refusedCase = async (name, base, mutate) => {
    const dir = path.join(root, name, "data");
    copyDir(base, dir);
    mutate(dir);
    const r = await tryServe(dir);
    const msg = r.log.split("\n").filter((l) => /tresord:/.test(l)).join(" | ");
    if (r.served) {
      note(name, false, `tresord SERVED a corrupt database (integrity_check says: ${integrity(db(dir)).slice(0, 200)})`);
    } else if (!r.exit || r.exit.code === 0) {
      note(name, false, `tresord did not refuse clearly: exit ${JSON.stringify(r.exit)}`);
    } else if (!/database|corrupt|malformed|tresor\.db/i.test(msg)) {
      note(name, false, `refused (exit ${r.exit.code}) but the message does not name the database: "${msg}"`);
    } else {
      note(name, true, `refused, exit ${r.exit.code}: "${msg.slice(0, 300)}"`);
    }
  };

  await refusedCase("truncated-db", stopped, (d) => {
    const st = fs.statSync(db(d));
    fs.truncateSync(db(d), Math.floor(st.size / 2 / 4096) * 4096 + 1000);
  });
  await refusedCase("scribbled-pages", stopped, (d) => {
    const st = fs.statSync(db(d));
    const pages = Math.floor(st.size / 4096);
    const fd = fs.openSync(db(d), "r+");
    fs.writeSync(fd, crypto.randomBytes(3 * 4096), 0, 3 * 4096, Math.floor(pages / 2) * 4096);
    fs.closeSync(fd);
  });
  await refusedCase("bad-header", stopped, (d) => {
    const fd = fs.openSync(db(d), "r+");
    fs.writeSync(fd, crypto.randomBytes(100), 0, 100, 0);
    fs.closeSync(fd);
  });
  await refusedCase("empty-db", stopped, (d) => {
    fs.truncateSync(db(d), 0);
  });

  // torn WAL: SQLite drops the incomplete tail; must be served, intact
  {
    const name = "torn-wal";
    const dir = path.join(root, name, "data");
    copyDir(killed, dir);
    const wal = db(dir) + "-wal";
    if (!fs.existsSync(wal) || fs.statSync(wal).size < 4096 * 3) {
      note(name, false, `no WAL to tear (size ${fs.existsSync(wal) ? fs.statSync(wal).size : "none"})`);
    } else {
      const size = fs.statSync(wal).size;
      fs.truncateSync(wal, size - 2000); // mid-frame
      const p = await freePort();
      const s = new Server({ dataDir: dir, port: p, logFile: path.join(root, name, "tresord.log") });
      try {
        await s.start();
        const cc = new Client({ port: p, creds });
        let bad = 0;
        for (const w of written.slice(20)) {
          const b = await cc.get(`/20190301/secretbundles/${w.id}?versionNumber=1`);
          if (b.status !== 200 || Buffer.from(b.json.secretBundleContent.content, "base64").toString() !== w.content) bad++;
        }
        cc.close();
        const e = await s.stop();
        const ic = integrity(db(dir));
        note(name, bad === 0 && ic === "ok" && e.code === 0, `served after a torn WAL; ${bad} of 40 checked secrets wrong; integrity ${ic}`);
      } catch (e) {
        note(name, false, `not served after a torn WAL tail (which SQLite recovers from): ${e.message.split("\n")[0]}`);
        await s.kill();
      }
    }
  }
  {
    const name = "no-wal-clean";
    const dir = path.join(root, name, "data");
    copyDir(stopped, dir);
    const r = await tryServe(dir);
    note(name, r.served && r.exit && r.exit.code === 0, r.served ? "served a cleanly stopped copy" : `refused a clean copy: ${r.log.slice(-300)}`);
  }
}

try {
  await main();
} catch (e) {
  note("setup", false, e.stack || String(e));
}
console.log(`corruption check: ${results.length - failed}/${results.length} cases as expected: ${failed === 0 ? "PASS" : "FAIL"}`);
if (failed === 0 && !process.env.CRASH_DIR && process.env.CRASH_KEEP !== "1") fs.rmSync(root, { recursive: true, force: true });
process.exit(failed === 0 ? 0 : 1);
