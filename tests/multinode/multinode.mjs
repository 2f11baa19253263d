// SPDX-License-Identifier: Apache-2.0
//
// Three tresord nodes on one PostgreSQL behave as one service.
//
//   1. node1 is initialised on a fresh database, its data directory
//      (root key, store.url, admin/) copied to node2 and node3; all three
//      serve it.  A vault and a key are made through node1.
//   2. Writers (the OCI TypeScript SDK behind a client-side round-robin
//      that retries, as a load balancer and a retrying client would) run
//      on every node at once: CreateSecret with opc-retry-token, each
//      create replayed on another node, and UpdateSecret on a small set of
//      shared secrets from every node.  Mid-run node2 is SIGKILLed and
//      restarted, and PostgreSQL is stopped and started again.
//   3. Then: every secret's versions are 1..N exactly once with exactly
//      one CURRENT; every acknowledged write is there with its content at
//      the version number it was acknowledged with; every node reads
//      every secret's current content and metadata and all agree; names
//      are unique (no duplicate from a retried create).
//   4. Cache coherence across nodes: an update on node A is read on B
//      and C within 1 s.
//   5. PostgreSQL stopped: every node answers 503 within 2 s, serves no
//      cached content past the cache's 5 s bound, and recovers by itself
//      when the database is back.
//   6. The reaper: a deletion falls due on all nodes at once (test
//      clock), maintenance runs on every node at once and in the
//      background: the job is carried out exactly once.
//   7. SIGTERM: every node exits 0; no sanitizer report in any log.
//
// Run by run.sh under tests/pg/pg.sh (TRESOR_TEST_PG...), with TRESORD.
// TRESOR_MULTINODE_KEEP=1 keeps the data directories and logs.

import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import {
  NO_RETRY,
  Node,
  PG,
  RoundRobin,
  T0,
  b64,
  classify,
  clientsFor,
  copyDataDir,
  freePort,
  log,
  mapLimit,
  percentile,
  pgCreateDatabase,
  pgStart,
  pgStop,
  rawGet,
  readConfig,
  runTresord,
  signedRequest,
  sleep,
  unb64,
  uncertain,
} from "./lib/cluster.mjs";

const WRITERS_PER_NODE = Number(process.env.TRESOR_MULTINODE_WRITERS || 2);
const WRITE_SECONDS = Number(process.env.TRESOR_MULTINODE_SECONDS || 24);
const OPEN_SECRETS = 4; // shared secrets being updated at any time
const UPDATE_BUDGET = 20; // updates per shared secret (30 versions at most in use; room for
// duplicates of uncertain writes and the later phases' updates)
const KEEP = process.env.TRESOR_MULTINODE_KEEP === "1";

const failures = [];
function fail(msg) {
  failures.push(msg);
  log("FAIL:", msg);
}
function check(cond, msg) {
  if (!cond) fail(msg);
  return cond;
}

const phases = {};
async function phase(name, fn) {
  const t = Date.now();
  log(`---- ${name}`);
  try {
    await fn();
  } catch (e) {
    fail(`${name}: ${e.stack || e}`);
  }
  phases[name] = Date.now() - t;
}

// ---------------------------------------------------------------------------
// 1. three nodes on one database
// ---------------------------------------------------------------------------

if (!process.env.TRESORD || !PG.conninfo || !PG.sh) {
  console.error("multinode: run me through run.sh (needs TRESORD and tests/pg/pg.sh run)");
  process.exit(2);
}

const parent = fs.mkdtempSync(path.join(os.tmpdir(), "tresor-multinode-"));
const nodes = [];
const nodeArgs = ["--enable-test-clock", "--maintenance-interval", "2"];
let cfg, configPath, C, rr, tenancy, vaultId, keyId;

