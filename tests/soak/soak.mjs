// SPDX-License-Identifier: Apache-2.0
//
// The soak test of issue 7: a steady mixed load against one tresord for
// DURATION seconds (default 600): secret reads (GetSecretBundle by stage
// and by version, GetSecret, ListSecrets, ListSecretVersions), writes
// (UpdateSecret adding versions, CreateSecret) and KMS calls (Encrypt,
// Decrypt, GenerateDataEncryptionKey).  Every SAMPLE_SECONDS (10) it reads
// the server's RSS, open file descriptors and threads from /proc/PID.
//
// Pass: no error (any non-2xx answer or connection failure), the fd count
// at the end no higher than at the start plus FD_SLACK (4), and RSS flat
// over the second half of the run: RSS at the end within RSS_GROWTH_PCT
// (5 %) of RSS at the midpoint.  (The first minutes fill SQLite's page
// caches, one per connection, as the database grows; a leak keeps
// growing with the request count, which is constant.)  The figures go
// to stdout and, as JSON, to SOAK_REPORT when set.
//
// Environment: TRESORD, DURATION, RATE (requests a second, default 300),
// MIX (Op:weight,... instead of the default mix),
// WORKERS (16), SAMPLE_SECONDS, SOAK_DIR (keep the run there), THREADS
// (tresord --threads, default: tresord's own default), CACHE_MB
// (tresord --cache-mb, default 16).

import fs from "node:fs";
import path from "node:path";

import {
  Client,
  procStats,
  ok,
  makeVaultAndKey,
  sleep,
  startFresh,
  tempDir,
} from "../probes/lib/tresor.mjs";

const DURATION = Number(process.env.DURATION || 600);
const RATE = Number(process.env.RATE || 300);
const WORKERS = Number(process.env.WORKERS || 16);
const SAMPLE = Number(process.env.SAMPLE_SECONDS || 10);
const FD_SLACK = Number(process.env.FD_SLACK || 4);
const RSS_GROWTH_PCT = Number(process.env.RSS_GROWTH_PCT || 5);
const MAX_VERSIONS = 25;

const root = process.env.SOAK_DIR || tempDir("tresor-soak");
fs.mkdirSync(root, { recursive: true });
const log = (...a) => console.log(`[soak ${new Date().toISOString().slice(11, 19)}]`, ...a);
const b64 = (s) => Buffer.from(s).toString("base64");

const ops = {};
function record(op, ms, okay, detail) {
  const o = (ops[op] ||= { n: 0, errors: 0, lat: [], errorSamples: [] });
  o.n++;
  if (o.lat.length < 200000) o.lat.push(ms);
  if (!okay) {
    o.errors++;
    if (o.errorSamples.length < 5) o.errorSamples.push(detail);
  }
}

