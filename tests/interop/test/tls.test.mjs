// Issue 7, TLS: tresord serves TLS 1.2+ with a certificate from a test CA, the SDK talks
// https:// to it (the run's CA is trusted through NODE_EXTRA_CA_CERTS, set by run.sh), and
// SIGHUP reloads the certificate: new connections see the new serial; a bad certificate
// pair is refused and the old one kept. This file serves TLS in every leg of run.sh.

import { after, before, test } from "node:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import tls from "node:tls";

import { KEEP, clientsFor, freePort, makeParentDir, runTresord, sleep, startServer } from "../lib/server.mjs";
import { makeCA, makeServerCert, runCA } from "../lib/tls.mjs";
import { assert, assertNoSdkRetries, createKey, createSecret, createVault, unb64 } from "../lib/world.mjs";

let srv, ca, caPem, work;
const made = [];

before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "tresor-interop-tlscerts-"));
  ca = runCA() ?? makeCA(path.join(work, "ca"));
  caPem = fs.readFileSync(ca.cert);
  const first = makeServerCert(ca, path.join(work, "first"));
  // The files tresord is started with; the tests replace their contents.
  const live = { cert: path.join(work, "live.crt"), key: path.join(work, "live.key") };
  fs.copyFileSync(first.cert, live.cert);
  fs.copyFileSync(first.key, live.key);
  fs.chmodSync(live.key, 0o600);
  srv = await startServer({ tag: "tls", tls: true, tlsFiles: live, ca: caPem });
  srv.live = live;
  made.push(first);
});

after(async () => {
  let r, tail;
  if (srv) {
    r = await srv.stop("SIGTERM");
    tail = srv.logTail();
    await srv.cleanup();
  }
  if (!KEEP && work) fs.rmSync(work, { recursive: true, force: true });
  if (r) assert.deepEqual({ code: r.code, signal: r.signal ?? null }, { code: 0, signal: null }, tail);
});

/** A new TLS connection: the negotiated protocol and the server certificate's serial. */
function handshake(port, opts = {}) {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: "127.0.0.1", port, ca: caPem, servername: "", ...opts }, () => {
      const cert = s.getPeerCertificate();
      const out = { protocol: s.getProtocol(), serial: cert.serialNumber, authorized: s.authorized };
      s.end();
      resolve(out);
    });
    s.on("error", reject);
    s.setTimeout(5000, () => s.destroy(new Error("TLS handshake timeout")));
  });
}

/** Serials seen on `n` new connections (connections spread over the server's threads). */
async function serials(n = 6) {
  const out = new Set();
  for (let i = 0; i < n; i++) {
    out.add(
      await handshake(srv.port).then(
        (h) => h.serial,
        (e) => `handshake failed: ${e.code ?? e.message}`,
      ),
    );
  }
  return [...out];
}

/** Poll new connections until every one shows `serial` (the workers reload on their next loop turn). */
async function waitSerial(serial, what) {
  const deadline = Date.now() + 10000;
  let seen;
  for (;;) {
    seen = await serials();
    if (seen.length === 1 && seen[0] === serial) return;
    if (Date.now() > deadline) assert.fail(`${what}: new connections show ${seen}, expected only ${serial}\n${srv.logTail(10)}`);
    await sleep(50);
  }
}

/** Replace the live files atomically (write aside, rename over). */
function install(certFile, keyFile) {
  for (const [from, to] of [
    [certFile, srv.live.cert],
    [keyFile, srv.live.key],
  ]) {
    const tmp = `${to}.new`;
    fs.copyFileSync(from, tmp);
    fs.chmodSync(tmp, 0o600);
    fs.renameSync(tmp, to);
  }
}

const logCount = (re) => (fs.readFileSync(srv.logPath, "utf8").match(re) ?? []).length;

async function waitLog(re, atLeast, what) {
  const deadline = Date.now() + 10000;
  while (logCount(re) < atLeast) {
    if (Date.now() > deadline) assert.fail(`${what}: log never said ${re}\n${srv.logTail(10)}`);
    await sleep(50);
  }
}

test("TLS 1.2 and 1.3 are served with the test CA's certificate for 127.0.0.1; TLS 1.1 and cleartext HTTP are not", async () => {
  const h13 = await handshake(srv.port);
  assert.equal(h13.protocol, "TLSv1.3");
  assert.equal(h13.authorized, true);
  assert.equal(h13.serial, made[0].serial);
  const h12 = await handshake(srv.port, { maxVersion: "TLSv1.2" });
  assert.equal(h12.protocol, "TLSv1.2");
  await assert.rejects(handshake(srv.port, { maxVersion: "TLSv1.1", minVersion: "TLSv1" }), "TLS 1.1 must be refused");
  // Cleartext on the TLS port: no HTTP answer.
  const net = await import("node:net");
  const text = await new Promise((resolve) => {
    const s = net.connect(srv.port, "127.0.0.1", () => s.write("GET /health HTTP/1.1\r\nHost: x\r\n\r\n"));
    let got = "";
    s.on("data", (d) => (got += d.toString("latin1")));
    s.on("close", () => resolve(got));
    s.on("error", () => resolve(got));
    s.setTimeout(3000, () => s.destroy());
  });
  assert.ok(!/^HTTP\/1\.[01] 200/.test(text), `cleartext request answered: ${text.slice(0, 100)}`);
});

