// SPDX-License-Identifier: Apache-2.0
// bench/results.md from the files bench/run.sh left in its result
// directory, and the headline figures on stdout as "RESULT name=value".
//
//   node bench/report.mjs --res DIR --out results.md

import fs from "node:fs";
import path from "node:path";

const arg = (n) => process.argv[process.argv.indexOf(`--${n}`) + 1];
const RES = arg("res");
const OUT = arg("out");

const has = (f) => fs.existsSync(path.join(RES, f));
const txt = (f) => (has(f) ? fs.readFileSync(path.join(RES, f), "utf8").trim() : "");
const json = (f) => {
  try { return JSON.parse(txt(f)); } catch { return null; }
};
const num = (f) => (has(f) ? Number(txt(f)) : NaN);
const env = Object.fromEntries(txt("machine.env").split("\n").filter((l) => l.includes("="))
  .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
const state = json("state.json") ?? {};
const quick = env.quick === "1";

const results = [];
const R = (name, v) => {
  if (v !== undefined && v !== null && !Number.isNaN(v)) results.push([name, v]);
};
const f0 = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString("en-US") : "n/a");
const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : "n/a");
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : "n/a");
const f3 = (x) => (Number.isFinite(x) ? x.toFixed(3) : "n/a");
const ms = (us) => (Number.isFinite(us) ? (us / 1000).toFixed(2) : "n/a");
const ok2xx = (r) => (r ? r.requests - r.errors.status : NaN);
const rate2xx = (r) => (r ? ok2xx(r) / (r.duration_us / 1e6) : NaN);
const sockErr = (r) => (r ? r.errors.connect + r.errors.read + r.errors.write + r.errors.timeout : 0);
const mark = (good) => (good ? "met" : "**not met**");

const md = [];
const p = (...l) => md.push(...l);

p("# tresor benchmark results", "",
  `Written by \`make bench\` (bench/run.sh) on ${env.date}${quick ? ", **smoke mode (BENCH_QUICK=1): every phase about 1 s, " +
    "figures not meaningful**" : ""}; the whole run took ${env.wall_s} s. Commit ${env.commit}.`, "",
  "Benchmarks assert nothing; the targets below are issue 6's, for comparison.", "");

p("## Machine", "",
  "| | |", "|---|---|",
  `| CPUs (nproc) | ${env.nproc} |`,
  `| CPU | ${env.cpu} |`,
  `| memory | ${f1(Number(env.mem_kb) / 1048576)} GiB |`,
  `| kernel | ${env.kernel} |`,
  `| OS | ${env.os} |`,
  `| file system of the data directory | ${env.fs} |`,
  `| load average (1, 5, 15 min) at start / end | ${env.load_start} / ${env.load_end} |`, "",
  "Load generator, servers and tools share the machine's cores: wrk takes a core of its own only in the " +
  "one-worker runs. Other processes on the machine (see the load average) disturb the figures; compare " +
  "tresord with nginx within one run, not across runs.", "",
  "Versions: " + [env.nginx, env.wrk, `node ${env.node}`, env.cc, `SQLite ${env.sqlite}`,
    `OpenSSL ${env.openssl}`, `h2o ${env.h2o}`].join(", ") + ".", "",
  `tresord build: ${env.build} (build-release/, release flags; -g only adds symbols for perf).`, "");