async function setup() {
  const store = pgCreateDatabase(`tresor_multinode_${process.pid}`);
  const ports = [await freePort(), await freePort(), await freePort()];
  const dirs = [1, 2, 3].map((i) => path.join(parent, `n${i}`));
  const r = runTresord(["init", "--data", dirs[0], "--store", store, "--endpoint", `http://127.0.0.1:${ports[0]}`]);
  if (r.status !== 0) throw new Error(`tresord init failed (${r.status}): ${r.stderr}`);
  copyDataDir(dirs[0], dirs[1]);
  copyDataDir(dirs[0], dirs[2]);
  for (let i = 0; i < 3; i++) nodes.push(new Node(i, dirs[i], ports[i], nodeArgs));
  await Promise.all(nodes.map((n) => n.start()));
  log(`nodes up on ports ${ports.join(", ")}; store ${store}`);
  configPath = path.join(dirs[0], "admin", "config");
  cfg = readConfig(configPath);
  tenancy = cfg.tenancy;
  C = nodes.map((n) => clientsFor(n, configPath));
  rr = new RoundRobin(C);

  const v = await C[0].kmsVault.createVault({
    createVaultDetails: { compartmentId: tenancy, displayName: "multinode", vaultType: "DEFAULT" },
  });
  vaultId = v.vault.id;
  for (let i = 0; v.vault.lifecycleState !== "ACTIVE" && i < 100; i++) {
    await sleep(100);
    v.vault = (await C[0].kmsVault.getVault({ vaultId })).vault;
  }
  const k = await C[0].mgmt(vaultId).createKey({
    createKeyDetails: {
      compartmentId: tenancy,
      displayName: "multinode",
      keyShape: { algorithm: "AES", length: 32 },
      protectionMode: "SOFTWARE",
    },
  });
  keyId = k.key.id;
  for (let i = 0; k.key.lifecycleState !== "ENABLED" && i < 100; i++) {
    await sleep(100);
    k.key = (await C[0].mgmt(vaultId).getKey({ keyId })).key;
  }
  check(k.key.lifecycleState === "ENABLED", `key not ENABLED: ${k.key.lifecycleState}`);
  // the other nodes see the vault and key at once
  for (const c of C.slice(1)) {
    const g = await c.mgmt(vaultId).getKey({ keyId });
    check(g.key.id === keyId, `${c.node.name} does not see the key`);
  }
}

// ---------------------------------------------------------------------------
// 2. writers on every node, a node killed, the database restarted
// ---------------------------------------------------------------------------

// secret id -> { name, id, createdVia, contents: Map(content -> rec) }
// rec: { acked: versionNumber|null, uncertain: bool, writer, gaveUp }
const all = new Map();
const open = []; // shared secrets still taking updates: { S, budget }
let creating = 0;
const stats = { creates: 0, updates: 0, replays: 0, replaysOtherNode: 0, gaveUp: 0, writeMs: [] };
const chaos = []; // { what, from, to } in ms since T0
let writeEnd = 0;

const rand = () => crypto.randomBytes(4).toString("hex");

function noteAttempts(rec, attempts) {
  if (attempts.some((a) => uncertain(a))) rec.uncertain = true;
}

async function doCreate(w, home, seq) {
  creating++;
  const name = `mn-w${w}-${seq}-${rand()}`;
  const token = `mn-${crypto.randomUUID()}`;
  const content = `${name}:v1:${rand()}`;
  const details = {
    compartmentId: tenancy,
    vaultId,
    keyId,
    secretName: name,
    secretContent: { contentType: "BASE64", content: b64(content) },
  };
  const rec = { acked: null, uncertain: false, writer: w };
  const S = { name, id: null, token, createdVia: null, contents: new Map([[content, rec]]) };
  const t = Date.now();
  try {
    const r = await rr.call("CreateSecret", home, (c) =>
      c.vaults.createSecret({ createSecretDetails: details, opcRetryToken: token, retryConfiguration: NO_RETRY }),
    );
    noteAttempts(rec, r.attempts);
    stats.writeMs.push(Date.now() - t);
    stats.creates++;
    S.id = r.value.secret.id;
    S.createdVia = r.node;
    rec.acked = 1;
    check(
      r.value.secret.currentVersionNumber === 1,
      `CreateSecret ${name}: currentVersionNumber ${r.value.secret.currentVersionNumber}`,
    );
    all.set(S.id, S);
    // the same request, same token, to another node: the same secret
    const other = (r.node + 1) % nodes.length;
    const p = await rr.call("CreateSecret replay", other, (c) =>
      c.vaults.createSecret({ createSecretDetails: details, opcRetryToken: token, retryConfiguration: NO_RETRY }),
    );
    stats.replays++;
    if (p.node !== r.node) stats.replaysOtherNode++;
    check(
      p.value.secret.id === S.id,
      `retry-token replay of ${name} on ${nodes[p.node].name} gave ${p.value.secret.id}, created ${S.id} on ${nodes[r.node].name}`,
    );
    open.push({ S, budget: UPDATE_BUDGET });
  } catch (e) {
    noteAttempts(rec, e.attempts || []);
    stats.gaveUp++;
    fail(`writer ${w}: CreateSecret ${name} gave up: ${e.message}`);
    if (rec.uncertain) all.set(`pending:${name}`, S);
  } finally {
    creating--;
  }
}

