// SPDX-License-Identifier: Apache-2.0
// The durable-write phase's table and its check.
//
//   node bench/writes.mjs prepare --state S --count N --out LINES --ids IDS
//                                 [--min-secrets M]
//     Creates max(M, ceil(N / 29)) fresh secrets (bench-writer, through the API)
//     and writes N request lines "PUT /20180608/secrets/<id> <body>" for
//     bench/presign: request j updates secret j mod S with fresh random
//     content, so requests in flight together hit different secrets and
//     no secret gets more than 29 new versions (30 versions in use is
//     the limit).
//   node bench/writes.mjs verify --state S --ids IDS
//     Counts the versions of those secrets (ListSecretVersions) and
//     prints {"secrets":..,"versions":..,"updates":..}: updates is what
//     the server holds beyond each secret's first version, to compare
//     with the 2xx answers wrk counted.

import crypto from "node:crypto";
import fs from "node:fs";

import { credsFromConfig, ok, call, pool } from "./lib/oci.mjs";

const [mode] = process.argv.slice(2);
const arg = (n, d) => {
  const i = process.argv.indexOf(`--${n}`);
  return i > 0 ? process.argv[i + 1] : d;
};
const state = JSON.parse(fs.readFileSync(arg("state"), "utf8"));
const writer = credsFromConfig(state.writer.config);
const port = Number(arg("port", state.port));
const PER_SECRET = 29;

if (mode === "prepare") {
  const n = Number(arg("count"));
  const tag = arg("tag", crypto.randomBytes(3).toString("hex"));
  // at least two secrets per connection, so that two requests in flight
  // rarely update one secret (they would race on its etag)
  const nsec = Math.max(Number(arg("min-secrets", "1")), Math.ceil(n / PER_SECRET));
  const ids = await pool(Array.from({ length: nsec }, (_, i) => i), 32, async (i) => {
    const s = await ok(port, writer, "POST", "/20180608/secrets", {
      compartmentId: state.benchCompartment, vaultId: state.vault, keyId: state.key,
      secretName: `bench-u-${tag}-${String(i).padStart(5, "0")}`,
      secretContent: { contentType: "BASE64", content: crypto.randomBytes(24).toString("base64") } });
    return s.id;
  });
  const lines = [];
  for (let j = 0; j < n; j++) {
    const body = JSON.stringify({ secretContent: { contentType: "BASE64",
      content: crypto.randomBytes(24).toString("base64") } });
    lines.push(`PUT /20180608/secrets/${ids[j % nsec]} ${body}`);
  }
  fs.writeFileSync(arg("out"), lines.join("\n") + "\n");
  fs.writeFileSync(arg("ids"), ids.join("\n") + "\n");
  console.log(JSON.stringify({ requests: n, secrets: nsec }));
} else if (mode === "verify") {
  const ids = fs.readFileSync(arg("ids"), "utf8").split("\n").filter((x) => x !== "");
  const counts = await pool(ids, 16, async (id) => {
    const r = await call(port, writer, "GET", `/20180608/secrets/${id}/versions?limit=100`);
    if (r.status !== 200) throw new Error(`ListSecretVersions ${id}: ${r.status} ${r.text}`);
    if (r.headers["opc-next-page"]) throw new Error(`ListSecretVersions ${id}: more than one page`);
    return r.json.length;
  });
  const versions = counts.reduce((a, b) => a + b, 0);
  console.log(JSON.stringify({ secrets: ids.length, versions, updates: versions - ids.length }));
} else {
  console.error("usage: writes.mjs prepare|verify ...");
  process.exit(2);
}
