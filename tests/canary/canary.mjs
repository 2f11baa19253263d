// SPDX-License-Identifier: Apache-2.0
//
// The canary test (issue 7, "secrets in memory and at rest"): store known
// secret values through every path that carries one, provoke the errors
// around them, crash and restart the server, then look for the values in
// every log, the audit log, every file of the data directory (tresor.db,
// -wal, -shm) and every error body, raw and encoded (scan.mjs).
//
// Canaries: secret contents (CURRENT, PENDING, named versions), a
// generated passphrase, KMS plaintexts (Encrypt, GenerateDataEncryptionKey
// plaintext keys), a signed message, a workload session token, and the
// root key (which must live only in root.key).  tresord runs with
// --log-level debug, so the most verbose log is scanned.
//
// Environment: TRESORD, CANARY_DIR (keep the run there), CANARY_EXTRA
// (more "DIR=VALUESFILE" pairs separated by ':' to scan with their own
// canaries, e.g. a probes or crash run's directory).
// Exit status 0 when no canary was found anywhere.

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
  tempDir,
  TRESORD,
} from "../probes/lib/tresor.mjs";
import { scan, readValues } from "./scan.mjs";

const root = process.env.CANARY_DIR || tempDir("tresor-canary");
fs.mkdirSync(root, { recursive: true });
const tag = crypto.randomBytes(5).toString("hex");
const canaries = [];
const canary = (what) => {
  const v = `tresor-canary-${what}-${tag}-${crypto.randomBytes(4).toString("hex")}`;
  canaries.push(v);
  return v;
};
const b64 = (s) => Buffer.from(s, "utf8").toString("base64");
const bodiesFile = path.join(root, "error-bodies.txt");
let errors = 0;

function keepErrorBody(res) {
  if (res.status >= 300) {
    errors++;
    fs.appendFileSync(bodiesFile, `${res.status} ${res.text}\n`);
  }
  return res;
}