async function doUpdate(w, home, seq) {
  const slot = open[Math.floor(Math.random() * open.length)];
  if (--slot.budget <= 0 && open.includes(slot)) open.splice(open.indexOf(slot), 1);
  const S = slot.S;
  const content = `${S.name}:w${w}:${seq}:${rand()}`;
  const rec = { acked: null, uncertain: false, writer: w };
  S.contents.set(content, rec);
  const t = Date.now();
  try {
    const r = await rr.call("UpdateSecret", home, (c) =>
      c.vaults.updateSecret({
        secretId: S.id,
        updateSecretDetails: { secretContent: { contentType: "BASE64", content: b64(content) } },
        retryConfiguration: NO_RETRY,
      }),
    );
    noteAttempts(rec, r.attempts);
    stats.writeMs.push(Date.now() - t);
    stats.updates++;
    rec.acked = r.value.secret.currentVersionNumber;
    rec.ackNode = r.node;
    rec.sent = t - T0;
    rec.ackAt = Date.now() - T0;
    rec.tries = r.attempts.map((a) => `${nodes[a.node].name}@${a.at}:${a.status ?? a.code}`);
  } catch (e) {
    noteAttempts(rec, e.attempts || []);
    stats.gaveUp++;
    fail(`writer ${w}: UpdateSecret ${S.name} gave up: ${e.message}`);
  }
}

async function writer(w) {
  const home = w % nodes.length;
  for (let seq = 1; Date.now() < writeEnd; seq++) {
    if (open.length + creating < OPEN_SECRETS) await doCreate(w, home, seq);
    else if (open.length > 0) await doUpdate(w, home, seq);
    else await sleep(10);
  }
}

async function chaosMonkey(start) {
  const at = (s) => sleep(Math.max(0, start + s * 1000 - Date.now()));
  const victim = nodes[1];

  await at(WRITE_SECONDS * 0.2);
  let t = Date.now() - T0;
  const r = await victim.stop("SIGKILL");
  log(`SIGKILL ${victim.name}: ${JSON.stringify(r)}`);
  await at(WRITE_SECONDS * 0.33);
  await victim.start();
  chaos.push({ what: `${victim.name} killed`, from: t, to: Date.now() - T0 });
  log(`${victim.name} restarted`);

  await at(WRITE_SECONDS * 0.55);
  t = Date.now() - T0;
  pgStop();
  log("PostgreSQL stopped");
  await sleep(1500);
  pgStart();
  chaos.push({ what: "PostgreSQL restart", from: t, to: Date.now() - T0 });
  log("PostgreSQL started");
}

async function writePhase() {
  const start = Date.now();
  writeEnd = start + WRITE_SECONDS * 1000;
  const n = WRITERS_PER_NODE * nodes.length;
  await Promise.all([...Array.from({ length: n }, (_, w) => writer(w)), chaosMonkey(start)]);
  const ms = [...stats.writeMs].sort((a, b) => a - b);
  log(
    `writes: ${stats.creates} creates (${stats.replays} replays, ${stats.replaysOtherNode} on another node),` +
      ` ${stats.updates} updates, ${stats.gaveUp} gave up; latency p50 ${percentile(ms, 50)} ms,` +
      ` p99 ${percentile(ms, 99)} ms, max ${ms[ms.length - 1]} ms; ${rr.retries.length} retried attempts`,
  );
}

// ---------------------------------------------------------------------------
// 3. every node agrees with what the writers were told
// ---------------------------------------------------------------------------

async function direct(what, p) {
  try {
    return await p;
  } catch (e) {
    const c = classify(e);
    throw new Error(`${what}: ${c.kind} ${c.status ?? ""} ${c.code}: ${c.message}`);
  }
}

async function listVersions(c, secretId) {
  const out = [];
  let page;
  do {
    const r = await direct(
      `ListSecretVersions ${secretId} on ${c.node.name}`,
      c.vaults.listSecretVersions({ secretId, limit: 100, page, retryConfiguration: NO_RETRY }),
    );
    out.push(...r.items);
    page = r.opcNextPage;
  } while (page);
  return out;
}