// ---------------------------------------------------------------- read
// The interleaved pairs of a worker count (run.sh), and the one whose
// ratio is the median; older runs wrote one pair without a suffix.
const readPairs = (w) => {
  const out = [];
  for (let k = 1; ; k++) {
    const t = json(`read-w${w}-tresor-r${k}.json`);
    const n = json(`read-w${w}-nginx-r${k}.json`);
    if (!t || !n) break;
    out.push({ k, t, n, tc: num(`read-w${w}-tresor-r${k}.cpu`), nc: num(`read-w${w}-nginx-r${k}.cpu`) });
  }
  if (out.length === 0) {
    const t = json(`read-w${w}-tresor.json`);
    const n = json(`read-w${w}-nginx.json`);
    if (t && n) out.push({ k: 0, t, n, tc: num(`read-w${w}-tresor.cpu`), nc: num(`read-w${w}-nginx.cpu`) });
  }
  for (const x of out) x.ratio = rate2xx(x.t) / rate2xx(x.n);
  return out;
};
const medianPair = (pairs) => {
  if (pairs.length === 0) return null;
  const sorted = [...pairs].sort((a, b) => a.ratio - b.ratio);
  return sorted[(sorted.length - 1) >> 1];
};
const nPairs = Math.max(1, readPairs(1).length);
// One worker: each pair ran both servers placed and free (run.sh); the
// "better placement" pairs take, of each server, its faster window.
const placedPairs = readPairs("1p");
const placed = placedPairs.length > 0;
const bestPairs = placed ? readPairs(1).map((f) => {
  const q = placedPairs.find((x) => x.k === f.k);
  if (!q) return null;
  const tp = rate2xx(q.t) >= rate2xx(f.t);
  const np = rate2xx(q.n) >= rate2xx(f.n);
  return {
    k: f.k, t: tp ? q.t : f.t, n: np ? q.n : f.n, tc: tp ? q.tc : f.tc, nc: np ? q.nc : f.nc,
    tw: tp ? "placed" : "free", nw: np ? "placed" : "free",
    ratio: Math.max(rate2xx(q.t), rate2xx(f.t)) / Math.max(rate2xx(q.n), rate2xx(f.n)),
  };
}).filter((x) => x) : [];
const label = { best: "1, each at its better placement", "1p": `1, placed (CPU ${env.loop_cpu})`, 1: placed ? "1, free" : "1", 2: "2" };
const pairsOf = (w) => (w === "best" ? bestPairs : readPairs(w));
p("## 1. Signed GetSecretBundle against nginx", "",
  `Both servers answer the same requests from wrk (32 keep-alive connections, ${quick ? 1 : 15} s for each ` +
  `server and placement in all, in ${nPairs} interleaved pair${nPairs === 1 ? "" : "s"}, after ${quick ? 0 : 2} s of warm-up): tresord the full path, nginx a static JSON file of the same length as ` +
  `tresord's body (${state.bundleBytes} bytes). One tresord thread (\`--threads 1\`) against one nginx ` +
  "worker (`worker_processes 1`), then two and two; wrk runs one thread, then two." +
  (placed ? " With one worker, every pair runs both servers in two placements, the same for both. " +
    `*Placed*: the server's worker on CPU ${env.loop_cpu}, wrk on CPU ${env.gen_cpus}, and there too tresord's threads ` +
    "that are not event loops (group commit, maintenance) -- what `tresord serve --cpus " + env.loop_cpu + "` does " +
    "(run.sh sets it with taskset on the threads by name, so that one server switches between windows). CPU " +
    `${env.loop_cpu} is the one that takes the fewest of the data disk's interrupts (/proc/interrupts; run.sh ` +
    "quiet_cpu): the completions of the audit log's fdatasync land on the other. *Free*: the scheduler places " +
    "everything. The first row compares, pair by pair, each server's faster window (its better placement); " +
    "it is the headline." : ""), "",
  "| workers | tresord req/s | p50 ms | p99 ms | CPU us/req | nginx req/s | p50 ms | p99 ms | CPU us/req | tresord / nginx |",
  "|---|---|---|---|---|---|---|---|---|---|");