async function main() {
  if (!fs.existsSync(TRESORD)) throw new Error(`no tresord at ${TRESORD}`);
  const port = await freePort();
  const dataDir = path.join(root, "data");
  initData(dataDir, port);
  const creds = loadCredentials(dataDir);
  const T = creds.tenancy;
  const server = new Server({ dataDir, port, args: ["--log-level", "debug"], logFile: path.join(root, "tresord.log") });
  await server.start();
  let c = new Client({ port, creds });
  const call = async (m, t, body, opts = {}) => keepErrorBody(await c.request(m, t, { ...opts, body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body) }));

  const { vault, key, mgmt, crypto: cryptoPath } = await makeVaultAndKey(c, T, { name: "canary" });
  const rsa = ok(
    await call("POST", `${mgmt}/20180608/keys`, { compartmentId: T, displayName: "rsa", keyShape: { algorithm: "RSA", length: 256 }, protectionMode: "SOFTWARE" }),
    "CreateKey RSA",
  );

  // secrets: CURRENT, named, PENDING, rollback
  const c1 = canary("content1");
  const s = ok(
    await call("POST", "/20180608/secrets", {
      compartmentId: T,
      vaultId: vault.id,
      keyId: key.id,
      secretName: "canary-secret",
      secretContent: { contentType: "BASE64", content: b64(c1), name: "first" },
      secretRules: [{ ruleType: "SECRET_REUSE_RULE", isEnforcedOnDeletedSecretVersions: true }],
    }),
    "CreateSecret",
  );
  const c2 = canary("content2");
  ok(await call("PUT", `/20180608/secrets/${s.id}`, { secretContent: { contentType: "BASE64", content: b64(c2), name: "second" } }), "UpdateSecret");
  const c3 = canary("pending");
  ok(await call("PUT", `/20180608/secrets/${s.id}`, { secretContent: { contentType: "BASE64", content: b64(c3), stage: "PENDING" } }), "UpdateSecret PENDING");
  ok(await call("PUT", `/20180608/secrets/${s.id}`, { currentVersionNumber: 1 }), "rollback");
  for (const q of ["", "?versionNumber=2", "?stage=PENDING", "?secretVersionName=second", "?stage=LATEST"]) {
    ok(await call("GET", `/20190301/secretbundles/${s.id}${q}`), `GetSecretBundle${q}`);
  }
  ok(await call("POST", `/20190301/secretbundles/actions/getByName?secretName=canary-secret&vaultId=${vault.id}`, ""), "GetSecretBundleByName");
  ok(await call("GET", `/20190301/secretbundles/${s.id}/versions`), "ListSecretBundleVersions");

  // generated content
  const gen = ok(
    await call("POST", "/20180608/secrets", {
      compartmentId: T,
      vaultId: vault.id,
      keyId: key.id,
      secretName: "canary-generated",
      enableAutoGeneration: true,
      secretGenerationContext: { generationType: "PASSPHRASE", generationTemplate: "SECRETS_DEFAULT_PASSWORD", passphraseLength: 32 },
    }),
    "CreateSecret generated",
  );
  const genBundle = ok(await call("GET", `/20190301/secretbundles/${gen.id}`), "GetSecretBundle generated");
  canaries.push(Buffer.from(genBundle.secretBundleContent.content, "base64").toString("utf8"));

  // errors around secret content: never echoed
  const c4 = canary("refused");
  await call("PUT", `/20180608/secrets/${s.id}`, { currentVersionNumber: 2, secretContent: { contentType: "BASE64", content: b64(c4) } });
  await call("PUT", `/20180608/secrets/${s.id}`, { secretContent: { contentType: "BASE64", content: b64(c4), stage: "BOGUS" } });
  await call("PUT", `/20180608/secrets/${s.id}`, { secretContent: { contentType: "TEXT", content: b64(c4) } });
  await call("PUT", `/20180608/secrets/${s.id}`, { secretContent: { contentType: "BASE64", content: b64(c1) } }); // reuse rule
  await call("PUT", `/20180608/secrets/${s.id}`, { secretContent: { contentType: "BASE64", content: b64(c2), name: "first" } }); // name taken
  await call("POST", "/20180608/secrets", {
    compartmentId: T,
    vaultId: "ocid1.vault.oc1..nope",
    keyId: key.id,
    secretName: "x",
    secretContent: { contentType: "BASE64", content: b64(c4) },
  });
  await call("PUT", `/20180608/secrets/${s.id}`, { secretContent: { contentType: "BASE64", content: b64(c4.repeat(800)) } }); // too big
  await call("GET", `/20190301/secretbundles/${s.id}?versionNumber=99`);

  // KMS
  const p1 = canary("plaintext");
  const enc = ok(await call("POST", `${cryptoPath}/20180608/encrypt`, { keyId: key.id, plaintext: b64(p1), associatedData: { app: "canary" } }), "Encrypt");
  ok(await call("POST", `${cryptoPath}/20180608/decrypt`, { keyId: key.id, ciphertext: enc.ciphertext, associatedData: { app: "canary" } }), "Decrypt");
  await call("POST", `${cryptoPath}/20180608/decrypt`, { keyId: key.id, ciphertext: enc.ciphertext, associatedData: { app: "wrong" } });
  await call("POST", `${cryptoPath}/20180608/decrypt`, { keyId: rsa.id, ciphertext: enc.ciphertext });
  await call("POST", `${cryptoPath}/20180608/encrypt`, { keyId: "ocid1.key.oc1..nope", plaintext: b64(p1) });
  for (let i = 0; i < 3; i++) {
    const dek = ok(
      await call("POST", `${cryptoPath}/20180608/generateDataEncryptionKey`, { keyId: key.id, keyShape: { algorithm: "AES", length: 32 }, includePlaintextKey: true }),
      "GenerateDataEncryptionKey",
    );
    canaries.push(`b64:${dek.plaintext}`);
    ok(await call("POST", `${cryptoPath}/20180608/decrypt`, { keyId: key.id, ciphertext: dek.ciphertext }), "Decrypt DEK");
  }
  const m1 = canary("message");
  const sig = ok(
    await call("POST", `${cryptoPath}/20180608/sign`, { keyId: rsa.id, message: b64(m1), signingAlgorithm: "SHA_256_RSA_PKCS_PSS" }),
    "Sign",
  );
  ok(
    await call("POST", `${cryptoPath}/20180608/verify`, {
      keyId: rsa.id,
      keyVersionId: sig.keyVersionId,
      message: b64(m1),
      signature: sig.signature,
      signingAlgorithm: "SHA_256_RSA_PKCS_PSS",
    }),
    "Verify",
  );

  // a workload session token is a bearer credential
  const enroll = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
  const wl = ok(
    await call("POST", "/tresor/v1/workloads", {
      compartmentId: T,
      displayName: "canary-fn",
      kind: "RESOURCE",
      resourceType: "fnfunc",
      publicKey: enroll.publicKey.export({ type: "spki", format: "pem" }),
    }),
    "CreateWorkload",
  );
  const session = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
  const wc = new Client({
    port,
    creds: { keyId: `${T}/${wl.id}/${wl.fingerprint}`, privateKeyPem: enroll.privateKey.export({ type: "pkcs8", format: "pem" }) },
  });
  const tok = ok(
    keepErrorBody(
      await wc.post(
        "/tresor/v1/authentication/resourcePrincipalSessionToken",
        JSON.stringify({ sessionPublicKey: session.publicKey.export({ type: "spki", format: "der" }).toString("base64") }),
      ),
    ),
    "RequestResourcePrincipalToken",
  );
  wc.close();
  canaries.push(tok.token);
  const tc = new Client({ port, creds: { keyId: `ST$${tok.token}`, privateKeyPem: session.privateKey.export({ type: "pkcs8", format: "pem" }) } });
  keepErrorBody(await tc.get(`/20190301/secretbundles/${s.id}`)); // 404: no policy
  // a tampered token is refused: the message must not quote the token
  keepErrorBody(
    await new Client({ port, creds: { keyId: `ST$${tok.token.slice(0, -3)}xyz`, privateKeyPem: session.privateKey.export({ type: "pkcs8", format: "pem" }) } }).get(
      `/20180608/vaults?compartmentId=${T}`,
    ),
  );
  tc.close();

  // crash with the WAL full of it, restart, read again, stop cleanly
  c.close();
  await server.kill();
  // the files exactly as the crash left them (WAL included) are scanned too
  fs.cpSync(dataDir, path.join(root, "after-sigkill"), { recursive: true });
  await server.start();
  c = new Client({ port, creds });
  ok(await call("GET", `/20190301/secretbundles/${s.id}?versionNumber=3`), "GetSecretBundle after restart");
  const c5 = canary("after-restart");
  ok(await call("PUT", `/20180608/secrets/${s.id}`, { secretContent: { contentType: "BASE64", content: b64(c5) } }), "UpdateSecret after restart");
  c.close();
  const e = await server.stop();
  if (e.code !== 0) throw new Error(`tresord exited ${JSON.stringify(e)}`);

  // the root key must live only in root.key
  canaries.push(`b64:${fs.readFileSync(path.join(dataDir, "root.key")).toString("base64")}`);
  fs.writeFileSync(path.join(root, "canaries.txt"), canaries.join("\n") + "\n");
  return { dataDir };
}

