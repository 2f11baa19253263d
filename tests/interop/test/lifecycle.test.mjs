// tresord init / serve lifecycle: the data directory, file modes, the OCI config file,
// refusal to re-init, /health without authentication, SIGTERM/SIGINT → exit 0 after
// finishing in-flight requests. In the PostgreSQL leg (TRESOR_INTEROP_STORE=pg) init gets
// --store <a fresh database> and DIR holds store.url instead of tresor.db; in the TLS leg
// serve gets --tls-cert/--tls-key.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import fsp from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import tls from "node:tls";

import {
  KEEP,
  MODE,
  SCHEME,
  caPem,
  clientsFor,
  createPgDatabase,
  psql,
  storeOf,
  freePort,
  initDataDir,
  makeParentDir,
  parseOciConfig,
  rawGet,
  serveDataDir,
  sleep,
  withTimeout,
} from "../lib/server.mjs";
import { fingerprintOf, loadCredentials, signedHeaders } from "../lib/sign.mjs";
import { assertNoSdkRetries, assertResp } from "../lib/world.mjs";

const parents = [];
let srv;
after(async () => {
  if (srv && !srv.exited) await srv.cleanup();
  if (!KEEP) for (const p of parents) await fsp.rm(p, { recursive: true, force: true });
});

const PG = MODE.store === "pg";
// The file init writes for the store: the SQLite database, or the PostgreSQL URL.
const DBFILE = PG ? "store.url" : "tresor.db";

const mode = (p) => fs.statSync(p).mode & 0o777;
const octal = (m) => "0" + m.toString(8);

async function freshInit(tag, { endpoint, umask } = {}) {
  const parent = await makeParentDir(tag);
  parents.push(parent);
  const dir = path.join(parent, "data");
  const r = await initDataDir(dir, { endpoint, umask });
  return { parent, dir, r };
}

/** Every file under dir: relative path → {mode, size, mtimeMs, sha256}. */
function treeSnapshot(dir) {
  const out = {};
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      const st = fs.lstatSync(p);
      const rel = path.relative(dir, p);
      if (e.isDirectory()) {
        out[rel + "/"] = { mode: st.mode & 0o7777, mtimeMs: st.mtimeMs };
        walk(p);
      } else {
        out[rel] = {
          mode: st.mode & 0o7777,
          size: st.size,
          mtimeMs: st.mtimeMs,
          sha256: crypto.createHash("sha256").update(fs.readFileSync(p)).digest("hex"),
        };
      }
    }
  };
  walk(dir);
  return out;
}

let main; // { parent, dir, port, base, r } initialised with --endpoint, umask 022

before(async () => {
  const port = await freePort();
  const base = `${SCHEME}://127.0.0.1:${port}`;
  main = { ...(await freshInit("init", { endpoint: base, umask: "022" })), port, base };
});

test("init exits 0 and creates the data directory with mode 0700", () => {
  assert.equal(main.r.code, 0, `init failed: ${main.r.stderr}`);
  assert.ok(fs.statSync(main.dir).isDirectory());
  assert.equal(octal(mode(main.dir)), "0700");
});

test(`init writes root.key, ${DBFILE}, admin/key.pem, admin/config, each mode 0600`, () => {
  for (const f of ["root.key", DBFILE, "admin/key.pem", "admin/config"]) {
    const p = path.join(main.dir, f);
    assert.ok(fs.existsSync(p), `${f} missing`);
    assert.ok(fs.statSync(p).isFile(), `${f} is not a regular file`);
    assert.equal(octal(mode(p)), "0600", `${f} mode`);
  }
});

test("file modes do not depend on the umask (init under umask 000)", async () => {
  const { dir, r } = await freshInit("umask0", { endpoint: "http://127.0.0.1:1", umask: "000" });
  assert.equal(r.code, 0, `init failed: ${r.stderr}`);
  assert.equal(octal(mode(dir)), "0700", "DIR");
  for (const f of ["root.key", DBFILE, "admin/key.pem", "admin/config"]) {
    assert.equal(octal(mode(path.join(dir, f))), "0600", f);
  }
  // Nothing in DIR may be readable or writable by group/other.
  for (const [rel, st] of Object.entries(treeSnapshot(dir))) {
    assert.equal(st.mode & 0o077, 0, `${rel} has group/other bits: ${octal(st.mode)}`);
  }
});