const ratios = {};
const pairNotes = [];
const chosen = {};
for (const w of ["best", "1p", 1, 2]) {
  const pairs = pairsOf(w);
  const m = medianPair(pairs);
  if (!m) continue;
  chosen[w] = m;
  const { t, n } = m;
  const tr = rate2xx(t);
  const nr = rate2xx(n);
  const tcpu = (m.tc * 1e6) / ok2xx(t);
  const ncpu = (m.nc * 1e6) / ok2xx(n);
  ratios[w] = tr / nr;
  if (pairs.length > 1) {
    pairNotes.push(`${label[w]}: ` + pairs.map((x) =>
      `${f0(rate2xx(x.t))}${x.tw ? ` (${x.tw})` : ""} / ${f0(rate2xx(x.n))}${x.nw ? ` (${x.nw})` : ""} = ${f3(x.ratio)}`).join("; "));
  }
  const where = m.tw ? ` (tresord ${m.tw}, nginx ${m.nw})` : "";
  p(`| ${label[w]}${where} | ${f0(tr)} | ${ms(t.lat_us.p50)} | ${ms(t.lat_us.p99)} | ${f1(tcpu)} | ${f0(nr)} | ${ms(n.lat_us.p50)} | ` +
    `${ms(n.lat_us.p99)} | ${f1(ncpu)} | **${f3(tr / nr)}** |`);
  // the headline: the better placements when both ran, else the one
  const head = w === "best" || (w === 1 && !placed);
  const sfx = head ? "" : w === "1p" ? "_placed" : w === 1 ? "_free" : "_2w";
  const ws = head ? "1w" : w === "1p" ? "1w_placed" : w === 1 ? "1w_free" : "2w";
  if (head) chosen.head = m;
  R(`get_bundle_vs_nginx${sfx}`, +f3(tr / nr));
  R(`get_bundle_rps_${ws}`, Math.round(tr));
  R(`nginx_rps_${ws}`, Math.round(nr));
  R(`get_bundle_p50_ms_${ws}`, +ms(t.lat_us.p50));
  R(`get_bundle_p99_ms_${ws}`, +ms(t.lat_us.p99));
  R(`get_bundle_cpu_us_per_req_${ws}`, +f1(tcpu));
  if (t.errors.status > 0 || sockErr(t) > 0 || n.errors.status > 0) {
    p(`|  | ${t.errors.status} non-2xx, ${sockErr(t)} socket errors | | | | ${n.errors.status} non-2xx | | | | |`);
  }
}
if (pairNotes.length > 0) {
  p("", "The two servers are measured in interleaved pairs (tresord, then nginx, a few seconds each, both " +
    "servers up): the machine's speed drifts during a run (it is shared), and a pair's windows are seconds " +
    "apart. Each row shows its pair with the median ratio; every pair, tresord / nginx req/s = ratio: " +
    pairNotes.join("; ") + ".");
}
const t1 = chosen.head?.t;
const r1 = placed ? ratios.best : ratios[1];
p("", `Targets: at least 0.50 of nginx with one worker each: ${mark(r1 >= 0.5)} (${f3(r1)}${placed ? "; placed " +
  `${f3(ratios["1p"])}, free ${f3(ratios[1])}` : ""}); ` +
  `p99 under 2 ms at 32 connections: ${mark(t1 && t1.lat_us.p99 < 2000)} (${t1 ? ms(t1.lat_us.p99) : "n/a"} ms).`, "",
  "CPU us/req is the server's user+system CPU time (/proc/PID/stat, all threads; nginx: its workers) " +
  "over the run divided by the answers; req/s counts only 2xx answers.", "",
  "How the requests are made: bench/presign (a C program on libtresor's signer, include/tresor/signer.h) " +
  "signs the GET as the OCI SDK does (x-date, (request-target), host; rsa-sha256) right before each run, " +
  "and bench/wrk/replay.lua replays those headers. The server verifies the signature of every request " +
  "as of any other (it caches API public keys, never a verification), and checks x-date against a skew " +
  "of 5 minutes, which each run stays well within.", "",
  `The policy world, built through the API before this phase (bench/setup.mjs): ${state.counts?.compartments} ` +
  `compartments nested three deep, ${state.counts?.groups} groups, ${state.counts?.users} users, ` +
  `${state.counts?.policies} policies with ${state.counts?.statements} statements (secret-family, keys, vaults, ` +
  "where clauses on key, vault, secret name, permission, operation). The reader, bench-reader (groups " +
  "grp-07 and grp-13), is granted by two of them only: `read secret-family in compartment team1:prod` " +
  "(attached to bu2) and `use keys in compartment team1:prod where any {target.key.id = ...}`; the admin's " +
  "`manage all-resources` is not on its path. A check in setup reads a secret of another compartment as " +
  `bench-reader and gets ${state.deniedStatus} (refused), so the reads do go through these policies.`, "");

