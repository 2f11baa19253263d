// SPDX-License-Identifier: Apache-2.0
// Build the benchmark's world through the API, as an administrator would:
//   - 50 compartments, nested three deep (5 business units x 3 teams x
//     dev/prod), 20 groups, 22 users, their group memberships;
//   - two vaults with an AES key each in bu2:team1:prod ("the bench
//     compartment"): one for the read/write/KMS phases, one for scale;
//   - 200 policies attached across the tree (1-3 statements each: secret
//     family, keys, vaults, where clauses), among them the only grants of
//     the two benchmark users:
//       bench-reader (groups grp-07, grp-13): read secret-family in the
//         bench compartment, use keys there where target.key.id is one of
//         the two keys;
//       bench-writer (group grp-11): manage secret-family, use keys and
//         use vaults in the bench compartment.
//     Neither user is an administrator; the admin's "manage all-resources
//     in tenancy" is never on their path.
//   - the read secret, a secret in another compartment (a read of it must
//     be refused: proof that reads come through the policies above), and
//     the secrets UpdateSecret will add versions to.
// Writes the state to --out (JSON) and the users' keys next to it (0600).
//
//   node bench/setup.mjs --port P --data DIR --out FILE [--write-secrets N]

import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";

import { credsFromConfig, fingerprintOf, ok, call, pool } from "./lib/oci.mjs";

function arg(name, def) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
}

const port = Number(arg("port"));
const data = arg("data");
const outFile = arg("out");
const nWrite = Number(arg("write-secrets", "64"));
const admin = credsFromConfig(path.join(data, "admin", "config"));
const tenancy = admin.tenancy;
const outDir = path.dirname(outFile);
const A = (m, t, b) => ok(port, admin, m, t, b);
const rnd = (n) => crypto.randomBytes(n).toString("base64");

const t0 = Date.now();

// ---- compartments: bu0..bu4 / team0..team2 / dev, prod --------------------
const comps = []; // {id, name, path, parent}
const bus = await pool([0, 1, 2, 3, 4], 5, async (b) => {
  const c = await A("POST", "/20160918/compartments", {
    compartmentId: tenancy, name: `bu${b}`, description: `business unit ${b}` });
  return { id: c.id, name: `bu${b}`, path: `bu${b}`, parent: tenancy };
});
comps.push(...bus);
const teams = (await pool(bus.flatMap((bu) => [0, 1, 2].map((t) => [bu, t])), 8, async ([bu, t]) => {
  const c = await A("POST", "/20160918/compartments", {
    compartmentId: bu.id, name: `team${t}`, description: `team ${t} of ${bu.name}` });
  return { id: c.id, name: `team${t}`, path: `${bu.path}:team${t}`, parent: bu.id };
}));
comps.push(...teams);
const envs = await pool(teams.flatMap((tm) => ["dev", "prod"].map((e) => [tm, e])), 8, async ([tm, e]) => {
  const c = await A("POST", "/20160918/compartments", {
    compartmentId: tm.id, name: e, description: `${e} of ${tm.path}` });
  return { id: c.id, name: e, path: `${tm.path}:${e}`, parent: tm.id };
});
comps.push(...envs);
const byPath = Object.fromEntries(comps.map((c) => [c.path, c]));
const benchComp = byPath["bu2:team1:prod"];
const otherComp = byPath["bu0:team0:dev"];

// ---- groups and users -----------------------------------------------------
const groups = await pool(Array.from({ length: 20 }, (_, i) => i), 8, async (i) => {
  const name = `grp-${String(i).padStart(2, "0")}`;
  const g = await A("POST", "/20160918/groups", { compartmentId: tenancy, name, description: `group ${i}` });
  return { id: g.id, name };
});
const gid = (i) => groups[i].id;