let status = 0;
try {
  const { dataDir } = await main();
  const own = scan({
    values: canaries,
    dirs: [root],
    exclude: [
      path.join(dataDir, "root.key"),
      path.join(root, "after-sigkill", "root.key"),
      path.join(root, "canaries.txt"),
    ],
  });
  for (const f of own.findings) console.log(`LEAK ${f.form} of "${f.value.slice(0, 48)}" in ${path.relative(root, f.file)} at byte ${f.offset}`);
  console.log(
    `canary: ${canaries.length} canaries, ${errors} error bodies captured, ${own.files} files (${own.bytes} bytes) scanned: ` +
      (own.findings.length ? `${own.findings.length} LEAKS` : "clean"),
  );
  if (own.findings.length) status = 1;
  for (const pair of (process.env.CANARY_EXTRA || "").split(":").filter(Boolean)) {
    const [dir, valuesFile] = pair.split("=");
    const r = scan({ values: readValues(valuesFile), dirs: [dir], exclude: [valuesFile] });
    for (const f of r.findings) console.log(`LEAK ${f.form} of "${f.value.slice(0, 48)}" in ${f.file} at byte ${f.offset}`);
    console.log(`canary: ${dir}: ${r.files} files scanned: ${r.findings.length ? `${r.findings.length} LEAKS` : "clean"}`);
    if (r.findings.length) status = 1;
  }
} catch (e) {
  console.log(`FAIL ${e.stack || e}`);
  status = 1;
}
if (status === 0 && !process.env.CANARY_DIR) fs.rmSync(root, { recursive: true, force: true });
process.exit(status);