// ------------------------------------------------------------- profile
p("## 2. Where a GetSecretBundle goes (tresord, 1 thread, under the read load)", "");
const sw = json("strace-wrk.json");
if (has("strace.txt") && sw) {
  const nreq = sw.requests;
  // the maintenance thread's sleep is not request work
  const idle = /^(clock_nanosleep|restart_syscall|total)$/;
  const rows = txt("strace.txt").split("\n").filter((l) => /^\s*[\d.]+\s+[\d.]+\s+\d+\s+\d+/.test(l))
    .map((l) => l.trim().split(/\s+/)).map((f) => ({ name: f[f.length - 1], secs: Number(f[1]), calls: Number(f[3]) }))
    .filter((r) => !idle.test(r.name));
  const tsecs = rows.reduce((a, r) => a + r.secs, 0);
  const tcalls = rows.reduce((a, r) => a + r.calls, 0);
  p(`System calls of the request path (strace -c -f over ${f0(nreq)} requests; strace slows the server, ` +
    "the counts per request stand; the maintenance thread's sleeps left out):", "",
    "| syscall | calls per request | share of the time in system calls |", "|---|---|---|");
  for (const r of rows) p(`| ${r.name} | ${f2(r.calls / nreq)} | ${f1((100 * r.secs) / tsecs)} % |`);
  p(`| all | ${f2(tcalls / nreq)} | 100 % |`, "");
}
if (has("profile-children.txt")) {
  const lines = txt("profile-children.txt").split("\n");
  const parse = (l) => {
    const m = /^\s*([\d.]+)%\s+([\d.]+)%\s+\[(.)\]\s+(.+?)\s+-\s+-\s*$/.exec(l);
    return m ? { incl: +m[1], self: +m[2], k: m[3], sym: m[4].trim() } : null;
  };
  const all = lines.map(parse).filter((x) => x && !/^0x[0-9a-f]+$|^[0-9a-f]{16}$/.test(x.sym));
  const frames = /^(clone3|start_thread|worker_main|h2o_evloop_run|__libc_start_call_main|__libc_start_main.*|main|_start)$/;
  const mine = all.filter((x) => x.k === "." && x.incl >= 1.5 && !frames.test(x.sym)).slice(0, 45);
  const incl = (re) => all.find((x) => re.test(x.sym))?.incl ?? 0;
  const whole = incl(/^on_req$/);
  if (whole > 0) {
    const rows = [
      ["HTTP (h2o: parse, write; on_req less tr_api_handle)", whole - incl(/^tr_api_handle$/)],
      ["audit record, on the event loop: audit_response (the record's text, queued by tr_audit_write)", Math.max(incl(/^audit_response/), incl(/^tr_audit_write$/))],
      ["group commit, on the syncer thread: syncer_main (the audit log's queued records written and chained, fdatasync; the WAL's when a commit happened)", incl(/^syncer_main$/)],
      ["  of which writing the queued audit records (hashes, one write): flush_locked", incl(/^flush_locked/)],
      ["  of which fdatasync (CPU in the kernel: the file system, the virtual disk)", incl(/^(__GI_fdatasync|fdatasync)/)],
      ["authentication: tr_auth_request", incl(/^tr_auth_request$/)],
      ["  of which signature verification: tr_httpsig_verify", incl(/^tr_httpsig_verify$/)],
      ["handler: tr_api_get_secret_bundle", incl(/^tr_api_get_secret_bundle$/)],
      ["  of which policy checks: content_checks", incl(/^content_checks$/)],
      ["  of which envelope decryption: tr_envelope_open_cached", incl(/^tr_envelope_open(_cached)?$/)],
      ["IAM generation query, all callers: sq_iam_generation", incl(/^sq_iam_generation$/)],

      ["SQLite statements, all callers: sqlite3_step + sqlite3_reset", incl(/^sqlite3_step$/) + incl(/^sqlite3_reset$/)],
      ["usage metering: meter / tr_usage_count", Math.max(incl(/^meter$/), incl(/^tr_usage_count$/))],
    ];
    p("The request's CPU time, by part (inclusive shares of tresord's on-CPU samples, all threads; the syncer's rows are outside on_req):", "",
      "| part | share |", "|---|---|", ...rows.map(([k, v]) => `| ${k} | ${v.toFixed(1)} % |`), "");
  }
  p("On-CPU profile (perf record -F 999 --call-graph dwarf; `perf report --children`): the share of " +
    "tresord's CPU samples spent in each function and what it calls (inclusive) and in the function " +
    "itself (self). Off-CPU time (waiting in fdatasync) is not in these samples: see the system calls above.", "",
    "| inclusive | self | function |", "|---|---|---|");
  for (const x of mine) p(`| ${x.incl.toFixed(1)} % | ${x.self.toFixed(1)} % | \`${x.sym}\` |`);
  const kern = all.filter((x) => x.k === "k" && /fsync|fdatasync|tcp_sendmsg|tcp_recvmsg|schedule$|ext4_sync_file/.test(x.sym)).slice(0, 8);
  if (kern.length > 0) {
    p("", "Kernel, inclusive: " + kern.map((x) => `\`${x.sym}\` ${x.incl.toFixed(1)} %`).join(", ") + ".");
  }
  p("");
}
if (has("profile-self.txt")) {
  p("Top functions by self time (`perf report --no-children --sort dso,symbol`):", "", "```",
    ...txt("profile-self.txt").split("\n").slice(0, 30).map((l) => l.trim().replace(/\s+-\s+-\s*$/, "")), "```", "");
}