async function bundle(c, secretId, versionNumber) {
  const r = await direct(
    `GetSecretBundle ${secretId}${versionNumber ? " v" + versionNumber : ""} on ${c.node.name}`,
    c.secrets.getSecretBundle({ secretId, versionNumber, retryConfiguration: NO_RETRY }),
  );
  return { content: unb64(r.secretBundle.secretBundleContent.content), version: r.secretBundle.versionNumber };
}

async function verifySecret(S, idx) {
  const lister = C[idx % C.length];
  const versions = await listVersions(lister, S.id);
  const nums = versions.map((v) => v.versionNumber).sort((a, b) => a - b);
  const N = nums.length;
  const gapless = nums.every((n, i) => n === i + 1);
  check(gapless, `${S.name}: versions are not 1..${N} exactly once: ${nums.join(",")}`);
  const current = versions.filter((v) => (v.stages || []).includes("CURRENT"));
  if (!check(current.length === 1, `${S.name}: ${current.length} CURRENT versions (${current.map((v) => v.versionNumber)})`)) {
    S.dump = true;
  }
  check(
    current.length !== 1 || current[0].versionNumber === N,
    `${S.name}: CURRENT is v${current[0]?.versionNumber}, newest is v${N}`,
  );

  // the content of every version, each read on a different node
  const byVersion = new Map();
  await mapLimit(nums, 4, async (v) => {
    const b = await bundle(C[v % C.length], S.id, v);
    check(b.version === v, `${S.name}: asked v${v}, got v${b.version}`);
    byVersion.set(v, b.content);
  });
  const where = new Map(); // content -> [versions]
  for (const [v, content] of byVersion) {
    if (!S.contents.has(content)) fail(`${S.name} v${v}: content no writer ever sent: ${content.slice(0, 80)}`);
    where.set(content, [...(where.get(content) || []), v]);
  }
  for (const [content, rec] of S.contents) {
    const vs = where.get(content) || [];
    if (rec.acked !== null) {
      check(
        byVersion.get(rec.acked) === content,
        `${S.name}: write acknowledged as v${rec.acked} (writer ${rec.writer}) but v${rec.acked} holds ` +
          `${JSON.stringify(byVersion.get(rec.acked)?.slice(0, 60))}; this content is at [${vs}]`,
      );
    }
    if (!rec.uncertain) {
      check(
        vs.length === (rec.acked !== null ? 1 : 0),
        `${S.name}: content of writer ${rec.writer} (acked ${rec.acked}, no uncertain attempt) is at versions [${vs}]`,
      );
    }
  }

  if (S.dump || failures.some((f) => f.startsWith(S.name))) {
    // what happened, for the report: versions as stored, writes as sent
    const acks = new Map();
    for (const [content, rec] of S.contents) if (rec.acked !== null) acks.set(rec.acked, rec);
    for (const v of versions.sort((a, b) => a.versionNumber - b.versionNumber).slice(-6)) {
      const rec = S.contents.get(byVersion.get(v.versionNumber));
      log(
        `  ${S.name} v${v.versionNumber} [${v.stages}] created ${new Date(v.timeCreated).toISOString()}` +
          ` writer ${rec?.writer} acked v${rec?.acked} via ${rec?.ackNode !== undefined ? nodes[rec.ackNode].name : "?"}` +
          ` sent@${rec?.sent} acked@${rec?.ackAt} failed tries [${rec?.tries ?? ""}]`,
      );
    }
    log(`  chaos windows: ${JSON.stringify(chaos)}`);
  }

  // every node: the same metadata and the same current content
  const seen = await Promise.all(
    C.map(async (c) => {
      const g = await direct(
        `GetSecret ${S.id} on ${c.node.name}`,
        c.vaults.getSecret({ secretId: S.id, retryConfiguration: NO_RETRY }),
      );
      const b = await bundle(c, S.id);
      return { node: c.node.name, cur: g.secret.currentVersionNumber, state: g.secret.lifecycleState, ...b };
    }),
  );
  for (const s of seen) {
    check(
      s.cur === N && s.version === N && s.content === byVersion.get(N) && s.state === "ACTIVE",
      `${S.name}: ${s.node} reads v${s.cur}/${s.version} ${s.state} ` +
        `${JSON.stringify(s.content.slice(0, 60))}; expected v${N} ${JSON.stringify(byVersion.get(N)?.slice(0, 60))}`,
    );
  }
  return N;
}