test("every file in DIR is created 0600 and every directory 0700 from the first syscall (strace, umask 000)", async (t) => {
  const strace = ["/usr/bin/strace", "/bin/strace"].find((p) => fs.existsSync(p));
  if (!strace) return t.skip("strace not installed");
  const parent = await makeParentDir("strace");
  parents.push(parent);
  const dir = path.join(parent, "data");
  const trace = path.join(parent, "trace");
  const calls = "open,openat,creat,mkdir,mkdirat,umask";
  const { spawnSync } = await import("node:child_process");
  const { TRESORD } = await import("../lib/server.mjs");
  const store = PG ? ["--store", await createPgDatabase()] : [];
  const r = spawnSync(
    "/bin/sh",
    ["-c", `umask 000 && s=$0 t=$1 d=$2 dir=$3 && shift 3 && exec "$s" -f -o "$t" -e trace=${calls} "$d" init --data "$dir" --endpoint http://127.0.0.1:1 "$@"`, strace, trace, TRESORD, dir, ...store],
    {
      encoding: "utf8",
      timeout: 60000,
      // LeakSanitizer cannot run under ptrace: keep ASan, drop leak checks for this one run.
      env: { ...process.env, ASAN_OPTIONS: [process.env.ASAN_OPTIONS, "detect_leaks=0"].filter(Boolean).join(":") },
    },
  );
  if (r.status !== 0 && /ptrace|Operation not permitted/i.test(r.stderr)) return t.skip(`strace cannot trace here: ${r.stderr.trim()}`);
  assert.equal(r.status, 0, r.stderr);
  let umask = 0;
  const created = [];
  for (const line of fs.readFileSync(trace, "utf8").split("\n")) {
    let m = /\bumask\((0?[0-7]+)\)\s*=/.exec(line);
    if (m) {
      umask = parseInt(m[1], 8);
      continue;
    }
    m = /\b(openat|open|creat|mkdirat|mkdir)\((?:AT_FDCWD, )?"([^"]+)"(.*), (0[0-7]+)\)\s*=\s*(-?\d+)/.exec(line);
    if (!m || Number(m[5]) < 0) continue;
    const [, call, p, flags, modeStr] = m;
    if (!p.startsWith(dir)) continue;
    const isDir = call.startsWith("mkdir");
    if (!isDir && !/O_CREAT/.test(flags) && call !== "creat") continue;
    created.push({ path: path.relative(parent, p), isDir, mode: parseInt(modeStr, 8) & ~umask & 0o7777 });
  }
  const rel = (x) => created.find((c) => c.path === x);
  for (const f of ["data/root.key", `data/${DBFILE}`, "data/admin/key.pem", "data/admin/config"]) {
    assert.ok(rel(f), `no creating syscall seen for ${f}: ${JSON.stringify(created)}`);
  }
  for (const c of created) {
    assert.equal(octal(c.mode), c.isDir ? "0700" : "0600", `${c.path} created with effective mode ${octal(c.mode)}`);
  }
});

test("the database is SQLite in WAL mode", { skip: PG && "PostgreSQL leg: no SQLite file" }, () => {
  const head = fs.readFileSync(path.join(main.dir, "tresor.db")).subarray(0, 20);
  assert.equal(head.subarray(0, 16).toString("latin1"), "SQLite format 3\0");
  // File format write/read version bytes 18 and 19 are 2 for WAL.
  assert.equal(head[18], 2, "write version byte: not WAL");
  assert.equal(head[19], 2, "read version byte: not WAL");
});

test("PostgreSQL: store.url names the fresh database, init created the schema there, DIR has no tresor.db", { skip: !PG && "SQLite leg" }, async () => {
  const st = storeOf(main.dir);
  assert.equal(st.kind, "pg");
  assert.equal(st.conninfo, main.r.storeUrl, "store.url holds what --store was given");
  assert.ok(!fs.existsSync(path.join(main.dir, "tresor.db")), "no SQLite file next to a PostgreSQL store");
  const n = Number(await psql("SELECT count(*) FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog','information_schema')", { conninfo: st.conninfo }));
  assert.ok(n > 0, `no tables in ${st.dbname}`);
});