// -------------------------------------------------------------- writes
p("## 3. Durable writes: UpdateSecret (new version)", "",
  "Each request is a distinct signed PUT (bench-writer, manage secret-family) with fresh content; tables " +
  "are signed ahead by bench/presign and each request is sent once (BENCH_ONCE=1). Request j of a table " +
  "updates secret j mod S of S fresh secrets (at least two per connection, at most 29 updates each: a " +
  "secret holds at most 30 versions in use). A table that runs out before the end is made three times " +
  "larger and the level run again. tresord answers only after SQLite (WAL) committed the version and " +
  "one shared fdatasync of the WAL and another of the audit log (group commit) covered it. Afterwards ListSecretVersions counts the versions " +
  "the server holds; `verified` means they match the 2xx answers, give or take the requests still in flight " +
  "when wrk stopped (at most one per connection: carried out, their answers not counted).", "",
  "| connections | UpdateSecret/s (2xx) | p50 ms | p99 ms | 2xx | non-2xx | versions found | verified | table | secrets |",
  "|---|---|---|---|---|---|---|---|---|---|");
let allVerified = true;
for (const c of [1, 8, 32]) {
  const r = json(`writes-c${c}.json`);
  const v = json(`writes-c${c}.verify.json`);
  const prep = json(`writes-c${c}.prep.json`);
  if (!r) continue;
  // wrk stops with up to one request in flight per connection: the
  // server may have carried those out without wrk counting the answer
  const good = v && v.updates >= ok2xx(r) && v.updates - ok2xx(r) <= c;
  if (!good) allVerified = false;
  p(`| ${c} | ${f0(rate2xx(r))} | ${ms(r.lat_us.p50)} | ${ms(r.lat_us.p99)} | ${ok2xx(r)} | ${r.errors.status} | ` +
    `${v ? v.updates : "n/a"} | ${good ? "yes" : "**no**"} | ${prep?.requests}${r.exhausted_threads > 0 ? " (ran out)" : ""} | ${prep?.secrets} |`);
  R(`update_secret_rps_c${c}`, Math.round(rate2xx(r)));
}
R("update_secret_verified", allVerified ? 1 : 0);
const w32 = json("writes-c32.json");
p("", `Target: at least 2,000/s at 32 clients: ${mark(w32 && rate2xx(w32) >= 2000)} (${f0(rate2xx(w32))}/s).`, "");

// ----------------------------------------------------------------- kms
p("## 4. KMS crypto", "",
  "One signed request replayed by wrk (2 threads, 32 connections, tresord 2 threads): each replay is a " +
  "complete, verified request (the body hash is signed, the body is the same).", "",
  "| operation | req/s | p50 ms | p99 ms | non-2xx |", "|---|---|---|---|---|");
for (const [op, name, rn] of [["enc", "Encrypt, 4 KiB plaintext", "kms_encrypt_4k_rps"],
  ["gdek", "GenerateDataEncryptionKey (AES-256, includePlaintextKey)", "kms_generate_dek_rps"]]) {
  const r = json(`kms-${op}.json`);
  if (!r) continue;
  p(`| ${name} | ${f0(rate2xx(r))} | ${ms(r.lat_us.p50)} | ${ms(r.lat_us.p99)} | ${r.errors.status} |`);
  R(rn, Math.round(rate2xx(r)));
}
p("");