function pct(a, p) {
  if (!a.length) return 0;
  const s = a.slice().sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

async function main() {
  const args = process.env.THREADS ? ["--threads", process.env.THREADS] : [];
  // The read caches are bounded (--cache-mb); a 10-minute run with a
  // growing data set fills the default budget (32 MiB a handle) only
  // near its end, which would look like growth.  A smaller budget fills
  // in the first minutes, so that growth in the second half means a leak.
  args.push("--cache-mb", process.env.CACHE_MB || "16");
  const { server, port, creds } = await startFresh({ dir: root, args });
  const pid = server.pid;
  const T = creds.tenancy;
  const admin = new Client({ port, creds, maxSockets: 2 });
  const { vault, key, crypto } = await makeVaultAndKey(admin, T, { name: "soak" });
  // a working set of secrets
  const secrets = [];
  for (let i = 0; i < 50; i++) {
    const s = ok(
      await admin.post("/20180608/secrets", {
        compartmentId: T,
        vaultId: vault.id,
        keyId: key.id,
        secretName: `soak-${i}`,
        secretContent: { contentType: "BASE64", content: b64(`soak-initial-${i}`) },
      }),
      "CreateSecret",
    );
    secrets.push({ id: s.id, versions: 1, busy: false });
  }
  const ct = ok(await admin.post(`${crypto}/20180608/encrypt`, { keyId: key.id, plaintext: b64("soak plaintext") }), "Encrypt").ciphertext;
  admin.close();
  let created = 50;

  // weights of the mix (reads : writes : KMS = 60 : 20 : 20)
  const mix = [
    ["GetSecretBundle", 35],
    ["GetSecretBundleVersion", 10],
    ["GetSecret", 5],
    ["ListSecrets", 5],
    ["ListSecretVersions", 5],
    ["UpdateSecret", 17],
    ["CreateSecret", 3],
    ["Encrypt", 8],
    ["Decrypt", 8],
    ["GenerateDataEncryptionKey", 4],
  ];
  // MIX=Op:weight,... replaces the mix (to find which operation a trend
  // follows), e.g. MIX=GetSecretBundle:1 or MIX=Encrypt:1,Decrypt:1
  if (process.env.MIX) {
    mix.length = 0;
    for (const part of process.env.MIX.split(",")) {
      const [op, w] = part.split(":");
      mix.push([op, Number(w || 1)]);
    }
  }
  const total = mix.reduce((a, [, w]) => a + w, 0);
  const pick = () => {
    let r = Math.random() * total;
    for (const [op, w] of mix) if ((r -= w) < 0) return op;
    return mix[0][0];
  };
  const rnd = (n) => Math.floor(Math.random() * n);

  async function one(c, op) {
    const s = secrets[rnd(secrets.length)];
    switch (op) {
      case "GetSecretBundle":
        return c.get(`/20190301/secretbundles/${s.id}`);
      case "GetSecretBundleVersion":
        return c.get(`/20190301/secretbundles/${s.id}?versionNumber=${1 + rnd(s.versions)}`);
      case "GetSecret":
        return c.get(`/20180608/secrets/${s.id}`);
      case "ListSecrets":
        return c.get(`/20180608/secrets?compartmentId=${T}&vaultId=${vault.id}&limit=50&sortBy=NAME`);
      case "ListSecretVersions":
        return c.get(`/20180608/secrets/${s.id}/versions`);
      case "UpdateSecret": {
        const start = rnd(secrets.length);
        let w = null;
        for (let k = 0; k < secrets.length && !w; k++) {
          const x = secrets[(start + k) % secrets.length];
          if (!x.busy && x.versions < MAX_VERSIONS) w = x;
        }
        if (!w) return one(c, "CreateSecret");
        w.busy = true;
        try {
          const r = await c.put(`/20180608/secrets/${w.id}`, {
            secretContent: { contentType: "BASE64", content: b64(`soak-${Date.now()}-${Math.random()}`) },
          });
          if (r.status === 200) w.versions = r.json.currentVersionNumber;
          return r;
        } finally {
          w.busy = false;
        }
      }
      case "CreateSecret": {
        const n = created++;
        const r = await c.post("/20180608/secrets", {
          compartmentId: T,
          vaultId: vault.id,
          keyId: key.id,
          secretName: `soak-${n}`,
          secretContent: { contentType: "BASE64", content: b64(`soak-new-${n}`) },
        });
        if (r.status === 200) secrets.push({ id: r.json.id, versions: 1, busy: false });
        return r;
      }
      case "Encrypt":
        return c.post(`${crypto}/20180608/encrypt`, { keyId: key.id, plaintext: b64(`p-${Math.random()}`), associatedData: { a: "b" } });
      case "Decrypt":
        return c.post(`${crypto}/20180608/decrypt`, { keyId: key.id, ciphertext: ct });
      case "GenerateDataEncryptionKey":
        return c.post(`${crypto}/20180608/generateDataEncryptionKey`, { keyId: key.id, keyShape: { algorithm: "AES", length: 32 }, includePlaintextKey: true });
    }
    throw new Error(op);
  }

  const samples = [];
  const t0 = Date.now();
  const end = t0 + DURATION * 1000;
  const sampleNow = () => {
    const st = procStats(pid);
    const s = { t: Math.round((Date.now() - t0) / 1000), ...st, requests: Object.values(ops).reduce((a, o) => a + o.n, 0) };
    samples.push(s);
    log(`t=${s.t}s rss=${(s.rssKb / 1024).toFixed(1)} MiB fds=${s.fds} threads=${s.threads} requests=${s.requests}`);
  };
  sampleNow();
  const sampler = setInterval(sampleNow, SAMPLE * 1000);

  const perWorkerInterval = (1000 * WORKERS) / RATE;
  const workers = Array.from({ length: WORKERS }, async (_, w) => {
    const c = new Client({ port, creds, maxSockets: 1 });
    let next = Date.now() + (w * perWorkerInterval) / WORKERS;
    while (Date.now() < end) {
      const wait = next - Date.now();
      if (wait > 0) await sleep(wait);
      next += perWorkerInterval;
      const op = pick();
      const t = performance.now();
      try {
        const r = await one(c, op);
        record(op, performance.now() - t, r.status >= 200 && r.status < 300, `${r.status} ${r.text.slice(0, 160)}`);
      } catch (e) {
        record(op, performance.now() - t, false, e.code || e.message);
      }
    }
    c.close();
  });
  await Promise.all(workers);
  clearInterval(sampler);
  await sleep(2000); // let keep-alive connections close on the server
  sampleNow();
  const exit = await server.stop();

  const seconds = (Date.now() - t0) / 1000;
  const requests = Object.values(ops).reduce((a, o) => a + o.n, 0);
  const errors = Object.values(ops).reduce((a, o) => a + o.errors, 0);
  const first = samples[0];
  const warm = samples.find((s) => s.t >= 60) || samples[Math.min(1, samples.length - 1)];
  const last = samples[samples.length - 1];
  const maxRss = Math.max(...samples.map((s) => s.rssKb));
  const maxFds = Math.max(...samples.map((s) => s.fds));
  const mid = samples.reduce((best, s) => (Math.abs(s.t - last.t / 2) < Math.abs(best.t - last.t / 2) ? s : best), samples[0]);
  const growth = ((last.rssKb - mid.rssKb) / mid.rssKb) * 100;
  const growthWarm = ((last.rssKb - warm.rssKb) / warm.rssKb) * 100;
  const report = {
    durationSeconds: Math.round(seconds),
    targetRate: RATE,
    requests,
    requestsPerSecond: Math.round(requests / seconds),
    errors,
    rssKb: {
      start: first.rssKb,
      afterFirstMinute: warm.rssKb,
      midpoint: mid.rssKb,
      end: last.rssKb,
      max: maxRss,
      growthAfterFirstMinutePct: Number(growthWarm.toFixed(1)),
      growthSecondHalfPct: Number(growth.toFixed(1)),
    },
    fds: { start: first.fds, end: last.fds, max: maxFds },
    threads: { start: first.threads, end: last.threads },
    secrets: secrets.length,
    exit,
    ops: Object.fromEntries(
      Object.entries(ops).map(([k, o]) => [k, { n: o.n, errors: o.errors, p50ms: Number(pct(o.lat, 50).toFixed(1)), p99ms: Number(pct(o.lat, 99).toFixed(1)), errorSamples: o.errorSamples }]),
    ),
    samples,
  };
  if (process.env.SOAK_REPORT) fs.writeFileSync(process.env.SOAK_REPORT, JSON.stringify(report, null, 2) + "\n");
  console.log(JSON.stringify({ ...report, samples: undefined }, null, 2));
  const problems = [];
  if (errors > 0) problems.push(`${errors} errors`);
  if (last.fds > first.fds + FD_SLACK) problems.push(`fds grew from ${first.fds} to ${last.fds}`);
  if (growth > RSS_GROWTH_PCT) problems.push(`RSS grew ${growth.toFixed(1)} % over the second half`);
  if (!exit || exit.code !== 0) problems.push(`tresord exit ${JSON.stringify(exit)}`);
  console.log(
    `soak: ${Math.round(seconds)} s, ${requests} requests (${report.requestsPerSecond}/s), ${errors} errors, ` +
      `RSS ${(first.rssKb / 1024).toFixed(1)} -> ${(warm.rssKb / 1024).toFixed(1)} (1 min) -> ${(mid.rssKb / 1024).toFixed(1)} (mid) -> ` +
      `${(last.rssKb / 1024).toFixed(1)} MiB (max ${(maxRss / 1024).toFixed(1)}), ` +
      `fds ${first.fds} -> ${last.fds} (max ${maxFds}): ${problems.length ? "FAIL: " + problems.join("; ") : "PASS"}`,
  );
  return problems.length ? 1 : 0;
}

let status = 1;
try {
  status = await main();
} catch (e) {
  console.log(`FAIL ${e.stack || e}`);
}
if (!process.env.SOAK_DIR && process.env.SOAK_KEEP !== "1") fs.rmSync(root, { recursive: true, force: true });
process.exit(status);