async function verifyPhase() {
  const secretsList = [...all.values()].filter((S) => S.id);
  const ns = await mapLimit(secretsList, 6, (S, i) =>
    verifySecret(S, i).catch((e) => {
      fail(`verify ${S.name}: ${e.message}`);
      return 0;
    }),
  );
  const versions = ns.reduce((a, b) => a + b, 0);
  const acked = secretsList.reduce((a, S) => a + [...S.contents.values()].filter((r) => r.acked !== null).length, 0);
  const unc = secretsList.reduce((a, S) => a + [...S.contents.values()].filter((r) => r.uncertain).length, 0);
  log(`verified ${secretsList.length} secrets, ${versions} versions, ${acked} acknowledged writes (${unc} with an uncertain attempt)`);

  // names unique: no retried create made a second secret; every node lists the same
  const lists = await Promise.all(
    C.map(async (c) => {
      const items = [];
      let page;
      do {
        const r = await direct(
          `ListSecrets on ${c.node.name}`,
          c.vaults.listSecrets({ compartmentId: tenancy, vaultId, limit: 100, page, retryConfiguration: NO_RETRY }),
        );
        items.push(...r.items);
        page = r.opcNextPage;
      } while (page);
      return items;
    }),
  );
  const ref = lists[0].map((s) => s.id).sort().join(",");
  lists.forEach((l, i) =>
    check(l.map((s) => s.id).sort().join(",") === ref, `${nodes[i].name} lists other secrets than node1`),
  );
  const byName = new Map();
  for (const s of lists[0]) byName.set(s.secretName, [...(byName.get(s.secretName) || []), s.id]);
  for (const S of all.values()) {
    const ids = byName.get(S.name) || [];
    if (S.id) check(ids.length === 1 && ids[0] === S.id, `${S.name}: listed as [${ids}], created as ${S.id}`);
    else check(ids.length <= 1, `${S.name}: ${ids.length} secrets from one retried create`);
  }
  check(lists[0].length === byName.size, `ListSecrets: ${lists[0].length} secrets but ${byName.size} names`);
}

// ---------------------------------------------------------------------------
// 4. an update on one node is read on the others within 1 s
// ---------------------------------------------------------------------------

const invalidation = [];

async function invalidationPhase() {
  const pool = [...all.values()].filter((S) => S.id).slice(0, 3);
  for (let a = 0; a < nodes.length; a++) {
    const S = pool[a % pool.length];
    // warm every node's cache with the current content
    for (let k = 0; k < 2; k++) for (const c of C) await bundle(c, S.id);
    const content = `${S.name}:invalidate-from-${nodes[a].name}:${rand()}`;
    const u = await direct(
      `UpdateSecret ${S.name} on ${nodes[a].name}`,
      C[a].vaults.updateSecret({
        secretId: S.id,
        updateSecretDetails: { secretContent: { contentType: "BASE64", content: b64(content) } },
        retryConfiguration: NO_RETRY,
      }),
    );
    const v = u.secret.currentVersionNumber;
    S.contents.set(content, { acked: v, uncertain: false, writer: "invalidation" });
    const t0 = Date.now();
    await Promise.all(
      C.map(async (c, b) => {
        if (b === a) return;
        let last;
        for (;;) {
          last = await bundle(c, S.id);
          if (last.content === content) break;
          if (Date.now() - t0 > 1000) break;
          await sleep(10);
        }
        const ms = Date.now() - t0;
        invalidation.push({ from: nodes[a].name, to: c.node.name, ms, ok: last.content === content });
        check(
          last.content === content,
          `update of ${S.name} on ${nodes[a].name} (v${v}) not seen on ${c.node.name} after ${ms} ms: still v${last.version}`,
        );
      }),
    );
  }
  log(`invalidation: ${invalidation.map((r) => `${r.from}->${r.to} ${r.ms}ms`).join(", ")}`);
}

// ---------------------------------------------------------------------------
// 5. PostgreSQL unreachable: 503 quickly, nothing stale past the bound,
//    recovery without help
// ---------------------------------------------------------------------------

const outage = { fast: [], stale: [], recovery: [] };