test("the SDK talks https:// to tresord, trusting the run's CA (NODE_EXTRA_CA_CERTS)", async (t) => {
  if (!runCA() || process.env.NODE_EXTRA_CA_CERTS !== runCA().cert) return t.skip("not run through run.sh (no NODE_EXTRA_CA_CERTS for the run's CA)");
  const w = { srv, ...clientsFor(srv) };
  assert.match(srv.base, /^https:\/\//);
  const v = (await createVault(w)).vault;
  assert.match(v.managementEndpoint, /^https:\/\//, "vault endpoints keep https");
  const k = (await createKey(w, v)).key;
  const s = (await createSecret(w, v, k, { content: "over tls" })).secret;
  const b = await w.secrets.getSecretBundle({ secretId: s.id });
  assert.equal(unb64(b.secretBundle.secretBundleContent.content), "over tls");
});

test("SIGHUP reloads the certificate: new connections see the new serial; the server keeps serving", async () => {
  const second = makeServerCert(ca, path.join(work, "second"));
  made.push(second);
  assert.notEqual(second.serial, made[0].serial);
  const reloaded = logCount(/TLS certificate reloaded/g);
  install(second.cert, second.key);
  srv.proc.kill("SIGHUP");
  await waitSerial(second.serial, "after SIGHUP");
  await waitLog(/TLS certificate reloaded/g, reloaded + 1, "reload");
  assert.equal(srv.exited, null, "SIGHUP must not stop the server");
  if (runCA() && process.env.NODE_EXTRA_CA_CERTS === runCA().cert) {
    const w = clientsFor(srv);
    const r = await w.kmsVault.listVaults({ compartmentId: w.tenancy });
    assert.ok(Array.isArray(r.items));
  }
});

test("a bad pair (certificate and key that do not match) is refused on SIGHUP and the old certificate kept; a good pair then loads", async () => {
  const current = made[made.length - 1].serial;
  const a = makeServerCert(ca, path.join(work, "bad-a"));
  const b = makeServerCert(ca, path.join(work, "bad-b"));
  const refused = logCount(/TLS reload refused/g);
  install(a.cert, b.key);
  srv.proc.kill("SIGHUP");
  await waitLog(/TLS reload refused/g, refused + 1, "mismatched pair");
  assert.deepEqual(await serials(), [current], "the old certificate stays in use");
  // Not PEM at all.
  fs.writeFileSync(path.join(work, "junk.pem"), "not a certificate\n");
  const refused2 = logCount(/TLS reload refused/g);
  install(path.join(work, "junk.pem"), path.join(work, "junk.pem"));
  srv.proc.kill("SIGHUP");
  await waitLog(/TLS reload refused/g, refused2 + 1, "junk files");
  assert.deepEqual(await serials(), [current], "the old certificate stays in use");
  assert.equal(srv.exited, null);
  // A good pair after the failures loads.
  const good = makeServerCert(ca, path.join(work, "good"));
  made.push(good);
  install(good.cert, good.key);
  srv.proc.kill("SIGHUP");
  await waitSerial(good.serial, "good pair after refused ones");
});

test("serve refuses to start with a certificate and key that do not match (exit ≠ 0, says why)", async () => {
  const a = makeServerCert(ca, path.join(work, "start-a"));
  const b = makeServerCert(ca, path.join(work, "start-b"));
  const parent = await makeParentDir("tlsbad");
  try {
    const dir = path.join(parent, "data");
    const init = await runTresord(["init", "--data", dir, "--endpoint", "https://127.0.0.1:9"]);
    assert.equal(init.code, 0, init.stderr);
    const port = await freePort();
    const r = await runTresord(["serve", "--data", dir, "--listen", `127.0.0.1:${port}`, "--tls-cert", a.cert, "--tls-key", b.key], { timeoutMs: 15000 });
    assert.notEqual(r.code, 0, `serve started with a mismatched pair: ${r.stderr}`);
    assert.match(r.stderr + r.stdout, /TLS|certificate|key/i);
  } finally {
    if (!KEEP) fs.rmSync(parent, { recursive: true, force: true });
  }
});

test("no SDK call needed a retry", () => assertNoSdkRetries());