test("PostgreSQL: init --store on a database that already holds a tenancy refuses, in a new DIR too", { skip: !PG && "SQLite leg" }, async () => {
  const parent = await makeParentDir("reinit-pg");
  parents.push(parent);
  const dir = path.join(parent, "data");
  const r = await initDataDir(dir, { endpoint: "http://127.0.0.1:9", store: main.r.storeUrl });
  assert.notEqual(r.code, 0, `init on a used database should fail; stdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  assert.ok((r.stderr + r.stdout).trim().length > 0, "the refusal should say why");
});

test("admin/config: profile DEFAULT with user, fingerprint, absolute key_file, tenancy, region, endpoint", () => {
  const text = fs.readFileSync(path.join(main.dir, "admin", "config"), "utf8");
  const prof = parseOciConfig(text).DEFAULT;
  assert.ok(prof, `no [DEFAULT] profile in:\n${text}`);
  for (const k of ["user", "fingerprint", "key_file", "tenancy", "region", "endpoint"]) {
    assert.ok(prof[k] && prof[k].length > 0, `config lacks ${k}:\n${text}`);
  }
  assert.match(prof.user, /^ocid1\.user\./);
  assert.match(prof.tenancy, /^ocid1\.tenancy\./);
  assert.ok(path.isAbsolute(prof.key_file), `key_file not absolute: ${prof.key_file}`);
  assert.equal(fs.realpathSync(prof.key_file), fs.realpathSync(path.join(main.dir, "admin", "key.pem")));
  assert.equal(prof.endpoint, main.base);
});

test("admin/key.pem is an RSA-2048 private key whose fingerprint is the config's", () => {
  const pem = fs.readFileSync(path.join(main.dir, "admin", "key.pem"), "utf8");
  const key = crypto.createPrivateKey(pem);
  assert.equal(key.asymmetricKeyType, "rsa");
  assert.equal(key.asymmetricKeyDetails.modulusLength, 2048);
  const prof = parseOciConfig(fs.readFileSync(path.join(main.dir, "admin", "config"), "utf8")).DEFAULT;
  // OCI fingerprint: MD5 of the DER SubjectPublicKeyInfo, lowercase colon hex (spec 1.2).
  assert.equal(prof.fingerprint.toLowerCase(), fingerprintOf(pem));
});

test("the SDK's config-file auth provider reads admin/config as is", async () => {
  const { provider } = await import("../lib/server.mjs");
  const p = provider(path.join(main.dir, "admin", "config"));
  const prof = parseOciConfig(fs.readFileSync(path.join(main.dir, "admin", "config"), "utf8")).DEFAULT;
  assert.equal(await p.getKeyId(), `${prof.tenancy}/${prof.user}/${prof.fingerprint}`);
  assert.ok(p.getPrivateKey().includes("PRIVATE KEY"));
});

test("init without --endpoint writes endpoint=http://127.0.0.1:8200", async () => {
  const { dir, r } = await freshInit("defep", {});
  assert.equal(r.code, 0, `init failed: ${r.stderr}`);
  const prof = parseOciConfig(fs.readFileSync(path.join(dir, "admin", "config"), "utf8")).DEFAULT;
  assert.equal(prof.endpoint, "http://127.0.0.1:8200");
});

test("init on a DIR already holding a tenancy refuses (non-zero exit) and changes nothing", async () => {
  assert.equal(main.r.code, 0);
  const before = treeSnapshot(main.dir);
  await sleep(20); // make any rewrite visible in mtime
  const r = await initDataDir(main.dir, { endpoint: "http://127.0.0.1:9" });
  assert.notEqual(r.code, 0, `second init should fail; stdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  assert.ok((r.stderr + r.stdout).trim().length > 0, "the refusal should say why");
  assert.deepEqual(treeSnapshot(main.dir), before);
});

// ----- serve ---------------------------------------------------------------

test("serve: GET /health answers 200 without authentication", async () => {
  srv = await serveDataDir({ parent: main.parent, dir: main.dir, port: main.port, base: main.base });
  const r = await rawGet(main.port, "/health");
  assert.equal(r.status, 200);
});

test("serve: an unauthenticated API request is refused with 401 while /health is open", async () => {
  const r = await rawGet(main.port, "/20180608/vaults?compartmentId=x");
  assert.equal(r.status, 401);
});

test("serve: the SDK works with the config written by init (CreateVault, ListVaults)", async () => {
  const w = clientsFor(srv);
  const c = await w.kmsVault.createVault({
    createVaultDetails: { compartmentId: w.tenancy, displayName: "persist-me", vaultType: "DEFAULT" },
  });
  assertResp(c, "CreateVault", { etag: true });
  const r = await w.kmsVault.listVaults({ compartmentId: w.tenancy });
  assertResp(r, "ListVaults");
  assert.ok(Array.isArray(r.items));
  assert.ok(r.items.some((v) => v.id === c.vault.id));
});

test("serve: the store's files are mode 0600 while running (tresor.db, -wal, -shm; store.url)", () => {
  if (PG) assert.ok(!fs.existsSync(path.join(main.dir, "tresor.db")), "serve made a SQLite file next to a PostgreSQL store");
  for (const f of PG ? ["store.url"] : ["tresor.db", "tresor.db-wal", "tresor.db-shm"]) {
    const p = path.join(main.dir, f);
    assert.ok(fs.existsSync(p), `${f} missing while serving (WAL mode)`);
    assert.equal(octal(mode(p)), "0600", f);
  }
});

test("serve: init refuses while the server is running too", async () => {
  const r = await initDataDir(main.dir, { endpoint: "http://127.0.0.1:9" });
  assert.notEqual(r.code, 0);
  const h = await rawGet(main.port, "/health");
  assert.equal(h.status, 200);
});

/** Open a socket, send a signed POST's headers and half its body. */
async function startInflightPost(port, creds, target, body) {
  const { headers } = signedHeaders({
    method: "POST",
    host: `127.0.0.1:${port}`,
    target,
    body,
    creds,
  });
  const sock = MODE.tls
    ? tls.connect({ port, host: "127.0.0.1", ca: caPem(), servername: "" })
    : net.connect(port, "127.0.0.1");
  await new Promise((res, rej) => {
    sock.once(MODE.tls ? "secureConnect" : "connect", res);
    sock.once("error", rej);
  });
  let response = "";
  sock.on("data", (d) => (response += d.toString("utf8")));
  const closed = new Promise((res) => sock.on("close", res));
  sock.on("error", () => {});
  const head =
    `POST ${target} HTTP/1.1\r\n` +
    Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join("") +
    "Connection: close\r\n\r\n";
  const half = Math.floor(body.length / 2);
  sock.write(head + body.slice(0, half));
  return {
    finish: () => sock.write(body.slice(half)),
    result: closed.then(() => response),
  };
}

test("serve: SIGTERM finishes an in-flight request, then exits 0", async () => {
  const creds = loadCredentials(srv.configPath);
  // CreateVault: a signed POST whose body arrives in two halves, SIGTERM in between.
  const body = JSON.stringify({ compartmentId: creds.tenancy, displayName: "inflight", vaultType: "DEFAULT" });
  const inflight = await startInflightPost(main.port, creds, "/20180608/vaults", body);
  await sleep(300); // the server has the headers and half the body
  srv.proc.kill("SIGTERM");
  // The rest of the body comes 1 s later: a slow upload, well inside any sane grace period.
  await sleep(1000);
  inflight.finish();
  const text = await withTimeout(inflight.result, 8000, "(no response within 8 s)");
  const ex = await srv.stop("SIGTERM", 10000);
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1]);
  assert.equal(status, 200, `in-flight request after SIGTERM got:\n${text.slice(0, 600)}`);
  assert.deepEqual({ code: ex.code, signal: ex.signal ?? null }, { code: 0, signal: null }, `exit: ${JSON.stringify(ex)}\n${srv.logTail()}`);
  // The port is closed afterwards.
  await assert.rejects(rawGet(main.port, "/health", { timeoutMs: 1000 }));
});

test("serve: SIGINT also stops the server with exit 0, and the data survives a restart", async () => {
  // Restart on the same dir (same endpoint/port in the config).
  srv = await serveDataDir({ parent: main.parent, dir: main.dir, port: main.port, base: main.base });
  const w = clientsFor(srv);
  const r = await w.kmsVault.listVaults({ compartmentId: w.tenancy });
  assert.ok(
    r.items.some((v) => v.displayName === "persist-me"),
    "a vault created before the restart should persist",
  );
  const ex = await srv.stop("SIGINT", 10000);
  const tail = srv.logTail();
  srv = null;
  assert.deepEqual({ code: ex.code, signal: ex.signal ?? null }, { code: 0, signal: null }, `exit: ${JSON.stringify(ex)}\n${tail}`);
});

test("no SDK call needed a retry", () => assertNoSdkRetries());