// --------------------------------------------------------------- scale
// Interleaved windows (run.sh): scale-{small,big}-rK; older runs wrote
// one window of each without the suffix.
const scaleWindows = (size) => {
  const out = [];
  for (let k = 1; ; k++) {
    const r = json(`scale-${size}-r${k}.json`);
    if (!r) break;
    out.push({ k, r, rps: rate2xx(r), rss: num(`scale-${size}-r${k}.rss`) / 1024,
      start: json(`start-scale-${size}-r${k}.json`)?.startup_ms });
  }
  if (out.length === 0 && json(`scale-${size}.json`)) {
    const r = json(`scale-${size}.json`);
    out.push({ k: 0, r, rps: rate2xx(r), rss: num(`scale-${size}.rss`) / 1024,
      start: json(`start-scale-${size}.json`)?.startup_ms });
  }
  return out;
};
const median = (xs) => {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  return v.length ? v[(v.length - 1) >> 1] : NaN;
};
const scSmall = scaleWindows("small"), scBig = scaleWindows("big");
const scPairs = scSmall.map((s) => ({ s, b: scBig.find((x) => x.k === s.k) })).filter((x) => x.b)
  .map((x) => ({ ...x, ratio: x.b.rps / x.s.rps }));
const scMid = medianPair(scPairs);
p("## 5. Scale: secrets in one vault", "",
  "bench/populate writes the secrets straight into the stopped server's store (the store's apply() in " +
  "transactions of 5,000 secrets): clones of a secret made through the API, each with its own OCID, name " +
  "and a version sealed for real (fresh data key, the vault's master key). OCIDs are random as tresord " +
  "makes them but inserted in sorted order, which gives the page layout of a VACUUMed store. The vault is " +
  "filled to 1,000 secrets, the data directory copied (the small store), then filled to the big count. " +
  `The two stores are then read in ${scPairs.length || 1} interleaved pair${scPairs.length === 1 ? "" : "s"} of windows (small, then big; ` +
  `${scSmall[0] ? Math.round(scSmall[0].r.duration_us / 1e6) : "?"} s each after ${quick ? 0 : 2} s of warm-up), each by a fresh tresord (1 thread, placed as in phase 1: ` +
  `\`--cpus ${env.loop_cpu}\`, wrk on the other CPUs), so that the machine's drift falls on both. Start-up: exec to the ` +
  "first `GET /health` 200. wrk reads, as bench-reader, GetSecretBundle round-robin over a spread of the vault's " +
  `secrets (all 1,000 of the small vault; ${quick ? 256 : "4,096"} spread evenly over the big one). Peak RSS is ` +
  "VmHWM after the reads. The stores are flushed (sync) before the first start, so the kernel's write-back " +
  "does not slow the runs; start-up includes tresord's PRAGMA quick_check of stores up to 64 MB (the small " +
  "one), not of larger ones. The rows show the pair with the median ratio, start-up the median of the " +
  "starts, peak RSS the highest.", "",
  "| secrets in the vault | populate s | store MB | start-up ms | req/s | p50 ms | p99 ms | peak RSS MB |",
  "|---|---|---|---|---|---|---|---|");
const sc = {};
for (const [size, wins] of [["small", scSmall], ["big", scBig]]) {
  const w = scMid ? (size === "small" ? scMid.s : scMid.b) : wins[0];
  if (!w) continue;
  const r = w.r;
  sc[size] = { n: num(`scale-${size}.count`), rps: w.rps, rss: Math.max(...wins.map((x) => x.rss)),
    start: median(wins.map((x) => x.start)), r };
  p(`| ${f0(sc[size].n)} | ${txt(`scale-${size}.populate_s`)} | ${f0(num(`scale-${size}.db_bytes`) / 1048576)} | ` +
    `${f1(sc[size].start)} | ${f0(sc[size].rps)} | ${ms(r.lat_us.p50)} | ${ms(r.lat_us.p99)} | ${f1(sc[size].rss)} |` +
    (r.errors.status > 0 ? ` ${r.errors.status} non-2xx` : ""));
}
if (sc.small && sc.big) {
  const ratio = sc.big.rps / sc.small.rps;
  if (scPairs.length > 1) {
    p("", "Every pair, big / small req/s = ratio: " +
      scPairs.map((x) => `${f0(x.b.rps)} / ${f0(x.s.rps)} = ${f3(x.ratio)}`).join("; ") + ".");
  }
  p("", `Read rate with ${f0(sc.big.n)} secrets / with 1,000: **${f3(ratio)}** (target at least 0.90: ${mark(ratio >= 0.9)}); ` +
    `peak RSS ${f1(sc.big.rss)} MB (target under 512 MB: ${mark(sc.big.rss < 512)}); start-up ` +
    `${f1(sc.big.start)} ms (target under 2 s: ${mark(sc.big.start < 2000)}).`);
  R("scale_secrets_big", sc.big.n);
  R("scale_1k_rps", Math.round(sc.small.rps));
  R("scale_1m_rps", Math.round(sc.big.rps));
  R("scale_1m_vs_1k", +f3(ratio));
  R("scale_1k_peak_rss_mb", +f1(sc.small.rss));
  R("scale_1m_peak_rss_mb", +f1(sc.big.rss));
  R("scale_1k_startup_ms", sc.small.start);
  R("scale_1m_startup_ms", sc.big.start);
  if (quick) p("", `Smoke mode: the big vault holds ${f0(sc.big.n)} secrets, not 1,000,000.`);
}
p("");