async function expectUnavailable(what, node, p, limitMs) {
  const t = Date.now();
  let status, code;
  try {
    await p;
    status = 200;
  } catch (e) {
    const c = classify(e);
    status = c.status ?? c.code;
    code = c.code;
  }
  const ms = Date.now() - t;
  outage.fast.push({ what, node: node.name, status, ms });
  check(status === 503 && ms <= limitMs, `database down: ${what} on ${node.name} answered ${status} ${code ?? ""} after ${ms} ms (want 503 within ${limitMs} ms)`);
}

async function outagePhase() {
  const S = [...all.values()].filter((x) => x.id)[0];
  for (let k = 0; k < 2; k++) for (const c of C) await bundle(c, S.id);
  const missing = S.id.slice(0, -6) + "aaaaaa";

  pgStop();
  const tStop = Date.now();
  log("PostgreSQL stopped (outage test)");
  await Promise.all(
    C.map(async (c) => {
      const n = c.node;
      await expectUnavailable(
        "UpdateSecret",
        n,
        c.vaults.updateSecret({
          secretId: S.id,
          updateSecretDetails: { secretContent: { contentType: "BASE64", content: b64(`${S.name}:never`) } },
          retryConfiguration: NO_RETRY,
        }),
        2000,
      );
      await expectUnavailable("GetSecret (not cached)", n, c.vaults.getSecret({ secretId: missing, retryConfiguration: NO_RETRY }), 2000);
      await expectUnavailable(
        "ListSecrets",
        n,
        c.vaults.listSecrets({ compartmentId: tenancy, vaultId, retryConfiguration: NO_RETRY }),
        2000,
      );
      const h = await rawGet(n.port, "/health").catch((e) => ({ status: String(e) }));
      outage.health = { ...(outage.health || {}), [n.name]: h.status };
    }),
  );
  S.contents.set(`${S.name}:never`, { acked: null, uncertain: true, writer: "outage" });

  // past the cache's bound (5 s) nothing is served from it
  await sleep(Math.max(0, tStop + 6000 - Date.now()));
  await Promise.all(
    C.map(async (c) => {
      const t = Date.now();
      let status;
      try {
        await c.secrets.getSecretBundle({ secretId: S.id, retryConfiguration: NO_RETRY });
        status = 200;
      } catch (e) {
        status = classify(e).status ?? classify(e).code;
      }
      outage.stale.push({ node: c.node.name, status, ms: Date.now() - t });
      check(status === 503, `database down 6 s: GetSecretBundle on ${c.node.name} answered ${status} (cached content past the 5 s bound?)`);
    }),
  );

  pgStart();
  const tStart = Date.now();
  log("PostgreSQL started (outage test)");
  await Promise.all(
    C.map(async (c) => {
      const content = `${S.name}:after-outage-${c.node.name}:${rand()}`;
      const rec = { acked: null, uncertain: false, writer: "recovery" };
      S.contents.set(content, rec);
      let last;
      for (;;) {
        try {
          const u = await c.vaults.updateSecret({
            secretId: S.id,
            updateSecretDetails: { secretContent: { contentType: "BASE64", content: b64(content) } },
            retryConfiguration: NO_RETRY,
          });
          rec.acked = u.secret.currentVersionNumber;
          break;
        } catch (e) {
          last = classify(e);
          if (uncertain(last)) rec.uncertain = true;
          if (Date.now() - tStart > 20000) break;
          await sleep(200);
        }
      }
      const ms = Date.now() - tStart;
      check(rec.acked !== null, `${c.node.name} did not recover within 20 s of the database's return: ${JSON.stringify(last)}`);
      // every handler thread back: a burst of database reads all answered
      let full = null;
      let failed = 0;
      while (rec.acked !== null && Date.now() - tStart < 20000) {
        const burst = await Promise.all(
          Array.from({ length: 24 }, () =>
            c.vaults
              .listSecrets({ compartmentId: tenancy, vaultId, limit: 1, retryConfiguration: NO_RETRY })
              .then(() => true, () => false),
          ),
        );
        const bad = burst.filter((ok) => !ok).length;
        failed += bad;
        if (bad === 0) {
          full = Date.now() - tStart;
          break;
        }
        await sleep(100);
      }
      outage.recovery.push({ node: c.node.name, firstWriteMs: ms, allThreadsMs: full, failedAfterFirstWrite: failed });
      check(full !== null && full <= 5000, `${c.node.name}: requests still failed ${full ?? ">20000"} ms after the database's return`);
    }),
  );
  log(
    `outage: 503 after ${outage.fast.map((r) => r.ms).join("/")} ms; /health ${JSON.stringify(outage.health)};` +
      ` recovered: ${outage.recovery.map((r) => `${r.node} first write ${r.firstWriteMs} ms, all threads ${r.allThreadsMs} ms (${r.failedAfterFirstWrite} failed in between)`).join("; ")}`,
  );
  // and every node then agrees (verifySecret checks versions too)
  await verifySecret(S, 0);
}