async function makeUser(name, groupIdx, withKey) {
  const u = await A("POST", "/20160918/users", { compartmentId: tenancy, name, description: name,
    email: `${name}@bench.invalid` });
  for (const g of groupIdx) await A("POST", "/20160918/userGroupMemberships", { userId: u.id, groupId: gid(g) });
  if (!withKey) return { id: u.id, name };
  const { privateKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
  const pem = privateKey.export({ type: "pkcs8", format: "pem" });
  const pub = crypto.createPublicKey(privateKey).export({ type: "spki", format: "pem" });
  const k = await A("POST", `/20160918/users/${u.id}/apiKeys`, { key: pub });
  const fp = k.fingerprint ?? fingerprintOf(pem);
  const keyFile = path.join(outDir, `${name}.pem`);
  fs.rmSync(keyFile, { force: true });
  fs.writeFileSync(keyFile, pem, { mode: 0o600, flag: "wx" });
  const keyId = `${tenancy}/${u.id}/${fp}`;
  const cfg = path.join(outDir, `${name}.config`);
  fs.rmSync(cfg, { force: true });
  fs.writeFileSync(cfg, `[DEFAULT]\nuser=${u.id}\nfingerprint=${fp}\nkey_file=${keyFile}\n` +
    `tenancy=${tenancy}\nregion=${admin.region ?? "us-ashburn-1"}\nendpoint=http://127.0.0.1:${port}\n`,
  { mode: 0o600, flag: "wx" });
  return { id: u.id, name, keyId, keyFile, config: cfg, privateKeyPem: pem };
}
const reader = await makeUser("bench-reader", [7, 13], true);
const writer = await makeUser("bench-writer", [11], true);
await pool(Array.from({ length: 20 }, (_, i) => i), 4, (i) =>
  makeUser(`staff-${String(i).padStart(2, "0")}`, [i, (i * 7 + 3) % 20], false));

// ---- vaults, keys ---------------------------------------------------------
async function vaultWithKey(name) {
  const v = await A("POST", "/20180608/vaults", { compartmentId: benchComp.id, displayName: name, vaultType: "DEFAULT" });
  const k = await A("POST", `/kms/${v.id}/management/20180608/keys`, {
    compartmentId: benchComp.id, displayName: `${name}-key`,
    keyShape: { algorithm: "AES", length: 32 }, protectionMode: "SOFTWARE" });
  return { vault: v.id, key: k.id };
}
const main = await vaultWithKey("bench-vault");
const scale = await vaultWithKey("scale-vault");
const other = await A("POST", "/20180608/vaults", { compartmentId: otherComp.id, displayName: "other", vaultType: "DEFAULT" });
const otherKey = await A("POST", `/kms/${other.id}/management/20180608/keys`, {
  compartmentId: otherComp.id, displayName: "other-key",
  keyShape: { algorithm: "AES", length: 32 }, protectionMode: "SOFTWARE" });

// ---- policies ---------------------------------------------------------------
// Each policy is attached to a compartment and names places below it by a
// relative path, or anywhere below by OCID.  The bench users' grants come
// last in creation order, so an evaluator that scans in order walks past
// the others first.
const fakeKey = () => `ocid1.key.oc1..bench${crypto.randomBytes(12).toString("hex")}`;
const below = (c) => comps.filter((d) => d.path.startsWith(c.path + ":"));
const rel = (from, to) => (from === null ? to.path : to.path.slice(from.path.length + 1));
function fillerStatement(i, at) {
  // `at` is null for the tenancy
  const kids = at === null ? comps : below(at);
  const g = groups[(i * 7) % 20].name;
  let loc;
  if (kids.length === 0) loc = `compartment ${at.name}`; // a leaf names itself
  else if (i % 4 === 0) loc = `compartment id ${kids[i % kids.length].id}`;
  else loc = `compartment ${rel(at, kids[i % kids.length])}`;
  if (at === null && i % 5 === 0) loc = "tenancy";
  switch (i % 9) {
    case 0: return `Allow group ${g} to read secret-family in ${loc}`;
    case 1: return `Allow group ${g} to use keys in ${loc} where target.key.id = '${fakeKey()}'`;
    case 2: return `Allow group ${g} to manage vaults in ${loc}`;
    case 3: return `Allow group ${g} to read secret-bundles in ${loc} where target.secret.name = 'app-${i}'`;
    case 4: return `Allow group ${g} to inspect secrets in ${loc}`;
    case 5: return `Allow group ${g} to use secret-family in ${loc} where request.permission = 'SECRET_READ'`;
    case 6: return `Allow group ${g} to manage keys in ${loc} where request.operation = 'CreateKey'`;
    case 7: return `Allow group ${g} to read vaults in ${loc}`;
    default: return `Allow group grp-07, grp-13 to read secret-family in ${loc} where target.vault.id = 'ocid1.vault.oc1..bench${i}'`;
  }
}
const policySpecs = [];
const attachPoints = [null, ...comps];
for (let i = 0; policySpecs.length < 196; i++) {
  const at = attachPoints[i % attachPoints.length];
  const n = 1 + (i % 3);
  const statements = Array.from({ length: n }, (_, k) => fillerStatement(i * 3 + k, at));
  policySpecs.push({ at, name: `policy-${String(i).padStart(3, "0")}`, statements });
}
const bu2 = byPath.bu2;
policySpecs.push(
  { at: bu2, name: "bench-readers", statements: [
    "Allow group grp-07 to read secret-family in compartment team1:prod"] },
  { at: bu2, name: "bench-readers-keys", statements: [
    `Allow group grp-07 to use keys in compartment team1:prod where any {target.key.id = '${main.key}', target.key.id = '${scale.key}'}`] },
  { at: null, name: "bench-writers", statements: [
    "Allow group grp-11 to manage secret-family in compartment bu2:team1:prod"] },
  { at: null, name: "bench-writers-keys", statements: [
    "Allow group grp-11 to use keys in compartment bu2:team1:prod",
    "Allow group grp-11 to use vaults in compartment bu2:team1:prod"] },
);
let nStatements = 0;
const makePolicy = (p) => {
  nStatements += p.statements.length;
  return A("POST", "/20160918/policies", { compartmentId: p.at === null ? tenancy : p.at.id,
    name: p.name, description: p.name, statements: p.statements });
};
// the fillers four at a time, then the bench users' grants in order
await pool(policySpecs.slice(0, policySpecs.length - 4), 4, makePolicy);
for (const p of policySpecs.slice(policySpecs.length - 4)) await makePolicy(p);

// ---- secrets ----------------------------------------------------------------
async function secret(name, v, content, compartmentId = benchComp.id) {
  const s = await A("POST", "/20180608/secrets", { compartmentId, vaultId: v.vault, keyId: v.key,
    secretName: name, description: name, secretContent: { contentType: "BASE64", content } });
  return s.id;
}
// a realistic secret: a JSON credential of ~150 bytes
const readContent = Buffer.from(JSON.stringify({ user: "svc_payments", password: rnd(24),
  host: "db.payments.internal", port: 5432, db: "payments" })).toString("base64");
const readSecret = await secret("bench-read", main, readContent);
const otherSecret = await secret("other-secret", { vault: other.id, key: otherKey.id }, rnd(16), otherComp.id);
const writeSecrets = await pool(Array.from({ length: nWrite }, (_, i) => i), 16, (i) =>
  secret(`bench-w-${String(i).padStart(5, "0")}`, main, rnd(24)));
// the scale vault's first secret: populate clones its rows
const scaleTemplate = await secret("scale-template", scale, readContent);

// ---- checks: the reader reads through its policies, and only there ---------
const R = { keyId: reader.keyId, privateKeyPem: reader.privateKeyPem };
const got = await call(port, R, "GET", `/20190301/secretbundles/${readSecret}`);
if (got.status !== 200) throw new Error(`bench-reader cannot read its secret: ${got.status} ${got.text}`);
const denied = await call(port, R, "GET", `/20190301/secretbundles/${otherSecret}`);
if (denied.status === 200) throw new Error("bench-reader reads a secret no policy grants: the policy set is not in effect");
const scaleRead = await call(port, R, "GET", `/20190301/secretbundles/${scaleTemplate}`);
if (scaleRead.status !== 200) throw new Error(`bench-reader cannot read the scale vault: ${scaleRead.status} ${scaleRead.text}`);

const state = {
  port, tenancy,
  counts: { compartments: comps.length, groups: groups.length, users: 22 + 1, policies: policySpecs.length,
    statements: nStatements },
  benchCompartment: benchComp.id,
  vault: main.vault, key: main.key, scaleVault: scale.vault, scaleKey: scale.key,
  readSecret, otherSecret, writeSecrets, scaleTemplate,
  bundleBytes: Buffer.byteLength(got.text, "utf8"),
  deniedStatus: denied.status,
  reader: { id: reader.id, keyId: reader.keyId, keyFile: reader.keyFile, config: reader.config },
  writer: { id: writer.id, keyId: writer.keyId, keyFile: writer.keyFile, config: writer.config },
  setupSeconds: (Date.now() - t0) / 1000,
};
fs.writeFileSync(outFile, JSON.stringify(state, null, 1));
console.log(`setup: ${comps.length} compartments, ${groups.length} groups, ${policySpecs.length} policies ` +
  `(${nStatements} statements), ${nWrite + 3} secrets in ${state.setupSeconds.toFixed(1)} s; ` +
  `bundle ${state.bundleBytes} bytes; other compartment read -> ${denied.status}`);