// --------------------------------------------------------------- cache
const cj = json("cache.json");
const fj = json("fleet.json");
p("## 6. Client cache (libtresor)", "");
if (cj) {
  p(`bench/cache_bench against the running tresord, as bench-reader: after the first read (a fetch, ` +
    `${f1(cj.first_read_us)} us including the cache's one GetSecret for the rotation-window check), ` +
    `${f0(cj.reads)} reads of the cached bundle, each \`tresor_cache_get()\` + \`tresor_secret_bundle_free()\` ` +
    `of the copy it hands out: **${f1(cj.cached_ns)} ns per cached read** (target under 1 us: ${mark(cj.cached_ns < 1000)}). ` +
    `For scale, an uncached \`tresor_secret_bundle_get()\` (one signed request over a kept-alive connection) ` +
    `took ${f1(cj.uncached_us)} us (${cj.uncached} reads).`, "");
  R("cache_read_ns", +f1(cj.cached_ns));
}
if (fj) {
  p(`bench/fleet_sim: ${fj.procs} processes, each with its own cache (the real cache.c, TTL ${fj.ttl_ms / 60000} min, ` +
    `rotation-window check on), read ${fj.secrets} secrets once a second for ${fj.seconds} s of simulated time ` +
    `(the cache's clocks and fetch are injected: nothing sleeps); secret 0 gets a new version at ${fj.rotate_at_s} s.`, "",
    "| | server calls |", "|---|---|",
    `| without a cache (every read) | ${f0(fj.calls_without_cache)} |`,
    `| with the cache | ${f0(fj.calls_with_cache)} (${f0(fj.bundle_fetches)} GetSecretBundle + ${f0(fj.window_lookups)} GetSecret) |`,
    `| saved | **${f3(fj.saved_pct)} %** |`, "",
    `Target at least 98 % fewer calls: ${mark(fj.saved_pct >= 98)}. After the rotation, ${f0(fj.stale_reads_after_rotation)} ` +
    `reads still returned the old version; the last process saw the new one ${f1(fj.last_process_saw_rotation_after_s)} s ` +
    "after it (bounded by the TTL).", "");
  R("fleet_calls_saved_pct", +f3(fj.saved_pct));
}