// ---------------------------------------------------------------------------
// 6. a due deletion is carried out once, whatever the number of nodes
// ---------------------------------------------------------------------------

const reaper = { retries: [] };

/** A signed request to one node, retried there on 503 for up to 10 s. */
async function testingCall(n, method, target, body) {
  const t = Date.now();
  for (;;) {
    let r;
    try {
      r = await signedRequest(n, cfg, method, target, body);
    } catch (e) {
      r = { status: String(e.code || e.message), text: "" };
    }
    if ((r.status !== 503 && typeof r.status === "number") || Date.now() - t > 10000) return r;
    reaper.retries.push(`${n.name} ${method} ${target}: ${r.status}`);
    await sleep(100);
  }
}

async function reaperPhase() {
  const name = `mn-reap-${rand()}`;
  const cr = await direct(
    "CreateSecret (reaper)",
    C[0].vaults.createSecret({
      createSecretDetails: {
        compartmentId: tenancy,
        vaultId,
        keyId,
        secretName: name,
        secretContent: { contentType: "BASE64", content: b64("reap me") },
      },
      retryConfiguration: NO_RETRY,
    }),
  );
  const id = cr.secret.id;
  await direct(
    "ScheduleSecretDeletion",
    C[1].vaults.scheduleSecretDeletion({
      secretId: id,
      scheduleSecretDeletionDetails: { timeOfDeletion: new Date(Date.now() + 86400000 + 600000) },
      retryConfiguration: NO_RETRY,
    }),
  );
  for (const c of C) {
    const g = await direct(`GetSecret on ${c.node.name}`, c.vaults.getSecret({ secretId: id, retryConfiguration: NO_RETRY }));
    check(g.secret.lifecycleState === "PENDING_DELETION", `${c.node.name}: ${name} is ${g.secret.lifecycleState}, not PENDING_DELETION`);
  }
  const before = nodes.map((n) => (n.logText().match(/reap-secret \S+ done/g) || []).length);

  // two days later on every node, then maintenance everywhere at once
  for (const n of nodes) {
    const r = await testingCall(n, "PUT", "/tresor/v1/testing/clock", { offsetSeconds: 2 * 86400 });
    check(r.status === 200, `${n.name}: PUT testing/clock answered ${r.status} ${r.text.slice(0, 200)}`);
  }
  const runs = await Promise.all(
    nodes.map((n) => testingCall(n, "POST", "/tresor/v1/testing/maintenance")),
  );
  runs.forEach((r, i) =>
    check(r.status === 200, `${nodes[i].name}: POST testing/maintenance answered ${r.status} ${r.text.slice(0, 200)}`),
  );
  reaper.jobsDone = runs.map((r) => r.json?.jobsDone);
  // the background schedulers (every 2 s) get their turn too
  await sleep(3000);
  for (const c of C) {
    let state;
    try {
      const g = await c.vaults.getSecret({ secretId: id, retryConfiguration: NO_RETRY });
      state = g.secret.lifecycleState;
    } catch (e) {
      state = classify(e).status;
    }
    check(state === "DELETED" || state === 404, `${c.node.name}: ${name} is ${state} after its deletion fell due`);
  }
  const after = nodes.map((n) => (n.logText().match(/reap-secret \S+ done/g) || []).length);
  const lines = nodes.map((n) => (n.logText().match(new RegExp(`reap-secret ${id} done`, "g")) || []).length);
  reaper.doneLines = lines;
  const total = lines.reduce((a, b) => a + b, 0);
  const endpoint = reaper.jobsDone.reduce((a, b) => a + (b || 0), 0);
  check(total === 1, `the deletion of ${name} was carried out ${total} times (per node: ${lines})`);
  check(endpoint <= 1, `testing/maintenance reported ${endpoint} jobs done in all (per node: ${reaper.jobsDone})`);
  check(
    after.reduce((a, b) => a + b, 0) - before.reduce((a, b) => a + b, 0) === 1,
    `reaper ran ${after.map((x, i) => x - before[i])} secret deletions per node; only ${name} was due`,
  );
  for (const n of nodes) {
    const r = await testingCall(n, "PUT", "/tresor/v1/testing/clock", { offsetSeconds: 0 });
    check(r.status === 200, `${n.name}: PUT testing/clock 0 answered ${r.status}`);
  }
  log(`reaper: jobsDone per node ${JSON.stringify(reaper.jobsDone)}, done lines ${JSON.stringify(lines)}`);
}

// ---------------------------------------------------------------------------
// 7. clean stops, clean logs
// ---------------------------------------------------------------------------

async function stopPhase() {
  const results = await Promise.all(nodes.map((n) => n.stop("SIGTERM")));
  results.forEach((r, i) =>
    check(
      r && r.code === 0 && !r.signal,
      `${nodes[i].name} should exit 0 on SIGTERM; got ${JSON.stringify(r)}; log ends:\n${nodes[i].logTail(30)}`,
    ),
  );
  for (const n of nodes) {
    const text = n.logText();
    const m = text.match(/(ERROR: (Address|Leak|Thread|UndefinedBehavior)Sanitizer|runtime error:)[^]{0,1500}/);
    check(!m, `${n.name}: sanitizer report in its log:\n${m?.[0]}`);
  }
}

// ---------------------------------------------------------------------------

function summary() {
  const retries = {};
  for (const a of rr.retries) {
    const inChaos = chaos.find((c) => a.at >= c.from - 500 && a.at <= c.to + 3000);
    const key = `${inChaos ? inChaos.what : "outside chaos"} | ${a.what} | ${a.kind} ${a.status ?? ""} ${a.code}`;
    retries[key] = (retries[key] || 0) + 1;
  }
  return {
    seconds: ((Date.now() - T0) / 1000).toFixed(1),
    phasesMs: phases,
    writers: WRITERS_PER_NODE * nodes.length,
    writes: { creates: stats.creates, updates: stats.updates, replays: stats.replays, replaysOnAnotherNode: stats.replaysOtherNode, gaveUp: stats.gaveUp },
    chaos,
    retriedAttempts: retries,
    invalidationMs: invalidation.map((r) => r.ms),
    outage,
    reaper,
  };
}

let exitCode = 0;
try {
  await phase("setup", setup);
  if (failures.length === 0) {
    await phase("writers + node kill + database restart", writePhase);
    // a failure seen only outside the chaos windows is a bug in itself
    for (const a of rr.retries) {
      const inChaos = chaos.some((c) => a.at >= c.from - 500 && a.at <= c.to + 3000);
      if (!inChaos && a.status !== 409 && a.status !== 429) {
        fail(`retry outside any fault window: ${a.what} on ${nodes[a.node].name} at ${a.at} ms: ${a.kind} ${a.status ?? ""} ${a.code} ${a.message}`);
      }
      if (a.kind === "hang") fail(`${a.what} on ${nodes[a.node].name}: no answer within 20 s`);
      if (a.status === 500) fail(`${a.what} on ${nodes[a.node].name}: 500 ${a.code} ${a.message}`);
    }
    await phase("verify", verifyPhase);
    await phase("cross-node invalidation", invalidationPhase);
    await phase("database outage", outagePhase);
    await phase("reaper once", reaperPhase);
  }
  await phase("stop", stopPhase);
} catch (e) {
  fail(`unexpected: ${e.stack || e}`);
} finally {
  for (const n of nodes) if (n.proc) await n.stop("SIGKILL");
  console.log(JSON.stringify(summary(), null, 2));
  if (failures.length > 0) {
    console.log(`\n${failures.length} failure(s):`);
    for (const f of failures.slice(0, 50)) console.log(" -", f);
    if (failures.length > 50) console.log(` ... and ${failures.length - 50} more`);
    for (const n of nodes) console.log(`\n==== ${n.name} log (tail)\n${n.logTail(25)}`);
    exitCode = 1;
  } else {
    console.log("\nmultinode: all checks passed");
  }
  if (KEEP || failures.length > 0) console.log(`data directories and logs kept in ${parent}`);
  else fs.rmSync(parent, { recursive: true, force: true });
}
process.exit(exitCode);