// ------------------------------------------------------------ postgres
if (has("pg-read-1-n1.json")) {
  const sumRate = (tag) => {
    const n = num(`${tag}.nodes`);
    let rate = 0, ok = 0, bad = 0, p50 = 0, p99 = 0, out = false;
    for (let i = 1; i <= n; i++) {
      const r = json(`${tag}-n${i}.json`);
      if (!r) return null;
      rate += rate2xx(r); ok += ok2xx(r); bad += r.errors.status + sockErr(r);
      p50 = Math.max(p50, r.lat_us.p50); p99 = Math.max(p99, r.lat_us.p99);
      out = out || r.exhausted_threads > 0;
    }
    return { n, rate, ok, bad, p50, p99, out };
  };
  const sqR = chosen[1] ? rate2xx(chosen[1].t) : NaN;
  const sqW = rate2xx(json("writes-c32.json"));
  const rows = [["reads: GetSecretBundle", "pg-read", sqR, "read"], ["writes: UpdateSecret", "pg-write", sqW, "write"]];
  p("## 7. PostgreSQL: one node and three", "",
    "A PostgreSQL cluster of the run's own (tests/pg/pg.sh, PG_DURABLE=1: fsync, synchronous_commit and " +
    "full_page_writes on, so a 2xx means committed on disk) holds the store; tresord nodes on it, each " +
    "`--threads 1` with its handler pool (`--db-pool`, default 16) for the database calls. The same policy " +
    "world as phase 1 (bench/setup.mjs on node 1); nodes 2 and 3 use copies of node 1's directory. Reads: " +
    "bench-reader's GetSecretBundle, 32 connections (three nodes: 11 each, one wrk per node). Writes: " +
    "UpdateSecret of fresh secrets as in phase 3, 32 connections (three nodes: 11 each, the table split " +
    "between them). All of it shares the machine's two cores with PostgreSQL and the load generators, so " +
    "three nodes show the cost of coordination (notifications, cache refills, compare-and-set on versions), " +
    "not more capacity. The ratios compare with SQLite's figures of this run: phase 1 (one thread) and " +
    "phase 3 (32 connections).", "",
    "| | SQLite req/s | PostgreSQL, 1 node | p50 / p99 ms | vs SQLite | PostgreSQL, 3 nodes | p50 / p99 ms (worst node) | vs SQLite | non-2xx |",
    "|---|---|---|---|---|---|---|---|---|");
  for (const [label, tag, sq, rn] of rows) {
    const a = sumRate(`${tag}-1`), b = sumRate(`${tag}-3`);
    if (!a || !b) continue;
    p(`| ${label} | ${f0(sq)} | ${f0(a.rate)}${a.out ? " (table ran out)" : ""} | ${ms(a.p50)} / ${ms(a.p99)} | ${f2(a.rate / sq)} | ` +
      `${f0(b.rate)}${b.out ? " (table ran out)" : ""} | ${ms(b.p50)} / ${ms(b.p99)} | ${f2(b.rate / sq)} | ${a.bad + b.bad} |`);
    R(`pg_${rn}_rps_1node`, Math.round(a.rate));
    R(`pg_${rn}_rps_3nodes`, Math.round(b.rate));
    R(`pg_${rn}_1node_vs_sqlite`, +f3(a.rate / sq));
    R(`pg_${rn}_3nodes_vs_sqlite`, +f3(b.rate / sq));
  }
  const v1 = json("pg-writes-1.verify.json"), v3 = json("pg-writes-3.verify.json");
  const w1 = sumRate("pg-write-1"), w3 = sumRate("pg-write-3");
  if (v1 && v3 && w1 && w3) {
    const good = v1.updates >= w1.ok && v1.updates - w1.ok <= 32 && v3.updates >= w3.ok && v3.updates - w3.ok <= 33;
    p("", `Versions found afterwards (ListSecretVersions): ${f0(v1.updates)} for ${f0(w1.ok)} acknowledged ` +
      `(one node), ${f0(v3.updates)} for ${f0(w3.ok)} (three nodes): ${good ? "verified" : "**not verified**"}.`);
    R("pg_writes_verified", good ? 1 : 0);
  }
  p("");
} else if (!quick) {
  p("## 7. PostgreSQL", "", "No figures: the phase did not run (PostgreSQL missing, or see the run's log).", "");
}

// -------------------------------------------------------------- phases
const marks = txt("phases.txt").split("\n").filter((l) => l.trim() !== "").map((l) => l.split(" "));
if (marks.length > 1) {
  p("## Time per phase", "", "| phase | s |", "|---|---|");
  for (let i = 0; i + 1 < marks.length; i++) {
    p(`| ${marks[i][0]} | ${(Number(marks[i + 1][1]) - Number(marks[i][1])).toFixed(1)} |`);
  }
  p("");
}

// ------------------------------------------------------------ commands
p("## Commands", "", "Every command the run used, in order (bench/run.sh; paths shortened):", "", "```");
for (const l of txt("commands.txt").split("\n")) {
  if (l.trim() === "") continue;
  const [ph, ...rest] = l.split("\t");
  p(`[${ph}] ${rest.join(" ").replace(/\/tmp\/tresor-bench\.[A-Za-z0-9]+\//g, "")}`);
}
p("```", "");

R("bench_wall_s", Number(env.wall_s));
p("## RESULT lines", "", "```", ...results.map(([k, v]) => `RESULT ${k}=${v}`), "```", "");

fs.writeFileSync(OUT, md.join("\n"));
for (const [k, v] of results) console.log(`RESULT ${k}=${v}`);
